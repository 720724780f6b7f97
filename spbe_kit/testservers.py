"""Disposable test servers: containers with sshd, python3 and their own dockerd.

Test infrastructure, not part of a region's deployment. Each server is a realistic remote
host for Ansible over real SSH. Everything started is labelled with a session id and
removed by ``TestServers.stop()`` (also on interpreter exit and SIGTERM); ``sweep()`` removes
what an interrupted earlier run left behind.

Manual use:  python -m spbe_kit.testservers up 2   /   python -m spbe_kit.testservers down
``down`` removes the servers that ``up`` started for the caller (recorded under
$XDG_STATE_HOME/spbe-kit/testservers), never another run's; ``down --all`` removes every one.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spbe_kit.grant.images import docker_client
from spbe_kit.runner import Runner

IMAGE = "spbe-kit/testserver:bookworm"
LABEL = "org.spbe-kit.testserver"
# Works without --privileged, which fails here (the bounding set lacks CAP_SYS_RESOURCE).
CAP_DROP = ["SYS_RESOURCE"]
SECURITY_OPT = ["seccomp=unconfined", "apparmor=unconfined"]


@dataclass
class Server:
    name: str
    address: str
    container: Any
    volume: str


@dataclass
class TestServers:
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spbe-testservers-")))
    session: str = field(default_factory=lambda: secrets.token_hex(4))
    internal: bool = False
    servers: list[Server] = field(default_factory=list)
    runner: Runner = field(default_factory=Runner)

    def __post_init__(self) -> None:
        self.client = docker_client()
        self.key = self.workdir / "id_ed25519"
        self.known_hosts = self.workdir / "known_hosts"
        self.network = f"spbe-test-{self.session}"
        self._stopped = False

    def start(self, count: int, timeout: float = 90.0) -> list[Server]:
        atexit.register(self.stop)
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, self._terminated)
        if not self.key.exists():
            self.runner.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)])
        self.client.networks.create(
            self.network, driver="bridge", internal=self.internal, labels={LABEL: self.session}
        )
        public = self.key.with_suffix(".pub").read_text().strip()
        for index in range(count):
            self.servers.append(self._run_one(f"spbe-test-{self.session}-{index + 1}", public))
        deadline = time.monotonic() + timeout
        for server in self.servers:
            self._wait_ready(server, deadline)
        return self.servers

    def _terminated(self, *_: object) -> None:
        self.stop()
        sys.exit(143)

    def _run_one(self, name: str, public_key: str) -> Server:
        volume = f"{name}-docker"
        self.client.volumes.create(volume, labels={LABEL: self.session})
        container = self.client.containers.run(
            IMAGE,
            detach=True,
            name=name,
            hostname=name,
            network=self.network,
            cap_add=["ALL"],
            cap_drop=CAP_DROP,
            security_opt=SECURITY_OPT,
            volumes={
                "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                volume: {"bind": "/var/lib/docker", "mode": "rw"},
            },
            tmpfs={"/run": ""},
            environment={"SPBE_AUTHORIZED_KEY": public_key},
            labels={LABEL: self.session},
        )
        container.reload()
        address = container.attrs["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        return Server(name, address, container, volume)

    def ssh_args(self, server: Server) -> list[str]:
        return [
            "ssh",
            "-i",
            str(self.key),
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=accept-new",
            f"root@{server.address}",
        ]

    def ssh(
        self,
        server: Server,
        command: str,
        input: bytes | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        return self.runner.run([*self.ssh_args(server), command], input=input, check=check)

    def _wait_ready(self, server: Server, deadline: float) -> None:
        while True:
            probe = self.ssh(server, "docker info --format '{{.ServerVersion}}'", check=False)
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline:
                logs = server.container.logs(tail=20).decode(errors="replace")
                raise RuntimeError(f"{server.name} not ready: {probe.stderr.decode()[-300:]}\n{logs}")
            time.sleep(1)

    def load_image(self, server: Server, image: str) -> None:
        """``docker save`` on the controller piped into ``docker load`` on the server."""
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        load = subprocess.run(
            [*self.ssh_args(server), "docker load -q"], stdin=save.stdout, capture_output=True
        )
        assert save.stdout
        save.stdout.close()
        if save.wait() != 0 or load.returncode != 0:
            raise RuntimeError(f"loading {image} into {server.name}: {load.stderr.decode()[-300:]}")

    def inventory(self, roles: dict[str, list[str]] | None = None) -> dict[str, Any]:
        """An Ansible inventory (as data) for the servers, keyed by their container names."""
        interpreter = "/usr/bin/python3"
        hosts = {
            s.name: {
                "ansible_host": s.address,
                "ansible_user": "root",
                "ansible_ssh_private_key_file": str(self.key),
                "ansible_python_interpreter": interpreter,
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={self.known_hosts} "
                "-o StrictHostKeyChecking=accept-new",
            }
            for s in self.servers
        }
        children = {group: {"hosts": {h: None for h in names}} for group, names in (roles or {}).items()}
        return {"all": {"hosts": hosts, "children": children}}

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        sweep(self.session)


def sweep(session: str | None = None) -> int:
    """Remove test servers, their volumes and networks (one session's, or every session's)."""
    client = docker_client()
    selector = f"{LABEL}={session}" if session else LABEL
    removed = 0
    for container in client.containers.list(all=True, filters={"label": selector}):
        container.remove(force=True, v=True)
        removed += 1
    for volume in client.volumes.list(filters={"label": selector}):
        volume.remove(force=True)
    for network in client.networks.list(filters={"label": selector}):
        network.remove()
    return removed


def state_dir() -> Path:
    """Where ``up`` records the sessions it started, so ``down`` removes only those."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "spbe-kit" / "testservers"


def down(all_sessions: bool = False) -> int:
    if all_sessions:
        removed = sweep()
        for record in state_dir().glob("*") if state_dir().is_dir() else []:
            record.unlink()
        return removed
    removed = 0
    for record in sorted(state_dir().glob("*")) if state_dir().is_dir() else []:
        removed += sweep(record.name)
        record.unlink()
    return removed


def _main(argv: list[str]) -> int:
    if argv[:1] == ["down"]:
        every = argv[1:] == ["--all"]
        print(f"removed {down(every)} test server(s)" + ("" if every else " started by `up` here"))
        return 0
    if argv[:1] != ["up"]:
        print(__doc__)
        return 2
    servers = TestServers()
    started = servers.start(int(argv[1]) if len(argv) > 1 else 1)
    atexit.unregister(servers.stop)
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / servers.session).write_text(str(servers.workdir) + "\n")
    inventory = servers.workdir / "inventory.json"
    inventory.write_text(json.dumps(servers.inventory(), indent=2))
    for server in started:
        print(f"{server.name}: ssh -i {servers.key} root@{server.address}")
    print(f"inventory: {inventory}\nremove with: python -m spbe_kit.testservers down")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
