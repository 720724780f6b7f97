"""Drift: the live hosts compared with the release deployed on them.

For each host, the latest release recorded there (``spbe-kit releases``) says which files were
installed (with their sha256), which compose projects run and on which image IDs; the region's
profile says which ports are published. Anything else on the host is drift: a config file
edited by hand, a stopped or extra service, a container on another image, a port opened.
Read-only.
"""

from __future__ import annotations

import secrets as random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from spbe_kit.hosts import vault
from spbe_kit.hosts.apply import new_run_dir
from spbe_kit.hosts.deploy import rendered_hashes
from spbe_kit.hosts.plan import secret_mismatches
from spbe_kit.hosts.session import UI, Options, Session, probe, read_session
from spbe_kit.render.context import published_ports


@dataclass(frozen=True)
class Difference:
    host: str
    kind: str  # release, file, service, image, port, secret, certificate, served
    item: str
    expected: str
    found: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class HostDrift:
    host: str
    release: int | None
    differences: list[Difference]


def _short(digest: str | None) -> str:
    return digest.removeprefix("sha256:")[:12] if digest else "absent"


def compare_host(session: Session, host: str, found: dict[str, Any]) -> HostDrift:
    ctx = session.ctx
    releases = found.get("releases", [])
    release = releases[-1] if releases else None
    diffs: list[Difference] = []
    if release is None:
        diffs.append(Difference(host, "release", "-", "a deployed release", "none recorded"))
    files: dict[str, str] = (release or {}).get("files", {}).get(host) or rendered_hashes(session.tree).get(
        host, {}
    )
    installed: dict[str, str] = found.get("files", {})
    for path, digest in sorted(files.items()):
        if installed.get(path) != digest:
            diffs.append(Difference(host, "file", path, _short(digest), _short(installed.get(path))))
    for path in sorted(set(installed) - set(files)):
        diffs.append(Difference(host, "file", path, "absent", _short(installed[path])))
    projects = sorted({p.split("/")[0] for p in files if p.endswith("/compose.yaml")})
    prefix = f"spbe-{ctx.region.slug}-"
    containers = found.get("containers", [])
    image_ids: dict[str, str] = (release or {}).get("image_ids", {})
    for project in projects:
        mine = [c for c in containers if c.get("project") == prefix + project]
        running = [c for c in mine if c["status"] == "running"]
        if not running:
            state = ", ".join(sorted({c["status"] for c in mine})) or "no container"
            diffs.append(Difference(host, "service", project, "running", state))
        for container in running:
            wanted = image_ids.get(container["image"])
            if wanted and container["image_id"] != wanted:
                diffs.append(
                    Difference(
                        host,
                        "image",
                        f"{project} ({container['image']})",
                        _short(wanted),
                        _short(container["image_id"]),
                    )
                )
    for container in containers:
        if not any(container.get("project") == prefix + p for p in projects):
            diffs.append(Difference(host, "service", container["name"], "absent", container["status"]))
    expected_ports = {port for port, _, _ in published_ports(ctx.profile, ctx.catalog).get(host, [])}
    open_ports = {port for c in containers if c["status"] == "running" for port in c.get("ports", [])}
    for port in sorted(expected_ports - open_ports):
        diffs.append(Difference(host, "port", str(port), "published", "not published"))
    for port in sorted(open_ports - expected_ports):
        diffs.append(Difference(host, "port", str(port), "not published", "published"))
    return HostDrift(host, release["number"] if release else None, diffs)


def compare_secrets(
    session: Session, host: str, keyed: dict[str, str], secrets: dict[str, Any], nonce: bytes
) -> list[Difference]:
    """Each secret and certificate file ``host`` should hold, against the vault: the host sent
    HMACs under this run's ``nonce``, never a stable digest; no value is ever shown."""
    return [
        Difference(host, "certificate" if path.endswith(".crt") else "secret", path, "as in the vault", state)
        for path, state in secret_mismatches(session.ctx, host, keyed, secrets, nonce)
    ]


def compare_served(session: Session, expected: dict[str, str]) -> list[Difference]:
    """The certificate the proxy presents for each app against the one expected: the vault's
    (a proxy that kept an old certificate in memory, or a file replaced by hand), or under ACME
    the one the acme service wrote on the proxy host (a renewal nginx did not load)."""
    from spbe_kit.hosts.verify import served_certificate

    ctx = session.ctx
    diffs = []
    for app in sorted(ctx.apps.values(), key=lambda a: a.id):
        if app.hostname not in expected:
            continue
        served = served_certificate(ctx, app.id)
        if served != expected[app.hostname]:
            found = served[:12] if served else "no certificate served"
            diffs.append(
                Difference(ctx.proxy.host, "served", app.hostname, expected[app.hostname][:12], found)
            )
    return diffs


def verify(profile: Path, catalog: Path | None, options: Options, ui: UI) -> list[HostDrift]:
    session = read_session(profile, catalog, options)
    secrets = vault.existing(profile, options.vault_password_file)
    nonce = random.token_bytes(16)
    found = probe(session, new_run_dir(session.tree, "verify"), nonce=nonce.hex() if secrets else "")
    ctx = session.ctx
    if ctx.profile.tls.mode == "acme":
        # The acme service's files on the proxy host, whatever this controller's vault.
        served = compare_served(session, found.get(ctx.proxy.host, {}).get("acme_certs", {}))
    else:
        served = compare_served(session, vault.web_certificates(ctx, secrets)) if secrets else []
    drifts = []
    for host in session.hosts:
        drift = compare_host(session, host, found.get(host, {}))
        keyed = found.get(host, {}).get("keyed", {})
        files = compare_secrets(session, host, keyed, secrets, nonce) if secrets else []
        mine = [s for s in served if s.host == host]
        drifts.append(HostDrift(host, drift.release, drift.differences + files + mine))
    return drifts
