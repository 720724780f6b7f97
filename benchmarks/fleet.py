"""Fleet benchmark: how long the donor waits for `spbe-kit fleet status` over the whole country.

Generates one signed report per kabupaten/kota of the Kemendagri dataset (514), each region
with its own ed25519 key registered in keys/, a tenth of them in need of attention (old backup,
failing audit check, an advisory's version), plus one tampered report. Then times, best of 3:
- `fleet status DIR --json` as the donor runs it (a new process: Python start, imports,
  reading and checking every report's shape and signature, judging, JSON out);
- `fleet report DIR -o fleet.html` (the HTML page of 514 rows);
- the in-process core (`fleet.view.status`) alone.
Goal: `fleet status` under 2 s.
Run: .venv/bin/python benchmarks/fleet.py
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spbe_kit.fleet import keys, view
from spbe_kit.fleet.report import canonical
from spbe_kit.resources import default_catalog
from spbe_kit.validate import load_catalog
from spbe_kit.wilayah import dataset

NOW = datetime.datetime.now(datetime.UTC)


def moment(days_ago: float) -> str:
    return (NOW - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(code: str, name: str, index: int) -> dict:
    unwell = index % 10 == 0
    apps = [
        {
            "id": app,
            "version": "1.0.0" if unwell else "1.1.0",
            "image": f"spbe-kit/{app}:1.1.0",
            "image_id": "sha256:" + f"{index:064x}",
            "health": "healthy",
            "cert_days": 60 + index % 300,
            "last_backup": moment(3 if unwell else 0.4),
            "last_drill": moment(10 + index % 70),
            "drill_ok": True,
        }
        for app in ("e-simpati", "simpeg", "layanan-publik")
    ]
    failed = {"high": ["TLS-04"], "medium": ["BAK-02"]} if unwell else {"medium": ["BAK-02"]}
    return {
        "schema": "spbe-kit/region-report/v1",
        "generated": moment(index % 20),
        "source": "hosts",
        "observed": moment(index % 20),
        "region": {"code": code, "name": name},
        "grant": {"agreement": f"027/PKS-SMD/2026/{index:03d}", "donor": "32.11"},
        "kit": "0.1.0",
        "catalog": "2026.12.0",
        "apps": apps,
        "deploy": {"release": 1 + index % 9, "when": moment(30), "who": "admin@controller"},
        "backups": {"rpo_s": 93600, "scheduler_ok": True},
        "audit": {"checks": 53, "passed": 50, "failed": failed},
        "drift": {"checked": True, "differences": 0},
    }


def generate(folder: Path) -> int:
    regions = dataset().kabupaten_kota()
    (folder / "keys").mkdir(parents=True)
    (folder / "sent").mkdir()
    for index, region in enumerate(sorted(regions, key=lambda r: r.code)):
        stem = folder / "sent" / region.code
        private = keys.ensure(stem.with_suffix(".yaml"), region.code)
        data = report(region.code, region.name, index)
        public, value = keys.sign(private, canonical(data))
        signed = {"report": data, "signature": {"algorithm": "ed25519", "key": public, "value": value}}
        if index == 7:
            signed["report"]["apps"][0]["health"] = "unhealthy"  # changed after signing
        (folder / f"{region.code}.json").write_text(json.dumps(signed, indent=2, sort_keys=True))
        (folder / "keys" / f"{region.code}.pub").write_text(keys.public_path(stem.with_suffix(".yaml")).read_text())
        private.unlink()
    return len(regions)


def best(argv: list[str], runs: int = 3) -> tuple[float, subprocess.CompletedProcess[str]]:
    times = []
    done = None
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
    assert done is not None
    return min(times), done


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="spbe-fleet-bench-") as tmp:
        folder = Path(tmp) / "fleet"
        folder.mkdir()
        start = time.perf_counter()
        count = generate(folder)
        print(f"generated {count} signed reports in {time.perf_counter() - start:.1f} s")
        kit = [sys.executable, "-m", "spbe_kit"]
        seconds, done = best([*kit, "fleet", "status", str(folder), "--json"])
        data = json.loads(done.stdout)
        trust = {r["trust"] for r in data["regions"]}
        print(
            f"fleet status --json: {seconds:.2f} s for {len(data['regions'])} regions "
            f"({data['attention']} need attention, trust states {sorted(trust)}); goal < 2 s: "
            f"{'met' if seconds < 2 else 'NOT met'} (ratio {seconds / 2:.2f})"
        )
        seconds, done = best([*kit, "fleet", "report", str(folder), "-o", str(Path(tmp) / "fleet.html")])
        size = (Path(tmp) / "fleet.html").stat().st_size
        print(f"fleet report (HTML): {seconds:.2f} s, {size / 1e3:.0f} kB")
        catalog, _ = load_catalog(default_catalog())
        core = []
        for _ in range(3):
            start = time.perf_counter()
            view.status(folder, catalog)
            core.append(time.perf_counter() - start)
        print(f"core (fleet.view.status in process): {min(core):.2f} s, {min(core) / count * 1e3:.2f} ms per region")


if __name__ == "__main__":
    main()
