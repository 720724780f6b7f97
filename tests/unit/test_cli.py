from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from spbe_kit.errors import ExitCode
from spbe_kit.schema import json_schema


def test_exit_codes_are_stable() -> None:
    assert {e.name: e.value for e in ExitCode} == {
        "OK": 0,
        "FAILURE": 1,
        "INVALID_INPUT": 2,
        "DIFFERENCES": 3,
        "HEALTH_GATE": 4,
        "INTERRUPTED": 130,
    }


def test_committed_schemas_match_the_models() -> None:
    for kind in ("profile", "catalog", "audit", "handover"):
        committed = (ROOT / "schemas" / f"{kind}.schema.json").read_text()
        assert committed == json_schema(kind), f"run: spbe-kit schema {kind} > schemas/{kind}.schema.json"


def test_validate_all_examples(cli) -> None:
    result = cli("validate", *sorted(str(p) for p in (ROOT / "examples" / "profiles").glob("*.yaml")))
    assert result.exit_code == 0, result.output
    assert result.stdout.count(": valid (") == 5


def test_init_writes_a_profile_that_validates_once_filled(cli, tmp_path: Path) -> None:
    result = cli("init", "74.05", "-o", "konsel.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "konsel.yaml").read_text()
    assert "name: Kabupaten Konawe Selatan" in text
    assert "timezone: Asia/Makassar" in text
    unfilled = cli("validate", "konsel.yaml", cwd=tmp_path)
    assert unfilled.exit_code == 2
    assert unfilled.stderr.count("[placeholder-unfilled]") == 15  # the agreement date, the breach notice
    filled = (
        text.replace("domain: ISI", "domain: konaweselatankab.go.id")
        .replace("agreement: ISI", "agreement: 029/PKS/2023")
        .replace("date: ISI", "date: 2023-05-02")
        .replace("name: ISI", "name: Petugas")
        .replace("email: ISI", "email: petugas@konaweselatankab.go.id")
        .replace("provider: ISI", "provider: Diskominfo")
        .replace("address: ISI                 # ISI: alamat IP server aplikasi", "address: 10.0.0.1")
        .replace("address: ISI", "address: 10.0.0.2")
        .replace("legal_basis: ISI", "legal_basis: Tugas pemerintahan")
        .replace("dpia: ISI", "dpia: DPIA/1")
        .replace("subjects_channel: ISI", "subjects_channel: Surat dan SMS")
    )
    (tmp_path / "konsel.yaml").write_text(filled)
    result = cli("validate", "konsel.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.output


def test_init_refuses_to_overwrite(cli, tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("mine")
    result = cli("init", "32.15", "-o", "x.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert (tmp_path / "x.yaml").read_text() == "mine"
    assert cli("init", "32", cwd=tmp_path).exit_code == 2


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; sys.argv=['spbe-kit','--help']\n"
        "from spbe_kit.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy=[m for m in ('ansible','docker','jinja2','pydantic','ansible_runner') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
