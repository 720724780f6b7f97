"""spbe_switch.py's pieces that need no engine: the spare's compose project and the proxy's
upstream file. The switch itself runs end to end in tests/e2e (with traffic)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from spbe_kit.resources import playbooks_dir


@pytest.fixture
def switch() -> ModuleType:
    spec = importlib.util.spec_from_file_location("spbe_switch", playbooks_dir() / "files" / "spbe_switch.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_spare_shares_the_volumes_but_neither_their_ownership_nor_the_alias(
    switch: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing may reach the spare before the proxy is pointed at it by container name, and
    taking it down must never touch the app's volumes."""
    shown = {
        "name": "spbe-kuningan-e-simpati",
        "services": {"app": {"image": "x", "networks": {"spbe": {"aliases": ["e-simpati"]}}}},
        "volumes": {"uploads": {"name": "spbe-kuningan-e-simpati-uploads"}},
        "networks": {"spbe": {"name": "spbe-kuningan", "external": True}},
    }
    asked = []

    def run(argv, timeout=None):
        asked.append(argv)
        return subprocess.CompletedProcess(argv, 0, json.dumps(shown), "")

    monkeypatch.setattr(switch, "run", run)
    spare_name = "spbe-kuningan-e-simpati-next"
    path, error = switch.spare_file("/opt/x/e-simpati", str(tmp_path), "e-simpati", spare_name)
    compose = ["docker", "compose", "-f", "/opt/x/e-simpati/compose.yaml"]
    assert asked == [[*compose, "config", "--format", "json"]]
    spare = json.loads(Path(path).read_text())
    assert spare["name"] == "spbe-kuningan-e-simpati-next"
    assert spare["services"]["app"]["networks"] == {"spbe": {}}
    assert spare["volumes"] == {"uploads": {"name": "spbe-kuningan-e-simpati-uploads", "external": True}}
    assert error == ""


def test_the_upstream_file_is_written_whole_and_removed(switch: ModuleType, tmp_path: Path) -> None:
    switch.point(str(tmp_path), "simpeg", "http://spbe-x-simpeg-next-app-1:8000")
    written = tmp_path / "simpeg.conf"
    assert "set $spbe_upstream http://spbe-x-simpeg-next-app-1:8000;" in written.read_text()
    assert oct(written.stat().st_mode & 0o777) == "0o644"  # nginx (another user) reads it
    assert [p.name for p in tmp_path.iterdir()] == ["simpeg.conf"]  # no temporary file left
    switch.point(str(tmp_path), "simpeg", None)
    switch.point(str(tmp_path), "simpeg", None)  # already gone: nothing to do
    assert list(tmp_path.iterdir()) == []
