"""Terminal output of the server-side commands (rich): phases, preflight table, summaries,
the lifecycle tables. Every word comes from ``messages.TEXTS`` in the chosen language.

Only the CLI uses this; the core reports through the small ``UI`` protocol of
``spbe_kit.hosts.deploy`` (a note is a message key and its parameters) so it can run without a
terminal and in either language.
"""

from __future__ import annotations

import datetime
from typing import Any

from rich.console import Console, Group
from rich.table import Table

from spbe_kit.hosts.apply import changed
from spbe_kit.hosts.plan import Check
from spbe_kit.messages import Lang, phase_name, say, task_name, word


class ConsoleUI:
    def __init__(self, console: Console | None = None, lang: Lang = "en") -> None:
        self.console = console or Console(highlight=False)
        self.lang = lang
        self.changed = 0

    def say(self, key: str, **params: Any) -> str:
        return say(key, self.lang, **params)

    def word(self, value: str) -> str:
        return word(value, self.lang)

    def note(self, key: str, **params: Any) -> None:
        self.console.print(f"• {self.say(key, **params)}", markup=False)

    def preflight(self, checks: list[Check]) -> None:
        table = Table(title=self.say("preflight-title"), box=None)
        for column in ("col-host", "col-check", "", "col-detail"):
            table.add_column(self.say(column) if column else "")
        for check in checks:
            mark = f"[green]{self.say('go')}[/]" if check.ok else f"[red]{self.say('no-go')}[/]"
            advice = "" if check.ok else f"\n→ {check.advice(self.lang)}"
            table.add_row(check.host, check.label(self.lang), mark, check.says(self.lang) + advice)
        self.console.print(table)

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            label = phase_name(str(data.get("play", "")), self.lang)
            self.console.print(f"[bold]▸ {label}[/]")
        elif kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            if kind == "runner_on_ok" and not changed(event):
                return
            self.changed += kind == "runner_on_ok"
            state = self.say("changed") if kind == "runner_on_ok" else f"[red]{self.say('FAIL')}[/]"
            task = task_name(str(data.get("task", "")), self.lang)
            self.console.print(f"    {data.get('host')}: {task} ({state})", highlight=False)

    # Tables of the lifecycle commands. They must read at 80 columns: values a user types
    # again (backup ids, release numbers) and URLs are never wrapped or shortened; --json
    # keeps everything.

    def status_table(self, rows: list[Any]) -> tuple[Table, list[str]]:
        """The components table, and one line per app URL below it (a URL is never folded)."""
        table = self._table("col-host", "col-component", "col-version", "col-state", "col-health", "https")
        table.add_column(self.say("col-uptime"), no_wrap=True)
        urls = []
        for r in rows:
            mark = "[red]✗[/] " if not r.healthy else ""
            uptime = self.say("minutes", n=r.uptime_s // 60) if r.uptime_s is not None else "-"
            state, health, https = (self.word(w) for w in (r.state, r.health, r.https or "-"))
            table.add_row(r.host, mark + r.component, r.version, state, health, https, uptime)
            if r.url and r.cert_days is not None:
                urls.append(self.say("app-url-cert", app=r.component, url=r.url, days=r.cert_days))
            elif r.url:
                urls.append(self.say("app-url", app=r.component, url=r.url))
        return table, urls

    def releases_table(self, found: dict[str, list[dict[str, Any]]]) -> Group:
        """One table per host: number, when, who (user), versions and the backup taken before."""
        tables = []
        for host, items in found.items():
            table = Table(box=None, title=host, title_justify="left")
            table.add_column("#", justify="right", no_wrap=True)
            table.add_column(self.say("col-when"), no_wrap=True)
            table.add_column(self.say("col-who"), overflow="fold")
            table.add_column(self.say("col-versions"), no_wrap=True)
            for r in items:
                number = str(r["number"]) + (f" ↩{r['rollback_of']}" if r.get("rollback_of") else "")
                details = [f"{a} {v}" for a, v in sorted(r["versions"].items())]
                if r.get("backup_before"):
                    details.append(f"{self.say('col-backup')} {r['backup_before']}")
                table.add_row(number, _moment(r["when"]), r["who"].split("@")[0], "\n".join(details))
            tables.append(table)
        return Group(*tables)

    def backups_table(self, found: list[Any], now: datetime.datetime) -> Table:
        table = Table(box=None)
        table.add_column(self.say("col-backup"), no_wrap=True)
        table.add_column(self.say("col-age"), justify="right", no_wrap=True)
        table.add_column(self.say("col-size"), justify="right", no_wrap=True)
        table.add_column(self.say("col-apps"))
        for b in found:
            hours = (now - datetime.datetime.fromisoformat(b.created)).total_seconds() / 3600
            apps = "\n".join(f"{a} {v}" for a, v in sorted(b.versions.items()))
            label = f"{b.id}\n  {self.word(b.reason)}"
            if b.missing:
                label += "\n  " + self.say("partial", files=", ".join(b.missing))
            table.add_row(label, self.say("hours", n=f"{hours:.1f}"), f"{b.size / 1e6:.1f} MB", apps)
        return table

    def deploy_table(self, report: Any) -> Table:
        """Each app after a deploy: version, host and what its HTTPS smoke test found."""
        table = Table(box=None, title=self.say("deploy-title"))
        for column in ("col-app", "col-version", "col-host", "col-health"):
            table.add_column(self.say(column))
        for probe in report.probes:
            health = "[green]ok[/]" if probe.ok else f"[red]{probe.detail}[/]"
            table.add_row(probe.app, report.versions[probe.app], report.hosts[probe.app], health)
        return table

    def drift_table(self, differences: list[Any]) -> Table:
        """What verify found different from the release record, one row per difference."""
        table = self._table("col-host", "col-what", "col-item", "col-expected", "col-found")
        for d in differences:
            table.add_row(d.host, self.word(d.kind), d.item, self.word(d.expected), self.word(d.found))
        return table

    def images_table(self, results: list[Any]) -> Table:
        """Each image built (or found unchanged): tag, id, size, build time."""
        table = self._table("col-image", "col-id", "col-size", "col-build")
        for built in results:
            state = self.say("unchanged") if built.cached else f"{built.seconds:.1f} s"
            table.add_row(built.tag, built.image_id[7:19], f"{built.size / 1e6:.0f} MB", state)
        return table

    def fleet_table(self, rows: list[dict[str, Any]]) -> Table:
        """One row per region (``fleet.view.figures``); a region whose report is not trusted
        shows no figure, only its signature state."""
        table = self._table(
            "col-region", "col-apps", "col-deploy", "col-backup-drill", "col-audit", "col-report"
        )
        for column in table.columns[1:4]:  # an app and its version, a date, ages: never cut
            column.no_wrap = True
        for r in rows:
            mark = "[red]✗[/] " if r["attention"] else ""
            region = f"{mark}{r['code']}\n{r['name'].replace('Kabupaten ', 'Kab. ')}"
            signature = self.word(f"trust-{r['trust']}")
            if r["trust"] != "valid":
                table.add_row(region, "-", "-", "-", "-", signature)
                continue
            apps = "\n".join(f"{a['id']} {a['version']}{self._unwell(a['health'])}" for a in r["apps"])
            deploy = f"#{r['deploy']['release']}\n{_moment(r['deploy']['when'])[:10]}" if r["deploy"] else "-"
            ages = f"{self._days(r['backup_days'])} / {self._days(r['drill_days'])}"
            failed = r["audit_failed"]
            audit = ", ".join(f"{len(ids)} {self.word(s)}" for s, ids in failed.items()) or self.word("ok")
            cert = "" if r["cert_days"] is None else "\n" + self.say("fleet-cert-days", days=r["cert_days"])
            source = self.word("live") if r["source"] == "live" else self._days(r["report_days"])
            table.add_row(region, apps, deploy, ages + cert, audit, f"{source}\n{signature}")
        return table

    def _unwell(self, health: str) -> str:
        return "" if health == "healthy" else f" [red]{self.word(health)}[/]"

    def _days(self, value: float | None) -> str:
        if value is None:
            return "-"
        return self.say("days", n=f"{value:.0f}") if value >= 1 else self.say("hours", n=f"{value * 24:.0f}")

    def _table(self, *columns: str) -> Table:
        table = Table(box=None)
        for column in columns:
            table.add_column(self.say(column) if column.startswith("col-") else column)
        return table


def _moment(iso: str) -> str:
    """2026-11-29T01:02:03+00:00 -> 2026-11-29 01:02 (UTC)."""
    return iso[:16].replace("T", " ") if len(iso) >= 16 else iso
