"""Lifecycle: backups, restore, restore drills, numbered releases and upgrade safety.

Backups live on the hosts that hold the data (``<install_dir>/<region>/backups/<id>/``):
database dumps on the database host, volume archives on apps hosts, each with checksums and
per-table row counts. A deploy that changes an app's version backs the app up first; when the
new release fails its health gate, the app's previous release files and its database come
back from that backup before the deploy exits 4.
"""

from __future__ import annotations

import dataclasses
import datetime
import getpass
import hashlib
import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spbe_kit.errors import (
    InvalidInput,
    OperationFailed,
    confirm_required,
    diagnostic,
    unknown_apps,
)
from spbe_kit.hosts import hostdata, vault
from spbe_kit.hosts.apply import new_run_dir
from spbe_kit.hosts.plan import running_alone, spares
from spbe_kit.hosts.playvars import BackupVars, RestoreVars, RollbackVars
from spbe_kit.hosts.session import (
    BACKUP_REPORT,
    UI,
    Options,
    Session,
    check_vault,
    open_session,
    play,
    probe,
    read_backups,
    reported,
    write_release,
)
from spbe_kit.models.base import seconds
from spbe_kit.render.context import Context, image_ref


def backup_id(reason: str) -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{reason}"


def _apps(ctx: Context, apps: list[str] | None) -> list[str]:
    chosen = apps or sorted(ctx.apps)
    unknown_apps(chosen, list(ctx.apps))
    return chosen


def _volumes(
    ctx: Context, apps: list[str], running: dict[str, str] | None = None
) -> dict[str, list[dict[str, str]]]:
    """Each app's volumes to pack, with the image that packs them: the one that runs now
    (``running``), since before an upgrade the new image may not be on the host yet."""
    found: dict[str, list[dict[str, str]]] = {}
    for app_id in apps:
        app = ctx.apps[app_id]
        version = (running or {}).get(app_id, app.version)
        release = app.spec.versions.get(version, app.release)
        for name, volume in sorted(app.spec.volumes.items()):
            if volume.backup:
                found.setdefault(app.host, []).append(
                    {
                        "app": app_id,
                        "volume": name,
                        "name": f"spbe-{ctx.region.slug}-{app_id}-{name}",
                        "image": image_ref(release),
                        "user": app.spec.user,
                    }
                )
    return found


def _databases(ctx: Context, apps: list[str]) -> list[dict[str, str]]:
    return [
        {"app": a, "db": ctx.apps[a].database["name"], "user": ctx.apps[a].database["user"]} for a in apps
    ]


def backup_specs(
    ctx: Context, ident: str, reason: str, apps: list[str], running: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """``running``: the versions the data belongs to, when they differ from the profile's."""
    keep = ctx.profile.backup.keep
    versions = {a: (running or {}).get(a, ctx.apps[a].version) for a in apps}
    base = {"id": ident, "reason": reason, "keep": keep, "versions": versions}
    specs: dict[str, dict[str, Any]] = {ctx.postgres.host: {**base, "databases": _databases(ctx, apps)}}
    for host, volumes in _volumes(ctx, apps, running).items():
        specs.setdefault(host, dict(base))["volumes"] = volumes
    return specs


def _run_backup(session: Session, action: str, per_host: dict[str, Any], ui: UI) -> dict[str, Any]:
    run_dir = new_run_dir(session.tree, action)
    result = play(session, BackupVars(action=action, per_host=per_host), run_dir, ui)
    return reported(result, BACKUP_REPORT)


def take_backup(
    session: Session, apps: list[str] | None, reason: str, ui: UI, running: dict[str, str] | None = None
) -> str:
    ident = backup_id(reason)
    chosen = _apps(session.ctx, apps)
    _run_backup(session, "backup", backup_specs(session.ctx, ident, reason, chosen, running), ui)
    return ident


def guarded_session(
    profile: Path, catalog: Path | None, options: Options, ui: UI, purpose: str
) -> tuple[Session, dict[str, dict[str, Any]]]:
    """A session for a command that changes the hosts' data (backup, restore, rollback): the
    hosts probed, and refused when they were deployed with another vault than this
    controller's (exit 1, nothing changed)."""
    session = open_session(profile, catalog, options, ui)
    found = probe(session, new_run_dir(session.tree, purpose))
    mine = vault.existing_fingerprint(profile, options.vault_password_file, session.ctx.region.code)
    check_vault(session, found, mine)
    return session, found


def backup(profile: Path, catalog: Path | None, options: Options, ui: UI, apps: list[str] | None) -> str:
    session, _ = guarded_session(profile, catalog, options, ui, "backup")
    return take_backup(session, apps, "manual", ui)


@dataclass(frozen=True)
class BackupInfo:
    id: str
    reason: str
    created: str
    versions: dict[str, str]
    files: dict[str, dict[str, Any]]
    # host:file names the backup should hold but does not (a backup cut short on one host).
    missing: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(int(f["size"]) for f in self.files.values())


@dataclass(frozen=True)
class Listing:
    backups: list[BackupInfo]
    drills: list[dict[str, Any]]
    schedulers: dict[str, dict[str, Any]]  # per host: schedule, next run, recent runs


def list_backups(session: Session, ui: UI) -> Listing:
    raw = read_backups(session, new_run_dir(session.tree, "backups"))
    merged: dict[str, BackupInfo] = {}
    drills: list[dict[str, Any]] = []
    schedulers: dict[str, dict[str, Any]] = {}
    for host, data in sorted(raw.items()):
        for record in hostdata.backup_records(host, data.get("backups", []), session.ctx.root):
            known = merged.get(record["id"])
            files = {f"{host}:{name}": info for name, info in record["files"].items()}
            if known:
                files = {**known.files, **files}
            merged[record["id"]] = BackupInfo(
                record["id"], record["reason"], record["created"], record.get("versions", {}), files
            )
        checked = hostdata.drills(host, data.get("verified", []), session.ctx.root)
        drills.extend({**entry, "host": host, "recovery": recovery(session.ctx, entry)} for entry in checked)
        if "scheduler" in data:
            schedulers[host] = data["scheduler"]
    complete = [dataclasses.replace(b, missing=expected_files(session.ctx, b)) for b in merged.values()]
    return Listing(sorted(complete, key=lambda b: b.id), drills, schedulers)


def expected_files(ctx: Context, backup: BackupInfo) -> list[str]:
    """What a whole backup of its apps holds, per host, that this one lacks."""
    wanted = [f"{ctx.postgres.host}:{app}.dump" for app in sorted(backup.versions) if app in ctx.apps]
    for host, volumes in _volumes(ctx, [a for a in sorted(backup.versions) if a in ctx.apps]).items():
        wanted += [f"{host}:{v['app']}.{v['volume']}.tar" for v in volumes]
    return [name for name in wanted if name not in backup.files]


def backups(profile: Path, catalog: Path | None, options: Options, ui: UI) -> Listing:
    return list_backups(open_session(profile, catalog, options, ui), ui)


def restore_backup(session: Session, ident: str, apps: list[str], ui: UI) -> None:
    ctx = session.ctx
    per_host = {ctx.postgres.host: {"id": ident, "databases": _databases(ctx, apps)}}
    volumes = {host: {"id": ident, "volumes": v} for host, v in _volumes(ctx, apps).items()}
    run_dir = new_run_dir(session.tree, "restore")
    play(session, RestoreVars(id=ident, apps=apps, per_host=per_host, volumes=volumes), run_dir, ui)


def restore(
    profile: Path, catalog: Path | None, options: Options, ui: UI, ident: str, apps: list[str] | None
) -> list[str]:
    session, _ = guarded_session(profile, catalog, options, ui, "restore")
    chosen = _apps(session.ctx, apps)
    known = list_backups(session, ui).backups
    record = next((b for b in known if b.id == ident), None)
    if record is None:
        raise InvalidInput(
            [
                diagnostic(
                    "backup-unknown",
                    ident,
                    id=ident,
                    available=", ".join(b.id for b in known[-5:]) or "none",
                )
            ]
        )
    missing = [
        a
        for a in chosen
        if not any(f.endswith(f":{a}.dump") for f in record.files)
        or any(m.split(":", 1)[1].startswith(f"{a}.") for m in record.missing)
    ]
    if missing:
        raise InvalidInput(
            [diagnostic("backup-lacks-app", ident, id=ident, apps=", ".join(missing))]
        )
    restore_backup(session, ident, chosen, ui)
    return chosen


def verify(profile: Path, catalog: Path | None, options: Options, ui: UI) -> dict[str, Any]:
    """The restore drill: latest backup of each app into a throwaway PostgreSQL; compare rows.
    The drill as recorded, with its recovery figures against the profile's targets."""
    session = open_session(profile, catalog, options, ui)
    ctx = session.ctx
    spec = {"apps": sorted(ctx.apps), "image": ctx.postgres.image}
    result = _run_backup(session, "verify", {ctx.postgres.host: spec}, ui)
    (drill,) = hostdata.drills(ctx.postgres.host, [result[ctx.postgres.host]], ctx.root)
    return {**drill, "recovery": recovery(ctx, drill)}


def recovery(ctx: Context, drill: dict[str, Any]) -> dict[str, Any] | None:
    """A drill's recovery figures (``spbe_backup.py verify``) against the profile's targets:
    the time every app's restore took (RTO) and the age of the newest backup (RPO). None for
    a drill recorded before the figures were."""
    if drill.get("rto_s") is None or drill.get("rpo_s") is None:
        return None
    rto, rpo = seconds(ctx.profile.backup.rto), seconds(ctx.profile.backup.rpo)
    return {
        "rto_s": drill["rto_s"],
        "rpo_s": drill["rpo_s"],
        "rto_target_s": rto,
        "rpo_target_s": rpo,
        "within": drill["rto_s"] <= rto and drill["rpo_s"] <= rpo,
    }


def release_record(ctx: Context, manifest_sha256: str, image_ids: dict[str, str]) -> dict[str, Any]:
    return {
        "manifest_sha256": manifest_sha256,
        "versions": {a.id: a.version for a in ctx.apps.values()},
        "image_ids": image_ids,
        "who": f"{getpass.getuser()}@{socket.gethostname()}",
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def releases(
    profile: Path, catalog: Path | None, options: Options, ui: UI
) -> dict[str, list[dict[str, Any]]]:
    """The numbered releases recorded on each host, oldest first."""
    session = open_session(profile, catalog, options, ui)
    found = probe(session, new_run_dir(session.tree, "releases"))
    return {host: data.get("releases", []) for host, data in sorted(found.items())}


@dataclass(frozen=True)
class RollbackPlan:
    target: int
    apps: dict[str, tuple[str, str]]  # app -> (current version, target version)
    data_from: dict[str, str]  # app -> backup id, for apps whose schema would go back
    backup_created: dict[str, str]

    def describe(self) -> list[tuple[str, dict[str, Any]]]:
        """What will happen, as message keys and parameters (``messages.TEXTS``)."""
        lines = []
        for app, (now, then) in sorted(self.apps.items()):
            params: dict[str, Any] = {"app": app, "now": now, "then": then, "release": self.target}
            if app in self.data_from:
                ident = self.data_from[app]
                params |= {"id": ident, "created": self.backup_created[ident]}
                lines.append(("note-rollback-line-data", params))
            else:
                lines.append(("note-rollback-line", params))
        return lines


def plan_rollback(
    ctx: Context,
    history: dict[str, list[dict[str, Any]]],
    to: int | None,
    apps: list[str] | None,
    backups: list[BackupInfo],
) -> RollbackPlan:
    """Which apps go back to release ``to`` (default: the previous one) and where data comes from."""
    releases = sorted({r["number"]: r for items in history.values() for r in items}.items())
    if len(releases) < 2 and to is None:
        raise OperationFailed.of(
            "rollback-nothing", "rollback-nothing", detail="fewer than two releases are recorded"
        )
    target_number = to if to is not None else releases[-2][0]
    target = dict(releases).get(target_number)
    if target is None:
        raise OperationFailed.of(
            "rollback-nothing",
            "rollback-nothing",
            detail=f"release {target_number} is not kept; see `spbe-kit releases`",
        )
    current = releases[-1][1]
    chosen = _apps(ctx, apps) if apps else sorted(target["versions"])
    moving = {
        a: (current["versions"].get(a, "?"), target["versions"][a])
        for a in chosen
        if a in target["versions"] and current["versions"].get(a) != target["versions"][a]
    }
    if not moving:
        raise OperationFailed.of(
            "rollback-nothing", "rollback-nothing", detail=f"release {target_number} runs the same versions"
        )
    data_from: dict[str, str] = {}
    created: dict[str, str] = {}
    for app, (now, then) in moving.items():
        spec = ctx.catalog.apps[app]
        if spec.versions[then].schema_generation < spec.versions[now].schema_generation:
            # The last state of the data while the app still ran the version we go back to.
            source = next(
                (
                    b
                    for b in reversed(backups)
                    if b.versions.get(app) == then and any(name.endswith(f":{app}.dump") for name in b.files)
                ),
                None,
            )
            if source is None:
                raise OperationFailed.of(
                    "rollback-no-backup", "rollback-no-backup", app=app, release=target_number
                )
            data_from[app] = source.id
            created[source.id] = source.created
    return RollbackPlan(target_number, moving, data_from, created)


def rollback(
    profile: Path,
    catalog: Path | None,
    options: Options,
    ui: UI,
    to: int | None,
    apps: list[str] | None,
    confirmed: bool,
) -> RollbackPlan:
    session, found = guarded_session(profile, catalog, options, ui, "rollback")
    history = {host: data.get("releases", []) for host, data in found.items()}
    known = list_backups(session, ui).backups
    plan = plan_rollback(session.ctx, history, to, apps, known)
    for key, params in plan.describe():
        ui.note(key, **params)
    forward = any(_newer(session.ctx, app, now, then) for app, (now, then) in plan.apps.items())
    if (plan.data_from or forward) and not confirmed:
        raise confirm_required(
            str(profile),
            "a rollback to a newer release" if forward else "a rollback that restores data",
            "it moves the apps forward and migrates their data; add --yes"
            if forward
            else "read what would be lost above, then add --yes",
            "aplikasi maju ke rilis lebih baru dan datanya dimigrasi; tambahkan --yes"
            if forward
            else "baca data yang akan hilang di atas, lalu tambahkan --yes",
        )
    ctx = session.ctx
    running = {app: now for app, (now, _) in plan.apps.items()}
    # Whatever happens next, the data as it is now can come back.
    before = take_backup(session, sorted(plan.apps), "pre-rollback", ui, running=running)
    per_host: dict[str, dict[str, Any]] = {}
    for app, ident in sorted(plan.data_from.items()):
        entry = per_host.setdefault(ctx.postgres.host, {"id": ident, "databases": []})
        entry["databases"].extend({**db, "id": ident} for db in _databases(ctx, [app]))
    # An app whose data stays switches back like a deploy switches forward: no pause.
    switching = [
        a
        for a in sorted(plan.apps)
        if a not in plan.data_from and running_alone(ctx, ctx.apps[a].host, found[ctx.apps[a].host], a)
    ]
    variables = RollbackVars(
        apps=sorted(plan.apps),
        release={host: plan.target for host in session.hosts},
        per_host=per_host,
        volumes={},
        switch={h: spares(ctx, [a for a in switching if ctx.apps[a].host == h]) for h in session.hosts},
    )
    play(session, variables, new_run_dir(session.tree, "rollback"), ui)
    installed = {host: data.get("files", {}) for host, data in found.items()}
    record_rollback(session, history, plan, before, installed, ui)
    return plan


def _newer(ctx: Context, app: str, now: str, then: str) -> bool:
    """Whether ``then`` is a later release of ``app`` than ``now`` (a rollback "forward")."""
    versions = ctx.catalog.apps[app].versions
    if now not in versions or then not in versions:
        return False
    return (versions[then].released, versions[then].schema_generation) > (
        versions[now].released,
        versions[now].schema_generation,
    )


def record_rollback(
    session: Session,
    history: dict[str, list[dict[str, Any]]],
    plan: RollbackPlan,
    backup: str,
    installed: dict[str, dict[str, str]],
    ui: UI,
) -> int:
    """A rollback is a release too: the next number, with the versions, images and files that
    now run: the moved apps' from the target release, the rest as installed before it."""
    ctx = session.ctx
    numbers = {host: max((r["number"] for r in items), default=0) + 1 for host, items in history.items()}
    latest = {host: items[-1] for host, items in history.items() if items}
    target = {
        host: next((r for r in items if r["number"] == plan.target), {}) for host, items in history.items()
    }
    anyhost = sorted(latest)[0]
    moved = set(plan.apps)
    old_refs = {
        image_ref(ctx.catalog.apps[a].versions[now])
        for a, (now, _) in plan.apps.items()
        if now in ctx.catalog.apps[a].versions
    }
    new_refs = {image_ref(ctx.catalog.apps[a].versions[then]) for a, (_, then) in plan.apps.items()}
    image_ids = {k: v for k, v in latest[anyhost]["image_ids"].items() if k not in old_refs}
    image_ids |= {k: v for k, v in target[anyhost].get("image_ids", {}).items() if k in new_refs}
    files: dict[str, dict[str, str]] = {}
    for host in session.hosts:
        now_files = latest.get(host, {}).get("files", {}).get(host, {})
        then_files = target.get(host, {}).get("files", {}).get(host, {})
        # What the last deploy left (a deploy whose health gate failed installs the other
        # components' files without a release of its own).
        kept = {
            p: installed.get(host, {}).get(p, h) for p, h in now_files.items() if p.split("/")[0] not in moved
        }
        files[host] = kept | {p: h for p, h in then_files.items() if p.split("/")[0] in moved}
    versions = {**latest[anyhost]["versions"], **{a: then for a, (_, then) in plan.apps.items()}}
    record = {
        "manifest_sha256": hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest(),
        "versions": versions,
        "image_ids": image_ids,
        "who": f"{getpass.getuser()}@{socket.gethostname()}",
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "backup_before": backup or None,
        "files": files,
        "rollback_of": plan.target,
    }
    return write_release(session, new_run_dir(session.tree, "release"), numbers, record, installed=True)
