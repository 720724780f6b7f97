"""Deploy benchmark: spbe-kit against plain `docker compose up -d --wait`, same projects, same run.

Uses the demo's layout (everything on this machine) for its own region, Kabupaten Bojonegoro
(35.22), in a scratch folder on ports 28080/28443, so a running demo is not disturbed: the
compose projects, network and volumes are named after the region. Prints:
- fresh deploy (no vault, no volumes: secrets, CA, database init included);
- cold deploy with images and data present (containers removed) vs plain compose cold;
- no-op redeploy vs plain compose no-op (goals: < 15 s, <= 3x; cold <= 2x), and the no-op with
  `--full` (the whole playbook run although every host already holds the release).
Cleans up everything it created. Run: .venv/bin/python benchmarks/deploy.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch import scratch_region, spbe

PROJECTS = ("postgres", "e-simpati", "layanan-publik", "simpeg", "proxy")


def compose(root: Path, *args: str) -> float:
    start = time.perf_counter()
    for project in PROJECTS:
        subprocess.run(["docker", "compose", *args], cwd=root / project, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with scratch_region() as profile:
        scratch = profile.parent
        root = scratch / "opt" / "bojonegoro"
        fresh = spbe("deploy", str(profile), cwd=scratch)[0]
        noop = [spbe("deploy", str(profile), cwd=scratch)[0] for _ in range(3)]
        full = statistics.median(spbe("deploy", str(profile), "--full", cwd=scratch)[0] for _ in range(3))
        plain_noop = [compose(root, "up", "-d", "--wait") for _ in range(3)]
        spbe("destroy", str(profile), "--yes", cwd=scratch)
        cold = spbe("deploy", str(profile), cwd=scratch)[0]
        compose(root, "down")
        plain_cold = compose(root, "up", "-d", "--wait")
    ours_noop, theirs_noop = statistics.median(noop), statistics.median(plain_noop)
    print(f"fresh deploy (secrets, CA, database init): {fresh:.1f} s")
    print(
        f"cold deploy, images and data present: {cold:.1f} s; plain compose {plain_cold:.1f} s; "
        f"ratio {cold / plain_cold:.2f} (goal <= 2)"
    )
    print(
        f"no-op redeploy: median {ours_noop:.1f} s of {len(noop)} (goal < 15 s); plain compose "
        f"{theirs_noop:.1f} s; ratio {ours_noop / theirs_noop:.2f} (goal <= 3); with --full {full:.1f} s, "
        f"ratio {full / theirs_noop:.2f}"
    )


if __name__ == "__main__":
    main()
