"""Shared fixtures. Under CI=true a missing tool or engine fails a test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spbe_kit.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "profiles"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden from the examples.")


def pytest_configure(config: pytest.Config) -> None:
    # A profile may name host folders only below /opt, /srv, /mnt and the like (validate.py's
    # INSTALL_ROOTS, COPY_ROOTS). The deploy tests keep install_dir and copy_to in pytest's
    # temporary folders, so those live below /srv, as a region's would.
    # One folder per run, so that two runs (a developer's and CI's) never clear each other's.
    if config.option.basetemp is None and os.geteuid() == 0:
        import tempfile
        import time

        base = Path("/srv/spbe-kit-tests")
        base.mkdir(parents=True, exist_ok=True)
        for old in base.glob("pytest-*"):
            if old.stat().st_mtime < time.time() - 24 * 3600:
                shutil.rmtree(old, ignore_errors=True)
        config.option.basetemp = tempfile.mkdtemp(prefix="pytest-", dir=base)


def require(condition: bool, what: str) -> None:
    """Skip when a tool is missing on a developer's machine; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} not available")


def require_tool(name: str) -> str:
    found = shutil.which(name)
    require(found is not None, f"the '{name}' command")
    assert found
    return found


@pytest.fixture
def cli() -> Callable[..., object]:
    runner = CliRunner()

    def run(*args: str, cwd: Path | None = None) -> object:
        old = os.getcwd()
        if cwd:
            os.chdir(cwd)
        try:
            return runner.invoke(app, ["--lang", "en", *args], catch_exceptions=False)
        finally:
            os.chdir(old)

    return run


@pytest.fixture
def demo_text() -> str:
    return (EXAMPLES / "demo.yaml").read_text()


@pytest.fixture
def write_profile(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "bad.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def docker_engine_ready() -> bool:
    try:
        from spbe_kit.grant.images import docker_client

        docker_client()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def docker_engine() -> None:
    require(docker_engine_ready(), "a running Docker engine (scripts/setup-engine.sh)")


@pytest.fixture(scope="session")
def images(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every catalog image (and the test server) built; cheap when already built."""
    from spbe_kit.grant.images import build_images

    out = tmp_path_factory.mktemp("images")
    build_images(out, lambda line: None, [], include_tests=True)
    return out


@pytest.fixture
def test_servers(images: Path):
    """A factory of disposable SSH servers; all of them are removed after the test."""
    from spbe_kit.testservers import TestServers

    started: list[TestServers] = []

    def start(count: int, internal: bool = False) -> TestServers:
        servers = TestServers(internal=internal)
        started.append(servers)
        servers.start(count)
        return servers

    yield start
    for servers in started:
        servers.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fuzz run's example count belongs in the CI log."""
    import sys

    fuzz = sys.modules.get("fuzz.test_profiles_fuzz") or sys.modules.get("test_profiles_fuzz")
    if fuzz is not None:
        stats = fuzz.STATS
        total = stats["accepted"] + stats["rejected"]
        terminalreporter.write_line(
            f"fuzz: {total} generated profiles ({stats['accepted']} accepted, {stats['rejected']} rejected)"
        )


def nginx_accepts(proxy: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a rendered proxy folder: copied to ``work``, its container paths pointed
    there, and a throwaway certificate made for every virtual host."""
    import shutil

    nginx = require_tool("nginx")
    require_tool("openssl")
    shutil.copytree(proxy, work)
    (work / "tls").mkdir()
    for conf in [work / "nginx.conf", *sorted((work / "conf.d").glob("*.conf"))]:
        conf.write_text(conf.read_text().replace("/etc/spbe-proxy", str(work)))
    for conf in (work / "conf.d").glob("*.conf"):
        for line in conf.read_text().splitlines():
            if line.strip().startswith("ssl_certificate ") and "tls/" in line:
                name = line.split("tls/")[1].rstrip(";").removesuffix(".crt")
                if not (work / "tls" / f"{name}.crt").exists():
                    subprocess.run(
                        [
                            "openssl",
                            "req",
                            "-x509",
                            "-newkey",
                            "ec",
                            "-pkeyopt",
                            "ec_paramgen_curve:P-256",
                            "-nodes",
                            "-subj",
                            f"/CN={name}",
                            "-days",
                            "2",
                            "-keyout",
                            str(work / "tls" / f"{name}.key"),
                            "-out",
                            str(work / "tls" / f"{name}.crt"),
                        ],
                        check=True,
                        capture_output=True,
                    )
    return subprocess.run([nginx, "-t", "-c", str(work / "nginx.conf")], capture_output=True, text=True)


def compose_accepts(compose: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", "-f", str(compose), "config", "-q"],
        cwd=compose.parent,
        capture_output=True,
        text=True,
    )
