"""The fleet from the donor's folder: region profiles (regions it manages) and the reports
regions sent (regions it cannot reach), each region judged on its newest report.

Who signed a report decides whether its figures are shown: the region's registered key is
the ``.report-key.pub`` beside its profile in the folder, or ``keys/<code>.pub`` (copied from
the region, its fingerprint checked against the handover record). A report that is not
signed by that key is listed as untrusted, with none of its figures.

With ``live``, the regions whose profiles are in the folder are asked now, each in its own
``spbe-kit report`` process: a bounded number at a time, each with a time limit, one
region's failure never stopping the others."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spbe_kit.fleet import keys
from spbe_kit.fleet.report import Received, read
from spbe_kit.models.catalog import Catalog

# A report older than this no longer says how the region is.
STALE_DAYS = 35
# The restore drill is due every 90 days (audit BAK-04).
DRILL_DAYS = 90
CERT_DAYS = 14
SKIPPED_FOLDERS = {"build", "keys", "node_modules", "__pycache__"}


@dataclass
class Reason:
    """Why a region needs attention: a message key of ``messages.TEXTS`` and its params (states
    and severities as reported; ``failing``: (check id, severity) pairs, said as ``checks``)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Region:
    code: str
    name: str
    profile: Path | None = None
    received: Received | None = None
    live: bool = False
    problems: list[str] = field(default_factory=list)  # a live read that failed, a bad file
    reasons: list[Reason] = field(default_factory=list)

    @property
    def report(self) -> dict[str, Any] | None:
        """The report's figures, only when the region's registered key signed it."""
        if self.received and self.received.trust == "valid":
            return self.received.report
        return None

    @property
    def trust(self) -> str:
        return self.received.trust if self.received else "none"


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            yield Path(root) / name


def _profile_code(path: Path) -> str | None:
    """The region code of a profile (``schema: spbe-kit/profile/v1``), or None for other YAML."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict) or data.get("schema") != "spbe-kit/profile/v1":
        return None
    region = data.get("region")
    code = region.get("code") if isinstance(region, dict) else None
    return str(code) if code else None


def _registered(folder: Path, profiles: dict[str, Path]) -> dict[str, str]:
    """Each region's registered public key line: beside its profile, or keys/<code>.pub."""
    found = {}
    for code, profile in profiles.items():
        public = keys.public_path(profile)
        if public.is_file():
            found[code] = public.read_text()
    for public in sorted((folder / "keys").glob("*.pub")) if (folder / "keys").is_dir() else []:
        found[public.name.removesuffix(".pub")] = public.read_text()
    return found


@dataclass(frozen=True)
class Live:
    """How to ask the managed regions now: at most ``workers`` at a time, each within
    ``timeout`` seconds, with the donor's catalog (None: the shipped one) and SSH key."""

    workers: int = 6
    timeout: float = 300
    catalog: Path | None = None
    private_key: Path | None = None


def collect(folder: Path, live: Live | None = None) -> list[Region]:
    """Every region the folder knows, with its newest report (and with ``live`` a fresh one)."""
    profiles: dict[str, Path] = {}
    report_files = []
    for path in _walk(folder):
        if path.suffix in (".yaml", ".yml"):
            code = _profile_code(path)
            if code:
                profiles.setdefault(code, path)
        elif path.suffix == ".json":
            report_files.append(path)
    registered = _registered(folder, profiles)
    regions: dict[str, Region] = {code: Region(code, "", profile=p) for code, p in profiles.items()}
    for path in report_files:
        _consider(regions, path, registered)
    if live:
        _read_live(regions, registered, live)
    return [regions[c] for c in sorted(regions)]


def _consider(regions: dict[str, Region], path: Path, registered: dict[str, str]) -> None:
    """A report file: kept when it is the newest for its region; a file that is not a region
    report at all (another JSON) is left alone, an unreadable report is named."""
    received = read(path, registered)
    if received.report is None:
        if received.problem and _looks_like_report(path):
            regions.setdefault(f"? {path.name}", Region(f"? {path.name}", "")).problems.append(
                f"{path.name}: {received.problem}"
            )
        return
    code = received.report["region"]["code"]
    region = regions.setdefault(code, Region(code, ""))
    if region.received is None or _newer(received, region.received):
        region.received = received


def _looks_like_report(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return b"spbe-kit/region-report" in handle.read(64 * 1024)
    except OSError:
        return False


def _newer(one: Received, other: Received) -> bool:
    assert one.report is not None and other.report is not None
    return (one.report["generated"], str(one.path)) > (other.report["generated"], str(other.path))


def _read_live(regions: dict[str, Region], registered: dict[str, str], live: Live) -> None:
    managed = [r for r in regions.values() if r.profile is not None]
    workers = max(1, live.workers)
    with tempfile.TemporaryDirectory(prefix="spbe-fleet-") as tmp, ThreadPoolExecutor(workers) as pool:
        results = pool.map(lambda r: _ask(r, Path(tmp).resolve(), live), managed)
        for region, (path, problem) in zip(managed, results, strict=True):
            if path is None:
                region.problems.append(problem)
                continue
            region.received = read(path, registered)
            region.live = True


def _ask(region: Region, folder: Path, live: Live) -> tuple[Path | None, str]:
    """One region's report from its hosts, by ``spbe-kit report`` in its own process group
    (killed whole when it runs out of time)."""
    assert region.profile is not None
    out = folder / f"{region.code}.json"
    argv = [sys.executable, "-m", "spbe_kit", "--lang", "en", "report", region.profile.name, "-o", str(out)]
    if live.catalog:
        argv[3:3] = ["--catalog", str(live.catalog.resolve())]
    if live.private_key:
        argv += ["--private-key", str(live.private_key.resolve())]
    # From the profile's folder, as its admin runs the kit: the same build/<region> tree.
    process = subprocess.Popen(
        argv,
        cwd=region.profile.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=live.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, f"live: no answer within {live.timeout:.0f} s"
    if process.returncode != 0:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        return None, "live: " + (" / ".join(lines[:2])[:300] or f"exit {process.returncode}")
    return out, ""


# ------------------------------------------------------------------------------ judging


def _age_days(since: str, at: datetime.datetime) -> float:
    return (at - datetime.datetime.fromisoformat(since.replace("Z", "+00:00"))).total_seconds() / 86400


def judge(region: Region, catalog: Catalog, now: datetime.datetime) -> list[Reason]:
    """Why the region needs attention (nothing: it does not)."""
    reasons = [Reason("fleet-problem", {"problem": p}) for p in region.problems]
    if region.received is None:
        return [*reasons, Reason("fleet-no-report")]
    if region.report is None:
        return [*reasons, Reason(f"fleet-untrusted-{region.trust}", {"path": region.received.path.name})]
    report = region.report
    at = datetime.datetime.fromisoformat(report["generated"].replace("Z", "+00:00"))
    age = _age_days(report["generated"], now)
    if age > STALE_DAYS:
        reasons.append(Reason("fleet-stale", {"days": int(age)}))
    reasons += _app_reasons(report, catalog, at)
    failing = {s: ids for s, ids in report["audit"]["failed"].items() if s in ("critical", "high") and ids}
    if failing:
        checks = [(i, s) for s, found in sorted(failing.items()) for i in found]
        reasons.append(Reason("fleet-audit", {"failing": checks}))
    if report["backups"]["scheduler_ok"] is False:
        reasons.append(Reason("fleet-scheduler-failed"))
    if report["drift"]["differences"]:
        reasons.append(Reason("fleet-drift", {"count": report["drift"]["differences"]}))
    return reasons


def _app_reasons(report: dict[str, Any], catalog: Catalog, at: datetime.datetime) -> list[Reason]:
    reasons = []
    rpo_days = report["backups"]["rpo_s"] / 86400
    for app in report["apps"]:
        name = app["id"]
        if app["health"] in ("unhealthy", "missing"):
            reasons.append(Reason("fleet-unhealthy", {"app": name, "health": app["health"]}))
        for ident, advisory in catalog.advisories_for(name, app["version"]):
            reasons.append(
                Reason(
                    "fleet-advisory",
                    {"app": name, "version": app["version"], "id": ident, "severity": advisory.severity},
                )
            )
        if app["cert_days"] is not None and app["cert_days"] < CERT_DAYS:
            reasons.append(Reason("fleet-cert", {"app": name, "days": app["cert_days"]}))
        if app["last_backup"] is None or _age_days(app["last_backup"], at) > rpo_days:
            reasons.append(Reason("fleet-backup-old", {"app": name}))
        if app["drill_ok"] is False:
            reasons.append(Reason("fleet-drill-failed", {"app": name}))
        elif app["last_drill"] is None or _age_days(app["last_drill"], at) > DRILL_DAYS:
            reasons.append(Reason("fleet-drill-old", {"app": name}))
    return reasons


def affected(regions: list[Region], catalog: Catalog) -> dict[str, list[str]]:
    """Advisory id: the regions whose trusted report runs a version it names."""
    found: dict[str, list[str]] = {}
    for region in regions:
        for app in (region.report or {}).get("apps", []):
            for ident, _ in catalog.advisories_for(app["id"], app["version"]):
                found.setdefault(ident, []).append(region.code)
    return {ident: sorted(set(codes)) for ident, codes in sorted(found.items())}


def status(folder: Path, catalog: Catalog, live: Live | None = None) -> list[Region]:
    """The fleet, each region judged now."""
    from spbe_kit.wilayah import dataset

    now = datetime.datetime.now(datetime.UTC)
    regions = collect(folder, live)
    known = dataset()
    for region in regions:
        # The name comes from the Kemendagri list, never from what a report claims.
        entry = known.get(region.code)
        region.name = entry.name if entry else ""
        region.reasons = judge(region, catalog, now)
    return regions


def _oldest(moments: list[str | None], now: datetime.datetime) -> float | None:
    """Days since the oldest of ``moments`` (an app with none counts as never: None)."""
    if not moments or any(m is None for m in moments):
        return None
    return max(_age_days(m, now) for m in moments if m)


def figures(region: Region, now: datetime.datetime) -> dict[str, Any]:
    """What a table row shows: only what a trusted report says, ages counted to ``now``."""
    report = region.report
    base: dict[str, Any] = {
        "code": region.code,
        "name": region.name,
        "trust": region.trust,
        "signer": region.received.signer if region.received else None,
        "source": "live" if region.live else ("file" if region.received else None),
        "report_file": str(region.received.path) if region.received and not region.live else None,
        "attention": bool(region.reasons),
    }
    if report is None:
        return {**base, "apps": [], "report_days": None}
    apps = report["apps"]
    failed = report["audit"]["failed"]
    return {
        **base,
        "apps": [{"id": a["id"], "version": a["version"], "health": a["health"]} for a in apps],
        "deploy": report["deploy"],
        "backup_days": _oldest([a["last_backup"] for a in apps], now),
        "drill_days": _oldest([a["last_drill"] for a in apps], now),
        "drills_ok": all(a["drill_ok"] is not False for a in apps),
        "audit_failed": {s: failed[s] for s in sorted(failed) if failed[s]},
        "cert_days": min((a["cert_days"] for a in apps if a["cert_days"] is not None), default=None),
        "report_days": _age_days(report["generated"], now),
        "generated": report["generated"],
        "observed": report["observed"],
        "drift": report["drift"],
        "kit": report["kit"],
        "catalog": report["catalog"],
    }
