"""Backup benchmark: backup, restore drill and restore of a database of 100,000+ rows.

Uses the benchmarks' scratch region (Kabupaten Bojonegoro on this machine, see scratch.py),
loads ROWS e-Simpati measurements, then times `spbe-kit backup`, `spbe-kit backup verify`
and `spbe-kit restore`, and prints the backup's size. Cleans up.
Run: .venv/bin/python benchmarks/backup.py [ROWS]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch import scratch_region, spbe


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
    with scratch_region() as profile:
        here = profile.parent
        spbe("deploy", str(profile), cwd=here)
        psql(
            "INSERT INTO measurements (child_ref, sex, age_months, height_cm, kecamatan_code, haz, status) "
            "SELECT 'anak-' || i, CASE WHEN i % 2 = 0 THEN 'L' ELSE 'P' END, i % 61, 60 + (i % 50), "
            f"'35.22.01', -1.5, 'normal' FROM generate_series(1, {rows}) AS i"
        )
        total = int(psql("SELECT count(*) FROM measurements"))
        took_backup, out = spbe("backup", str(profile), cwd=here)
        match = re.search(r"^backup (\S+) written", out, re.M)
        assert match
        ident = match.group(1)
        listed = json.loads(spbe("backups", str(profile), "--json", cwd=here)[1])
        record = next(b for b in listed["backups"] if b["id"] == ident)
        dump = next(i["size"] for n, i in record["files"].items() if n.endswith("e-simpati.dump"))
        took_verify, _ = spbe("backup", "verify", str(profile), cwd=here)
        psql("DELETE FROM measurements")
        took_restore, _ = spbe(
            "restore", str(profile), "--backup", ident, "--app", "e-simpati", "--yes", cwd=here
        )
        back = int(psql("SELECT count(*) FROM measurements"))
    print(
        f"e-simpati: {total} rows; backup {ident}: {record['size'] / 1e6:.2f} MB in all, "
        f"e-simpati dump {dump / 1e6:.2f} MB"
    )
    print(f"spbe-kit backup (3 apps): {took_backup:.1f} s (whole command, incl. Ansible)")
    print(f"spbe-kit backup verify (restore drill, 3 apps): {took_verify:.1f} s")
    print(f"spbe-kit restore --app e-simpati: {took_restore:.1f} s; rows after restore: {back}")


if __name__ == "__main__":
    main()
