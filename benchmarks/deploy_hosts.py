"""Multi-host deploy benchmark over real SSH, on the project's test servers (sshd + their own
dockerd): the same region (Kabupaten Karawang's apps) on 1 host and on 4 hosts (proxy; two
apps; one app; PostgreSQL), each host starting without any image. Prints, for each layout:
- fresh deploy (images travel from the controller, secrets, CA, database init);
- no-op redeploy (median of 5): the probe finds every host as the release leaves it and no
  playbook runs; the same with `--full` (the whole playbook, every step finding nothing to do);
  and plain `docker compose up -d --wait` on the same projects over SSH (every host at once,
  its projects in order);
and the ratios: 4 hosts / 1 host for fresh and no-op (goal <= 1.3 each), no-op / plain compose
(goal <= 1.5). The test servers share this machine's cores with the controller, so each figure
also gives the CPU time spent by the controller (everything outside the test servers: the CLI,
Ansible, ssh, the local engine) and by the hosts (the servers' cgroups: sshd, dockerd, the
containers): on separate machines only the controller's part and the slowest host's add up.
Removes the test servers on exit. Run: .venv/bin/python benchmarks/deploy_hosts.py
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
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


def profile(folder: Path, hosts: str, key: Path) -> Path:
    text = (ROOT / "examples" / "profiles" / "karawang.yaml").read_text()
    start, end = text.index("hosts:\n"), text.index("\napps:")
    text = text[:start] + hosts + text[end:]
    if "app2:" in hosts:
        placed = "  layanan-publik:\n    host: app2\n    version"
        text = text.replace("  layanan-publik:\n    version", placed)
    text = text.replace("copy_to: app1", "copy_to: /srv/cadangan")
    folder.mkdir(parents=True)
    shutil.copy(key, folder / "key")
    path = folder / "karawang.yaml"
    path.write_text(text)
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


def measure(servers: TestServers, hosts: list[Server], path: Path) -> dict[str, float]:
    args = ("--private-key", "key")
    with CPU(hosts) as fresh_cpu:
        fresh = spbe("deploy", path.name, *args, cwd=path.parent)[0]
    with CPU(hosts) as noop_cpu:
        noop = statistics.median(spbe("deploy", path.name, *args, cwd=path.parent)[0] for _ in range(5))
    full = statistics.median(spbe("deploy", path.name, "--full", *args, cwd=path.parent)[0] for _ in range(5))
    plain = statistics.median(plain_compose(servers, hosts) for _ in range(5))
    return {
        "fresh": fresh,
        "noop": noop,
        "full": full,
        "plain": plain,
        "fresh_controller": fresh_cpu.controller,
        "fresh_hosts": fresh_cpu.hosts,
        "noop_controller": noop_cpu.controller / 5,
        "noop_hosts": noop_cpu.hosts / 5,
    }


def main() -> None:
    servers = TestServers()
    scratch = Path(tempfile.mkdtemp(prefix="spbe-bench-hosts-", dir="/srv"))
    try:
        started = servers.start(5)
        one_host, four_hosts = started[:1], started[1:]
        one = profile(scratch / "one", ONE.format(*(s.address for s in one_host)), servers.key)
        four = profile(scratch / "four", FOUR.format(*(s.address for s in four_hosts)), servers.key)
        results = {1: measure(servers, one_host, one), 4: measure(servers, four_hosts, four)}
    finally:
        servers.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    for count, r in results.items():
        print(
            f"{count} host(s): fresh deploy {r['fresh']:.1f} s; no-op {r['noop']:.2f} s, with --full "
            f"{r['full']:.2f} s (medians of 5); plain compose {r['plain']:.1f} s; no-op / compose "
            f"{r['noop'] / r['plain']:.2f} (goal <= 1.5), with --full {r['full'] / r['plain']:.2f}"
        )
        print(
            f"  CPU seconds, controller + hosts: fresh {r['fresh_controller']:.1f} + {r['fresh_hosts']:.1f}; "
            f"no-op {r['noop_controller']:.2f} + {r['noop_hosts']:.2f} (mean of 5)"
        )
    print(
        f"4 hosts / 1 host: fresh {results[4]['fresh'] / results[1]['fresh']:.2f}, "
        f"no-op {results[4]['noop'] / results[1]['noop']:.2f} (goal <= 1.3 each), "
        f"no-op with --full {results[4]['full'] / results[1]['full']:.2f}"
    )
    ratio = {k: results[4][f"{k}_controller"] / results[1][f"{k}_controller"] for k in ("fresh", "noop")}
    print(f"controller CPU, 4 hosts / 1 host: fresh {ratio['fresh']:.2f}, no-op {ratio['noop']:.2f}")


if __name__ == "__main__":
    main()
