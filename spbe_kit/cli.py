"""The command line: parses options, calls ``spbe_kit.pipeline`` and friends, prints results.

Kept thin and fast to import: heavy modules (pydantic, Jinja2, Ansible, Docker) load inside
the commands, so ``spbe-kit --help`` stays quick.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from spbe_kit.errors import ExitCode, SpbeError, diagnostic

app = typer.Typer(
    name="spbe-kit",
    help="Install and configure granted SPBE applications for a region. "
    "Pasang dan konfigurasi aplikasi hibah SPBE untuk daerah.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state: dict[str, Any] = {"lang": None, "debug": False, "catalog": None}
F = TypeVar("F", bound=Callable[..., Any])


def _lang() -> Any:
    from spbe_kit.messages import detect_lang

    return detect_lang(_state["lang"])


def _err(text: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(text, markup=False)


def _say(key: str, **params: Any) -> str:
    from spbe_kit.messages import say

    return say(key, _lang(), **params)


def _ui(console: Any = None) -> Any:
    from spbe_kit.ui import ConsoleUI

    return ConsoleUI(console, _lang())


def _out(text: str, style: str | None = None) -> None:
    from rich.console import Console

    Console(highlight=False, soft_wrap=True).print(text, style=style, markup=False)


def _run(action: Callable[[], int | None]) -> None:
    """Run a command body; turn our errors into diagnostics and exit codes, once."""
    try:
        code = action() or 0
    except SpbeError as exc:
        from spbe_kit.messages import render_diagnostic, summary

        lang = _lang()
        for diag in exc.diagnostics:
            _err(render_diagnostic(diag, lang))
        if exc.exit_code == ExitCode.INVALID_INPUT:
            _err(summary(len(exc.diagnostics), lang))
        if _state["debug"]:
            raise
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        _err("interrupted / dihentikan")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if _state["debug"]:
            raise
        _err(_say("internal-error", kind=type(exc).__name__, error=exc))
        raise typer.Exit(int(ExitCode.FAILURE)) from None
    raise typer.Exit(code)


@app.callback()
def _options(
    lang: Annotated[str | None, typer.Option(help="Language: id or en (default: locale).")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
    catalog: Annotated[
        Path | None, typer.Option(help="Another grant catalog (default: the shipped one).")
    ] = None,
) -> None:
    _state.update(lang=lang, debug=debug, catalog=catalog)


def _warn_advisories(validated: Any) -> None:
    """One warning per app version the donor withdrew or flagged (validate, status)."""
    from spbe_kit.messages import word
    from spbe_kit.validate import advisories

    lang = _lang()
    for app, version, ident, advisory in advisories(validated.profile, validated.catalog):
        fixed = (
            _say("advisory-fixed", app=app, version=advisory.fixed_in)
            if advisory.fixed_in
            else _say("advisory-unfixed")
        )
        state = _say("advisory-withdrawn" if advisory.withdrawn else "advisory-affected")
        _err(
            _say(
                "advisory-warning",
                app=app,
                version=version,
                state=state,
                id=ident,
                severity=word(advisory.severity, lang),
            )
            + f"\n    {getattr(advisory.text, lang)}\n    → {fixed}"
        )


ProfileArg = Annotated[Path, typer.Argument(help="The region's profile (YAML).", show_default=False)]


@app.command()
def validate(
    profiles: Annotated[list[Path], typer.Argument(help="One or more profiles.", show_default=False)],
) -> None:
    """Check profiles against the catalog, the Kemendagri codes and national rules."""

    def body() -> int:
        from spbe_kit.pipeline import validate_many

        checked = validate_many(profiles, _state["catalog"])
        for item in checked:
            profile = item.profile
            _out(_say("valid", path=item.profile_path, code=profile.region.code, apps=len(profile.apps)))
            _warn_advisories(item)
        return 0

    _run(body)


@app.command()
def render(
    profile: ProfileArg,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Default: build/<region>/.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Exit 3 if the tree is stale.")] = False,
) -> None:
    """Render the complete deployment tree for a region (no server is touched)."""

    def body() -> int:
        from spbe_kit import pipeline

        validated = pipeline.validate(profile, _state["catalog"])
        if check:
            result = pipeline.check(validated, output)
            target = output or pipeline.default_output(validated)
            if result.stale:
                from spbe_kit.messages import render_diagnostic

                for reason in result.reasons:
                    diag = diagnostic("render-stale", str(target), reason=reason, profile=str(profile))
                    _err(render_diagnostic(diag, _lang()))
                return int(ExitCode.DIFFERENCES)
            _out(_say("render-up-to-date", path=target))
            return 0
        done = pipeline.render(validated, output)
        _out(_say("render-written" if done.changed else "render-unchanged", path=done.out, files=done.files))
        return 0

    _run(body)


@app.command()
def init(
    code: Annotated[str, typer.Argument(help="Kemendagri code of the kabupaten/kota, e.g. 32.15.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Default: <region>.yaml.")] = None,
) -> None:
    """Write a commented starter profile for a region."""

    def body() -> int:
        from spbe_kit.starter import write_starter

        written = write_starter(code, output, _state["catalog"])
        _out(_say("init-written", path=written))
        return 0

    _run(body)


@app.command()
def schema(
    kind: Annotated[
        str, typer.Argument(help="profile, catalog, audit, handover or region-report")
    ] = "profile",
) -> None:
    """Print the JSON Schema of the profile, the catalog, or a report (audit, handover, region-report)."""

    def body() -> int:
        from spbe_kit.schema import json_schema

        sys.stdout.write(json_schema(kind))
        return 0

    _run(body)


BreakLockOption = Annotated[bool, typer.Option("--break-lock", help="Take over another deploy's lock.")]
VaultOption = Annotated[
    Path | None,
    typer.Option("--vault-password-file", help="Vault password file (or $SPBE_KIT_VAULT_PASSWORD_FILE)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
KeyOption = Annotated[Path | None, typer.Option("--private-key", help="SSH private key for the hosts.")]


@app.command()
def deploy(
    profile: ProfileArg,
    vault_password_file: VaultOption = None,
    private_key: KeyOption = None,
    check: Annotated[bool, typer.Option("--check", help="Show what would change; change nothing.")] = False,
    break_lock: BreakLockOption = False,
    registry: Annotated[str, typer.Option(help="Pull missing images from this registry.")] = "",
    full: Annotated[
        bool, typer.Option("--full", help="Run every step even when every host already holds this release.")
    ] = False,
) -> None:
    """Deploy the region: preflight, images, secrets, database, apps, proxy, smoke test."""

    def body() -> int:
        from spbe_kit.hosts.deploy import deploy as run_deploy
        from spbe_kit.hosts.session import Options
        from spbe_kit.messages import phase_name, task_name

        ui = _ui()
        options = Options(
            vault_password_file=vault_password_file,
            private_key=private_key,
            check=check,
            break_lock=break_lock,
            registry=registry,
            full=full,
        )
        report = run_deploy(profile, _state["catalog"], options, ui)
        changed = len(report.changed)
        if check:
            _out(_say("check-summary", files=len(report.files), tasks=changed))
            for app, (old, new, kind) in sorted(report.version_changes.items()):
                _out(_say("check-version", app=app, old=old, new=new, kind=_say(kind)))
            for app, path in sorted(report.paths.items()):
                _out(_say("check-path", app=app, path=_say(path)))
            for change in report.files:
                _out(_say("check-file", host=change.host, path=change.path, change=_say(change.change)))
            for task in report.changed:
                play, name = phase_name(task.play, _lang()), task_name(task.task, _lang())
                _out(_say("check-task", host=task.host, play=play, task=name))
            return 0
        ui.console.print(ui.deploy_table(report))
        for app, seconds in sorted(report.maintenance.items()):
            _out(_say("maintenance-window", app=app, seconds=f"{seconds:.1f}"))
        for probe in report.probes:
            _out(_say("app-url", app=probe.app, url=probe.url))
        _out(_say("deploy-done", tasks=changed, seconds=f"{report.seconds:.1f}", run=report.run_dir))
        return 0

    _run(body)


def _firing_lines(firing: list[Any] | None) -> list[str]:
    """One line per alert firing (and its next step), or why there is none to show."""
    lang = _lang()
    if firing is None:
        return [_say("alerts-unknown")]
    lines = []
    for alert in firing:
        where = f" {alert.where}" if alert.where else ""
        lines.append(
            _say("alert-line", name=alert.name, severity=alert.severity, where=where, since=alert.since)
            + f"\n    {alert.summary[lang]}\n    → {alert.runbook[lang]}"
        )
    return lines


@app.command()
def status(
    profile: ProfileArg,
    as_json: JsonOption = False,
    private_key: KeyOption = None,
) -> None:
    """Per host and app: version, image, health, URL, uptime. Exit 3 if anything is unhealthy."""

    def body() -> int:

        from spbe_kit.hosts.deploy import status as run_status
        from spbe_kit.hosts.session import Options

        ui = _server_ui(as_json)
        rows, firing = run_status(profile, _state["catalog"], Options(private_key=private_key), ui)
        # A critical alert needs someone now, as an unhealthy component does.
        healthy = all(r.healthy for r in rows) and not any(f.severity == "critical" for f in firing or [])
        if as_json:
            data = {
                "healthy": healthy,
                "components": [{**r.__dict__, "healthy": r.healthy} for r in rows],
                "alerts": None if firing is None else [f.__dict__ for f in firing],
            }
            _emit_json(data)
        else:
            table, urls = ui.status_table(rows)
            ui.console.print(table)
            for line in urls:
                _out(line)
            for line in _firing_lines(firing):
                _out(line)
        from spbe_kit.pipeline import validate as validated

        _warn_advisories(validated(profile, _state["catalog"]))
        return 0 if healthy else int(ExitCode.DIFFERENCES)

    _run(body)


@app.command()
def destroy(
    profile: ProfileArg,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: remove the region's containers.")] = False,
    delete_data: Annotated[
        bool, typer.Option("--delete-data", help="Also delete data volumes (databases, uploads).")
    ] = False,
    private_key: KeyOption = None,
) -> None:
    """Stop and remove the region's containers; data volumes stay unless --delete-data."""

    def body() -> int:
        from spbe_kit.errors import confirm_required

        if not yes:
            raise confirm_required(
                str(profile),
                "destroy",
                f"spbe-kit destroy {profile} --yes (data volumes are kept)",
                f"spbe-kit destroy {profile} --yes (volume data tetap disimpan)",
            )
        from spbe_kit.hosts.deploy import destroy as run_destroy
        from spbe_kit.hosts.session import Options

        result = run_destroy(profile, _state["catalog"], Options(private_key=private_key), _ui(), delete_data)
        kept = _say("volumes-deleted" if delete_data else "volumes-kept")
        _out(_say("destroyed", changes=len(result.changed()), kept=kept))
        return 0

    _run(body)


def _server_ui(as_json: bool) -> Any:
    """Progress for people; silent when the output is JSON for a program."""
    from rich.console import Console

    return _ui(Console(stderr=True, quiet=True) if as_json else None)


def _emit_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


AppOption = Annotated[list[str] | None, typer.Option("--app", help="Only this app (repeatable).")]


@app.command()
def verify(
    profile: ProfileArg,
    as_json: JsonOption = False,
    private_key: KeyOption = None,
    vault_password_file: VaultOption = None,
) -> None:
    """Compare the live hosts with the deployed release (files, services, images, ports) and,
    with the region's vault here, the secret and certificate files and the served certificates
    with the vault; exit 3 on drift."""

    def body() -> int:
        from spbe_kit.hosts import drift
        from spbe_kit.hosts.session import Options

        options = Options(private_key=private_key, vault_password_file=vault_password_file)
        hosts = drift.verify(profile, _state["catalog"], options, _server_ui(as_json))
        drifted = [d for h in hosts for d in h.differences]
        if as_json:
            _emit_json(
                {
                    "ok": not drifted,
                    "hosts": {
                        h.host: {"release": h.release, "differences": [d.as_dict() for d in h.differences]}
                        for h in hosts
                    },
                }
            )
        else:
            for h in hosts:
                release = h.release if h.release is not None else "-"
                _out(_say("verify-host", host=h.host, release=release, count=len(h.differences)))
            if drifted:
                ui = _server_ui(False)
                ui.console.print(ui.drift_table(drifted))
                _err(_say("drift"))
        return int(ExitCode.DIFFERENCES) if drifted else 0

    _run(body)


@app.command()
def handover(
    profile: ProfileArg,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="FILE.html or FILE.json (default: HTML to stdout).")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="html or json.")] = None,
    private_key: KeyOption = None,
) -> None:
    """The grant handover record (Berita Acara Serah Terima) from what is deployed."""

    def body() -> int:
        from spbe_kit.auditors import report
        from spbe_kit.auditors.handover import handover as build
        from spbe_kit.hosts.session import Options

        chosen = fmt or (output.suffix.lstrip(".") if output and output.suffix else "html")
        if chosen not in ("html", "json"):
            _bad_choice("--format", chosen, ("html", "json"))
        data = build(profile, _state["catalog"], Options(private_key=private_key), _server_ui(output is None))
        payload = report.write("handover", data, chosen)
        if output:
            _write_file(output, payload)
            _out(_say("handover-written", path=output))
        else:
            sys.stdout.write(payload.decode())
        return 0

    _run(body)


@app.command()
def evidence(
    profile: ProfileArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="The zip to write.")],
    offline: Annotated[
        bool, typer.Option("--offline", help="Only the rendered tree and its audit; no host is contacted.")
    ] = False,
    images_dir: Annotated[Path, typer.Option("--images", help="Where the images' package lists are.")] = Path(
        "build/images"
    ),
    vault_password_file: VaultOption = None,
    private_key: KeyOption = None,
) -> None:
    """Write a deterministic, redacted evidence pack for auditors (check it with sha256sum -c)."""

    def body() -> int:
        from spbe_kit.auditors.evidence import evidence as pack
        from spbe_kit.hosts.session import Options

        options = Options(private_key=private_key, vault_password_file=vault_password_file)
        done = pack(profile, _state["catalog"], options, _server_ui(False), output, offline, images_dir)
        kb = f"{done.size / 1e3:.0f}"
        _out(_say("evidence-written", path=done.path, files=done.members, kb=kb, redacted=done.redacted))
        return 0

    _run(body)


ImagesOption = Annotated[
    Path,
    typer.Option(
        "--images", help="The image IDs: images.lock.json of `images build`, or an imported bundle."
    ),
]


@app.command()
def report(
    profile: ProfileArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="The signed report (JSON) to write.")],
    offline: Annotated[
        bool,
        typer.Option("--offline", help="From the rendered tree and the last state read from the hosts."),
    ] = False,
    images_dir: ImagesOption = Path("build/images"),
    vault_password_file: VaultOption = None,
    private_key: KeyOption = None,
) -> None:
    """The region's status report for the donor, signed with the region's key: apps, versions,
    health, last deploy, backups and drills, failing audit checks, certificates, drift."""

    def body() -> int:
        from spbe_kit.fleet import keys
        from spbe_kit.fleet import report as region_report
        from spbe_kit.hosts import vault
        from spbe_kit.hosts.session import Options, read_session

        session = read_session(profile, _state["catalog"], Options(private_key=private_key))
        found = vault.existing(profile, vault_password_file)
        if offline:
            data = region_report.offline(session, found, images_dir)
        else:
            data = region_report.from_hosts(session, _server_ui(False), found, images_dir)
        payload = region_report.signed(session.profile, data)
        _write_file(output, payload)
        fingerprint = keys.file_fingerprint(keys.public_path(session.profile))
        _out(
            _say(
                "report-written",
                path=output,
                kb=f"{len(payload) / 1e3:.1f}",
                source=_say(f"report-source-{data['source']}"),
                fingerprint=fingerprint,
            )
        )
        return 0

    _run(body)


FailOn = Annotated[
    str,
    typer.Option(
        "--fail-on",
        help="Exit 3 when a check at or above this severity fails: critical, high, medium, low, info.",
    ),
]


@app.command()
def audit(
    profile: ProfileArg,
    fmt: Annotated[
        str | None, typer.Option("--format", help="html, json or md (default: from -o, else md).")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the report here.")] = None,
    live: Annotated[bool, typer.Option("--live", help="Also check the running hosts.")] = False,
    fail_on: FailOn = "high",
    tree: Annotated[Path | None, typer.Option("--tree", help="Default: build/<region>/.")] = None,
    images_dir: ImagesOption = Path("build/images"),
    vault_password_file: VaultOption = None,
    private_key: KeyOption = None,
) -> None:
    """Check the rendered tree (and with --live the running hosts) against national controls."""

    def body() -> int:
        from spbe_kit.auditors import audit as checks
        from spbe_kit.auditors import report
        from spbe_kit.hosts import vault
        from spbe_kit.hosts.session import Options, read_session

        chosen = _report_format(fmt, output)
        severity = _severity(fail_on)
        session = read_session(profile, _state["catalog"], Options(private_key=private_key, output=tree))
        found = vault.existing(profile, vault_password_file)
        data, _ = checks.run(session, str(profile), found, _server_ui(False), live, images_dir)
        payload = report.write("audit", data, chosen)
        if output:
            _write_file(output, payload)
        else:
            sys.stdout.write(payload.decode())
        summary = data["summary"]
        failing = [r for r in data["results"] if r["status"] == "fail"]
        lang = _lang()
        lines = [f"{r['id']} {r['severity']}: {r['title'][lang]}" for r in failing]
        counts = {k: summary[k] for k in ("checks", "passed", "failed", "deviations", "not_applicable")}
        _err(_say("audit-summary", **counts) + (_say("audit-report", path=output) if output else ""))
        for line in lines:
            _err("  " + line)
        return int(ExitCode.DIFFERENCES) if checks.worst_failure(data, severity) else 0

    _run(body)


def _report_format(fmt: str | None, output: Path | None) -> str:
    from spbe_kit.auditors.report import FORMATS

    chosen = fmt or (output.suffix.lstrip(".") if output and output.suffix else "md")
    if chosen not in FORMATS:
        _bad_choice("--format", chosen, FORMATS)
    return chosen


def _severity(value: str) -> Any:
    from spbe_kit.auditors.audit import SEVERITIES

    if value not in SEVERITIES:
        _bad_choice("--fail-on", value, SEVERITIES)
    return value


def _bad_choice(option: str, found: str, allowed: tuple[str, ...]) -> None:
    from spbe_kit.errors import invalid_choice

    raise invalid_choice(option, found, allowed)


def _write_file(path: Path, payload: bytes) -> None:
    """Whole or not at all: a reader never sees half a report."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _DefaultGroup(TyperGroup):
    """A command group whose first argument, when it names no subcommand, belongs to the
    default one: `backup PROFILE` is `backup now PROFILE`, `backup verify PROFILE` the drill."""

    default = "now"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


backup_app = typer.Typer(
    cls=_DefaultGroup,
    help="Back up databases and volumes now (`backup PROFILE`); `backup verify PROFILE`: the restore drill.",
    no_args_is_help=True,
)
app.add_typer(backup_app, name="backup")


@backup_app.command("now")
def backup_now(profile: ProfileArg, apps: AppOption = None, private_key: KeyOption = None) -> None:
    """Back up databases and volumes now (also: `backup PROFILE`)."""

    def body() -> int:
        from spbe_kit.hosts import lifecycle
        from spbe_kit.hosts.session import Options

        ident = lifecycle.backup(profile, _state["catalog"], Options(private_key=private_key), _ui(), apps)
        _out(_say("backup-written", id=ident, profile=profile))
        return 0

    _run(body)


def _say_recovery(figures: dict[str, Any] | None) -> None:
    """A drill's recovery time and point against the profile's targets (lifecycle.recovery)."""
    from spbe_kit.models.base import span

    if figures is None:
        return
    _out(
        _say(
            "drill-recovery",
            rto=span(figures["rto_s"]),
            rto_target=span(figures["rto_target_s"]),
            rpo=span(figures["rpo_s"]),
            rpo_target=span(figures["rpo_target_s"]),
            result=_say("within-target" if figures["within"] else "over-target"),
        )
    )


@backup_app.command("verify")
def backup_verify(profile: ProfileArg, private_key: KeyOption = None) -> None:
    """The restore drill: restore each app's newest backup into a scratch database and check it."""

    def body() -> int:
        from spbe_kit.errors import DifferencesFound
        from spbe_kit.hosts import lifecycle
        from spbe_kit.hosts.session import Options

        drill = lifecycle.verify(profile, _state["catalog"], Options(private_key=private_key), _ui())
        for result in drill["apps"]:
            mark = _say("pass" if result["ok"] else "FAIL")
            app, backup_id, detail = result["app"], result.get("backup"), result["detail"]
            _out(_say("drill-app", mark=mark, app=app, backup=backup_id, detail=detail))
        _out(_say("drill-recorded", when=drill["when"]))
        _say_recovery(drill["recovery"])
        if not drill["ok"]:
            failed = [r for r in drill["apps"] if not r["ok"]]
            raise DifferencesFound(
                [
                    diagnostic(
                        "verify-failed",
                        str(r.get("backup")),
                        app=r["app"],
                        backup=r.get("backup"),
                        detail=r["detail"],
                    )
                    for r in failed
                ]
            )
        return 0

    _run(body)


@app.command()
def backups(
    profile: ProfileArg,
    as_json: JsonOption = False,
    private_key: KeyOption = None,
) -> None:
    """List backups with sizes, checksums and ages, and the restore drills."""

    def body() -> int:
        import datetime

        from spbe_kit.hosts import lifecycle
        from spbe_kit.hosts.session import Options

        ui = _server_ui(as_json)
        listing = lifecycle.backups(profile, _state["catalog"], Options(private_key=private_key), ui)
        found, drills = listing.backups, listing.drills
        if as_json:
            data = {
                "backups": [{**b.__dict__, "size": b.size} for b in found],
                "restore_drills": drills,
                "schedulers": listing.schedulers,
            }
            _emit_json(data)
            return 0
        now = datetime.datetime.now(datetime.UTC)
        table = ui.backups_table(found, now)
        ui.console.print(table)
        for drill in drills[-3:]:
            _out(_say("drill-line", when=drill["when"], result=_say("pass" if drill["ok"] else "FAIL")))
            _say_recovery(drill["recovery"])
        for host, status in sorted(listing.schedulers.items()):
            last = status.get("runs", [])[-1:] or [{}]
            outcome = {True: _say("ok"), False: _say("failed-because", error=last[0].get("error", ""))}
            result = outcome.get(last[0].get("ok"), _say("none-yet"))
            _out(
                _say(
                    "schedule-line",
                    host=host,
                    schedule=status["schedule"],
                    zone=status["timezone"],
                    next=status.get("next", "?"),
                    last=last[0].get("due", "-"),
                    result=result,
                )
            )
            logs = status.get("logs")
            if isinstance(logs, dict) and logs.get("ok") is True:  # as the host reports it
                said = {k: str(logs.get(k, "?"))[:40] for k in ("when", "deleted", "kept")}
                _out(_say("logs-line", host=host, days=str(logs.get("keep_days", "?"))[:10], **said))
        return 0

    _run(body)


@app.command()
def restore(
    profile: ProfileArg,
    backup_id: Annotated[str, typer.Option("--backup", help="Backup id (see `spbe-kit backups`).")],
    apps: AppOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: replace current data with the backup.")
    ] = False,
    private_key: KeyOption = None,
) -> None:
    """Restore apps' databases and volumes from a backup (current data is replaced)."""

    def body() -> int:
        from spbe_kit.errors import confirm_required

        if not yes:
            raise confirm_required(
                str(profile),
                "restore",
                "restore replaces the current data; add --yes to go ahead",
                "pemulihan mengganti data saat ini; tambahkan --yes untuk melanjutkan",
            )
        from spbe_kit.hosts import lifecycle
        from spbe_kit.hosts.session import Options

        done = lifecycle.restore(
            profile, _state["catalog"], Options(private_key=private_key), _ui(), backup_id, apps
        )
        _out(_say("restored", apps=", ".join(done), id=backup_id))
        return 0

    _run(body)


@app.command("releases")
def releases_command(
    profile: ProfileArg,
    as_json: JsonOption = False,
    private_key: KeyOption = None,
) -> None:
    """Numbered releases recorded on each host: versions, manifest, who and when."""

    def body() -> int:

        from spbe_kit.hosts import lifecycle
        from spbe_kit.hosts.session import Options

        ui = _server_ui(as_json)
        found = lifecycle.releases(profile, _state["catalog"], Options(private_key=private_key), ui)
        if as_json:
            _emit_json(found)
            return 0
        table = ui.releases_table(found)
        ui.console.print(table)
        return 0

    _run(body)


@app.command("rollback")
def rollback_command(
    profile: ProfileArg,
    to: Annotated[int | None, typer.Option("--to", help="Release number (default: the previous).")] = None,
    apps: AppOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm a rollback that restores data.")] = False,
    private_key: KeyOption = None,
) -> None:
    """Go back to an earlier release; data comes back from its backup when the schema changed."""

    def body() -> int:
        from spbe_kit.hosts import lifecycle
        from spbe_kit.hosts.session import Options

        plan = lifecycle.rollback(
            profile, _state["catalog"], Options(private_key=private_key), _ui(), to, apps, yes
        )
        for app, (now, then) in sorted(plan.apps.items()):
            line = _say("rollback-app", app=app, now=now, then=then, release=plan.target)
            if app in plan.data_from:
                line += _say("rollback-data", id=plan.data_from[app])
            _out(line)
        _out(_say("rollback-recorded"))
        _out(_say("rollback-profile"))
        return 0

    _run(body)


images_app = typer.Typer(
    help="Build the catalog's images from Debian packages (donor).", no_args_is_help=True
)
app.add_typer(images_app, name="images")


@images_app.command("build")
def images_build(
    only: Annotated[list[str] | None, typer.Option("--only", help="Image tag or app name.")] = None,
    tests: Annotated[bool, typer.Option("--tests", help="Also build the test-server image.")] = False,
    output: Annotated[Path, typer.Option("-o", "--output", help="Lock file and package lists.")] = Path(
        "build/images"
    ),
) -> None:
    """Build every image the catalog names; unchanged images are skipped."""

    def body() -> int:
        import time

        from spbe_kit.grant.images import build_images

        start = time.monotonic()
        results = build_images(output, lambda line: _out(line, "dim"), only or [], tests)
        ui = _server_ui(False)
        ui.console.print(ui.images_table(results))
        rebuilt = sum(not b.cached for b in results)
        took = time.monotonic() - start
        _out(_say("images-built", count=len(results), built=rebuilt, seconds=f"{took:.1f}", output=output))
        return 0

    _run(body)


_GLOBAL_VALUED = ("--lang", "--catalog")
_GLOBAL_FLAGS = ("--debug", "--no-debug")


def hoist_global_options(args: list[str]) -> list[str]:
    """``validate x.yaml --lang id`` as well as ``--lang id validate x.yaml``: the options that
    belong to every command move in front of the subcommand, where click expects them."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg.split("=", 1)[0] in _GLOBAL_VALUED:
            if "=" in arg or index + 1 == len(args):
                front.append(arg)
            else:
                front += [arg, args[index + 1]]
                index += 1
        elif arg in _GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


def main() -> None:
    app(args=hoist_global_options(sys.argv[1:]), prog_name="spbe-kit")


secrets_app = typer.Typer(help="The region's secrets over the years of a grant.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("rotate")
def secrets_rotate(
    profile: ProfileArg,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Only this secret (repeatable), e.g. simpeg.db_password; default: all but the CA."
        ),
    ] = None,
    vault_password_file: VaultOption = None,
    private_key: KeyOption = None,
    break_lock: BreakLockOption = False,
) -> None:
    """New values for the region's passwords, keys and certificates: set in PostgreSQL, written
    to the hosts, each consumer restarted in turn behind the health gate, then the vault
    rewritten and a release recorded. Run again after an interruption: it finishes the rotation."""

    def body() -> int:
        from spbe_kit.hosts.rotate import rotate
        from spbe_kit.hosts.session import Options

        options = Options(
            vault_password_file=vault_password_file, private_key=private_key, break_lock=break_lock
        )
        done = rotate(profile, _state["catalog"], options, _ui(), only)
        restarted = ", ".join(p for projects in done.restarted.values() for p in projects) or "-"
        seconds = f"{done.seconds:.1f}"
        _out(
            _say("rotated", count=len(done.names), seconds=seconds, restarted=restarted, release=done.release)
        )
        _out(_say("rotated-names", names=", ".join(done.names)))
        return 0

    _run(body)


@secrets_app.command("set")
def secrets_set(
    profile: ProfileArg,
    name: Annotated[str, typer.Argument(help="monitoring.smtp_password or monitoring.telegram_token.")],
    vault_password_file: VaultOption = None,
) -> None:
    """Give the vault a secret the kit cannot generate (the SMTP password, the Telegram bot's
    token), read from standard input, never from the command line; the next deploy installs it."""

    def body() -> int:
        from spbe_kit.errors import InvalidInput, diagnostic
        from spbe_kit.hosts import vault

        if name not in vault.PROVIDED:
            names = ", ".join(sorted(vault.PROVIDED))
            raise InvalidInput([diagnostic("secret-not-settable", name, name=name, names=names)])
        value = sys.stdin.readline() if sys.stdin.isatty() else sys.stdin.read()
        value = value.rstrip("\r\n")
        if not value:
            raise InvalidInput([diagnostic("secret-empty", name, name=name, profile=profile.name)])
        password = vault.password_source(profile, vault_password_file)
        try:
            vault.set_provided(profile, password.path, name, value)
        finally:
            password.cleanup()
        _out(_say("secret-set", name=name, path=vault.vault_path(profile)))
        return 0

    _run(body)


@secrets_app.command("recover")
def secrets_recover(
    profile: ProfileArg,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: reset every password and certificate on the hosts.")
    ] = False,
    vault_password_file: VaultOption = None,
    private_key: KeyOption = None,
    break_lock: BreakLockOption = False,
) -> None:
    """For a region whose vault is lost: give the hosts this controller's vault (a new one if
    there is none). Every database password is reset through the superuser's local socket,
    every secret and certificate rewritten, every consumer restarted; recorded as a release."""

    def body() -> int:
        from spbe_kit.errors import confirm_required

        if not yes:
            raise confirm_required(
                str(profile),
                "secrets recover",
                "it replaces every password, key and certificate on the hosts and restarts every "
                "app; use it only when the region's vault is lost. Add --yes",
                "ini mengganti semua kata sandi, kunci dan sertifikat di host dan memulai ulang "
                "semua aplikasi; pakai hanya bila vault daerah hilang. Tambahkan --yes",
            )
        from spbe_kit.hosts.rotate import recover
        from spbe_kit.hosts.session import Options

        options = Options(
            vault_password_file=vault_password_file, private_key=private_key, break_lock=break_lock
        )
        done = recover(profile, _state["catalog"], options, _ui())
        restarted = ", ".join(p for projects in done.restarted.values() for p in projects) or "-"
        _out(
            _say(
                "recovered",
                count=len(done.names),
                seconds=f"{done.seconds:.1f}",
                restarted=restarted,
                release=done.release,
            )
        )
        return 0

    _run(body)


alerts_app = typer.Typer(help="The region's alerts (profile monitoring).", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("test")
def alerts_test(
    profile: ProfileArg,
    private_key: KeyOption = None,
    wait: Annotated[int, typer.Option("--wait", help="Seconds to wait for every receiver.", min=10)] = 90,
) -> None:
    """Send a test notification through every receiver of the profile (e-mail, webhooks,
    Telegram) and report which took it. Exit 3 if one did not."""

    def body() -> int:
        from spbe_kit import pipeline
        from spbe_kit.errors import InvalidInput, diagnostic
        from spbe_kit.hosts.alerts import test
        from spbe_kit.hosts.session import Options, open_session

        if not pipeline.validate(profile, _state["catalog"]).profile.monitoring.enabled:
            raise InvalidInput([diagnostic("monitoring-off", str(profile), profile=profile.name)])
        session = open_session(profile, _state["catalog"], Options(private_key=private_key), _ui())
        deliveries, seconds = test(session, wait)
        if not deliveries:
            _out(_say("alerts-no-receiver", profile=profile.name))
            return int(ExitCode.DIFFERENCES)
        for d in deliveries:
            key = "alerts-arrived" if d.arrived else "alerts-failed"
            counts = {"expected": d.expected, "missing": d.missing, "sent": d.sent, "failed": d.failed}
            _out(_say(key, integration=d.integration, **counts))
            if d.error and not d.arrived:
                _out(f"    {d.error}")
        _out(_say("alerts-tested", seconds=f"{seconds:.1f}"))
        return 0 if all(d.arrived for d in deliveries) else int(ExitCode.DIFFERENCES)

    _run(body)


bundle_app = typer.Typer(
    help="The signed offline grant bundle: keygen and export (donor), verify and import (recipient).",
    no_args_is_help=True,
)
app.add_typer(bundle_app, name="bundle")


class _Bars:
    """Progress bars on stderr (one per task name); quiet when stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, name: str, done: int, total: int | None) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=total)
        self.progress.update(self.tasks[name], completed=done, total=total)

    def __enter__(self) -> _Bars:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()


KeyArg = Annotated[Path, typer.Option("--key", help="The donor's key: PREFIX to sign, PREFIX.pub to verify.")]


AllowOlder = Annotated[
    bool,
    typer.Option(
        "--allow-older",
        help="Accept an expired bundle or one older than this kit (recorded in import.json).",
    ),
]


@bundle_app.command("keygen")
def bundle_keygen(
    output: Annotated[Path, typer.Option("-o", "--output", help="Writes PREFIX (private) and PREFIX.pub.")],
) -> None:
    """Create the donor's ed25519 signing key pair."""

    def body() -> int:
        from spbe_kit.grant.bundle import keygen

        public = keygen(output)
        _out(_say("keygen-written", prefix=output, public=public))
        return 0

    _run(body)


@bundle_app.command("export")
def bundle_export(
    output: Annotated[Path, typer.Option("-o", "--output", help="The bundle file to write.")],
    key: KeyArg,
    apps: Annotated[
        list[str] | None, typer.Option("--apps", help="Only these apps (repeat; default: all).")
    ] = None,
    images_dir: Annotated[Path, typer.Option("--images", help="Package lists from `images build`.")] = Path(
        "build/images"
    ),
    valid_days: Annotated[
        int | None, typer.Option("--valid-days", min=1, help="The signature expires after this many days.")
    ] = None,
) -> None:
    """Package and sign the grant: catalog, templates, playbooks, the kit and its dependencies as
    wheels, the Ansible collection, the images (shared layers once) and their package lists."""

    def body() -> int:
        from spbe_kit.grant.bundle import export
        from spbe_kit.resources import default_catalog

        with _Bars() as bars:
            done = export(
                output, key, _state["catalog"] or default_catalog(), apps, bars, images_dir, valid_days
            )
        _out(
            _say(
                "bundle-written",
                path=done.path,
                mb=f"{done.size / 1e6:.0f}",
                members=done.members,
                images=len(done.images),
                image_mb=f"{done.image_bytes / 1e6:.0f}",
                prefix=key,
                seconds=f"{done.seconds:.1f}",
            )
        )
        _out("  " + ", ".join(f"{k} {v:.1f} s" for k, v in done.steps.items()), "dim")
        return 0

    _run(body)


@bundle_app.command("verify")
def bundle_verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle file.")],
    key: KeyArg,
    allow_older: AllowOlder = False,
) -> None:
    """Check the donor's signature and every member's checksum; exit 3 naming what changed."""

    def body() -> int:
        from spbe_kit.grant.bundle import verify

        with _Bars() as bars:
            done = verify(bundle, key, bars, allow_older=allow_older)
        manifest = done.manifest
        apps = ", ".join(f"{a} {'/'.join(v)}" for a, v in manifest["apps"].items())
        _out(
            _say(
                "bundle-verified",
                prefix=key,
                members=len(manifest["members"]),
                mb=f"{done.size / 1e6:.0f}",
                seconds=f"{done.seconds:.1f}",
            )
        )
        _out(
            _say(
                "bundle-contents",
                donor=manifest["donor"]["name"],
                catalog=manifest["catalog"]["version"],
                apps=apps,
            )
        )
        return 0

    _run(body)


@bundle_app.command("import")
def bundle_import(
    bundle: Annotated[Path, typer.Argument(help="The bundle file.")],
    key: KeyArg,
    into: Annotated[Path, typer.Option("--into", help="An empty folder for the kit and the bundle.")] = Path(
        "spbe-kit-offline"
    ),
    allow_older: AllowOlder = False,
) -> None:
    """Verify, then install the kit offline (its own venv) and load the images for `deploy`."""

    def body() -> int:
        from spbe_kit.grant.bundle import import_bundle

        with _Bars() as bars:
            done = import_bundle(bundle, key, into, bars, allow_older=allow_older)
        _out(
            _say(
                "bundle-imported",
                folder=done.folder,
                mb=f"{done.size / 1e6:.0f}",
                images=len(done.images),
                seconds=f"{done.seconds:.1f}",
            )
        )
        _out("  " + ", ".join(f"{k} {v:.1f} s" for k, v in done.steps.items()), "dim")
        _out(_say("bundle-next", kit=done.kit))
        return 0

    _run(body)


fleet_app = typer.Typer(
    help="The donor's view of many regions: their signed reports and managed profiles.",
    no_args_is_help=True,
)
app.add_typer(fleet_app, name="fleet")

FleetDir = Annotated[
    Path, typer.Argument(help="A folder of region profiles and/or reports (and keys/CODE.pub).")
]
LiveOption = Annotated[
    bool, typer.Option("--live", help="Also ask the regions whose profiles are here, over SSH, now.")
]
WorkersOption = Annotated[int, typer.Option("--workers", min=1, max=64, help="Regions asked at once.")]
TimeoutOption = Annotated[int, typer.Option("--timeout", min=10, help="Seconds per region (--live).")]


def _fleet(
    folder: Path, live: bool, workers: int, timeout: int, private_key: Path | None
) -> tuple[Any, list[Any]]:
    from spbe_kit.errors import InvalidInput
    from spbe_kit.fleet.view import Live, status
    from spbe_kit.resources import default_catalog
    from spbe_kit.validate import load_catalog

    if not folder.is_dir():
        raise InvalidInput([diagnostic("fleet-not-a-folder", str(folder), path=str(folder))])
    catalog, _ = load_catalog(_state["catalog"] or default_catalog())
    asked = Live(workers, timeout, _state["catalog"], private_key) if live else None
    return catalog, status(folder, catalog, asked)


def _reason_text(reason: Any, lang: Any) -> dict[str, str]:
    """Why a region needs attention, in both languages: the states and severities it names are
    words of each language too."""
    from spbe_kit.messages import say, word

    texts = {}
    for tongue in ("en", "id"):
        params: dict[str, Any] = {
            k: word(v, tongue) if k in ("health", "severity") else v for k, v in reason.params.items()
        }
        failing: list[tuple[str, str]] = params.pop("failing", [])
        if failing:
            params["checks"] = ", ".join(f"{i} ({word(s, tongue)})" for i, s in failing)
        texts[tongue] = say(reason.key, tongue, **params)
    return texts


def _out_item(text: str) -> None:
    """A list item, wrapped at words to the terminal's width under its own first word."""
    import textwrap

    from rich.console import Console

    width = max(40, Console().width)
    item = textwrap.TextWrapper(width, initial_indent="  - ", subsequent_indent="    ")
    item.break_on_hyphens = False
    _out("\n".join(item.wrap(text)))


@fleet_app.command("status")
def fleet_status(
    folder: FleetDir,
    as_json: JsonOption = False,
    live: LiveOption = False,
    workers: WorkersOption = 6,
    timeout: TimeoutOption = 300,
    private_key: KeyOption = None,
) -> None:
    """Per region: apps and versions, health, last deploy, backup and drill age, failing audit
    checks, certificate days, report age and signature. Exit 3 when a region needs attention."""

    def body() -> int:
        import datetime

        from spbe_kit.fleet.view import affected, figures

        catalog, regions = _fleet(folder, live, workers, timeout, private_key)
        now = datetime.datetime.now(datetime.UTC)
        rows = [figures(r, now) for r in regions]
        lang = _lang()
        hit = affected(regions, catalog)
        attention = [r for r in regions if r.reasons]
        if as_json:
            for row, region in zip(rows, regions, strict=True):
                row["reasons"] = [{"key": x.key, **_reason_text(x, lang)} for x in region.reasons]
            _emit_json({"regions": rows, "advisories": hit, "attention": len(attention)})
        else:
            ui = _ui()
            ui.console.print(ui.fleet_table(rows))
            _out(_say("fleet-summary", regions=len(regions), attention=len(attention)))
            for region in attention:
                _out(_say("fleet-attention", code=region.code, name=region.name))
                for reason in region.reasons:
                    _out_item(_reason_text(reason, lang)[lang])
            for ident, codes in hit.items():
                _out(_say("fleet-affected", id=ident, codes=", ".join(codes)))
        return int(ExitCode.DIFFERENCES) if attention else 0

    _run(body)


@fleet_app.command("report")
def fleet_report(
    folder: FleetDir,
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML page to write.")],
    live: LiveOption = False,
    workers: WorkersOption = 6,
    timeout: TimeoutOption = 300,
    private_key: KeyOption = None,
) -> None:
    """One self-contained HTML page of the fleet for leadership and auditors (both languages)."""

    def body() -> int:
        import datetime

        from spbe_kit.fleet.page import render
        from spbe_kit.fleet.view import affected, figures

        catalog, regions = _fleet(folder, live, workers, timeout, private_key)
        now = datetime.datetime.now(datetime.UTC)
        rows = [figures(r, now) for r in regions]
        for row, region in zip(rows, regions, strict=True):
            row["reasons"] = [_reason_text(x, "en") for x in region.reasons]
        payload = render(rows, affected(regions, catalog), catalog, now)
        _write_file(output, payload)
        attention = sum(1 for r in regions if r.reasons)
        _out(_say("fleet-page-written", path=output, regions=len(regions), attention=attention))
        return 0

    _run(body)


@fleet_app.command("upgrade")
def fleet_upgrade(
    folder: FleetDir,
    app_id: Annotated[str, typer.Option("--app", help="The app to upgrade.")],
    version: Annotated[str, typer.Option("--to", help="The version to upgrade to.")],
    waves: Annotated[
        str,
        typer.Option("--waves", help="Regions (codes or profile names) per wave: 'A,B;C;rest'."),
    ] = "rest",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")] = False,
    private_key: KeyOption = None,
) -> None:
    """Upgrade an app across the managed regions, wave by wave, through the normal deploy
    (backup, health gate, data rollback); stop at the first region that fails; run again to
    resume. Profiles keep every comment: only the version changes."""

    def body() -> int:
        from spbe_kit.errors import InvalidInput
        from spbe_kit.fleet import upgrade
        from spbe_kit.resources import default_catalog
        from spbe_kit.validate import load_catalog

        catalog, _ = load_catalog(_state["catalog"] or default_catalog())
        if app_id not in catalog.apps or version not in catalog.apps[app_id].versions:
            known = ", ".join(sorted(catalog.apps[app_id].versions)) if app_id in catalog.apps else "-"
            raise InvalidInput(
                [diagnostic("fleet-unknown-version", "--to", app=app_id, version=version, known=known)]
            )
        if not folder.is_dir():
            raise InvalidInput([diagnostic("fleet-not-a-folder", str(folder), path=str(folder))])
        staged = upgrade.plan(folder, app_id, version, waves)
        if dry_run:
            for step in staged.steps:
                key = "fleet-plan-already" if step.running == version else "fleet-plan-step"
                _out(_say(key, wave=step.wave, code=step.code, profile=step.profile, running=step.running))
            _out(_say("fleet-plan-summary", regions=len(staged.steps), app=app_id, version=version))
            return 0

        def tell(step: Any) -> None:
            key = {"pending": "fleet-step-start"}.get(step.outcome, f"fleet-step-{step.outcome}")
            _out(
                _say(key, wave=step.wave, code=step.code, running=step.running, version=version, log=step.log)
            )

        failed = upgrade.run(staged, upgrade.Deploy(_state["catalog"], private_key, _lang()), tell)
        if failed:
            _err(
                _say(
                    "fleet-stopped", code=failed.code, wave=failed.wave, log=failed.log, detail=failed.detail
                )
            )
            return int(ExitCode.HEALTH_GATE) if failed.detail == "exit 4" else int(ExitCode.FAILURE)
        _out(_say("fleet-upgraded", regions=len(staged.steps), app=app_id, version=version))
        return 0

    _run(body)
