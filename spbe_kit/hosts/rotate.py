"""`spbe-kit secrets rotate`: new values for a region's secrets, in the database, on the hosts
and in what uses them; the vault rewritten only when all of that succeeded.

The new values are first written to a pending vault beside the old one (encrypted with the
same password). The playbook (``rotate.yml``) writes the new files, changes each PostgreSQL
role's password just before restarting the one app that logs in with it, restarts every
consumer one at a time behind the health gate and reloads nginx for a new certificate. Only
then does the pending vault replace the old one and a release record the rotation. A
rotation killed half way leaves the pending vault: the next run finishes that one first, so
the hosts and the database converge on one set of values.
"""

from __future__ import annotations

import copy
import datetime
import getpass
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spbe_kit.errors import InvalidInput, diagnostic
from spbe_kit.hosts import vault
from spbe_kit.hosts.apply import new_run_dir
from spbe_kit.hosts.deploy import _latest_release, _lock_decision, _provided_tls, write_public
from spbe_kit.hosts.lifecycle import guarded_session
from spbe_kit.hosts.plan import parse_lock
from spbe_kit.hosts.playvars import RotateVars
from spbe_kit.hosts.session import (
    UI,
    Options,
    Session,
    ca_path,
    open_session,
    probe,
    raise_failure,
    run,
    unlock,
    write_release,
)
from spbe_kit.render.context import Context

# Roles the kit creates in PostgreSQL besides one per app (deploy.yml's database play).
SUPERUSER_ROLE = "postgres"
BACKUP_ROLE = "spbe_backup"
MONITOR_ROLE = "spbe_monitor"


@dataclass
class Rotation:
    names: list[str]
    resumed: bool = False
    restarted: dict[str, list[str]] = field(default_factory=dict)
    release: int | None = None
    seconds: float = 0.0


def rotatable(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Every secret a rotation may renew, by the name the command takes. The region's CA is
    not among them: a new CA is a new trust anchor for every client, not a rotation."""
    names = vault.secret_names(ctx)
    names.append("tls.database")
    names += [f"tls.{hostname}" for hostname in sorted(data.get("tls", {}).get("certs", {}))]
    return names


def renew(ctx: Context, data: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A copy of the vault with new values for ``names`` (certificates re-issued by the CA)."""
    from spbe_kit.hosts.tls import issue_leaf

    new = copy.deepcopy(data)
    tls = new["tls"]
    for name in names:
        group, _, key = name.partition(".")
        if group == "tls" and key == "database":
            current = tls["database"]
            names_ = current["names"]
            cert_key, cert = issue_leaf(
                tls["ca_key"], tls["ca_cert"], names_[0], vault.LEAF_DAYS, names_[1:], current["ips"]
            )
            tls["database"] = {**current, "key": cert_key, "cert": cert}
        elif group == "tls":
            cert_key, cert = issue_leaf(tls["ca_key"], tls["ca_cert"], key, vault.LEAF_DAYS)
            tls["certs"][key] = {"key": cert_key, "cert": cert}
        elif group in ctx.apps:
            new["apps"][group][key] = vault.generate(key)
        else:
            new[group][key] = vault.generate(key)
    vault.stamp(new, [n for n in names if not n.startswith("tls.")])
    return new


def plan(ctx: Context, names: list[str]) -> dict[str, Any]:
    """What the playbook must do for ``names``: roles, consumers to restart, reloads."""
    roles = []
    restart: dict[str, list[str]] = {}
    for name in names:
        group, _, key = name.partition(".")
        if group in ctx.apps:
            app = ctx.apps[group]
            if key == "db_password":
                roles.append({"role": app.database["user"], "ref": f"apps/{group}/db_password", "app": group})
            restart.setdefault(app.host, [])
            if group not in restart[app.host]:
                restart[app.host].append(group)
        elif name == "postgres.superuser_password":
            roles.append({"role": SUPERUSER_ROLE, "ref": "postgres/superuser_password", "app": ""})
        elif group == "backup":
            roles.append({"role": BACKUP_ROLE, "ref": f"backup/{key}", "app": ""})
            for host, scheduler in ctx.schedulers.items():
                if scheduler.databases or scheduler.remote:  # the ones that hold the password
                    restart.setdefault(host, []).append("backup")
        elif group == "exporters":  # the PostgreSQL exporter, beside the database
            roles.append({"role": MONITOR_ROLE, "ref": f"exporters/{key}", "app": ""})
            restart.setdefault(ctx.postgres.host, []).append("exporters")
    return {
        "roles": roles,
        # The apps first: the consumers with no users waiting (scheduler, exporter) after them.
        "restart": {
            host: sorted(projects, key=lambda p: p in ("backup", "exporters"))
            for host, projects in restart.items()
        },
        "reload_proxy": any(n.startswith("tls.") and n != "tls.database" for n in names),
        "restart_postgres": "tls.database" in names,
        "timeout": max([a.spec.health_timeout_s for a in ctx.apps.values()] + [90]),
    }


def _chosen(ctx: Context, data: dict[str, Any], only: list[str] | None, profile: Path) -> list[str]:
    known = rotatable(ctx, data)
    if not only:
        return known
    unknown = [n for n in only if n not in known]
    if unknown:
        raise InvalidInput(
            [diagnostic("secret-unknown", str(profile), names=", ".join(unknown), known=", ".join(known))]
        )
    return [n for n in known if n in only]


def recover(profile: Path, catalog: Path | None, options: Options, ui: UI) -> Rotation:
    """For a region whose vault is lost: the hosts take this controller's vault (created here
    when there is none). Every PostgreSQL role's password is reset through the superuser's
    local socket on the database host (no old password needed), every secret and certificate
    file rewritten (a new CA when the vault is new), PostgreSQL restarted for its certificate,
    every consumer restarted behind the health gate, nginx reloaded, the hosts' vault record
    replaced and a release recorded. Run again after an interruption: it converges."""
    start = time.monotonic()
    session = open_session(profile, catalog, options, ui)
    ctx = session.ctx
    probes = probe(session, new_run_dir(session.tree, "recover"))
    password = vault.password_source(profile, options.vault_password_file, getpass.getpass)
    try:
        if vault.pending_path(profile).is_file():
            vault.pending_path(profile).unlink()  # a rotation of the lost vault can never finish
        ensured = vault.ensure(ctx, profile, password.path, _provided_tls(session))
        if ensured.ca_certificate:
            write_public(ca_path(profile), ensured.ca_certificate)  # clients trust the new CA
        data = vault.load(vault.vault_path(profile), password.path)
        mine = vault.fingerprint(data, ctx.region.code)
        marks = [p["vault"] for p in probes.values() if p.get("vault")]
        if marks and all(m["fingerprint"] == mine for m in marks):
            raise InvalidInput(
                [diagnostic("recover-not-needed", str(profile), path=str(vault.vault_path(profile)))]
            )
        names = rotatable(ctx, data)
        vault.stamp(data, vault.secret_names(ctx))
        vault.save(vault.vault_path(profile), password.path, data)
        steps = plan(ctx, names) | {"restart_postgres": True, "reload_proxy": True}
        result = Rotation(names, restarted=steps["restart"])
        mark = {"fingerprint": mine, "who": f"{getpass.getuser()}@{socket.gethostname()}", "since": _now()}
        run_dir = _apply(
            session,
            probes,
            options,
            ui,
            "recover",
            steps | {"vault_mark": mark},
            vault.vault_path(profile),
            password.path,
            data,
        )
        result.release = _record(session, run_dir, probes, names, ui, recovered=True)
        result.seconds = time.monotonic() - start
        return result
    finally:
        password.cleanup()


def _apply(
    session: Session,
    probes: dict[str, dict[str, Any]],
    options: Options,
    ui: UI,
    action: str,
    steps: dict[str, Any],
    vault_file: Path,
    password_file: Path,
    data: dict[str, Any],
) -> Path:
    """Run rotate.yml under the deploy lock with ``data`` (the values the hosts must end up
    with); a failure releases the lock and stops the command. Returns the run's folder."""
    run_dir = new_run_dir(session.tree, action)
    root = session.ctx.root
    locks = {h: lk for h, p in probes.items() if (lk := parse_lock(h, p.get("lock"), root))}
    lock_line, takeover = _lock_decision(locks, options.break_lock, ui, run_dir.name)
    variables = RotateVars(**steps, lock=lock_line, takeover=takeover)
    values = vault.Secrets(data).values()
    outcome = run(session, variables, run_dir, ui=ui, vault=(vault_file, password_file), secrets=values)
    if not outcome.ok:
        unlock(session, run_dir, lock_line, values)
        raise_failure(outcome)
    return run_dir


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rotate(profile: Path, catalog: Path | None, options: Options, ui: UI, only: list[str] | None) -> Rotation:
    start = time.monotonic()
    session, probes = guarded_session(profile, catalog, options, ui, "rotate")
    ctx = session.ctx
    password = vault.password_source(profile, options.vault_password_file, getpass.getpass)
    try:
        store, pending = vault.vault_path(profile), vault.pending_path(profile)
        if not store.is_file():
            raise InvalidInput([diagnostic("vault-missing", str(store), path=str(store))])
        if pending.is_file():
            new = vault.load(pending, password.path)
            names = list(new.pop("rotating"))
            ui.note("note-rotation-resumed", names=", ".join(names))
            result = Rotation(names, resumed=True)
        else:
            old = vault.load(store, password.path)
            names = _chosen(ctx, old, only, profile)
            new = renew(ctx, old, names)
            vault.save(pending, password.path, {**new, "rotating": names})
            result = Rotation(names)
        steps = plan(ctx, names)
        result.restarted = steps["restart"]
        run_dir = _apply(session, probes, options, ui, "rotate", steps, pending, password.path, new)
        # Everything uses the new values now: they become the vault (atomically), and the
        # pending copy goes.
        vault.save(store, password.path, new)
        pending.unlink()
        result.release = _record(session, run_dir, probes, names, ui)
        result.seconds = time.monotonic() - start
        return result
    finally:
        password.cleanup()


def _record(
    session: Session,
    run_dir: Path,
    probes: dict[str, dict[str, Any]],
    names: list[str],
    ui: UI,
    recovered: bool = False,
) -> int:
    """A rotation is a release: the same files and versions as the last one, and what rotated."""
    latest = {h: _latest_release(probes, h) for h in session.hosts}
    base = next((r for r in latest.values() if r), None)
    if base is None:
        return 0
    numbers = {h: (r["number"] if r else 0) + 1 for h, r in latest.items()}
    dropped = ("number", "rollback_of", "backup_before", "rotated", "recovered")
    record = {k: v for k, v in base.items() if k not in dropped}
    record |= {
        "who": f"{getpass.getuser()}@{socket.gethostname()}",
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "rotated": names,
    }
    if recovered:
        record["recovered"] = True
    return write_release(session, run_dir, numbers, record)
