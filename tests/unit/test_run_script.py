"""apply.run_script: the probe's one SSH connection per host (or a local process)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from spbe_kit.apply import Connection, run_script
from spbe_kit.models.profile import Host


def test_a_local_host_runs_the_script_with_its_arguments(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    connection = Connection(tmp_path / "known_hosts", local_hosts=["here"])
    hosts = {"here": Host(address="127.0.0.1", connection="local", roles=["apps"])}
    result = run_script(connection, hosts, script, ["/opt/spbe-kit/x", "32.10", ""])["here"]
    assert result.returncode == 0 and not result.unreachable
    assert json.loads(result.stdout) == ["/opt/spbe-kit/x", "32.10", ""]


def test_a_host_ssh_cannot_reach_is_unreachable_not_a_script_failure(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connection refused
        script = tmp_path / "never.py"
        script.write_text("raise SystemExit(3)\n")
        hosts = {"app1": Host(address="127.0.0.1", port=port, roles=["apps"])}
        result = run_script(Connection(tmp_path / "known_hosts"), hosts, script, [])["app1"]
    assert result.unreachable and "refused" in result.stderr.lower()


def test_finding_ansibles_control_path_prints_no_warning() -> None:
    """Every remote command computes it: its imports must leave the admin's stderr clean."""
    code = (
        "from spbe_kit.apply import _control_path\n"
        "from spbe_kit.models.profile import Host\n"
        "print(_control_path(Host(address='10.0.0.5', user='root', roles=['apps'])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip()
