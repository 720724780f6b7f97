"""Multi-host deploy benchmark over real SSH, on the project's test servers (sshd + their own
dockerd): the same region (Kabupaten Karawang's apps) on 1 host and on 4 hosts (proxy; two
apps; one app; PostgreSQL). Prints, for each layout:
- fresh deploy: a new profile folder onto hosts without any image or data, with no region up
  on any test server (images travel from the controller, secrets, CA, database init);
- no-op redeploy, with both regions up: the probe finds every host as the release leaves it
  and no playbook runs; the same with `--full` (the whole playbook, every step finding nothing
  to do); and plain `docker compose up -d --wait` on the same projects over SSH (every host at
  once, its projects in order);
and the ratios of the medians: 4 hosts / 1 host for fresh and no-op (goal <= 1.3 each), no-op /
plain compose (goal <= 1.5). The two layouts take turns, the order swapped every round, so
whatever else this shared machine does meanwhile weighs on both alike (measured one after the
other, the 4-host figures carried the 1-host region's health checks and the 1-host ones did
not). The test servers share this machine's cores with the controller, so each figure also
gives the CPU time spent by the controller (everything outside the test servers: the CLI,
Ansible, ssh, the local engine, a running demo) and by the hosts (the servers' cgroups: sshd,
dockerd, the containers): on separate machines only the controller's part and the slowest
host's add up. The apps as the issue measured them, monitoring off; with --monitoring, the
whole profile (Prometheus and Alertmanager on the proxy's host, exporters on every host, its
secrets set). Removes the test servers on exit.
Run: .venv/bin/python benchmarks/deploy_hosts.py [--rounds N (fresh deploys each, 3)] [--monitoring]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch import ROOT, spbe

from spbe_kit.testservers import Server, TestServers

ONE = """hosts:
  app1:
    address: {0}
    user: root
    roles: [proxy, apps, database]
"""
FOUR = """hosts:
  web1:
    address: {0}
    user: root
    roles: [proxy]
  app1:
    address: {1}
    user: root
    roles: [apps]
  app2:
    address: {2}
    user: root
    roles: [apps]
  db1:
    address: {3}
    user: root
    roles: [database]
"""


MONITORING_SECRETS = ("monitoring.smtp_password", "monitoring.telegram_token", "monitoring.web_password")


def profile(folder: Path, hosts: str, key: Path, monitoring: bool) -> Path:
    text = (ROOT / "examples" / "profiles" / "karawang.yaml").read_text()
    start, end = text.index("hosts:\n"), text.index("\napps:")
    text = text[:start] + hosts + text[end:]
    if not monitoring:
        text = text.replace("monitoring:\n  enabled: true", "monitoring:\n  enabled: false")
    if "app2:" in hosts:
        placed = "  layanan-publik:\n    host: app2\n    version"
        text = text.replace("  layanan-publik:\n    version", placed)
    text = text.replace("copy_to: app1", "copy_to: /srv/cadangan")
    folder.mkdir(parents=True)
    shutil.copy(key, folder / "key")
    path = folder / "karawang.yaml"
    path.write_text(text)
    for name in MONITORING_SECRETS if monitoring else ():
        secret = subprocess.run(
            [sys.executable, "-m", "spbe_kit", "secrets", "set", path.name, name],
            cwd=folder, input=f"bench-{name}-value\n", capture_output=True, text=True,
        )  # fmt: skip
        if secret.returncode:
            raise SystemExit(f"secrets set {name} failed:\n{secret.stdout}{secret.stderr}")
    return path


CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CPU:
    """CPU seconds used while the block runs: by the machine, and by the given test servers'
    cgroups (cgroup v1 cpuacct, hierarchical: their own containers included)."""

    def __init__(self, hosts: list[Server]) -> None:
        self.files = [CPUACCT / "docker" / s.container.id / "cpuacct.usage" for s in hosts]
        self.controller = self.hosts = 0.0

    def _read(self) -> tuple[float, float]:
        hosts = sum(int(f.read_text()) for f in self.files) / 1e9
        return int((CPUACCT / "cpuacct.usage").read_text()) / 1e9 - hosts, hosts

    def __enter__(self) -> CPU:
        self._start = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._read()
        self.controller, self.hosts = end[0] - self._start[0], end[1] - self._start[1]


def plain_compose(servers: TestServers, hosts: list[Server]) -> float:
    """`docker compose up -d --wait` in every installed project, hosts in parallel."""
    command = (
        "for p in /opt/spbe-kit/karawang/*/compose.yaml; do "
        'docker compose -f "$p" up -d --wait >/dev/null || exit 1; done'
    )
    start = time.perf_counter()
    with ThreadPoolExecutor(len(hosts)) as pool:
        list(pool.map(lambda s: servers.ssh(s, command), hosts))
    return time.perf_counter() - start


RESET = (
    "docker ps -aq | xargs -r docker rm -f >/dev/null;"
    " docker volume ls -q | xargs -r docker volume rm >/dev/null;"
    " docker image prune -af >/dev/null; docker network prune -f >/dev/null;"
    " rm -rf /opt/spbe-kit /srv/cadangan"
)


@dataclass
class Layout:
    """One of the two regions: its hosts, the profile's folder and what was measured."""

    count: int
    hosts: list[Server]
    hosts_yaml: str
    folder: Path
    figures: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @property
    def profile(self) -> Path:
        return self.folder / "karawang.yaml"

    def deploy(self, *extra: str) -> float:
        return spbe("deploy", self.profile.name, "--private-key", "key", *extra, cwd=self.folder)[0]

    def median(self, name: str) -> float:
        return statistics.median(self.figures[name])


def fresh(servers: TestServers, layout: Layout, every: list[Layout], monitoring: bool) -> None:
    """A new profile folder (new secrets, CA, known_hosts) onto hosts without any image or data,
    with no region up on any test server (``every`` layout's hosts are emptied first)."""
    emptied = [server for each in every for server in each.hosts]
    with ThreadPoolExecutor(len(emptied)) as pool:
        list(pool.map(lambda s: servers.ssh(s, RESET), emptied))
    shutil.rmtree(layout.folder, ignore_errors=True)
    profile(layout.folder, layout.hosts_yaml, servers.key, monitoring)
    with CPU(layout.hosts) as cpu:
        layout.figures["fresh"].append(layout.deploy())
    layout.figures["fresh_controller"].append(cpu.controller)
    layout.figures["fresh_hosts"].append(cpu.hosts)


def settled(servers: TestServers, layout: Layout) -> None:
    """A no-op, the same with --full, and plain compose on the same projects."""
    with CPU(layout.hosts) as cpu:
        layout.figures["noop"].append(layout.deploy())
    layout.figures["noop_controller"].append(cpu.controller)
    layout.figures["noop_hosts"].append(cpu.hosts)
    layout.figures["full"].append(layout.deploy("--full"))
    layout.figures["plain"].append(plain_compose(servers, layout.hosts))


def interleaved(layouts: list[Layout], rounds: int) -> Iterator[Layout]:
    """Each round both layouts, the order swapped every round: whatever the shared machine does
    meanwhile (the other region's health checks, a demo, a slower hour) weighs on both alike."""
    for number in range(rounds):
        yield from layouts if number % 2 == 0 else reversed(layouts)


def report(one: Layout, four: Layout) -> None:
    for r in (one, four):
        print(
            f"{r.count} host(s): fresh deploy {r.median('fresh'):.1f} s; no-op {r.median('noop'):.2f} s, "
            f"with --full {r.median('full'):.2f} s; plain compose {r.median('plain'):.1f} s; no-op / compose "
            f"{r.median('noop') / r.median('plain'):.2f} (goal <= 1.5), with --full "
            f"{r.median('full') / r.median('plain'):.2f}"
        )
        print(
            f"  CPU seconds, controller + hosts: fresh {r.median('fresh_controller'):.1f} + "
            f"{r.median('fresh_hosts'):.1f}; no-op {r.median('noop_controller'):.2f} + "
            f"{r.median('noop_hosts'):.2f}"
        )
        print(f"  fresh runs: {', '.join(f'{v:.1f}' for v in r.figures['fresh'])} s")
    print(
        f"4 hosts / 1 host (medians): fresh {four.median('fresh') / one.median('fresh'):.2f}, "
        f"no-op {four.median('noop') / one.median('noop'):.2f} (goal <= 1.3 each), "
        f"no-op with --full {four.median('full') / one.median('full'):.2f}"
    )
    ratio = {k: four.median(f"{k}_controller") / one.median(f"{k}_controller") for k in ("fresh", "noop")}
    print(f"controller CPU, 4 hosts / 1 host: fresh {ratio['fresh']:.2f}, no-op {ratio['noop']:.2f}")


def idle_load(seconds: float = 10.0) -> float:
    """Cores the machine keeps busy with nothing being measured (both regions' health checks,
    anything else running here)."""
    usage = CPUACCT / "cpuacct.usage"
    before = int(usage.read_text())
    time.sleep(seconds)
    return (int(usage.read_text()) - before) / 1e9 / seconds


def main() -> None:
    monitoring = "--monitoring" in sys.argv[1:]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    servers = TestServers()
    scratch = Path(tempfile.mkdtemp(prefix="spbe-bench-hosts-", dir="/srv"))
    try:
        started = servers.start(5)
        one = Layout(1, started[:1], ONE.format(started[0].address), scratch / "one")
        four = Layout(4, started[1:], FOUR.format(*(s.address for s in started[1:])), scratch / "four")
        for layout in interleaved([one, four], rounds):
            fresh(servers, layout, [one, four], monitoring)
        # Both regions up for the no-ops (the last fresh deploy emptied the other's hosts).
        last = list(interleaved([one, four], rounds))[-1]
        (one if last is four else four).deploy()
        load = idle_load()
        for layout in interleaved([one, four], 5):
            settled(servers, layout)
    finally:
        servers.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"fresh deploys: {rounds} per layout, each with no other region up; no-ops: 5 per layout, both "
        "regions up; interleaved, medians; "
        f"the machine's load with both regions up and nothing measured: {load:.2f} cores of 2"
    )
    report(one, four)


if __name__ == "__main__":
    main()
