"""The audit's CIS Docker Benchmark results beside docker-bench-security's for the same
containers: the same id, the same title, the same outcome.

An auditor who runs the benchmark's reference implementation on a region's hosts compares its
JSON log with the audit's JSON report:

    sh docker-bench-security.sh -b -c container_images,container_runtime -i spbe-<region> -l bench.log
    spbe-kit audit PROFILE --live -o audit.json
    python -m spbe_kit.auditors.benchmark audit.json bench.log.json

Exit 0 when every CIS recommendation the audit cites agrees, 3 when one does not.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# docker-bench-security's result for a recommendation the audit passes, or fails or records as an
# accepted deviation (the benchmark has no word for "accepted": it warns).
EXPECTED = {"pass": "PASS", "deviation": "WARN", "fail": "WARN"}
WORSE = ("pass", "deviation", "fail")  # several checks citing one id: the worst status stands
SUFFIXES = (" (Automated)", " (Manual)")


@dataclass(frozen=True)
class Row:
    ref: str
    title: str
    checks: tuple[str, ...]
    status: str
    bench_title: str | None
    bench_result: str | None

    @property
    def agrees(self) -> bool:
        return self.bench_title == self.title and self.bench_result == EXPECTED[self.status]


def bench_results(bench: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """docker-bench-security's JSON log (or the `results` list kept from one) -> id: (title, result)."""
    flat = bench.get("results") or [r for test in bench.get("tests", []) for r in test["results"]]
    found = {}
    for result in flat:
        title = result["desc"]
        for suffix in SUFFIXES:
            title = title.removesuffix(suffix)
        found[result["id"]] = (title, result["result"])
    return found


def compare(report: dict[str, Any], bench: dict[str, Any]) -> list[Row]:
    cited: dict[str, tuple[str, list[str], str]] = {}
    for result in report["results"]:
        if result["status"] not in EXPECTED:
            continue
        for control in result["controls"]:
            if control["framework"] != "CIS Docker Benchmark":
                continue
            title, checks, status = cited.get(control["ref"], (control["heading"], [], "pass"))
            worst = max(status, result["status"], key=WORSE.index)
            cited[control["ref"]] = (title, [*checks, result["id"]], worst)
    theirs = bench_results(bench)
    rows = []
    for ref in sorted(cited, key=lambda r: tuple(int(n) for n in r.split("."))):
        title, checks, status = cited[ref]
        bench_title, bench_result = theirs.get(ref, (None, None))
        rows.append(Row(ref, title, tuple(checks), status, bench_title, bench_result))
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    report, bench = (json.loads(Path(p).read_text(encoding="utf-8")) for p in argv)
    rows = compare(report, bench)
    for row in rows:
        mark = "same" if row.agrees else "DIFFERENT"
        print(f"{row.ref:>5}  {mark:9}  audit {row.status} ({', '.join(row.checks)})  "
              f"docker-bench {row.bench_result or 'absent'}  {row.title}")
        if row.bench_title not in (None, row.title):
            print(f"{'':>5}  docker-bench's title: {row.bench_title}")
    differ = sum(not row.agrees for row in rows)
    print(f"{len(rows)} CIS recommendation(s) cited, {differ} different")
    return 3 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
