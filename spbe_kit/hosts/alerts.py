"""The region's alerts, asked of its Alertmanager on the proxy's host (``spbe_alerts.py`` over
SSH): what fires now (``status``), and a test notification through every receiver
(``spbe-kit alerts test``).

The host's answer crosses the trust boundary: a compromised host could write anything into
Alertmanager, so every alert is checked against a strict shape and its text is kept short
and printable before the terminal or a report shows it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from spbe_kit.errors import OperationFailed, diagnostic
from spbe_kit.hosts import hostdata
from spbe_kit.hosts.apply import new_run_dir, run_script
from spbe_kit.hosts.session import Session, unreachable
from spbe_kit.render.context import Context
from spbe_kit.resources import playbooks_dir

REPORT = "spbe_alerts"
# Printable text, no control character (no terminal escape), of a bounded length.
_PRINTABLE = r"[^\x00-\x1f\x7f-\x9f]"
_Printable = Annotated[str, StringConstraints(pattern=rf"^{_PRINTABLE}{{0,300}}$")]
_Message = Annotated[str, StringConstraints(pattern=rf"^{_PRINTABLE}{{0,400}}$")]
_LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,60}$")]
INTEGRATIONS = ("email", "webhook", "telegram")


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Alert(_Shape):
    labels: dict[_LabelName, _Printable] = Field(max_length=30)
    annotations: dict[_LabelName, _Printable] = Field(max_length=30)
    startsAt: _Printable  # Alertmanager's own name


class _Firing(_Shape):
    alerts: list[_Alert] = Field(max_length=500)


class _Outcome(_Shape):
    sent: int = Field(ge=0, le=1_000_000)
    failed: int = Field(ge=0, le=1_000_000)
    failed_receivers: list[int] = Field(default=[], max_length=100)


class _Tested(_Shape):
    integrations: dict[str, _Outcome] = Field(max_length=len(INTEGRATIONS))
    errors: dict[str, _Message] = Field(max_length=len(INTEGRATIONS))
    seconds: float = Field(ge=0, le=3600)


@dataclass(frozen=True)
class Firing:
    """One alert firing now, as ``status`` shows it."""

    name: str
    severity: str
    where: str  # the app or host it is about
    summary: dict[str, str]  # by language
    runbook: dict[str, str]
    since: str


@dataclass(frozen=True)
class Delivery:
    """How the receivers of one integration took the test notification: ``expected`` of them
    in the profile, ``sent`` requests (retries included), ``failed`` of those."""

    integration: str
    expected: int
    sent: int
    failed: int
    error: str
    failed_receivers: int = 0  # those Alertmanager logged a failed attempt for

    @property
    def missing(self) -> int:
        """Receivers that did not take it: each one with a failed attempt, and as many more as
        the successful requests do not cover."""
        return min(self.expected, max(self.failed_receivers, self.expected - (self.sent - self.failed)))

    @property
    def arrived(self) -> bool:
        return self.missing == 0


def expected_receivers(ctx: Context) -> dict[str, int]:
    """How many receivers of each integration the profile names."""
    mon = ctx.profile.monitoring
    found = {
        "email": 1 if mon.email else 0,
        "webhook": len(mon.webhooks),
        "telegram": 1 if mon.telegram else 0,
    }
    return {kind: n for kind, n in found.items() if n}


def _ask(session: Session, run_dir: Path, args: list[str]) -> Any:
    host = session.ctx.proxy.host
    script = playbooks_dir() / "files" / "spbe_alerts.py"
    spec = {host: session.ctx.hosts[host].spec}
    result = run_script(session.connection, spec, script, args, timeout=180, carries_secrets=False)[host]
    log = run_dir / f"alerts-{host}.log"
    log.write_text(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    log.chmod(0o600)
    if result.unreachable:
        raise OperationFailed([unreachable(host, result.stderr)])
    try:
        return json.loads(result.stdout)[REPORT]
    except (ValueError, KeyError, TypeError):
        problem = result.stderr.strip()[-300:] or f"exit {result.returncode}"
        raise OperationFailed([diagnostic("alerts-unanswered", host, host=host, problem=problem)]) from None


def _checked(host: str, shape: type[_Shape], data: Any) -> Any:
    return hostdata.checked(shape, data, host, "Alertmanager's answer")


def firing(session: Session, run_dir: Path) -> list[Firing]:
    """The alerts firing now (none when the profile has no monitoring)."""
    if session.ctx.monitoring is None:
        return []
    project = f"spbe-{session.ctx.region.slug}-monitoring"
    found = _checked(session.ctx.proxy.host, _Firing, _ask(session, run_dir, ["firing", project]))
    shown = []
    for alert in found.alerts:
        labels, notes = alert.labels, alert.annotations
        shown.append(
            Firing(
                name=labels.get("alertname", "?"),
                severity=labels.get("severity", "?"),
                where=labels.get("app") or labels.get("host", ""),
                summary={"id": notes.get("summary_id", ""), "en": notes.get("summary_en", "")},
                runbook={"id": notes.get("runbook_id", ""), "en": notes.get("runbook_en", "")},
                since=alert.startsAt[:16].replace("T", " "),
            )
        )
    order = {"critical": 0, "warning": 1}
    return sorted(shown, key=lambda f: (order.get(f.severity, 2), f.name, f.where))


def test(session: Session, wait_s: int = 90) -> tuple[list[Delivery], float]:
    """Send one test alert through every receiver and wait for each to take it (an SMTP
    server's acceptance, a webhook's 2xx, Telegram's answer); per integration what happened."""
    run_dir = new_run_dir(session.tree, "alerts-test")
    ident = secrets.token_hex(3)
    profile = session.profile.name
    args = [
        "test",
        f"spbe-{session.ctx.region.slug}-monitoring",
        ident,
        str(wait_s),
        json.dumps(expected_receivers(session.ctx)),
        session.ctx.region.code,
        session.ctx.region.name,
        f"Uji pemberitahuan spbe-kit untuk {session.ctx.region.name} ({ident}); tidak perlu tindakan",
        f"spbe-kit test notification for {session.ctx.region.name} ({ident}); nothing to do",
        f"spbe-kit alerts test {profile}",
        f"spbe-kit alerts test {profile}",
    ]
    expected = expected_receivers(session.ctx)
    if not expected:
        return [], 0.0
    tested = _checked(session.ctx.proxy.host, _Tested, _ask(session, run_dir, args))
    deliveries = []
    for kind, count in sorted(expected.items()):
        outcome = tested.integrations.get(kind, _Outcome(sent=0, failed=0))
        error = tested.errors.get(kind, "")
        failed = len(set(outcome.failed_receivers))
        deliveries.append(Delivery(kind, count, outcome.sent, outcome.failed, error, failed))
    return deliveries, tested.seconds
