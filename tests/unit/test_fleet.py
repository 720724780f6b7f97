"""The donor's fleet without hosts: report signatures (each trust state), reports a hostile
region could write, the fleet's judgement, advisories and the HTML page."""

from __future__ import annotations

import copy
import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from e2e.helpers import spbe_kit
from spbe_kit.fleet import keys
from spbe_kit.fleet.report import canonical, read

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.datetime.now(datetime.UTC)


def moment(days_ago: float) -> str:
    return (NOW - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def region_report(code: str, name: str, version: str = "1.1.0", **changes: Any) -> dict[str, Any]:
    """A report as `spbe-kit report` writes it for a region in good shape."""
    report: dict[str, Any] = {
        "schema": "spbe-kit/region-report/v1",
        "generated": moment(0.1),
        "source": "hosts",
        "observed": moment(0.1),
        "region": {"code": code, "name": name},
        "grant": {"agreement": "027/PKS/2026", "donor": "32.11"},
        "kit": "0.1.0",
        "catalog": "2026.12.0",
        "apps": [
            {
                "id": "e-simpati",
                "version": version,
                "image": f"spbe-kit/e-simpati:{version}",
                "image_id": "sha256:" + "ab" * 32,
                "health": "healthy",
                "cert_days": 80,
                "last_backup": moment(0.5),
                "last_drill": moment(20),
                "drill_ok": True,
            }
        ],
        "deploy": {"release": 3, "when": moment(2), "who": "admin@controller"},
        "backups": {"rpo_s": 93600, "scheduler_ok": True},
        "audit": {"checks": 53, "passed": 48, "failed": {"medium": ["BAK-02"]}},
        "drift": {"checked": True, "differences": 0},
    }
    report.update(changes)
    return report


def signed_file(path: Path, report: dict[str, Any], profile: Path) -> Path:
    private = keys.ensure(profile, report["region"]["code"])
    public, value = keys.sign(private, canonical(report))
    document = {"report": report, "signature": {"algorithm": "ed25519", "key": public, "value": value}}
    path.write_text(json.dumps(document, indent=2))
    return path


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A donor's folder: Karawang in good shape, Belitung's report changed after signing,
    Siak's signed by a key other than its registered one; keys registered in keys/."""
    folder = tmp_path / "fleet"
    (folder / "keys").mkdir(parents=True)
    regions = tmp_path / "regions"
    regions.mkdir()
    for code, name in (
        ("32.15", "Kabupaten Karawang"),
        ("19.02", "Kabupaten Belitung"),
        ("14.05", "Kabupaten Siak"),
    ):
        profile = regions / f"{code}.yaml"
        signed_file(folder / f"{code}.json", region_report(code, name), profile)
        (folder / "keys" / f"{code}.pub").write_text(keys.public_path(profile).read_text())
    tampered = json.loads((folder / "19.02.json").read_text())
    tampered["report"]["apps"][0]["health"] = "healthy"
    tampered["report"]["audit"]["failed"] = {}
    (folder / "19.02.json").write_text(json.dumps(tampered))
    intruder = regions / "intruder.yaml"
    signed_file(folder / "14.05.json", region_report("14.05", "Kabupaten Siak"), intruder)
    return folder


def fleet_json(folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = spbe_kit(*extra, "fleet", "status", str(folder), "--json")
    assert done.returncode in (0, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_each_trust_state(tmp_path: Path) -> None:
    profile = tmp_path / "kuningan.yaml"
    private = keys.ensure(profile, "32.08")
    registered = keys.public_path(profile).read_text()
    message = canonical(region_report("32.08", "Kabupaten Kuningan"))
    signer, value = keys.sign(private, message)
    other_signer, other_value = keys.sign(keys.ensure(tmp_path / "other.yaml", "32.08"), message)
    assert keys.trust(message, signer, value, registered) == "valid"
    assert keys.trust(message.replace(b"healthy", b"unhealthy"), signer, value, registered) == "bad"
    assert keys.trust(message, other_signer, other_value, registered) == "wrong-key"
    assert keys.trust(message, signer, value, None) == "unknown-key"
    assert keys.trust(message, None, None, registered) == "missing"
    # The fingerprint is the one ssh-keygen prints (and the handover record carries).
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(keys.public_path(profile))], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert keys.file_fingerprint(keys.public_path(profile)) == printed
    assert oct(keys.key_path(profile).stat().st_mode & 0o777) == "0o600"
    assert keys.ensure(profile, "32.08") == private and keys.public_path(profile).read_text() == registered


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda d: d["report"]["region"].update(name="<script>alert(1)</script>"), "region.name"),
        (lambda d: d["report"].update(note="free text"), "report.note"),
        (lambda d: d["report"]["apps"][0].update(cert_days="80"), "cert_days"),
        (lambda d: d["report"]["deploy"].update(who="$(reboot)@host"), "deploy.who"),
        (lambda d: d["report"]["audit"]["failed"].update(high=["X" * 300]), "audit.failed.high"),
    ],
)
def test_a_report_a_hostile_region_could_write_is_refused_by_its_shape(
    tmp_path: Path, change: Any, problem: str
) -> None:
    path = signed_file(tmp_path / "r.json", region_report("32.08", "Kabupaten Kuningan"), tmp_path / "p.yaml")
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    received = read(path, {"32.08": keys.public_path(tmp_path / "p.yaml").read_text()})
    assert received.report is None and received.trust == "bad"
    assert problem in received.problem


def test_a_huge_or_garbled_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'{"report": "' + b"x" * (2 << 20) + b'"}')
    assert read(big, {}).problem.startswith("larger than")
    garbled = tmp_path / "garbled.json"
    garbled.write_bytes(b"\xff\xfe{not json")
    assert read(garbled, {}).problem.startswith("not JSON")


def test_fleet_status_trusts_only_the_registered_key(fleet: Path) -> None:
    code, data = fleet_json(fleet)
    assert code == 3
    rows = {r["code"]: r for r in data["regions"]}
    assert {c: r["trust"] for c, r in rows.items()} == {
        "32.15": "valid",
        "19.02": "bad",
        "14.05": "wrong-key",
    }
    good = rows["32.15"]
    assert good["name"] == "Kabupaten Karawang" and not good["attention"]
    assert good["apps"] == [{"id": "e-simpati", "version": "1.1.0", "health": "healthy"}]
    assert good["deploy"]["release"] == 3 and good["cert_days"] == 80 and 0.4 < good["backup_days"] < 0.6
    for untrusted in ("19.02", "14.05"):
        assert rows[untrusted]["apps"] == [] and "deploy" not in rows[untrusted]
        assert rows[untrusted]["attention"]
    assert "does not match its signature" in rows["19.02"]["reasons"][0]["en"]
    assert "other than the region's registered key" in rows["14.05"]["reasons"][0]["en"]
    text = spbe_kit("--lang", "id", "fleet", "status", str(fleet))
    assert text.returncode == 3
    assert "3 daerah, 2 perlu perhatian" in text.stdout and "DIUBAH" in text.stdout, text.stdout


def test_what_needs_attention(fleet: Path, tmp_path: Path) -> None:
    for name in ("19.02.json", "14.05.json", "32.15.json"):
        (fleet / name).unlink()
    profile = tmp_path / "regions" / "32.15.yaml"
    unwell = region_report(
        "32.15",
        "Kabupaten Karawang",
        generated=moment(40),
        audit={"checks": 53, "passed": 50, "failed": {"high": ["TLS-04"], "medium": ["BAK-02"]}},
        drift={"checked": True, "differences": 2},
        backups={"rpo_s": 93600, "scheduler_ok": False},
    )
    app = unwell["apps"][0]
    app.update(health="unhealthy", cert_days=5, last_backup=moment(45), last_drill=None)
    signed_file(fleet / "32.15-old.json", copy.deepcopy(unwell), profile)
    _, data = fleet_json(fleet)
    (row,) = data["regions"]
    keys_found = [r["key"] for r in row["reasons"]]
    assert keys_found == [
        "fleet-stale",
        "fleet-unhealthy",
        "fleet-cert",
        "fleet-backup-old",
        "fleet-drill-old",
        "fleet-audit",
        "fleet-scheduler-failed",
        "fleet-drift",
    ]
    # The reasons read at 80 columns, wrapped at words, in both languages.
    for lang in ("en", "id"):
        text = spbe_kit("--lang", lang, "fleet", "status", str(fleet), env={"COLUMNS": "80"}).stdout
        too_long = [line for line in text.splitlines() if len(line) > 80]
        assert not too_long and "  - " in text, text
    assert "TLS-04 (tinggi)" in text and "e-simpati tidak sehat" in text, text
    # The newest report wins: a fresh one clears everything.
    signed_file(fleet / "32.15-new.json", region_report("32.15", "Kabupaten Karawang"), profile)
    code, data = fleet_json(fleet)
    assert code == 0 and data["regions"][0]["reasons"] == []


def test_a_withdrawn_version_lists_exactly_the_affected_regions(fleet: Path, tmp_path: Path) -> None:
    profile = tmp_path / "regions" / "x.yaml"
    signed_file(fleet / "61.06.json", region_report("61.06", "Kabupaten Sintang", version="1.0.0"), profile)
    (fleet / "keys" / "61.06.pub").write_text(keys.public_path(profile).read_text())
    catalog = tmp_path / "catalog.yaml"
    advisory = (
        "advisories:\n  SPBE-SA-2026-001:\n    app: e-simpati\n    versions: ['1.0.0']\n"
        "    severity: high\n    withdrawn: true\n    fixed_in: '1.1.0'\n"
        "    text: {id: Data balita terbuka., en: Toddler records are open.}\n"
    )
    catalog.write_text(
        (ROOT / "catalog.yaml").read_text().replace("\napps:\n", "\n" + advisory + "apps:\n", 1)
    )
    code, data = fleet_json(fleet, "--catalog", str(catalog))
    assert code == 3
    assert data["advisories"] == {"SPBE-SA-2026-001": ["61.06"]}
    rows = {r["code"]: r for r in data["regions"]}
    assert [r["key"] for r in rows["61.06"]["reasons"]] == ["fleet-advisory"]
    assert rows["32.15"]["reasons"] == []
    # The same catalog without the advisory: Sintang is fine.
    code, data = fleet_json(fleet)
    assert data["advisories"] == {} and {r["code"]: r["reasons"] for r in data["regions"]}["61.06"] == []


def test_an_advisory_must_name_released_versions(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    advisory = (
        "advisories:\n  SPBE-SA-2026-002:\n    app: e-simpati\n    versions: ['9.9.9']\n"
        "    severity: low\n    text: {id: x, en: x}\n"
    )
    catalog.write_text(
        (ROOT / "catalog.yaml").read_text().replace("\napps:\n", "\n" + advisory + "apps:\n", 1)
    )
    done = spbe_kit("--catalog", str(catalog), "validate", str(ROOT / "examples/profiles/demo.yaml"))
    assert done.returncode == 2
    assert "SPBE-SA-2026-002: e-simpati has no version 9.9.9" in done.stderr


def test_the_fleet_page_is_self_contained_and_escapes_what_it_shows(fleet: Path, tmp_path: Path) -> None:
    page = tmp_path / "fleet.html"
    done = spbe_kit("fleet", "report", str(fleet), "-o", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert "Kabupaten Karawang" in html and "DIUBAH" in html and "KUNCI SALAH" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html and "src=" not in html
    assert html.count("<tr class=") == 3


def test_the_version_edit_keeps_every_other_byte(tmp_path: Path) -> None:
    from spbe_kit.fleet.upgrade import with_version

    assert spbe_kit("init", "32.05", "-o", str(tmp_path / "garut.yaml")).returncode == 0
    original = (tmp_path / "garut.yaml").read_text()
    edited = with_version(original, "e-simpati", "1.0.0")
    changed = [(a, b) for a, b in zip(original.splitlines(), edited.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].strip() == 'version: "1.0.0"', changed
    assert original.count("#") == edited.count("#") > 20
    for written, expected in (
        ("    version: 1.0.0  # kept\n", "    version: 1.1.0  # kept\n"),
        ("    version: '1.0.0'\n", "    version: '1.1.0'\n"),
        ('    version: "1.0.0"\n', '    version: "1.1.0"\n'),
    ):
        text = f"apps:\n  simpeg:\n    version: 9\n  e-simpati:\n{written}    host: app1\n"
        assert with_version(text, "e-simpati", "1.1.0") == text.replace(written, expected)


def test_waves_name_managed_regions_once(tmp_path: Path) -> None:
    for code, name in (("32.15", "karawang"), ("19.02", "belitung"), ("14.05", "siak")):
        assert spbe_kit("init", code, "-o", str(tmp_path / f"{name}.yaml")).returncode == 0
    wrong = spbe_kit(
        "fleet",
        "upgrade",
        str(tmp_path),
        "--app",
        "e-simpati",
        "--to",
        "1.1.0",
        "--waves",
        "karawang;bogor;19.02,belitung",
    )
    assert wrong.returncode == 2
    assert "'bogor' names no managed region with e-simpati" in wrong.stderr
    assert "region 19.02 is named in more than one wave" in wrong.stderr
    before = {p: p.read_bytes() for p in tmp_path.glob("*.yaml")}
    shown = spbe_kit(
        "fleet",
        "upgrade",
        str(tmp_path),
        "--app",
        "e-simpati",
        "--to",
        "1.0.0",
        "--waves",
        "karawang;rest",
        "--dry-run",
    )
    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if line.startswith("wave")]
    assert [line.split()[1:3] for line in lines] == [["1:", "32.15"], ["2:", "14.05"], ["2:", "19.02"]]
    assert {p: p.read_bytes() for p in tmp_path.glob("*.yaml")} == before
    unknown = spbe_kit("fleet", "upgrade", str(tmp_path), "--app", "e-simpati", "--to", "7.0.0")
    assert unknown.returncode == 2 and "no version 7.0.0 of e-simpati" in unknown.stderr
