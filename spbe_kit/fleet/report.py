"""One region's signed status report (``spbe-kit report``): apps, versions and image IDs,
health, last deploy, backups and restore drills, failing audit checks, certificate days and
drift, small enough for an e-mail or a USB stick, signed with the region's own key.

Built from the hosts (one probe, one backup listing, the audit) or with ``offline`` from the
rendered tree and the last report read from the hosts (kept in the tree's ``state/``). It
holds no secret and no free text (``models.report.RegionReport`` closes every string)."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from spbe_kit import __version__
from spbe_kit.fleet import keys
from spbe_kit.hosts.session import UI, Session
from spbe_kit.models.base import seconds
from spbe_kit.models.report import RegionReport, SignedReport
from spbe_kit.render.context import Context

SCHEMA = "spbe-kit/region-report/v1"
LAST_KNOWN = Path("state") / "last-report.json"
# A region's report is a few kilobytes; anything far larger is not one.
MAX_BYTES = 256 * 1024


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(report: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the report as JSON, keys sorted, no spaces."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _frame(ctx: Context, source: str, observed: str | None) -> dict[str, Any]:
    profile = ctx.profile
    return {
        "schema": SCHEMA,
        "generated": now(),
        "source": source,
        "observed": observed,
        "region": {"code": ctx.region.code, "name": ctx.region.name},
        "grant": {"agreement": profile.grant.agreement, "donor": profile.grant.donor},
        "kit": __version__,
        "catalog": ctx.catalog.version,
    }


def _audit_summary(report: dict[str, Any]) -> dict[str, Any]:
    failed: dict[str, list[str]] = {}
    for result in report["results"]:
        if result["status"] == "fail":
            failed.setdefault(result["severity"], [])
            if result["id"] not in failed[result["severity"]]:
                failed[result["severity"]].append(result["id"])
    return {"checks": report["summary"]["checks"], "passed": report["summary"]["passed"], "failed": failed}


def _newest_backup(app: str, backups: list[Any]) -> str | None:
    whole = [
        b.created
        for b in backups
        if app in b.versions and not any(m.split(":", 1)[1].startswith(f"{app}.") for m in b.missing)
    ]
    return max(whole, default=None)


def _newest_drill(app: str, drills: list[dict[str, Any]]) -> tuple[str | None, bool | None]:
    covering = [(d["when"], a["ok"]) for d in drills for a in d["apps"] if a["app"] == app]
    if not covering:
        return None, None
    return max(covering)


def _apps(session: Session, probes: dict[str, dict[str, Any]], facts: Any) -> list[dict[str, Any]]:
    from spbe_kit.hosts.deploy import component_status

    rows = {r.component: r for r in component_status(session, probes) if r.component in session.ctx.apps}
    apps = []
    for app in session.ctx.apps.values():
        row = rows.get(app.id)
        containers = probes.get(app.host, {}).get("containers", [])
        running = next((c for c in containers if c["labels"].get("org.spbe-kit.app") == app.id), None)
        when, ok = _newest_drill(app.id, facts.drills)
        health = (
            "missing" if row is None or row.state == "missing" else "healthy" if row.healthy else "unhealthy"
        )
        apps.append(
            {
                "id": app.id,
                "version": running["labels"].get("org.spbe-kit.version", app.version)
                if running
                else app.version,
                "image": running["image"] if running else app.image,
                "image_id": running["image_id"] if running else None,
                "health": health,
                "cert_days": row.cert_days if row else None,
                "last_backup": _newest_backup(app.id, facts.backups),
                "last_drill": when,
                "drill_ok": ok,
            }
        )
    return apps


def _last_deploy(session: Session, probes: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    latest = [r[-1] for r in (probes.get(h, {}).get("releases") for h in session.hosts) if r]
    if not latest:
        return None
    newest = max(latest, key=lambda r: (r["when"], r["number"]))
    return {"release": newest["number"], "when": newest["when"], "who": newest["who"]}


def _scheduler_ok(schedulers: dict[str, dict[str, Any]]) -> bool | None:
    lasts = [s.get("runs", [])[-1] for s in schedulers.values() if s.get("runs")]
    return all(bool(last.get("ok")) for last in lasts) if lasts else None


def from_hosts(
    session: Session, ui: UI, vault_data: dict[str, Any] | None, images_dir: Path = Path("build/images")
) -> dict[str, Any]:
    """The report read from the region's hosts now (with the vault when it is here, the
    audit's secret checks too); kept as the last known state."""
    from spbe_kit.auditors import audit
    from spbe_kit.hosts.apply import new_run_dir
    from spbe_kit.hosts.drift import compare_host
    from spbe_kit.hosts.session import probe

    probes = probe(session, new_run_dir(session.tree, "report"))
    checked, facts = audit.run(session, str(session.profile), vault_data, ui, True, images_dir)
    assert facts is not None
    drift = sum(len(compare_host(session, h, probes.get(h, {})).differences) for h in session.hosts)
    moment = now()
    data = {
        **_frame(session.ctx, "hosts", moment),
        "generated": moment,
        "apps": _apps(session, probes, facts),
        "deploy": _last_deploy(session, probes),
        "backups": {"rpo_s": _rpo(session.ctx), "scheduler_ok": _scheduler_ok(facts.schedulers)},
        "audit": _audit_summary(checked),
        "drift": {"checked": True, "differences": drift},
    }
    data = RegionReport.model_validate(data).model_dump(mode="json", by_alias=True)
    _keep(session.tree / LAST_KNOWN, data)
    return data


def _rpo(ctx: Context) -> int:
    return int(seconds(ctx.profile.backup.rpo))


def offline(
    session: Session, vault_data: dict[str, Any] | None, images_dir: Path = Path("build/images")
) -> dict[str, Any]:
    """The report from the rendered tree (its audit now) and what the hosts said last time
    (``observed`` says when); without a last known state, health and backups are unknown."""
    from spbe_kit.auditors import audit

    ctx = session.ctx
    last = _last_known(session.tree / LAST_KNOWN)
    checked, _ = audit.run(session, str(session.profile), vault_data, _Silent(), False, images_dir)
    seen = {a["id"]: a for a in (last or {}).get("apps", [])}
    apps = [
        seen.get(app.id)
        or {
            "id": app.id,
            "version": app.version,
            "image": app.image,
            "image_id": None,
            "health": "unknown",
            "cert_days": None,
            "last_backup": None,
            "last_drill": None,
            "drill_ok": None,
        }
        for app in ctx.apps.values()
    ]
    data = {
        **_frame(ctx, "offline", last["observed"] if last else None),
        "apps": apps,
        "deploy": last["deploy"] if last else None,
        "backups": {"rpo_s": _rpo(ctx), "scheduler_ok": last["backups"]["scheduler_ok"] if last else None},
        "audit": _audit_summary(checked),
        "drift": last["drift"] if last else {"checked": False, "differences": 0},
    }
    return RegionReport.model_validate(data).model_dump(mode="json", by_alias=True)


class _Silent:
    """No host is contacted offline, so there is nothing to tell."""

    def note(self, key: str, **params: Any) -> None:
        return None

    def preflight(self, checks: list[Any]) -> None:
        return None

    def event(self, event: dict[str, Any]) -> None:
        return None


def _keep(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(staged, path)


def _last_known(path: Path) -> dict[str, Any] | None:
    """The last report read from the hosts, if this controller kept one that still fits."""
    try:
        data = json.loads(path.read_text())
        return RegionReport.model_validate(data).model_dump(mode="json", by_alias=True)
    except (OSError, ValueError, ValidationError):
        return None


def signed(profile: Path, data: dict[str, Any]) -> bytes:
    """The report and its signature by the region's key (created here when there is none)."""
    private = keys.ensure(profile, data["region"]["code"])
    public, value = keys.sign(private, canonical(data))
    document = {"report": data, "signature": {"algorithm": "ed25519", "key": public, "value": value}}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Received:
    """A report file as the donor reads it: the report when it fits the shape (trusted or not,
    by ``trust``), or the problem that made it unreadable."""

    path: Path
    report: dict[str, Any] | None
    trust: keys.Trust
    signer: str | None  # the fingerprint of the key that claims to have signed it
    problem: str = ""


def read(path: Path, registered: Mapping[str, str]) -> Received:
    """A report file checked against its shape, then its signature against the public key
    registered for the region it names (``registered``: region code -> public key line)."""
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
        if len(raw) > MAX_BYTES:
            return Received(path, None, "bad", None, f"larger than {MAX_BYTES // 1024} KB")
        data = json.loads(raw)
        SignedReport.model_validate(data)
    except OSError as exc:
        return Received(path, None, "missing", None, exc.strerror or str(exc))
    except ValueError as exc:  # JSON or shape (ValidationError is a ValueError)
        return Received(path, None, "bad", None, _first_problem(exc))
    signature = data.get("signature") or {}
    signer, value = signature.get("key"), signature.get("value")
    key = registered.get(data["report"]["region"]["code"])
    state = keys.trust(canonical(data["report"]), signer, value, key)
    return Received(path, data["report"], state, keys.fingerprint(signer) if signer else None)


def _first_problem(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        return ".".join(str(p) for p in first["loc"]) + ": " + first["msg"]
    return f"not JSON: {str(exc)[:120]}"
