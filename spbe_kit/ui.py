"""Terminal output of the server-side commands (rich): phases, preflight table, summaries.

Only the CLI uses this; the core reports through the small ``UI`` protocol of
``spbe_kit.deploy`` so it can run without a terminal.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
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
