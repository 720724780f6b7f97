"""Plan: decide, from what the probe saw on each host, whether a deploy may go ahead.

Pure functions over probe data: the preflight go/no-go checks (engine, compose, CPU, memory,
disk against what the catalog says the host's components need, ports, clock) and the deploy
lock decision. Changes nothing; ``spbe_kit.hosts.deploy`` acts on the result.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any

from spbe_kit import secretfiles
from spbe_kit.hosts import hostdata
from spbe_kit.messages import Lang, say
from spbe_kit.models.catalog import Component
from spbe_kit.render.context import Context, image_of, published_ports
from spbe_kit.render.tree import host_folders, secret_files

MIN_DOCKER = (20, 10)
MIN_COMPOSE = (2, 20)
MAX_CLOCK_SKEW_S = 60.0


@dataclass(frozen=True)
class Check:
    """One preflight check of one host: ``name`` is its stable id (JSON output), the words a
    person reads come from the message catalog (``pf-<name>``, ``<detail>``, ``<hint>``)."""

    host: str
    name: str
    ok: bool
    detail: str
    params: dict[str, Any] = field(default_factory=dict)
    hint: str = ""

    def label(self, lang: Lang = "en") -> str:
        return say("pf-" + self.name.replace(" ", "-"), lang)

    def says(self, lang: Lang = "en") -> str:
        return say(self.detail, lang, **self.params)

    def advice(self, lang: Lang = "en") -> str:
        return say(self.hint, lang) if self.hint else ""


def _version(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    parts = []
    for piece in text.split("+")[0].split("-")[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def components_on(ctx: Context, host: str) -> list[tuple[str, Component]]:
    """The host's compose projects (the context's list) with their catalog entries."""
    services = ctx.services()
    return [(c, services[c].spec if c in services else ctx.apps[c].spec) for c in ctx.hosts[host].components]


def missing_images(ctx: Context, host: str, probe: dict[str, Any], image_ids: dict[str, str]) -> list[str]:
    """The images ``host`` must receive: each one its components run, unless the host has that
    tag on the very image ID the controller has (a host's other images are never looked at)."""
    have: dict[str, str] = probe.get("images", {})
    wanted = sorted({image_of(ctx, host, project) for project, _ in components_on(ctx, host)})
    return [ref for ref in wanted if not (ref in image_ids and have.get(ref) == image_ids[ref])]


def switchable(ctx: Context, host: str, probe: dict[str, Any], converged: list[str]) -> list[str]:
    """The apps on ``host`` a deploy switches to their new container with no pause
    (``spbe_switch.py``): each one that can have a spare (``running_alone``) and changes in a
    way its running release survives: its settings or files, or a newer version whose schema
    changes, if any, only expand (catalog: ``migration: expand``). The others are recreated,
    behind the maintenance page."""
    found = []
    for app in ctx.apps.values():
        if app.host != host or app.id in converged:
            continue
        running = running_alone(ctx, host, probe, app.id)
        if running is not None and _runs_beside(app.spec.versions, running, app.version):
            found.append(app.id)
    return sorted(found)


def running_alone(ctx: Context, host: str, probe: dict[str, Any], app_id: str) -> str | None:
    """The version of ``app_id`` running on ``host`` if a spare can start beside it: the proxy
    on the same host reaches it by name (no published port), and exactly one container of it
    runs healthy. None otherwise."""
    app = ctx.apps[app_id]
    if not ctx.hosts[host].runs_proxy or app.host != host or not app.upstream.startswith(f"http://{app.id}:"):
        return None
    mine = [c for c in probe.get("containers", []) if c["labels"].get("org.spbe-kit.app") == app.id]
    if len(mine) != 1 or (mine[0].get("status"), mine[0].get("health")) != ("running", "healthy"):
        return None
    return str(mine[0]["labels"].get("org.spbe-kit.version"))


def spares(ctx: Context, apps: list[str]) -> list[dict[str, Any]]:
    """What spbe_switch.py needs of each app: its id, compose project and port."""
    return [{"app": a, "project": f"spbe-{ctx.region.slug}-{a}", "port": ctx.apps[a].spec.port} for a in apps]


def change_paths(
    ctx: Context, probes: dict[str, dict[str, Any]], steps: dict[str, dict[str, Any]], files: list[FileChange]
) -> dict[str, str]:
    """How each app the deploy changes reaches its release (``deploy --check`` says it): it
    starts (nothing runs yet), switches (``switchable``) or restarts behind the maintenance
    page; and whether the proxy is recreated (its compose file changes: image, ports or
    nginx.conf), which every app feels. Message ids, keyed by app (and ``proxy``)."""
    paths = {}
    for app in ctx.apps.values():
        if app.id in steps["converged"][app.host]:
            continue
        running = any(
            c["labels"].get("org.spbe-kit.app") == app.id and c.get("status") == "running"
            for c in probes.get(app.host, {}).get("containers", [])
        )
        switching = any(s["app"] == app.id for s in steps["switch"][app.host])
        paths[app.id] = "path-switch" if switching else "path-maintenance" if running else "path-start"
    proxy = ctx.proxy.host
    found = probes.get(proxy, {}).get("containers", [])
    runs = any(c.get("project") == f"spbe-{ctx.region.slug}-proxy" for c in found)
    if runs and any(c.host == proxy and c.path == "proxy/compose.yaml" for c in files):
        paths["proxy"] = "path-proxy"
    return paths


def _runs_beside(versions: dict[str, Any], running: str, wanted: str) -> bool:
    """Whether release ``running`` keeps working on the schema ``wanted`` migrates to."""
    if running not in versions or wanted not in versions:
        return False
    then, now = versions[running].schema_generation, versions[wanted].schema_generation
    if now < then:
        return False
    between = [v for v in versions.values() if then < v.schema_generation <= now]
    return all(v.migration == "expand" for v in between)


def preflight(ctx: Context, probes: dict[str, dict[str, Any]], controller_epoch: float) -> list[Check]:
    checks: list[Check] = []
    ports = published_ports(ctx.profile, ctx.catalog)
    for host in sorted(ctx.hosts):
        probe = probes.get(host)
        if probe is None:
            checks.append(Check(host, "reachable", False, "pf-no-answer", hint="pf-no-answer-hint"))
            continue
        checks.extend(_host_checks(ctx, host, probe, ports.get(host, []), controller_epoch))
    return checks


def _host_checks(
    ctx: Context, host: str, probe: dict[str, Any], ports: list[tuple[int, str, Any]], now: float
) -> list[Check]:
    return _software(host, probe) + _capacity(ctx, host, probe) + _conflicts(ctx, host, probe, ports, now)


def _software(host: str, probe: dict[str, Any]) -> list[Check]:
    """The host's system, Docker engine and compose plugin."""
    docker = _version(probe.get("docker"))
    compose = _version(probe.get("compose"))
    return [
        Check(
            host,
            "os",
            bool(probe.get("os")),
            "pf-as-reported" if probe.get("os") else "pf-os-unknown",
            {"value": probe.get("os")},
            "pf-os-hint",
        ),
        Check(
            host,
            "docker engine",
            docker >= MIN_DOCKER,
            "pf-as-reported" if probe.get("docker") else "pf-docker-down",
            {"value": probe.get("docker") or str(probe.get("docker_error", ""))[:80]},
            "pf-docker-hint",
        ),
        Check(
            host,
            "compose plugin",
            compose >= MIN_COMPOSE,
            "pf-as-reported" if probe.get("compose") else "pf-missing",
            {"value": probe.get("compose")},
            "pf-compose-hint",
        ),
    ]


def _capacity(ctx: Context, host: str, probe: dict[str, Any]) -> list[Check]:
    """CPU, memory and disk against what the catalog says the host's components need."""
    parts = components_on(ctx, host)
    cpus_needed = max((c.resources.cpus for _, c in parts), default=0)
    memory_needed = sum(c.resources.memory_mb for _, c in parts)
    disk_needed = sum(c.resources.disk_mb for _, c in parts)
    names = ", ".join(n for n, _ in parts)
    return [
        Check(
            host,
            "cpu",
            probe.get("cpus", 0) >= cpus_needed,
            "pf-cpu-detail",
            {"cpus": probe.get("cpus", 0), "needed": f"{cpus_needed:g}"},
            "pf-cpu-hint",
        ),
        Check(
            host,
            "memory",
            probe.get("memory_mb", 0) >= memory_needed,
            "pf-memory-detail",
            {"mb": probe.get("memory_mb", 0), "names": names, "needed": memory_needed},
            "pf-memory-hint",
        ),
        Check(
            host,
            "disk",
            probe.get("disk_free_mb", 0) >= disk_needed,
            "pf-disk-detail",
            {"mb": probe.get("disk_free_mb", 0), "path": probe.get("disk_path", "?"), "needed": disk_needed},
            "pf-disk-hint",
        ),
    ]


def _conflicts(
    ctx: Context, host: str, probe: dict[str, Any], ports: list[tuple[int, str, Any]], now: float
) -> list[Check]:
    """Ports taken by something else, compose projects outside the region's folder, clock."""
    skew = abs(float(probe.get("epoch", 0)) - now)
    ours = {p for c in probe.get("containers", []) for p in c.get("ports", [])}
    busy = [
        (port, owner) for port, owner, _ in ports if port in probe.get("listening", []) and port not in ours
    ]
    foreign = sorted(
        {
            c["working_dir"]
            for c in probe.get("containers", [])
            if c.get("working_dir") and not c["working_dir"].startswith(ctx.root + "/")
        }
    )
    return [
        Check(
            host,
            "ports",
            not busy,
            "pf-ports-busy" if busy else "pf-ports-free",
            {
                "ports": ", ".join(f"{p} ({o})" for p, o in busy)
                if busy
                else ", ".join(str(p) for p, _, _ in ports)
            },
            "pf-ports-hint",
        ),
        Check(
            host,
            "ownership",
            not foreign,
            "pf-ownership-foreign" if foreign else "pf-ownership-ok",
            {"folders": ", ".join(foreign), "root": ctx.root},
            "pf-ownership-hint",
        ),
        Check(
            host,
            "clock",
            skew <= MAX_CLOCK_SKEW_S,
            "pf-clock-detail",
            {"skew": f"{skew:.1f}"},
            "pf-clock-hint",
        ),
    ]


@dataclass(frozen=True)
class LockInfo:
    raw: str
    who: str
    since: str
    pid: int
    controller: str
    run: str = ""


def parse_lock(host: str, raw: str | None, root: str) -> LockInfo | None:
    """The lock ``host`` reported; a lock not in the kit's own shape stops the command."""
    found = hostdata.lock(host, raw, root)
    if found is None or raw is None:
        return None
    return LockInfo(raw, found.who, found.since, found.pid, found.controller, found.run)


def lock_is_stale(lock: LockInfo) -> bool:
    """Held by a process of this controller that no longer runs (a killed deploy)."""
    if lock.controller != socket.gethostname() or lock.pid <= 0:
        return False
    try:
        os.kill(lock.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class FileChange:
    host: str
    path: str
    change: str  # added, modified, removed


def file_changes(
    tree_hosts: dict[str, dict[str, str]], probes: dict[str, dict[str, Any]]
) -> list[FileChange]:
    """Rendered files (per host: relative path -> sha256) against what each host has installed."""
    changes: list[FileChange] = []
    for host, wanted in sorted(tree_hosts.items()):
        installed: dict[str, str] = probes.get(host, {}).get("files", {})
        for path in sorted(set(wanted) | set(installed)):
            if path not in installed:
                changes.append(FileChange(host, path, "added"))
            elif path not in wanted:
                changes.append(FileChange(host, path, "removed"))
            elif installed[path] != wanted[path]:
                changes.append(FileChange(host, path, "modified"))
    return changes


def converged_projects(
    ctx: Context, host: str, probe: dict[str, Any], wanted: dict[str, str], image_ids: dict[str, str]
) -> list[str]:
    """Compose projects on ``host`` already exactly as rendered, so ``up`` would do nothing:
    every rendered file installed with the same hash, and the container running, healthy, on
    the expected image ID. A healthy app also proves its database role exists (its health
    check queries the database)."""
    installed: dict[str, str] = probe.get("files", {})
    containers = probe.get("containers", [])
    done = []
    for project, _ in components_on(ctx, host):
        files = {p: h for p, h in wanted.items() if p.startswith(project + "/")}
        same_files = bool(files) and all(installed.get(p) == h for p, h in files.items())
        mine = [c for c in containers if c.get("project") == f"spbe-{ctx.region.slug}-{project}"]
        running = bool(mine) and all(
            c["status"] == "running"
            and c["health"] in ("healthy", "none")
            and c["image_id"] == image_ids.get(image_of(ctx, host, project))
            for c in mine
        )
        if same_files and running:
            done.append(project)
    return sorted(done)


VAULT_MARK = ".spbe-kit/vault.json"


def kept_paths(ctx: Context, host: str) -> dict[str, list[str]]:
    """What a deploy's probe reports the kind, mode and owner of on ``host`` (``paths``), and
    below which folders it lists the owners (``below``): the folders and files the playbook's
    ``spbe_files`` step keeps."""
    here = ctx.hosts[host]
    folders = host_folders(ctx, here)
    files = [f["path"] for f in secret_files(ctx, here)] + [f"{ctx.root}/{VAULT_MARK}"]
    return {
        "paths": [f["path"] for f in folders] + files,
        "below": [f["path"] for f in folders if f.get("owner_below")],
    }


def layout_problems(ctx: Context, host: str, probe: dict[str, Any]) -> list[str]:
    """The folders and secret files on ``host`` that are not as the playbook's ``spbe_files``
    step leaves them (absent, another kind, mode or owner, or something inside a folder handed
    to one owner that has another), from the probe's ``layout`` report."""
    layout = probe.get("layout") or {"stats": {}, "below": {}}
    stats: dict[str, tuple[str, int, int, int]] = layout["stats"]
    below: dict[str, list[tuple[int, int]]] = layout["below"]
    here = ctx.hosts[host]
    wanted = [("dir", f) for f in host_folders(ctx, here)] + [("file", f) for f in secret_files(ctx, here)]
    problems = []
    for kind, spec in wanted:
        found = stats.get(spec["path"])
        owner = (spec["uid"], spec["gid"]) if "uid" in spec else None
        if (
            found is None
            or found[0] != kind
            or found[1] != int(spec["mode"], 8)
            or (owner is not None and (found[2], found[3]) != owner)
        ):
            problems.append(spec["path"])
        elif spec.get("owner_below") and any(tuple(o) != owner for o in below.get(spec["path"], [])):
            problems.append(spec["path"] + "/*")
    mark = f"{ctx.root}/{VAULT_MARK}"
    if (stats.get(mark) or ("",))[0] != "file":
        problems.append(mark)
    return problems


def secret_mismatches(
    ctx: Context, host: str, keyed: dict[str, str], secrets: dict[str, Any], nonce: bytes
) -> list[tuple[str, str]]:
    """Each secret and certificate file ``host`` should hold whose content is not the vault's,
    with what was found: the host sent HMACs under this run's ``nonce`` (``keyed``)."""
    found = []
    root = ctx.root + "/"
    for spec in secret_files(ctx, ctx.hosts[host]):
        content = secretfiles.content(spec, secrets)  # as the playbook writes it
        if content is None:
            continue  # not in this vault yet (a deploy generates it)
        relative = spec["path"].removeprefix(root)
        expected = hmac.new(nonce, content.encode(), hashlib.sha256).hexdigest()
        if keyed.get(relative) != expected:
            found.append((relative, "absent" if relative not in keyed else "differs from the vault"))
    return found


def host_steps(
    ctx: Context,
    probes: dict[str, dict[str, Any]],
    wanted: dict[str, dict[str, str]],
    image_ids: dict[str, str],
    sent: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """What the deploy playbook has to do on each host, from its probe: the images to send, the
    compose projects already as rendered, whether the tree travels and is unpacked, the files
    and projects to remove. The playbook's ``spbe_run`` variables, and what ``settled`` reads."""
    files = file_changes(wanted, probes)
    unpack = {h: any(c.host == h and c.change != "removed" for c in files) for h in ctx.hosts}
    gone = [c for c in files if c.change == "removed"]
    converged = {
        h: converged_projects(ctx, h, probes.get(h, {}), wanted.get(h, {}), image_ids) for h in ctx.hosts
    }
    return {
        "missing_images": {h: missing_images(ctx, h, probes.get(h, {}), image_ids) for h in ctx.hosts},
        "converged": converged,
        # Apps that start beside their running release and take over from it (no pause).
        "switch": {h: spares(ctx, switchable(ctx, h, probes.get(h, {}), converged[h])) for h in ctx.hosts},
        # Apps an interrupted deploy left pointed at a spare container: pointed back first.
        "undo_switch": {h: probes.get(h, {}).get("switch", []) for h in ctx.hosts},
        # Installed files that differ from the tree (edited by hand, say): unpack the tree
        # again even when the archive itself did not change.
        "unpack": unpack,
        # Installed files the release no longer has (a service the profile dropped, tls.mode
        # leaving acme): the host's own report, so only well-formed paths.
        "remove_files": {
            h: [c.path for c in gone if c.host == h and hostdata.is_relpath(c.path)] for h in ctx.hosts
        },
        # Compose projects of the region the release no longer places on a host.
        "remove_projects": {h: orphan_projects(ctx, h, probes.get(h, {})) for h in ctx.hosts},
        # The archive travels when the host's copy differs (its probe says which) and whenever
        # files are unpacked: what is unpacked is always the controller's.
        "send_tree": {h: unpack[h] or probes.get(h, {}).get("tree_sha256") != sent.get(h) for h in ctx.hosts},
    }


def settled(
    ctx: Context,
    probes: dict[str, dict[str, Any]],
    steps: dict[str, dict[str, Any]],
    secrets: dict[str, Any],
    nonce: bytes,
) -> list[str]:
    """Why a deploy must run its playbook on this region, as short reasons (none: every host
    already holds this release exactly, and the deploy has nothing to do). Each of the
    playbook's ``steps`` (``host_steps``) must have nothing to do, and what its folder and
    secret-file step would fix is checked against the probe: folders and secret files' owners
    and modes, the vault record, the secret files' contents; under ACME the certificates too."""
    reasons = []
    for host in sorted(ctx.hosts):
        found = probes.get(host, {})
        projects = {project for project, _ in components_on(ctx, host)}
        if found.get("lock"):
            reasons.append(f"{host}: the deploy lock is held")
        if steps["send_tree"][host]:
            reasons.append(f"{host}: the release tree differs")
        if steps["unpack"][host] or steps["remove_files"][host]:
            reasons.append(f"{host}: installed files differ")
        if steps["missing_images"][host]:
            reasons.append(f"{host}: images missing")
        if set(steps["converged"][host]) != projects:
            reasons.append(f"{host}: a compose project is not running as rendered")
        if steps["remove_projects"][host]:
            reasons.append(f"{host}: a compose project to take down")
        if steps["undo_switch"][host]:
            reasons.append(f"{host}: an interrupted switch to undo")
        reasons += [f"{host}: {path}" for path in layout_problems(ctx, host, found)]
        unlike = secret_mismatches(ctx, host, found.get("keyed", {}), secrets, nonce)
        reasons += [f"{host}: {path} {state}" for path, state in unlike]
    if ctx.profile.tls.mode == "acme":
        served = probes.get(ctx.proxy.host, {}).get("acme_certs", {})
        if any(app.hostname not in served for app in ctx.apps.values()):
            reasons.append(f"{ctx.proxy.host}: an ACME certificate to obtain")
    return reasons


# A compose project name as compose itself accepts it; the probe's answer is the host's word.
_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def orphan_projects(ctx: Context, host: str, probe: dict[str, Any]) -> list[str]:
    """This region's compose projects with containers on ``host`` that the release no longer
    places there (an app dropped from the profile, or moved to another host): the deploy takes
    their containers down. Their volumes, the data, stay."""
    prefix = f"spbe-{ctx.region.slug}-"
    wanted = {prefix + project for project, _ in components_on(ctx, host)}
    found = {str(c.get("project", "")) for c in probe.get("containers", []) if isinstance(c, dict)}
    return sorted(p for p in found if p.startswith(prefix) and p not in wanted and _PROJECT_NAME.fullmatch(p))


RUN_ENV = "SPBE_KIT_RUN"


def run_processes(run: str) -> list[int]:
    """Processes of this controller still working for deploy ``run`` (a killed kit's Ansible
    outlives it: it runs in its own terminal session)."""
    if not run:
        return []
    marker = f"{RUN_ENV}={run}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if marker in handle.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return sorted(found)
