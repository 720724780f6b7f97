"""Upgrades staged across the regions the donor manages (``spbe-kit fleet upgrade``): wave by
wave, region by region, each through the normal deploy (pre-upgrade backup, health gate,
data rollback). The first region that fails stops the run; running it again resumes there.

A region's profile changes in one token only, the app's version: ruamel.yaml finds where the
value is, and only that value is rewritten, so every comment and the layout stay as the
admin wrote them. When the deploy fails, the profile gets its old bytes back: it names what
runs. Progress is kept in the folder (``.spbe-kit/fleet-upgrade-APP-VERSION.json``)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spbe_kit.errors import InvalidInput, diagnostic
from spbe_kit.fleet import view


@dataclass
class Step:
    """One region of a wave: its profile, the version it names now, and what happened."""

    wave: int
    code: str
    profile: Path
    running: str
    outcome: str = "pending"  # pending, done, already, failed
    detail: str = ""
    log: Path | None = None


@dataclass
class Plan:
    app: str
    version: str
    steps: list[Step] = field(default_factory=list)
    state_file: Path = Path()


def version_position(text: str, app: str) -> tuple[int, int] | None:
    """(line, column), 0-based, of ``apps.<app>.version``'s value, found by ruamel.yaml."""
    from ruamel.yaml import YAML

    data = YAML().load(text)
    try:
        entry = data["apps"][app]
        line, column = entry.lc.value("version")
    except (KeyError, TypeError, AttributeError):
        return None
    return int(line), int(column)


def with_version(text: str, app: str, version: str) -> str:
    """``text`` with ``apps.<app>.version`` set to ``version``; nothing else changes (same
    quoting, comments, blank lines and order)."""
    position = version_position(text, app)
    if position is None:
        raise ValueError(f"apps.{app}.version not found")
    number, column = position
    lines = text.splitlines(keepends=True)
    line = lines[number]
    rest = line[column:]
    quote = rest[0] if rest[:1] in ("'", '"') else ""
    if quote:
        end = rest.index(quote, 1) + 1
    else:
        stop = [i for i in (rest.find(" #"), rest.find("\n"), rest.find("\r")) if i >= 0]
        end = min(stop) if stop else len(rest)
        end = len(rest[:end].rstrip())
    lines[number] = line[:column] + f"{quote}{version}{quote}" + rest[end:]
    return "".join(lines)


def _version_in(text: str, app: str) -> str | None:
    from ruamel.yaml import YAML

    try:
        return str(YAML(typ="safe").load(text)["apps"][app]["version"])
    except (KeyError, TypeError):
        return None


def plan(folder: Path, app: str, version: str, waves: str) -> Plan:
    """The waves as regions in order: names are region codes or profile file stems, and
    ``rest`` is every other managed region that has the app."""
    profiles = {r.code: r.profile for r in view.collect(folder) if r.profile is not None}
    having = {c: p for c, p in profiles.items() if _version_in(p.read_text(), app) is not None}
    by_name = {**{p.stem: c for c, p in having.items()}, **{c: c for c in having}}
    chosen: list[list[str]] = []
    problems = []
    for group in [w for w in waves.split(";") if w.strip()]:
        wave = []
        for name in [n.strip() for n in group.split(",") if n.strip()]:
            if name == "rest":
                wave.append("rest")
            elif name not in by_name:
                problems.append(
                    diagnostic("fleet-unknown-region", "--waves", name=name, app=app, known=_known(having))
                )
            else:
                wave.append(by_name[name])
        chosen.append(wave)
    named = [c for wave in chosen for c in wave if c != "rest"]
    twice = sorted({c for c in named if named.count(c) > 1})
    problems += [diagnostic("fleet-region-twice", "--waves", region=c) for c in twice]
    if problems:
        raise InvalidInput(problems)
    rest = sorted(set(having) - set(named))
    result = Plan(app, version, state_file=folder / ".spbe-kit" / f"fleet-upgrade-{app}-{version}.json")
    for number, wave in enumerate(chosen, start=1):
        codes = [c for entry in wave for c in (rest if entry == "rest" else [entry])]
        for code in codes:
            running = _version_in(having[code].read_text(), app) or "?"
            result.steps.append(Step(number, code, having[code], running))
    return result


def _known(having: dict[str, Path]) -> str:
    return ", ".join(f"{c} ({p.stem})" for c, p in sorted(having.items())) or "none"


def _state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(staged, path)


def _write(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(text)
    os.chmod(staged, path.stat().st_mode & 0o7777)
    os.replace(staged, path)


@dataclass(frozen=True)
class Deploy:
    """How each region is deployed: the kit's own CLI in a subprocess, so a region's failure
    (or a crash) is that region's alone."""

    catalog: Path | None = None
    private_key: Path | None = None
    lang: str = "en"


def run(upgrade: Plan, deploy: Deploy, tell: Any) -> Step | None:
    """Every step in order; returns the step that failed (the run stopped there) or None.
    ``tell(step)`` is called when a step starts and when it ends."""
    state = _state(upgrade.state_file)
    for step in upgrade.steps:
        if state.get(step.code, {}).get("outcome") == "done" and step.running == upgrade.version:
            step.outcome = "already"
            tell(step)
            continue
        tell(step)
        _one(upgrade, step, deploy)
        state[step.code] = {
            "outcome": step.outcome,
            "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "from": step.running,
            "detail": step.detail,
        }
        _save(upgrade.state_file, state)
        tell(step)
        if step.outcome == "failed":
            return step
    return None


def _one(upgrade: Plan, step: Step, deploy: Deploy) -> None:
    original = step.profile.read_text()
    _write(step.profile, with_version(original, upgrade.app, upgrade.version))
    logs = upgrade.state_file.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    step.log = logs / f"{step.code}-{stamp}.log"
    argv = [sys.executable, "-m", "spbe_kit", "--lang", deploy.lang]
    if deploy.catalog:
        argv += ["--catalog", str(deploy.catalog.resolve())]
    argv += ["deploy", step.profile.name]
    if deploy.private_key:
        argv += ["--private-key", str(deploy.private_key.resolve())]
    # From the profile's folder, as its admin deploys: the same build/<region> tree and state.
    with step.log.open("w") as log:
        done = subprocess.run(
            argv,
            cwd=step.profile.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if done.returncode == 0:
        step.outcome = "done"
        return
    # The deploy rolled back (or never changed anything): the profile names what runs again.
    _write(step.profile, original)
    step.outcome = "failed"
    step.detail = f"exit {done.returncode}"
