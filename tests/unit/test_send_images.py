"""The images hosts receive: the sender (docker save | ssh | docker load), its SSH command and
its failures; the slim Debian base they are built on."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from conftest import require_tool
from spbe_kit.resources import playbooks_dir

SENDER = playbooks_dir() / "files" / "spbe_send_images.py"


def _sender():
    spec = importlib.util.spec_from_file_location("spbe_send_images", SENDER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ssh_command_keeps_the_inventorys_known_hosts_key_and_port() -> None:
    connection = {
        "host": "10.0.0.5",
        "port": 2222,
        "user": "deploy",
        "key": "/home/a b/key",
        "common_args": "-o 'UserKnownHostsFile=/home/a b/garut.known_hosts' -o StrictHostKeyChecking=yes",
    }
    command = _sender().ssh_command(connection)
    assert command[-3:] == ["--", "10.0.0.5", "docker load -q"]
    assert command[command.index("-p") : command.index("-p") + 2] == ["-p", "2222"]
    assert command[command.index("-i") : command.index("-i") + 2] == ["-i", "/home/a b/key"]
    assert "UserKnownHostsFile=/home/a b/garut.known_hosts" in command
    assert "BatchMode=yes" in command and "Compression=no" in command


def test_a_failed_save_or_connection_exits_1_naming_both_sides() -> None:
    require_tool("docker")
    require_tool("ssh")
    connection = {"host": "127.0.0.1", "port": 1, "user": "root", "key": None, "common_args": ""}
    done = subprocess.run(
        [sys.executable, str(SENDER), json.dumps(connection), "spbe-kit/no-such-image:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "docker save exited" in done.stderr and "docker load exited 255" in done.stderr


def test_the_base_leaves_out_documentation_but_copyright_and_says_so_to_dpkg(tmp_path: Path) -> None:
    """``images._slim`` on a debootstrapped root: what dpkg's path-exclude would not have
    unpacked is pruned, each package's copyright stays, and dpkg is told for later installs."""
    from spbe_kit.grant.images import SLIM, _slim

    root = tmp_path / "rootfs"
    for path in (
        "usr/share/doc/libc6/copyright",
        "usr/share/doc/libc6/changelog.Debian.gz",
        "usr/share/doc/dash/README",
        "usr/share/man/man1/ls.1.gz",
        "usr/share/locale/id/LC_MESSAGES/coreutils.mo",
        "usr/share/info/dir",
        "usr/share/zoneinfo/Asia/Jakarta",
    ):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x")
    (root / "usr/share/doc/libc-bin").symlink_to("libc6")
    (root / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True)
    _slim(root)
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())
    assert left == [
        "etc/dpkg/dpkg.cfg.d/spbe-kit-slim",
        "usr/share/doc/libc6/copyright",
        "usr/share/zoneinfo/Asia/Jakarta",
    ]
    assert (root / "etc/dpkg/dpkg.cfg.d/spbe-kit-slim").read_text().splitlines() == list(SLIM)
