"""The one way to a region's hosts: a session (validated profile, rendered tree, connection),
what the hosts report (``probe``), playbook runs (``play``) and release records on them
(``write_release``), and how a failed run becomes the user's error (``raise_failure``).

Commands (deploy, lifecycle, rotate, drift, audit, evidence, handover) build on this module;
it imports none of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

from spbe_kit import pipeline
from spbe_kit.errors import Diagnostic, HealthGateFailed, Location, OperationFailed, Said, diagnostic
from spbe_kit.hosts import hostdata, vault
from spbe_kit.hosts.apply import Connection, RunResult, ScriptResult, TaskResult, run_playbook, run_script
from spbe_kit.hosts.plan import Check, kept_paths, parse_lock
from spbe_kit.hosts.playvars import PlayVars, UnlockVars
from spbe_kit.render.context import Context, build_context
from spbe_kit.resources import playbooks_dir
from spbe_kit.runner import redact
from spbe_kit.validate import Validated


class UI(Protocol):
    """What the core tells the user while it works: a message key of ``messages.TEXTS``
    and its parameters (the UI says it in the user's language)."""

    def note(self, key: str, **params: Any) -> None: ...
    def preflight(self, checks: list[Check]) -> None: ...
    def event(self, event: dict[str, Any]) -> None: ...


@dataclass(kw_only=True)
class Options:
    vault_password_file: Path | None = None
    private_key: Path | None = None
    check: bool = False
    break_lock: bool = False
    output: Path | None = None
    registry: str = ""
    # Run the whole playbook even when the probe finds every host as this release leaves it.
    full: bool = False


@dataclass
class Session:
    """What every server-side command needs: the validated profile, its tree and connection."""

    validated: Validated
    ctx: Context
    tree: Path
    connection: Connection

    @property
    def profile(self) -> Path:
        return self.validated.profile_path

    @property
    def hosts(self) -> list[str]:
        return sorted(self.ctx.hosts)


def open_session(profile: Path, catalog: Path | None, options: Options, ui: UI) -> Session:
    validated = pipeline.validate(profile, catalog)
    rendered = pipeline.render(validated, options.output)
    if rendered.changed:
        ui.note("note-rendered", path=rendered.out, files=rendered.files)
    return connect(validated, rendered.out, options)


def read_session(profile: Path, catalog: Path | None, options: Options) -> Session:
    """For commands that examine (audit, verify, evidence, handover): the tree as it is on
    disk, rendered only when there is none, so a tree edited by hand is examined, not replaced."""
    validated = pipeline.validate(profile, catalog)
    tree = options.output or pipeline.default_output(validated)
    if not (tree / "manifest.json").is_file():
        pipeline.render(validated, tree)
    return connect(validated, tree, options)


def connect(validated: Validated, tree: Path, options: Options) -> Session:
    """A session on ``tree`` as it is (read-only commands that must not re-render it)."""
    ctx = build_context(validated.profile, validated.catalog)
    local = [name for name, host in ctx.hosts.items() if host.spec.connection == "local"]
    known_hosts = validated.profile_path.with_name(validated.profile_path.stem + ".known_hosts")
    return Session(validated, ctx, tree, Connection(known_hosts, options.private_key, local))


def ca_path(profile: Path) -> Path:
    return profile.with_name(profile.stem + ".ca.crt")


def web_trust(session: Session) -> str | None:
    """What a client of the apps' HTTPS trusts: the region's CA (self-signed), the root a
    provided or ACME certificate leads to (tls.ca), or the system's roots (None)."""
    tls = session.ctx.profile.tls
    if tls.mode == "self-signed":
        path = ca_path(session.profile)
        return path.read_text() if path.exists() else None
    if tls.ca:
        return (session.profile.resolve().parent / tls.ca).read_text()
    return None


def probe(
    session: Session, run_dir: Path, secrets: list[str] | None = None, nonce: str = "", layout: bool = False
) -> dict[str, dict[str, Any]]:
    """What each host reports (``spbe_probe.py``, over plain SSH), checked at the trust
    boundary. With a ``nonce``, secret and certificate files come back as HMACs under it
    (``drift``); with ``layout``, the kind, mode and owner of the folders and secret files a
    deploy keeps (``plan.kept_paths``). Each host's raw answer is kept in ``run_dir/probe``."""
    folder = run_dir / "probe"
    folder.mkdir(mode=0o700, exist_ok=True)
    script = playbooks_dir() / "files" / "spbe_probe.py"
    hosts = {name: session.ctx.hosts[name].spec for name in session.hosts}
    args = [session.ctx.root, session.ctx.region.code, nonce]
    kept = {h: [json.dumps(kept_paths(session.ctx, h))] for h in hosts} if layout else None
    results = run_script(session.connection, hosts, script, args, host_args=kept, carries_secrets=False)
    found: dict[str, dict[str, Any]] = {}
    for host, result in results.items():
        log = folder / f"{host}.log"
        log.write_text(redact(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}", secrets or []))
        log.chmod(0o600)
        try:
            data = json.loads(result.stdout)
        except ValueError:
            continue
        found[host] = hostdata.probe(host, data, session.ctx.root)
    lost = [r for r in results.values() if r.unreachable]
    if lost:
        raise OperationFailed([unreachable(r.host, r.stderr) for r in lost])
    return found


def read_backups(session: Session, run_dir: Path) -> dict[str, dict[str, Any]]:
    """Each host's backup records, restore drills and scheduler state (``spbe_backup.py list``),
    over plain SSH as the probe: read-only and without secrets, so no Ansible play (about two
    seconds of controller CPU each). The records are checked by the caller (``hostdata``)."""
    folder = run_dir / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    script = playbooks_dir() / "files" / "spbe_backup.py"
    hosts = {name: session.ctx.hosts[name].spec for name in session.hosts}
    results = run_script(
        session.connection, hosts, script, ["list", session.ctx.root, "{}"], carries_secrets=False
    )
    found: dict[str, dict[str, Any]] = {}
    failed = []
    for host, result in sorted(results.items()):
        log = folder / f"{host}.log"
        log.write_text(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        log.chmod(0o600)
        if result.unreachable:
            failed.append(unreachable(host, result.stderr))
            continue
        try:
            data = json.loads(result.stdout)[BACKUP_REPORT] if result.returncode == 0 else None
        except (ValueError, KeyError, TypeError):
            data = None
        if not isinstance(data, dict):
            failed.append(script_failed(result, "backups", "list", folder))
            continue
        found[host] = data
    if failed:
        raise OperationFailed(failed)
    return found


def script_failed(result: ScriptResult, play: str, task: str, folder: Path) -> Diagnostic:
    """A script that ran on a host and failed (or said nothing the kit reads), as the user's
    error: its own last words and the folder with the whole log."""
    problem = result.stderr.strip()[-600:] or f"exit {result.returncode}"
    return diagnostic(
        "task-failed", result.host, host=result.host, play=play, task=task, problem=problem, run=str(folder)
    )


def unreachable(host: str, message: str) -> Diagnostic:
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in message or "Host key verification failed" in message:
        return diagnostic("host-key-changed", host, host=host)
    problem = message.strip()[-300:]
    return diagnostic("host-unreachable", host, host=host, problem=problem)


def check_vault(session: Session, probes: dict[str, dict[str, Any]], fingerprint: str | None) -> None:
    """One vault per region: a host first deployed with another vault (another controller's,
    or one this controller lacks) stops the command before anything changes. Its secrets and
    certificates are the running ones; a second vault would overwrite them on disk while the
    containers and PostgreSQL keep the old values."""
    import hmac

    wrong = []
    for host in session.hosts:
        mark = probes.get(host, {}).get("vault")
        if not mark or (fingerprint and hmac.compare_digest(mark["fingerprint"], fingerprint)):
            continue
        last = (probes[host].get("releases") or [{"who": mark["who"], "when": mark["since"]}])[-1]
        params = {
            "host": host,
            "who": mark["who"],
            "since": mark["since"],
            "last_who": last["who"],
            "last_when": last["when"],
            "vault": vault.vault_path(session.profile).name,
        }
        wrong.append(Diagnostic("vault-mismatch", Location(host), (), params))
    if wrong:
        raise OperationFailed(wrong)


# Release records each host keeps (with their trees): what `rollback --to` can go back to.
KEEP_RELEASES = 10


def write_release(
    session: Session, run_dir: Path, numbers: dict[str, int], record: dict[str, Any], installed: bool = False
) -> int:
    """Record release ``numbers[host]`` on every host at once (``spbe_release.py``, one SSH round
    trip each), keeping the tree the deploy sent, or with ``installed`` (a rollback) the files
    as they are installed now."""
    for number in set(numbers.values()):
        # Never write a record the hosts' next probe would refuse as not the kit's own.
        hostdata.Release.model_validate({**record, "number": number})
    folder = run_dir / "release"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    hosts = {name: session.ctx.hosts[name].spec for name in session.hosts}
    script = playbooks_dir() / "files" / "spbe_release.py"
    args = [session.ctx.root]
    per_host = {
        h: [
            str(numbers[h]),
            str(KEEP_RELEASES),
            json.dumps(record, sort_keys=True),
            *(sorted(record.get("files", {}).get(h, {})) if installed else []),
        ]
        for h in hosts
    }
    results = run_script(session.connection, hosts, script, args, host_args=per_host)
    failed = []
    for host, result in sorted(results.items()):
        log = folder / f"{host}.log"
        log.write_text(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        log.chmod(0o600)
        if result.unreachable:
            failed.append(unreachable(host, result.stderr))
        elif result.returncode:
            failed.append(script_failed(result, "release", "record the release", folder))
    if failed:
        raise OperationFailed(failed)
    return max(numbers.values())


# What the playbooks report, found by content, never by task name (a task may be renamed):
# deploy.yml's health gate fails with a JSON message holding this key (apps, their logs) ...
HEALTH_GATE_KEY = "spbe_health_gate"
# ... lock.yml prints the lock it found held after this prefix ...
LOCK_HELD = "SPBE_LOCK_HELD "
# ... and spbe_backup.py (backup.yml) prints its result as a JSON object under this key.
BACKUP_REPORT = "spbe_backup"


def reported(result: RunResult, key: str) -> dict[str, Any]:
    """What each host's tasks printed as a JSON object under ``key``, by host."""
    found = {}
    for task in result.tasks:
        stdout = str(task.result.get("stdout", "")).strip()
        if task.status == "skipped" or not stdout.startswith("{"):
            continue
        try:
            data = json.loads(stdout)
        except ValueError:
            continue
        if isinstance(data, dict) and key in data:
            found[task.host] = data[key]
    return found


def health_gate(result: RunResult) -> list[tuple[str, str, str]]:
    """(app, host, last log lines) for each app that failed the health gate."""
    found = []
    for task in result.failed():
        try:
            data = json.loads(str(task.result.get("msg", "")))
        except ValueError:
            continue
        if isinstance(data, dict) and HEALTH_GATE_KEY in data:
            for app, lines in zip(data[HEALTH_GATE_KEY], data["logs"], strict=True):
                found.append((app, task.host, "\n      ".join(lines[-12:])))
    return found


def raise_failure(result: RunResult) -> NoReturn:
    """A failed run as the user's error: the health gate's apps with their logs, a deploy lock
    held by someone else, or each failed task with its own error and the run's folder."""
    gate = health_gate(result)
    if gate:
        raise HealthGateFailed(
            [
                diagnostic("health-gate", host, app=app, host=host, logs=logs, run=str(result.run_dir))
                for app, host, logs in gate
            ]
        )
    held = _held_lock(result)
    if held:
        raise OperationFailed([held])
    diagnostics = [_task_failure(task, result.run_dir) for task in result.failed()]
    raise OperationFailed(
        diagnostics
        or [
            diagnostic(
                "task-failed",
                str(result.run_dir),
                host="-",
                play="-",
                task="-",
                problem=result.error_text() or f"ansible-runner status {result.status}",
                run=str(result.run_dir),
            )
        ]
    )


def _held_lock(result: RunResult) -> Diagnostic | None:
    for task in result.failed():
        stdout = str(task.result.get("stdout", ""))
        if not stdout.startswith(LOCK_HELD):
            continue
        held = parse_lock(task.host, stdout.removeprefix(LOCK_HELD), "<install_dir>/<region>")
        if held:
            return diagnostic(
                "deploy-locked",
                task.host,
                host=task.host,
                who=held.who,
                since=held.since,
                pid=held.pid,
                controller=held.controller,
            )
    return None


def _task_failure(task: TaskResult, run_dir: Path) -> Diagnostic:
    if task.status == "unreachable":
        return unreachable(task.host, str(task.result.get("msg", "")))
    message = str(task.result.get("msg") or "failed")
    stderr = str(task.result.get("stderr") or "").strip()
    if stderr:
        # A script's own error says more than Ansible's "non-zero return code".
        message = f"{message}: {stderr[-400:]}"
    problem: str | Said = message[-600:]
    if task.result.get("censored"):
        problem = Said(
            "details hidden because the task handles secrets (no_log)",
            "rincian disembunyikan karena tugas ini menangani rahasia (no_log)",
        )
    return diagnostic(
        "task-failed",
        task.host,
        host=task.host,
        play=task.play,
        task=task.task,
        problem=problem,
        run=str(run_dir),
    )


def run(
    session: Session,
    variables: PlayVars,
    run_dir: Path,
    *,
    ui: UI | None = None,
    vault: tuple[Path, Path] | None = None,
    check: bool = False,
    secrets: list[str] | None = None,
) -> RunResult:
    """Run the playbook ``variables`` belong to on the region's hosts, and return how it went
    (a failure included: the caller may have to release the lock or roll back first)."""
    return run_playbook(
        variables.PLAYBOOK,
        session.tree,
        run_dir,
        session.connection,
        session.hosts,
        variables.extravars(),
        vault=vault,
        check=check,
        secrets=secrets,
        on_event=ui.event if ui else None,
        run_id=run_dir.name,
    )


def unlock(session: Session, run_dir: Path, lock: str, secrets: list[str]) -> None:
    """Release the deploy lock ``lock`` (this run's) after a failed run, whatever else failed."""
    run(session, UnlockVars(lock=lock), run_dir / "unlock", secrets=secrets)


def play(session: Session, variables: PlayVars, run_dir: Path, ui: UI) -> RunResult:
    """Run one lifecycle playbook on the region's hosts; a failure becomes the usual error."""
    result = run(session, variables, run_dir, ui=ui)
    if not result.ok:
        raise_failure(result)
    return result
