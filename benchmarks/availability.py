"""Availability benchmark: what citizens see while the kit changes a running region.

On the benchmarks' scratch region (the demo's layout as Kabupaten Bojonegoro, scratch.py), one
client per app sends an HTTPS request through the proxy every 50 ms, each on a new connection
(loopback only, stopped with the case), while each case runs:
- a no-op redeploy;
- a settings change of one app (e-simpati's session timeout);
- an upgrade of e-simpati 1.0.0 -> 1.1.0 (schema generation 1 -> 2, expand-only);
- a failed upgrade (an image whose health check always fails) with the same schema: it starts
  beside the running release, which keeps serving;
- a rollback to the release before the upgrade (data restored: the schema goes back);
- the same failed upgrade from there, an exclusive migration: the app restarts behind the
  maintenance page and the health gate rolls it back with its data;
- a certificate change (`secrets rotate --only tls.<e-simpati's hostname>`).
Prints per case: the command's duration, requests sent, failed requests (anything but a healthy
200, split into the maintenance page's 503s and other failures), and the longest time between
two healthy answers, per app. Goal: 0 failures but declared maintenance windows.
Run: .venv/bin/python benchmarks/availability.py
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from scratch import scratch_region, spbe

from e2e.helpers import broken_release_catalog
from spbe_kit import pipeline
from spbe_kit.hosts.verify import check_app
from spbe_kit.render.context import build_context

INTERVAL_S = 0.05


@dataclass
class Seen:
    """One app's answers during a case: (time, ok, detail) in order."""

    answers: list[tuple[float, bool, str]] = field(default_factory=list)

    def failed(self) -> tuple[int, int]:
        """(maintenance 503s, other failures)."""
        bad = [detail for _, ok, detail in self.answers if not ok]
        maintenance = sum(detail == "HTTP 503" for detail in bad)
        return maintenance, len(bad) - maintenance

    def longest_gap(self, start: float, end: float) -> float:
        healthy = [start] + [t for t, ok, _ in self.answers if ok] + [end]
        return max(b - a for a, b in itertools.pairwise(healthy))


class Clients:
    def __init__(self, profile: Path) -> None:
        validated = pipeline.validate(profile)
        self.ctx = build_context(validated.profile, validated.catalog)
        self.ca = profile.with_name(profile.stem + ".ca.crt").read_text()

    def during(self, action: Callable[[], object]) -> tuple[float, dict[str, Seen]]:
        seen = {app: Seen() for app in self.ctx.apps}
        stop = threading.Event()

        def ask(app: str) -> None:
            while not stop.is_set():
                result = check_app(self.ctx, app, self.ca, timeout=10)
                seen[app].answers.append((time.perf_counter(), result.ok, result.detail))
                stop.wait(INTERVAL_S)

        threads = [threading.Thread(target=ask, args=(app,)) for app in seen]
        for thread in threads:
            thread.start()
        start = time.perf_counter()
        try:
            action()
        finally:
            took = time.perf_counter() - start
            time.sleep(1)  # what the change left behind shows in the next second's answers
            stop.set()
            for thread in threads:
                thread.join()
        self.gaps = {app: s.longest_gap(start, start + took + 1) for app, s in seen.items()}
        return took, seen


def edit(profile: Path, old: str, new: str) -> None:
    text = profile.read_text()
    assert old in text, old
    profile.write_text(text.replace(old, new, 1))


def report(case: str, took: float, seen: dict[str, Seen], gaps: dict[str, float]) -> None:
    parts = []
    for app, answers in sorted(seen.items()):
        maintenance, other = answers.failed()
        parts.append(
            f"{app} {len(answers.answers)} sent, {other} failed, {maintenance} maintenance, "
            f"longest gap {gaps[app]:.2f} s"
        )
    print(f"{case}: {took:.1f} s; " + "; ".join(parts), flush=True)


def main() -> None:
    with scratch_region() as profile:
        scratch = profile.parent
        spbe("deploy", str(profile), cwd=scratch)
        clients = Clients(profile)
        hostname = clients.ctx.apps["e-simpati"].hostname
        broken = broken_release_catalog(scratch, "e-simpati", "1.2.0-broken", "1.1.0")

        def failing_upgrade() -> None:
            result = subprocess.run(
                [sys.executable, "-m", "spbe_kit", "deploy", str(profile), "--catalog", str(broken)],
                cwd=scratch,
                capture_output=True,
                text=True,
            )
            assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]

        cases: list[tuple[str, Callable[[], object]]] = [
            ("no-op redeploy", lambda: spbe("deploy", str(profile), cwd=scratch)),
            ("settings change", lambda: (
                edit(profile, '    version: "1.0.0"\n  simpeg:', '    version: "1.0.0"\n    settings:\n'
                     '      session_timeout_minutes: 20\n  simpeg:'),
                spbe("deploy", str(profile), cwd=scratch),
            )),
            ("upgrade e-simpati 1.0.0 -> 1.1.0", lambda: (
                edit(profile, 'version: "1.0.0"', 'version: "1.1.0"'),
                spbe("deploy", str(profile), cwd=scratch),
            )),
            ("failed upgrade, same schema (the running release keeps serving)", lambda: (
                edit(profile, 'version: "1.1.0"', 'version: "1.2.0-broken"'),
                failing_upgrade(),
                edit(profile, 'version: "1.2.0-broken"', 'version: "1.1.0"'),
            )),
            ("rollback to the release before (data restored)", lambda: spbe(
                "rollback", str(profile), "--yes", cwd=scratch
            )),
            ("failed upgrade, exclusive migration (rolled back, data restored)", lambda: (
                edit(profile, 'version: "1.1.0"', 'version: "1.2.0-broken"'),
                failing_upgrade(),
            )),
            ("certificate change", lambda: spbe(
                "secrets", "rotate", str(profile), "--only", f"tls.{hostname}", cwd=scratch
            )),
        ]
        for case, action in cases:
            took, seen = clients.during(action)
            report(case, took, seen, clients.gaps)
            if case.startswith("failed upgrade, exclusive"):  # the profile asks again for what runs
                edit(profile, 'version: "1.2.0-broken"', 'version: "1.0.0"')


if __name__ == "__main__":
    main()
