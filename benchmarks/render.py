"""Render benchmark: prints figures and ratios against the issue's targets.

- one profile, validate + render in process, median of many runs (target < 50 ms);
- 514 generated profiles, one per kabupaten/kota in the dataset, rendered to disk (< 15 s);
- whole-process `spbe-kit --help` (< 0.4 s) and `spbe-kit validate` on one profile.

Run: .venv/bin/python benchmarks/render.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spbe_kit import pipeline, wilayah  # noqa: E402
from spbe_kit.render.tree import render_files  # noqa: E402
from spbe_kit.resources import default_catalog  # noqa: E402
from spbe_kit.validate import load_catalog, load_profile  # noqa: E402

KARAWANG = ROOT / "examples" / "profiles" / "karawang.yaml"
CLI = [sys.executable, "-m", "spbe_kit"]


def generated_profile(region: wilayah.Region) -> str:
    text = KARAWANG.read_text()
    domain = region.slug.replace("-", "") + ("kota" if region.is_kota else "kab") + ".go.id"
    return (
        text.replace('code: "32.15"', f'code: "{region.code}"')
        .replace("name: Kabupaten Karawang", f"name: {region.name}")
        .replace("karawangkab.go.id", domain)
    )


def one_profile(runs: int = 200) -> float:
    catalog, catalog_doc = load_catalog(default_catalog())
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render_files(load_profile(KARAWANG, catalog, catalog_doc))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def all_regions(folder: Path) -> tuple[float, int]:
    regions = wilayah.dataset().kabupaten_kota()
    for region in regions:
        (folder / f"{region.slug}.yaml").write_text(generated_profile(region))
    catalog, catalog_doc = load_catalog(default_catalog())
    start = time.perf_counter()
    for region in regions:
        validated = load_profile(folder / f"{region.slug}.yaml", catalog, catalog_doc)
        pipeline.render(validated, folder / "build" / region.slug)
    return time.perf_counter() - start, len(regions)


def process_time(args: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*CLI, *args], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    single = one_profile()
    print(
        f"one profile, validate+render in process: median {single * 1000:.1f} ms "
        f"(target 50 ms, ratio {single / 0.050:.2f})"
    )
    scratch = Path(tempfile.mkdtemp(prefix="spbe-bench-"))
    try:
        total, count = all_regions(scratch)
    finally:
        shutil.rmtree(scratch)
    print(
        f"{count} generated profiles rendered to disk: {total:.2f} s "
        f"({total / count * 1000:.1f} ms each; target 15 s, ratio {total / 15:.2f})"
    )
    helptime = process_time(["--help"])
    print(
        f"spbe-kit --help, whole process: median {helptime * 1000:.0f} ms "
        f"(target 400 ms, ratio {helptime / 0.4:.2f})"
    )
    validate = process_time(["validate", str(KARAWANG)])
    print(f"spbe-kit validate karawang.yaml, whole process: median {validate * 1000:.0f} ms")


if __name__ == "__main__":
    main()
