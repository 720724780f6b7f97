"""Terminal output of the server-side commands (rich): phases, preflight table, summaries.

Only the CLI uses this; the core reports through the small ``UI`` protocol of
``spbe_kit.deploy`` so it can run without a terminal.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table

from spbe_kit.plan import Check

_PHASES = {
    "lock": "lock / kunci",
    "images": "images / image",
    "files": "secrets and files / rahasia dan berkas",
    "database": "database / basis data",
    "apps": "apps + health gate / aplikasi",
    "proxy": "proxy (TLS)",
    "unlock": "unlock / buka kunci",
    "probe": "probe",
}


class ConsoleUI:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.changed = 0

    def note(self, text: str) -> None:
        self.console.print(f"• {text}", markup=False)

    def preflight(self, checks: list[Check]) -> None:
        table = Table("host", "check", "", "detail", title="preflight / pemeriksaan awal", box=None)
        for check in checks:
            mark = "[green]go[/]" if check.ok else "[red]NO-GO[/]"
            table.add_row(
                check.host, check.name, mark, check.detail + ("" if check.ok else f"\n→ {check.hint}")
            )
        self.console.print(table)

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            name = data.get("play", "")
            self.console.print(f"[bold]▸ {_PHASES.get(name, name)}[/]")
        elif kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            res = data.get("res", {}) if isinstance(data.get("res"), dict) else {}
            if kind == "runner_on_ok" and not res.get("changed"):
                return
            self.changed += kind == "runner_on_ok"
            state = "changed" if kind == "runner_on_ok" else "[red]FAILED[/]"
            self.console.print(f"    {data.get('host')}: {data.get('task')} ({state})", highlight=False)


# Tables of the lifecycle commands. They must read at 80 columns: values a user types again
# (backup ids, release numbers) and URLs are never wrapped or shortened; --json keeps all.


def _moment(iso: str) -> str:
    """2026-11-29T01:02:03+00:00 -> 2026-11-29 01:02 (UTC)."""
    return iso[:16].replace("T", " ") if len(iso) >= 16 else iso


def status_table(rows: list[Any]) -> tuple[Table, list[str]]:
    """The components table, and one line per app URL below it (a URL is never folded)."""
    table = Table("host", "component", "version", "state", "health", "https", "uptime", box=None)
    urls = []
    for r in rows:
        mark = "[red]✗[/] " if not r.healthy else ""
        uptime = f"{r.uptime_s // 60} min" if r.uptime_s is not None else "-"
        table.add_row(r.host, mark + r.component, r.version, r.state, r.health, r.https or "-", uptime)
        if r.url:
            urls.append(f"  {r.component}: {r.url}")
    return table, urls


def releases_table(found: dict[str, list[dict[str, Any]]]) -> Group:
    """One table per host: number, when, who (user), versions and the backup taken before."""
    tables = []
    for host, items in found.items():
        table = Table(box=None, title=f"{host}", title_justify="left")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("when (UTC)", no_wrap=True)
        table.add_column("who", overflow="fold")
        table.add_column("versions, backup before", no_wrap=True)
        for r in items:
            number = str(r["number"]) + (f" ↩{r['rollback_of']}" if r.get("rollback_of") else "")
            details = [f"{a} {v}" for a, v in sorted(r["versions"].items())]
            if r.get("backup_before"):
                details.append(f"backup {r['backup_before']}")
            table.add_row(number, _moment(r["when"]), r["who"].split("@")[0], "\n".join(details))
        tables.append(table)
    return Group(*tables)


def backups_table(found: list[Any], now: Any) -> Table:
    import datetime

    table = Table(box=None)
    table.add_column("backup", no_wrap=True)
    table.add_column("age", justify="right", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("apps")
    for b in found:
        age = (now - datetime.datetime.fromisoformat(b.created)).total_seconds() / 3600
        apps = "\n".join(f"{a} {v}" for a, v in sorted(b.versions.items()))
        label = f"{b.id}\n  {b.reason}" + (f"\n  PARTIAL: lacks {', '.join(b.missing)}" if b.missing else "")
        table.add_row(label, f"{age:.1f} h", f"{b.size / 1e6:.1f} MB", apps)
    return table
