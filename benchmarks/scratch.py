"""A throwaway region for the benchmarks: the demo's layout as Kabupaten Bojonegoro (35.22)
on ports 28080/28443 in a scratch folder, so a running demo is not disturbed (compose
projects, network and volumes are named after the region). Removed, data included, on exit."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spbe(*args: str, cwd: Path) -> tuple[float, str]:
    """Run the CLI as a user does; return the wall time and its output, or stop with it."""
    # As a user's machine runs it: with bytecode caches (a shell may have turned them off).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "spbe_kit", *args], cwd=cwd, capture_output=True, text=True, env=env
    )
    took = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(
            f"spbe-kit {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return took, result.stdout


@contextmanager
def scratch_region() -> Iterator[Path]:
    # Below /srv: a profile's install_dir must lie under a folder meant for it.
    Path("/srv").mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="spbe-bench-", dir="/srv"))
    text = (ROOT / "examples" / "profiles" / "demo.yaml").read_text()
    for old, new in (
        ("http_port: 8080", "http_port: 28080"),
        ("https_port: 8443", "https_port: 28443"),
        ("install_dir: /opt/spbe-kit", f"install_dir: {scratch / 'opt'}"),
        ('"32.08"', '"35.22"'),
        ("Kabupaten Kuningan", "Kabupaten Bojonegoro"),
        ("kuningankab", "bojonegorokab"),
    ):
        text = text.replace(old, new)
    profile = scratch / "bojonegoro.yaml"
    profile.write_text(text)
    try:
        yield profile
    finally:
        subprocess.run(
            [sys.executable, "-m", "spbe_kit", "destroy", str(profile), "--yes", "--delete-data"],
            cwd=scratch,
            capture_output=True,
        )
        subprocess.run(["rm", "-rf", str(scratch)])
