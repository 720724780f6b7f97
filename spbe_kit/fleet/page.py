"""The fleet as one self-contained HTML page (``spbe-kit fleet report``): no external asset, so
it opens from a USB stick; the table sorts and filters with a few lines of inline script, the
charts are inline SVG computed here. Bahasa Indonesia first, English beside it."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from spbe_kit import __version__
from spbe_kit.auditors.report import environment
from spbe_kit.models.catalog import Catalog

# Age buckets (days) of the freshness chart, with their labels (id, en).
BUCKETS = [
    (1, "< 1 hari", "< 1 day"),
    (7, "1–7 hari", "1–7 days"),
    (30, "7–30 hari", "7–30 days"),
    (90, "30–90 hari", "30–90 days"),
]


def versions_in_use(rows: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """Per app, how many regions (with a trusted report) run each version."""
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        for app in row["apps"]:
            counts.setdefault(app["id"], Counter())[app["version"]] += 1
    return {app: sorted(c.items()) for app, c in sorted(counts.items())}


def freshness(rows: list[dict[str, Any]], key: str) -> list[tuple[str, str, int]]:
    """(label id, label en, regions) per age bucket of ``key`` (backup_days, drill_days)."""
    trusted = [r for r in rows if r["trust"] == "valid"]
    found = []
    lower = 0.0
    for upper, label_id, label_en in BUCKETS:
        n = sum(1 for r in trusted if r[key] is not None and lower <= r[key] < upper)
        found.append((label_id, label_en, n))
        lower = upper
    older = sum(1 for r in trusted if r[key] is None or r[key] >= lower)
    found.append(("> 90 hari / belum ada", "> 90 days / none", older))
    return found


def render(
    rows: list[dict[str, Any]], advisories: dict[str, list[str]], catalog: Catalog, now: datetime.datetime
) -> bytes:
    trusted = [r for r in rows if r["trust"] == "valid"]
    summary = {
        "regions": len(rows),
        "trusted": len(trusted),
        "attention": sum(1 for r in rows if r["attention"]),
        "apps": len({a["id"] for r in trusted for a in r["apps"]}),
    }
    page = environment().get_template("fleet.html.j2")
    return page.render(
        rows=rows,
        summary=summary,
        versions=versions_in_use(trusted),
        backups=freshness(rows, "backup_days"),
        drills=freshness(rows, "drill_days"),
        advisories=[(i, catalog.advisories[i], codes) for i, codes in advisories.items()],
        catalog=catalog.version,
        kit=__version__,
        now=now.strftime("%Y-%m-%d %H:%M UTC"),
    ).encode()
