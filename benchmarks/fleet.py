"""Fleet benchmark: how long the donor waits for `spbe-kit fleet status` over the whole country.

Generates one signed report per kabupaten/kota of the Kemendagri dataset (514), each region
with its own ed25519 key registered in keys/, a tenth of them in need of attention (old backup,
failing audit check, an advisory's version), plus one tampered report. Then times, best of 3:
- `fleet status DIR --json` as the donor runs it (a new process: Python start, imports,
  reading and checking every report's shape and signature, judging, JSON out);
- `fleet report DIR -o fleet.html` (the HTML page of 514 rows);
- the in-process core (`fleet.view.status`) alone.
Goal: `fleet status` under 2 s.

With `--live N` (N >= 6), also deploys N one-app regions, each on its own disposable test
server over real SSH (about 40 s each), then times, best of 3: one region's `spbe-kit status`,
one region's `spbe-kit report`, and `fleet status --live` over all N with 6 workers.
Goal: the fleet at most 1.5x one region's status.
Run: .venv/bin/python benchmarks/fleet.py [--live 6]
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
        (folder / "keys" / f"{region.code}.pub").write_text(
            keys.public_path(stem.with_suffix(".yaml")).read_text()
        )
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


def live(count: int) -> None:
    """``count`` regions on test servers, then one region against the fleet, asked live."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from e2e.test_fleet import PROFILE
    from spbe_kit.testservers import TestServers

    regions = dataset().kabupaten_kota()[:count]
    servers = TestServers()
    servers.start(count)
    kit = [sys.executable, "-m", "spbe_kit"]
    with tempfile.TemporaryDirectory(prefix="spbe-fleet-live-") as tmp:
        folder = Path(tmp)
        key = folder / "donor_key"
        key.write_bytes(servers.key.read_bytes())
        key.chmod(0o600)
        try:
            start = time.perf_counter()
            for region, server in zip(regions, servers.servers, strict=True):
                stem = region.slug
                text = PROFILE.format(code=region.code, name=region.name, stem=stem, address=server.address)
                (folder / f"{stem}.yaml").write_text(text)
                done = subprocess.run(
                    [*kit, "deploy", f"{stem}.yaml", "--private-key", str(key)],
                    cwd=folder,
                    capture_output=True,
                )
                assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            print(f"deployed {count} regions on test servers in {time.perf_counter() - start:.0f} s")
            first = f"{regions[0].slug}.yaml"
            one, _ = best([*kit, "status", str(folder / first), "--private-key", str(key)])
            report, _ = best(
                [*kit, "report", str(folder / first), "-o", str(folder / "r.json"), "--private-key", str(key)]
            )
            argv = [
                *kit,
                "fleet",
                "status",
                str(folder),
                "--live",
                "--workers",
                "6",
                "--private-key",
                str(key),
                "--json",
            ]
            fleet, done = best(argv)
            data = json.loads(done.stdout)
            answered = sum(1 for r in data["regions"] if r["source"] == "live")
            print(f"one region: status {one:.1f} s, report {report:.1f} s")
            print(
                f"fleet status --live, {count} regions, 6 workers: {fleet:.1f} s ({answered} answered); "
                f"ratio to one region's status {fleet / one:.2f} (goal <= 1.5), "
                f"to one report {fleet / report:.2f}"
            )
        finally:
            for region in regions:
                subprocess.run(
                    [
                        *kit,
                        "destroy",
                        f"{region.slug}.yaml",
                        "--yes",
                        "--delete-data",
                        "--private-key",
                        str(key),
                    ],
                    cwd=folder,
                    capture_output=True,
                )
            servers.stop()


def main() -> None:
    if "--live" in sys.argv:
        live(int(sys.argv[sys.argv.index("--live") + 1]))
        return
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
        print(
            f"core (fleet.view.status in process): {min(core):.2f} s, "
            f"{min(core) / count * 1e3:.2f} ms per region"
        )


if __name__ == "__main__":
    main()
