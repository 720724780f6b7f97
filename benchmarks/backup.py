"""Backup benchmark: backup, restore drill and restore of a database of 100,000+ rows.

Deploys the demo's layout as its own region (Kabupaten Bojonegoro, 35.22, ports 28080/28443)
in a scratch folder, loads 100,000 e-Simpati measurements, then times `spbe-kit backup`,
`spbe-kit backup verify` and `spbe-kit restore`, and prints the backup's size. Cleans up.
Run: .venv/bin/python benchmarks/backup.py [ROWS]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spbe(*args: str, cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "spbe_kit", *args], cwd=cwd, capture_output=True, text=True
    )
    took = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(
            f"spbe-kit {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return took, result.stdout


def psql(sql: str) -> str:
    out = subprocess.run(
        [
            "docker",
            "exec",
            "spbe-bojonegoro-postgres-postgres-1",
            "psql",
            "-At",
            "-U",
            "postgres",
            "-d",
            "e_simpati",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    scratch = Path(tempfile.mkdtemp(prefix="spbe-bench-backup-"))
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
        spbe("deploy", str(profile), cwd=scratch)
        psql(
            f"INSERT INTO measurements (child_ref, sex, age_months, height_cm, kecamatan_code, haz, status) "
            f"SELECT 'anak-' || i, CASE WHEN i % 2 = 0 THEN 'L' ELSE 'P' END, i % 61, 60 + (i % 50), "
            f"'35.22.01', -1.5, 'normal' FROM generate_series(1, {rows}) AS i"
        )
        total = int(psql("SELECT count(*) FROM measurements"))
        took_backup, out = spbe("backup", str(profile), cwd=scratch)
        ident = re.search(r"^backup (\S+) written", out, re.M).group(1)
        listed = json.loads(spbe("backups", str(profile), "--json", cwd=scratch)[1])
        size = next(b["size"] for b in listed["backups"] if b["id"] == ident)
        dump = next(
            i["size"]
            for n, i in next(b for b in listed["backups"] if b["id"] == ident)["files"].items()
            if n.endswith("e-simpati.dump")
        )
        took_verify, _ = spbe("backup", "verify", str(profile), cwd=scratch)
        psql("DELETE FROM measurements")
        took_restore, _ = spbe(
            "restore", str(profile), "--backup", ident, "--app", "e-simpati", "--yes", cwd=scratch
        )
        back = int(psql("SELECT count(*) FROM measurements"))
        print(
            f"e-simpati: {total} rows; backup {ident}: {size / 1e6:.2f} MB in all, "
            f"e-simpati dump {dump / 1e6:.2f} MB"
        )
        print(f"spbe-kit backup (3 apps): {took_backup:.1f} s (whole command, incl. Ansible)")
        print(f"spbe-kit backup verify (restore drill, 3 apps): {took_verify:.1f} s")
        print(f"spbe-kit restore --app e-simpati: {took_restore:.1f} s; rows after restore: {back}")
    finally:
        subprocess.run(
            [sys.executable, "-m", "spbe_kit", "destroy", str(profile), "--yes", "--delete-data"],
            cwd=scratch,
            capture_output=True,
        )
        subprocess.run(["rm", "-rf", str(scratch)])


if __name__ == "__main__":
    main()
