"""A plain (non-editable) wheel carries the catalog, templates, playbooks and reference data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT


@pytest.mark.slow
def test_wheel_install_renders_without_the_source_tree(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("spbe_kit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "spbe_kit/_bundled/catalog.yaml",
        "spbe_kit/_bundled/templates/compose/app.yaml.j2",
        "spbe_kit/_bundled/schemas/profile.schema.json",
        "spbe_kit/data/wilayah-kemendagri.csv",
    ):
        assert needed in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    profile = tmp_path / "karawang.yaml"
    profile.write_text((EXAMPLES / "karawang.yaml").read_text())
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = "import spbe_kit.resources as r; print(r.shipped_root())"
    where = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert where.stdout.strip() == str(target / "spbe_kit" / "_bundled")
    run = subprocess.run(
        [sys.executable, "-m", "spbe_kit", "render", "karawang.yaml"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "build" / "karawang" / "manifest.json").is_file()
