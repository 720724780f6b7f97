"""apply.run_script: the probe's one SSH connection per host (or a local process)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spbe_kit.hosts.apply import Connection, run_script
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
        "from spbe_kit.hosts.apply import _control_path\n"
        "from spbe_kit.models.profile import Host\n"
        "print(_control_path(Host(address='10.0.0.5', user='root', roles=['apps'])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip()


def test_each_host_gets_its_own_arguments_after_the_common_ones(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    connection = Connection(tmp_path / "known_hosts", local_hosts=["a", "b"])
    hosts = {n: Host(address="127.0.0.1", connection="local", roles=["apps"]) for n in ("a", "b")}
    found = run_script(connection, hosts, script, ["root"], host_args={"a": ['{"x": 1}']})
    assert json.loads(found["a"].stdout) == ["root", '{"x": 1}']
    assert json.loads(found["b"].stdout) == ["root"]


def test_the_probe_reports_kind_mode_and_owner_and_the_host_report_is_checked(tmp_path: Path) -> None:
    """What the no-op deploy's shortcut reads (``plan.layout_problems``): the probe's own stat
    of each folder and file, and the owners below a folder; a malformed answer is refused."""
    import os

    import pytest

    from spbe_kit.errors import OperationFailed
    from spbe_kit.hosts import hostdata

    probe = _host_script("spbe_probe")
    (tmp_path / "backups" / "one").mkdir(parents=True)
    (tmp_path / "backups" / "one" / "db.dump").write_text("x")
    (tmp_path / "secret").write_text("s")
    (tmp_path / "secret").chmod(0o400)
    (tmp_path / "link").symlink_to(tmp_path / "secret")
    me = (os.getuid(), os.getgid())
    paths = [str(tmp_path / n) for n in ("backups", "secret", "link", "absent")]
    found = probe.layout({"paths": paths, "below": [str(tmp_path / "backups")]})
    assert found["stats"] == {
        str(tmp_path / "backups"): ["dir", 0o755 & ~_umask(), *me],
        str(tmp_path / "secret"): ["file", 0o400, *me],
        str(tmp_path / "link"): ["other", 0o777, *me],
    }
    assert found["below"] == {str(tmp_path / "backups"): [list(me)]}
    checked = hostdata.probe("app1", {"layout": found}, "/opt/spbe-kit/x")["layout"]
    assert checked["stats"][str(tmp_path / "secret")] == ("file", 0o400, *me)
    for hostile in (
        {"stats": {"relative/path": ["dir", 0o700, 0, 0]}, "below": {}},
        {"stats": {"/x": ["fifo", 0o700, 0, 0]}, "below": {}},
        {"stats": {"/x": ["dir", 0o700, -1, 0]}, "below": {}},
        {"stats": {}, "below": {"/x": [[0, 0, 0]]}},
        ["not", "an", "object"],
    ):
        with pytest.raises(OperationFailed) as refused:
            hostdata.probe("app1", {"layout": hostile}, "/opt/spbe-kit/x")
        assert refused.value.diagnostics[0].code == "host-report-invalid"


def _host_script(name: str) -> Any:
    """One of the scripts the kit runs on the hosts (``playbooks/files``), as a module."""
    import importlib.util

    from spbe_kit.resources import playbooks_dir

    spec = importlib.util.spec_from_file_location(name, playbooks_dir() / "files" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_no_log_task_that_changed_something_counts_as_changed() -> None:
    """ansible-runner censors a no_log task's whole result, ``changed`` included."""
    from spbe_kit.hosts.apply import changed

    def event(res: dict[str, object], stdout: str) -> dict[str, object]:
        return {"event": "runner_on_ok", "event_data": {"res": res}, "stdout": stdout}

    censored = {"censored": "the output has been hidden"}
    assert changed(event(censored, "\r\nTASK [x] ***\r\nchanged: [db1]"))
    assert changed(event(censored, "changed: [app1 -> localhost]"))
    assert not changed(event(censored, "\r\nTASK [x] ***\r\nok: [db1]"))
    assert not changed(event({"changed": False}, "changed: [db1]"))
    assert changed(event({"changed": True}, "ok: [db1]"))


def test_a_release_is_recorded_with_its_tree_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    """``spbe_release.py``: the tree the deploy sent (or, after a rollback, the files as
    installed), then release.json; releases older than the kept number are forgotten."""
    import tarfile


    release = _host_script("spbe_release")
    root = tmp_path / "root"
    (root / ".spbe-kit").mkdir(parents=True)
    (root / "simpeg").mkdir()
    (root / "simpeg" / "compose.yaml").write_text("services: {}\n")
    with tarfile.open(root / ".spbe-kit" / "tree.tar", "w") as sent:
        sent.add(root / "simpeg" / "compose.yaml", arcname="simpeg/compose.yaml")
    for number in range(1, 4):
        assert release.main([str(root), str(number), "2", json.dumps({"number_was": number})]) == 0
    releases = root / ".spbe-kit" / "releases"
    assert sorted(p.name for p in releases.iterdir()) == ["2", "3"]
    assert json.loads((releases / "3" / "release.json").read_text()) == {"number_was": 3}
    assert (releases / "3" / "tree.tar").read_bytes() == (root / ".spbe-kit" / "tree.tar").read_bytes()
    assert (releases / "3").stat().st_mode & 0o777 == 0o700
    assert (releases / "3" / "release.json").stat().st_mode & 0o777 == 0o600
    # After a rollback: the files as installed, not the archive last sent.
    (root / "simpeg" / "compose.yaml").write_text("services: {rolled: back}\n")
    assert release.main([str(root), "4", "2", "{}", "simpeg/compose.yaml"]) == 0
    with tarfile.open(releases / "4" / "tree.tar") as kept:
        member = kept.extractfile("simpeg/compose.yaml")
        assert member and member.read() == b"services: {rolled: back}\n"
    assert not list(releases.glob("*/.spbe-*"))


@pytest.mark.docker
def test_the_probe_reads_the_engine_api_as_the_cli_would_print_it(tmp_path: Path) -> None:
    """What the probe learns through the engine's socket equals what the CLI prints (the CLI is
    the fallback): version, root folder, tagged images, this region's containers inspected."""
    probe = _host_script("spbe_probe")
    api = probe.local_api()
    assert api is not None, "this machine's engine listens on /var/run/docker.sock"
    assert probe.engine(api) == probe.engine(None)
    direct = subprocess.run([*probe.compose_command(), "version", "--short"], capture_output=True, text=True)
    via_cli = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True)
    assert probe.compose_command() != ["docker", "compose"], "the plugin is where the CLI finds it"
    assert direct.stdout == via_cli.stdout != "" and direct.returncode == via_cli.returncode == 0
    assert probe.images(api) == probe.images(None) != {}
    made = subprocess.run(
        ["docker", "create", "--label", "org.spbe-kit.region=99.98", "-p", "127.0.0.1:28999:80",
         "spbe-kit/debian:bookworm", "true"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        found = probe.containers("99.98", api)
        assert found == probe.containers("99.98", None)
        assert [c["status"] for c in found] == ["created"]
        assert probe.containers("99.97", api) == []
    finally:
        subprocess.run(["docker", "rm", "-f", made], capture_output=True, check=True)


def test_the_probes_key_exchange_puts_the_cheap_ones_first_and_drops_none() -> None:
    """The probe carries no secret: curve25519 (or ML-KEM where OpenSSH has it) before 9.2's
    default sntrup761, which costs ten times the CPU; every algorithm the client offers stays,
    so a server that takes only the others still connects."""
    from conftest import require_tool
    from spbe_kit.hosts.apply import _fast_kex, fast_first

    require_tool("ssh")

    default_92 = ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
                  "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"]  # fmt: skip
    assert fast_first(default_92) == [
        "curve25519-sha256", "curve25519-sha256@libssh.org", "sntrup761x25519-sha512@openssh.com",
        "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256",
    ]  # fmt: skip
    assert fast_first(["sntrup761x25519-sha512", "mlkem768x25519-sha256", "curve25519-sha256"]) == [
        "mlkem768x25519-sha256", "curve25519-sha256", "sntrup761x25519-sha512"
    ]
    assert fast_first(["ecdh-sha2-nistp256"]) == ["ecdh-sha2-nistp256"]
    asked = ["ssh", "-G", "spbe-kit.invalid"]
    offered = subprocess.run(asked, capture_output=True, text=True, check=True).stdout
    listed = next(line.split()[1] for line in offered.splitlines() if line.startswith("kexalgorithms "))
    assert sorted(_fast_kex().split(",")) == sorted(listed.split(","))
    assert _fast_kex().startswith("curve25519-sha256") or _fast_kex().startswith("mlkem768x25519-sha256")


def test_the_probe_never_lists_host_state_so_a_deploy_never_removes_it(tmp_path: Path) -> None:
    """Files the release tree does not have are removed by a deploy: the proxy's access logs
    (logs/), backups and secrets are the host's own and must not be among them."""
    probe = _host_script("spbe_probe")
    for rel in ("hosts/local/proxy/nginx.conf", "logs/proxy/access-2026-12-07.log", "backups/x/backup.json",
                "secrets/simpeg.db_password", "stray.txt"):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert sorted(probe.installed_files(str(tmp_path))) == ["hosts/local/proxy/nginx.conf", "stray.txt"]
