"""Secrets benchmark: how long `spbe-kit secrets rotate` takes on the demo layout, and how many
requests fail while nginx reloads certificates (goal 0).

Uses the benchmarks' scratch region (Kabupaten Bojonegoro on this machine, see scratch.py).
Two client threads send HTTPS requests through the proxy back to back (new connection each
time) while, first, `nginx -s reload` runs 10 times, then a full rotation runs (which
reloads nginx for the new certificates and restarts each app in turn). Prints the rotation's
wall time and the failed requests of each phase. Cleans up.
Run: .venv/bin/python benchmarks/rotation.py
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch import scratch_region, spbe

from spbe_kit import pipeline
from spbe_kit.hosts.verify import check_app
from spbe_kit.render.context import build_context


class Load:
    """Requests through the proxy until stopped; counts what failed (status or connection)."""

    def __init__(self, profile: Path, app: str) -> None:
        validated = pipeline.validate(profile)
        self.ctx = build_context(validated.profile, validated.catalog)
        self.ca = profile.with_name(profile.stem + ".ca.crt")
        self.app = app
        self.sent = self.failed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            result = check_app(self.ctx, self.app, self.ca.read_text(), timeout=5)
            self.sent += 1
            self.failed += not result.ok

    def during(self, action: Callable[[], object]) -> tuple[int, int, float]:
        self.sent = self.failed = 0
        self.stop.clear()
        threads = [threading.Thread(target=self.run) for _ in range(2)]
        for t in threads:
            t.start()
        start = time.perf_counter()
        action()
        took = time.perf_counter() - start
        self.stop.set()
        for t in threads:
            t.join()
        return self.sent, self.failed, took


def main() -> None:
    with scratch_region() as profile:
        scratch = profile.parent
        spbe("deploy", str(profile), cwd=scratch)
        load = Load(profile, "layanan-publik")

        def reloads() -> None:
            for _ in range(10):
                subprocess.run(
                    ["docker", "exec", "spbe-bojonegoro-proxy-proxy-1", "nginx", "-s", "reload"],
                    check=True,
                    capture_output=True,
                )
                time.sleep(0.5)

        sent, failed, _ = load.during(reloads)
        print(f"nginx reload x10 under load: {failed} of {sent} requests failed (goal 0)")
        load.app = "simpeg"
        sent, failed, took = load.during(lambda: spbe("secrets", "rotate", str(profile), cwd=scratch))
        print(
            f"secrets rotate (all but the CA): {took:.1f} s; requests to simpeg during it: "
            f"{failed} of {sent} failed (its own restart)"
        )


if __name__ == "__main__":
    main()
