"""Deploy, status and destroy: the commands that act on a region's servers.

Orchestrates the pipeline: validate -> render (if stale) -> secrets -> probe and plan
(preflight, lock) -> apply (playbooks through ansible-runner) -> verify (HTTPS smoke).
Every side effect goes through ``spbe_kit.hosts.apply`` (Ansible) or the Docker SDK on the
controller; this module decides and reports.
"""

from __future__ import annotations

import datetime
import getpass
import hashlib
import io
import json
import os
import secrets as random
import socket
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spbe_kit.errors import HealthGateFailed, InvalidInput, OperationFailed, diagnostic
from spbe_kit.fleet import keys
from spbe_kit.hosts import alerts, hostdata, vault
from spbe_kit.hosts.alerts import Firing
from spbe_kit.hosts.apply import RunResult, TaskResult, new_run_dir
from spbe_kit.hosts.lifecycle import _databases, _volumes, release_record, take_backup
from spbe_kit.hosts.plan import (
    Check,
    FileChange,
    LockInfo,
    change_paths,
    file_changes,
    host_steps,
    lock_is_stale,
    parse_lock,
    preflight,
    settled,
)
from spbe_kit.hosts.playvars import DeployVars, DestroyVars, RollbackVars
from spbe_kit.hosts.session import (
    UI,
    Options,
    Session,
    ca_path,
    check_vault,
    health_gate,
    open_session,
    play,
    probe,
    raise_failure,
    run,
    unlock,
    web_trust,
    write_release,
)
from spbe_kit.hosts.verify import Probe, app_url, smoke
from spbe_kit.render.context import Context, image_of, served_hostnames
from spbe_kit.validate import profile_file_problem


@dataclass
class Report:
    tree: Path
    run_dir: Path | None = None
    checks: list[Check] = field(default_factory=list)
    changed: list[TaskResult] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)
    password_created: Path | None = None
    seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    pre_upgrade_backup: str = ""
    # app -> (running version, profile's version, "upgrade" or "downgrade")
    version_changes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # How each app (and the proxy) that changes goes to the release: "path-start", "path-switch",
    # "path-maintenance" or "path-proxy" (message ids; plan.change_paths).
    paths: dict[str, str] = field(default_factory=dict)
    # Apps restarted behind the maintenance page: about how long they were away, in seconds.
    maintenance: dict[str, float] = field(default_factory=dict)
    release: int | None = None
    # Why the playbook ran (empty: every host already held this release, so it did not).
    reasons: list[str] = field(default_factory=list)


def deploy(profile: Path, catalog: Path | None, options: Options, ui: UI) -> Report:
    """secrets -> probe and plan -> pre-upgrade backup -> playbook (rolling back on a failed
    health gate) -> smoke test over HTTPS -> release record."""
    start = time.monotonic()
    session = open_session(profile, catalog, options, ui)
    ctx = session.ctx
    report = Report(session.tree)
    report.versions = {a.id: a.version for a in ctx.apps.values()}
    report.hosts = {a.id: a.host for a in ctx.apps.values()}
    password = vault.password_source(profile, options.vault_password_file, getpass.getpass)
    try:
        secrets = _secrets(session, password, report, ui)
        planned = _plan(session, secrets, options, report, ui)
        if planned.upgrading and not options.check:
            upgrading = planned.upgrading
            changes = ", ".join(f"{a} {old} -> {ctx.apps[a].version}" for a, old in sorted(upgrading.items()))
            ui.note("note-backing-up", changes=changes)
            report.pre_upgrade_backup = take_backup(
                session, sorted(upgrading), "pre-upgrade", ui, running=upgrading
            )
        if report.reasons:
            report.changed = _apply(session, planned, secrets, password.path, options, report, ui)
        if not options.check:
            report.probes = _smoke(session)
            report.release = _record_release(
                session,
                planned.run_dir,
                planned.probes,
                planned.image_ids,
                report.pre_upgrade_backup,
                report.maintenance,
            )
            # The key the region signs its status reports with (`spbe-kit report`).
            keys.ensure(session.profile, ctx.region.code)
        report.seconds = time.monotonic() - start
        return report
    finally:
        password.cleanup()


def _secrets(session: Session, password: vault.PasswordSource, report: Report, ui: UI) -> vault.Secrets:
    """The region's vault, created or completed (never regenerating a secret), and its CA's
    certificate beside the profile for clients to trust."""
    profile = session.profile
    if vault.pending_path(profile).exists():
        raise OperationFailed(
            [diagnostic("rotation-pending", str(vault.pending_path(profile)), profile=str(profile))]
        )
    if password.created:
        report.password_created = password.path
        ui.note("note-password-created", path=password.path)
    secrets = vault.ensure(session.ctx, profile, password.path, _provided_tls(session))
    missing = vault.missing_provided(session.ctx, secrets.data)
    if missing:
        raise InvalidInput(
            [diagnostic("secret-not-set", str(profile), name=n, profile=profile.name) for n in missing]
        )
    report.generated = secrets.generated
    if secrets.generated:
        ui.note("note-generated", count=len(secrets.generated), path=vault.vault_path(profile))
    if secrets.ca_certificate:
        write_public(ca_path(profile), secrets.ca_certificate)
        now = datetime.datetime.now(datetime.UTC)
        left = secrets.ca_days_left(now)
        if left is not None and left < vault.CA_WARN_DAYS:
            when = (now + datetime.timedelta(days=left)).date().isoformat()
            ui.note("note-ca-expiring", days=left, when=when)
    return secrets


@dataclass(frozen=True)
class _Planned:
    run_dir: Path
    variables: DeployVars
    probes: dict[str, dict[str, Any]]
    image_ids: dict[str, str]
    upgrading: dict[str, str]  # app -> the version running now


def _plan(session: Session, secrets: vault.Secrets, options: Options, report: Report, ui: UI) -> _Planned:
    """Probe every host (pre-flight checks, lock) and decide what each must do; the report
    gets the checks, file changes, version changes and why the playbook runs (if it does)."""
    ctx = session.ctx
    image_ids = _controller_images(ctx, options.registry)
    archives = _host_archives(session.tree, session.tree / "state")
    report.run_dir = run_dir = new_run_dir(session.tree, "deploy")
    nonce = random.token_bytes(16)
    report.checks, lock, probes = _preflight(session, run_dir, ui, secrets, nonce)
    wanted = rendered_hashes(session.tree)
    report.files = file_changes(wanted, probes)
    sent = {h: _sha256_file(archives / f"{h}.tar") for h in session.hosts}
    steps = host_steps(ctx, probes, wanted, image_ids, sent)
    for host, projects in sorted(steps["remove_projects"].items()):
        if projects:
            ui.note("note-removing-projects", host=host, projects=", ".join(projects))
    lock_line, takeover = _lock_decision(lock, options.break_lock, ui, run_dir.name)
    variables = DeployVars(
        lock=lock_line,
        takeover=takeover,
        # Recorded on each host at its first deploy (never replaced by a deploy).
        vault_mark={
            "fingerprint": secrets.fingerprint(ctx.region.code),
            "who": f"{getpass.getuser()}@{socket.gethostname()}",
            "since": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        host_archives=str(archives.resolve()),
        registry=options.registry,
        local_hosts=session.connection.local_hosts,
        **steps,
    )
    upgrading = _version_changes(ctx, probes)
    report.version_changes = {
        a: (old, ctx.apps[a].version, _direction(ctx, a, old)) for a, old in upgrading.items()
    }
    for app, (old, new, kind) in sorted(report.version_changes.items()):
        if kind == "downgrade":
            ui.note("note-downgrade", app=app, old=old, new=new)
    report.paths = change_paths(ctx, probes, steps, report.files)
    report.reasons = settled(ctx, probes, steps, secrets.data, nonce)
    if options.full:
        report.reasons.insert(0, "--full")
    (run_dir / "plan.txt").write_text("".join(f"{r}\n" for r in report.reasons) or "settled\n")
    if not report.reasons:
        running = sum(len(p) for p in steps["converged"].values())
        ui.note("note-settled", hosts=len(session.hosts), projects=running)
    return _Planned(run_dir, variables, probes, image_ids, upgrading)


def _apply(
    session: Session,
    planned: _Planned,
    secrets: vault.Secrets,
    password_file: Path,
    options: Options,
    report: Report,
    ui: UI,
) -> list[TaskResult]:
    """Run deploy.yml. On a failure: apps an upgrade broke go back to their release and data
    (when a pre-upgrade backup was taken), the lock is released, and the failure raised."""
    result = run(
        session,
        planned.variables,
        planned.run_dir,
        ui=ui,
        vault=(vault.vault_path(session.profile), password_file),
        check=options.check,
        secrets=secrets.values(),
    )
    if result.ok:
        report.maintenance = maintenance_windows(report.paths, session.ctx, result.tasks)
        return result.changed()
    try:
        gate = health_gate(result)
        switched = {s["app"] for per in planned.variables.switch.values() for s in per}
        backup = report.pre_upgrade_backup
        kept = [g for g in gate if g[0] in switched]
        rollback = [g for g in gate if g[0] in planned.upgrading and g[0] not in switched] if backup else []
        if kept:
            _keep_serving(session, planned, kept, ui)
        if rollback:
            _roll_back(session, planned.run_dir, rollback, planned.upgrading, planned.probes, backup, ui)
    finally:
        unlock(session, planned.run_dir, planned.variables.lock, secrets.values())
    if result.status == "canceled":
        # ansible-runner turns Ctrl-C into a cancelled run; the user asked to stop.
        raise KeyboardInterrupt
    if kept:
        raise HealthGateFailed(
            [
                diagnostic(
                    "switch-kept-running",
                    host,
                    app=app,
                    version=session.ctx.apps[app].version,
                    host=host,
                    running=planned.upgrading.get(app, session.ctx.apps[app].version),
                    logs=logs,
                    run=str(planned.run_dir),
                )
                for app, host, logs in kept
            ]
        )
    raise_failure(result)


# The tasks between a restarted app's old container stopping and its new one being healthy.
_RESTART_TASKS = ("Start apps", "Wait until every started app is healthy (together, failing early)")


def maintenance_windows(paths: dict[str, str], ctx: Context, tasks: list[TaskResult]) -> dict[str, float]:
    """For each app restarted behind the maintenance page, how long it was away, at most: its
    host's start and health-gate tasks (every app restarted there shares the window)."""
    spent: dict[str, float] = {}
    for task in tasks:
        if task.task in _RESTART_TASKS and task.status in ("ok", "changed"):
            spent[task.host] = spent.get(task.host, 0.0) + task.seconds
    return {
        app: round(spent.get(ctx.apps[app].host, 0.0), 1)
        for app, path in sorted(paths.items())
        if path == "path-maintenance"
    }


def _keep_serving(session: Session, planned: _Planned, failed: list[tuple[str, str, str]], ui: UI) -> None:
    """Apps whose new container never became healthy beside the running one: that one never
    stopped serving, so their data stays as it is; their files go back to the last release."""
    apps = sorted({app for app, _, _ in failed})
    releases = {host: _latest_release(planned.probes, host) for host in session.hosts}
    if any(releases[session.ctx.apps[a].host] is None for a in apps):
        return
    ui.note("note-switch-kept", apps=", ".join(apps))
    variables = RollbackVars(
        apps=apps,
        release={h: r["number"] for h, r in releases.items() if r},
        per_host={},
        volumes={},
        serving=apps,
    )
    play(session, variables, planned.run_dir / "keep", ui)


def _smoke(session: Session) -> list[Probe]:
    """Every app over HTTPS through the proxy, as a user reaches it; any failure stops here."""
    probes = smoke(session.ctx, web_trust(session))
    failed = [p for p in probes if not p.ok]
    if failed:
        raise HealthGateFailed(
            [diagnostic("smoke-failed", p.url, app=p.app, url=p.url, detail=p.detail) for p in failed]
        )
    return probes


def _provided_tls(session: Session) -> dict[str, tuple[str, str]] | None:
    tls = session.validated.profile.tls
    if tls.mode != "provided" or not tls.certificate or not tls.key:
        return None
    for reference in (tls.certificate, tls.key):
        if profile_file_problem(session.profile, reference):
            raise InvalidInput([diagnostic("tls-file-missing", reference, value=reference)])
    base = session.profile.resolve().parent
    cert = (base / tls.certificate).read_text()
    key = (base / tls.key).read_text()
    return {hostname: (cert, key) for hostname in served_hostnames(session.ctx)}


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_public(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _controller_images(ctx: Context, registry: str) -> dict[str, str]:
    """The image ID of every image the region runs, from the controller's engine."""
    from spbe_kit.grant.images import docker_client

    wanted = sorted({image_of(ctx, name, c) for name, host in ctx.hosts.items() for c in host.components})
    client = docker_client()
    found: dict[str, str] = {}
    missing = []
    for tag in wanted:
        try:
            found[tag] = str(client.images.get(tag).id)
        except Exception:
            missing.append(tag)
    if missing and not registry:
        raise OperationFailed([diagnostic("image-missing", tag, image=tag) for tag in missing])
    return found


def _host_archives(tree: Path, state: Path) -> Path:
    """One deterministic tar per host of its rendered files (root-owned, fixed times)."""
    folder = state / "hosts"
    folder.mkdir(parents=True, exist_ok=True)
    for host_dir in sorted((tree / "hosts").iterdir()):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(host_dir.rglob("*")):
                info = tar.gettarinfo(str(path), arcname=path.relative_to(host_dir).as_posix())
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                info.mode = 0o755 if path.is_dir() else 0o644
                if path.is_dir():
                    tar.addfile(info)
                else:
                    with path.open("rb") as handle:
                        tar.addfile(info, handle)
        target = folder / f"{host_dir.name}.tar"
        data = buffer.getvalue()
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    return folder


def _preflight(
    session: Session, run_dir: Path, ui: UI, secrets: vault.Secrets, nonce: bytes
) -> tuple[list[Check], dict[str, LockInfo], dict[str, dict[str, Any]]]:
    (run_dir / "probe").mkdir(mode=0o700)
    probes = probe(session, run_dir, secrets.values(), nonce.hex(), layout=True)
    checks = preflight(session.ctx, probes, time.time())
    ui.preflight(checks)
    check_vault(session, probes, secrets.fingerprint(session.ctx.region.code))
    failed = [c for c in checks if not c.ok]
    if failed:
        raise OperationFailed(
            [
                diagnostic(
                    "preflight-failed",
                    c.host,
                    host=c.host,
                    check=c.name,
                    detail=c.says(),
                    hint=c.advice(),
                )
                for c in failed
            ]
        )
    root = session.ctx.root
    locks = {host: lock for host, p in probes.items() if (lock := parse_lock(host, p.get("lock"), root))}
    return checks, locks, probes


def _version_changes(ctx: Context, probes: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Apps running now at another version than the profile asks: {app: running version}."""
    changes = {}
    for app in ctx.apps.values():
        for container in probes.get(app.host, {}).get("containers", []):
            running = container["labels"].get("org.spbe-kit.version")
            if container["labels"].get("org.spbe-kit.app") == app.id and running and running != app.version:
                changes[app.id] = running
    return changes


def _direction(ctx: Context, app: str, running: str) -> str:
    """Whether going from ``running`` to the profile's version is an upgrade or a downgrade."""
    versions = ctx.apps[app].spec.versions
    now, then = versions.get(running), versions[ctx.apps[app].version]
    if now is None:
        return "upgrade"
    older = (then.released, then.schema_generation) < (now.released, now.schema_generation)
    return "downgrade" if older else "upgrade"


def _latest_release(probes: dict[str, dict[str, Any]], host: str) -> dict[str, Any] | None:
    releases = probes.get(host, {}).get("releases", [])
    return releases[-1] if releases else None


def _roll_back(
    session: Session,
    run_dir: Path,
    failed: list[tuple[str, str, str]],
    upgrading: dict[str, str],
    probes: dict[str, dict[str, Any]],
    backup: str,
    ui: UI,
) -> None:
    """Previous release files and pre-upgrade data for the apps that failed the health gate."""
    ctx = session.ctx
    apps = sorted({app for app, _, _ in failed})
    releases = {host: _latest_release(probes, host) for host in session.hosts}
    if any(releases[ctx.apps[a].host] is None for a in apps):
        return
    ui.note("note-gate-rollback", apps=", ".join(apps), id=backup)
    variables = RollbackVars(
        apps=apps,
        release={h: r["number"] for h, r in releases.items() if r},
        per_host={ctx.postgres.host: {"id": backup, "databases": _databases(ctx, apps)}},
        volumes={h: {"id": backup, "volumes": v} for h, v in _volumes(ctx, apps).items()},
    )
    play(session, variables, run_dir / "rollback", ui)
    raise HealthGateFailed(
        [
            diagnostic(
                "upgrade-rolled-back",
                host,
                app=app,
                version=ctx.apps[app].version,
                host=host,
                previous=upgrading[app],
                backup=backup,
                logs=logs,
                run=str(run_dir),
            )
            for app, host, logs in failed
        ]
    )


def _record_release(
    session: Session,
    run_dir: Path,
    probes: dict[str, dict[str, Any]],
    image_ids: dict[str, str],
    backup: str,
    maintenance: dict[str, float],
) -> int | None:
    """A numbered release on every host, when what is deployed differs from the last one."""
    manifest = hashlib.sha256((session.tree / "manifest.json").read_bytes()).hexdigest()
    latest = {h: _latest_release(probes, h) for h in session.hosts}
    if all(r and r.get("manifest_sha256") == manifest for r in latest.values()):
        return None
    numbers = {h: (r["number"] if r else 0) + 1 for h, r in latest.items()}
    record = {
        **release_record(session.ctx, manifest, image_ids),
        "backup_before": backup or None,
        "files": rendered_hashes(session.tree),
        "maintenance_s": maintenance,
    }
    return write_release(session, run_dir, numbers, record)


def rendered_hashes(tree: Path) -> dict[str, dict[str, str]]:
    """Per host, the sha256 of each rendered file as it will be installed (from the manifest)."""
    manifest = json.loads((tree / "manifest.json").read_text())
    hosts: dict[str, dict[str, str]] = {}
    for path, digest in manifest["files"].items():
        parts = path.split("/", 2)
        if parts[0] == "hosts" and len(parts) == 3:
            hosts.setdefault(parts[1], {})[parts[2]] = digest
    return hosts


def _lock_decision(locks: dict[str, LockInfo], break_lock: bool, ui: UI, run_id: str) -> tuple[str, str]:
    mine = json.dumps(
        {
            "who": f"{getpass.getuser()}@{socket.gethostname()}",
            "since": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "pid": os.getpid(),
            "controller": socket.gethostname(),
            "run": run_id,
        },
        sort_keys=True,
    )
    if not locks:
        return mine, ""
    host, lock = next(iter(sorted(locks.items())))
    if lock_is_stale(lock):
        _stop_orphans(lock, ui)
    if lock_is_stale(lock) or break_lock:
        key = "note-takeover-gone" if lock_is_stale(lock) else "note-takeover-forced"
        ui.note(key, host=host, who=lock.who, since=lock.since)
        return mine, hostdata.lock_hash(lock.raw)
    raise OperationFailed(
        [
            diagnostic(
                "deploy-locked",
                host,
                host=host,
                who=lock.who,
                since=lock.since,
                pid=lock.pid,
                controller=lock.controller,
            )
        ]
    )


def _stop_orphans(lock: LockInfo, ui: UI) -> None:
    """A killed deploy's Ansible outlives it and blocks on its dead terminal: stop it first."""
    import signal

    from spbe_kit.hosts.plan import run_processes

    orphans = run_processes(lock.run)
    if not orphans:
        return
    ui.note("note-stop-orphans", pids=", ".join(map(str, orphans)))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in orphans:
            try:
                os.killpg(os.getpgid(pid), sig)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 10
        while run_processes(lock.run) and time.monotonic() < deadline:
            time.sleep(0.2)
        orphans = run_processes(lock.run)
        if not orphans:
            return


@dataclass(frozen=True)
class ComponentStatus:
    host: str
    component: str
    version: str
    image: str
    state: str
    health: str
    started_at: str
    uptime_s: int | None
    url: str = ""
    https: str = ""
    cert_days: int | None = None  # the served certificate's days left (apps)

    @property
    def healthy(self) -> bool:
        return self.state == "running" and self.health in ("healthy", "none") and self.https in ("", "ok")


def status(
    profile: Path, catalog: Path | None, options: Options, ui: UI
) -> tuple[list[ComponentStatus], list[Firing] | None]:
    """What runs on each host for this region, with container health and HTTPS health; and
    with monitoring, the alerts firing now (None when Alertmanager does not answer)."""
    session = open_session(profile, catalog, options, ui)
    run_dir = new_run_dir(session.tree, "status")
    rows = component_status(session, probe(session, run_dir))
    try:
        return rows, alerts.firing(session, run_dir)
    except OperationFailed:
        return rows, None


def component_status(session: Session, probes: dict[str, dict[str, Any]]) -> list[ComponentStatus]:
    ctx = session.ctx
    ca = web_trust(session)
    rows: list[ComponentStatus] = []
    now = datetime.datetime.now(datetime.UTC)
    for host in session.hosts:
        containers = probes.get(host, {}).get("containers", [])
        for name, kind in _expected(ctx, host):
            found = next((c for c in containers if c["labels"].get(f"org.spbe-kit.{kind}") == name), None)
            https = ""
            url = ""
            cert_days: int | None = None
            if kind == "app":
                from spbe_kit.hosts.verify import check_app

                url = app_url(ctx, name)
                result = check_app(ctx, name, ca)
                https = "ok" if result.ok else result.detail
                if result.expires is not None:
                    cert_days = int((result.expires - now.timestamp()) // 86400)
            if found is None:
                rows.append(
                    ComponentStatus(host, name, "", "", "missing", "none", "", None, url, https or "missing")
                )
                continue
            rows.append(
                ComponentStatus(
                    host,
                    name,
                    found["labels"].get("org.spbe-kit.version", ""),
                    found["image"],
                    found["status"],
                    found["health"],
                    found["started_at"],
                    _uptime(found["started_at"], now, found["status"]),
                    url,
                    https,
                    cert_days,
                )
            )
    return rows


def _expected(ctx: Context, host: str) -> list[tuple[str, str]]:
    """The containers status expects on ``host``: one per compose project, and the proxy's
    ACME service beside it under ACME."""
    found = []
    for component in ctx.hosts[host].components:
        found.append((component, "app" if component in ctx.apps else "service"))
        if component == "proxy" and ctx.profile.tls.mode == "acme":
            found.append(("acme", "service"))
    return found


def _uptime(started: str, now: datetime.datetime, state: str) -> int | None:
    if state != "running" or not started:
        return None
    try:
        when = datetime.datetime.fromisoformat(started[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return None
    return max(0, int((now - when).total_seconds()))


def destroy(profile: Path, catalog: Path | None, options: Options, ui: UI, delete_data: bool) -> RunResult:
    session = open_session(profile, catalog, options, ui)
    run_dir = new_run_dir(session.tree, "destroy")
    variables = DestroyVars(
        delete_data=delete_data,
        # Every project the catalog could have placed on a host, so that an app dropped from
        # the profile earlier (its volume kept at the time) goes too.
        every_project=sorted(
            f"spbe-{session.ctx.region.slug}-{c}"
            for c in [*session.ctx.catalog.apps, "postgres", "proxy", "backup", "exporters", "monitoring"]
        ),
    )
    return play(session, variables, run_dir, ui)
