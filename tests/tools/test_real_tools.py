"""The rendered files pass the real tools: docker compose, nginx -t, ansible-inventory."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, compose_accepts, nginx_accepts, require, require_tool
from spbe_kit import pipeline

pytestmark = pytest.mark.tools
ALL = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("rendered")
    out = {}
    for profile in ALL:
        out[profile.stem] = base / profile.stem
        pipeline.render(pipeline.validate(profile), out[profile.stem])
    return out


def _compose_available() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    return subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.parametrize("profile", [p.stem for p in ALL])
def test_compose_config(profile: str, rendered: dict[str, Path]) -> None:
    require(_compose_available(), "docker compose (v2 plugin)")
    files = sorted(rendered[profile].glob("hosts/*/*/compose.yaml"))
    assert files
    for compose in files:
        result = compose_accepts(compose)
        assert result.returncode == 0, f"{compose}: {result.stderr}"


@pytest.mark.parametrize("profile", [p.stem for p in ALL])
def test_nginx_accepts_proxy_config(profile: str, rendered: dict[str, Path], tmp_path: Path) -> None:
    result = nginx_accepts(next(rendered[profile].glob("hosts/*/proxy")), tmp_path / "proxy")
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize("profile", [p.stem for p in ALL])
def test_ansible_inventory_lists_hosts(profile: str, rendered: dict[str, Path]) -> None:
    tool = require_tool("ansible-inventory")
    inventory = rendered[profile] / "inventory" / "hosts.yml"
    result = subprocess.run([tool, "-i", str(inventory), "--list"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    groups = {g for g in ("proxy", "apps", "database") if listed.get(g, {}).get("hosts")}
    assert groups == {"proxy", "apps", "database"}
    hostvars = listed["_meta"]["hostvars"]
    assert all("spbe_apps" in v for v in hostvars.values())
