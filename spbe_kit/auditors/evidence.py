"""The evidence pack: one deterministic zip an auditor can check without live secrets.

Holds the rendered tree with every secret value replaced by its fingerprint, the tree's
manifest, the audit report in JSON, Markdown and HTML, and (unless offline) what the hosts
recorded: releases, backups and restore drills, plus the deploy logs (redacted the same way)
and the package list of every image the region runs. ``SHA256SUMS`` at the top lists every
member: ``unzip pack.zip -d pack && cd pack && sha256sum -c SHA256SUMS``.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spbe_kit.auditors import audit, report
from spbe_kit.errors import InvalidInput, diagnostic
from spbe_kit.grant.images import sbom_name
from spbe_kit.hosts.session import UI, Options, Session, probe, read_session

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
README = """Paket bukti spbe-kit / spbe-kit evidence pack
Wilayah / region: {region}
Perjanjian / agreement: {agreement}

Periksa keutuhan setiap berkas / check every file:
    unzip PACK.zip -d pack && cd pack && sha256sum -c SHA256SUMS
Berkas hasil render ada di tree/ dengan manifest-nya / the rendered files are in tree/ with
their own manifest: cd tree && sha256sum -c SHA256SUMS
Nilai rahasia diganti sidik jarinya / secret values are replaced by their fingerprint:
    [secret sha256:<16 hex>]  ({redacted} replacement(s) in this pack)
"""


def fingerprint(value: str) -> str:
    return f"[secret sha256:{hashlib.sha256(value.encode()).hexdigest()[:16]}]"


class Redactor:
    """Replaces every secret by its fingerprint: as typed, and as it looks base64- or
    hex-encoded (a token in a log, a Basic auth header, a config dumped by a tool)."""

    def __init__(self, secrets: list[str]) -> None:
        self.values = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)
        self.forms = sorted(
            {(form, fingerprint(value)) for value in self.values for form in encodings(value)},
            key=lambda pair: len(pair[0]),
            reverse=True,
        )
        self.count = 0

    def __call__(self, data: bytes) -> bytes:
        if not self.values:
            return data
        text = data.decode("utf-8", errors="replace")
        for form, replacement in self.forms:
            if form in text:
                self.count += text.count(form)
                text = text.replace(form, replacement)
        return text.encode()


def encodings(value: str) -> set[str]:
    """``value`` and the runs of characters that encode it in hex and base64 (standard and
    URL-safe) wherever it starts inside a longer encoded string: for each of the three byte
    alignments, the characters that depend on ``value``'s bytes alone."""
    raw = value.encode()
    found = {value, raw.hex(), raw.hex().upper()}
    for shift, drop in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # A partial last group depends on the bytes after the value in a longer stream.
        core = encoded[drop : 4 * ((shift + len(raw)) // 3)]
        if len(core) >= 12:
            found |= {core, core.replace("+", "-").replace("/", "_")}
    return found


@dataclass(frozen=True)
class Packed:
    path: Path
    members: int
    size: int
    redacted: int


def _vault(profile: Path, password_file: Path | None) -> dict[str, Any] | None:
    """The region's vault (None when the region has none yet); a vault whose password is not
    here stops the pack, which could not be redacted."""
    from spbe_kit.hosts import vault

    data = vault.existing(profile, password_file)
    if data is None and vault.vault_path(profile).is_file():
        raise InvalidInput(
            [
                diagnostic(
                    "vault-password-missing",
                    str(vault.vault_path(profile)),
                    path=str(vault.default_password_file(profile)),
                )
            ]
        )
    return data


# Runs that changed something; read-only runs (status, verify, evidence...) are not evidence.
LOGGED_ACTIONS = ("deploy", "rollback", "restore", "backup", "destroy")


def members(
    session: Session,
    audited: dict[str, Any],
    facts: audit.LiveFacts | None,
    found: dict[str, Any] | None,
    images_dir: Path | None,
    redact: Redactor,
) -> dict[str, bytes]:
    ctx, tree = session.ctx, session.tree
    files: dict[str, bytes] = {}
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        rel = path.relative_to(tree).as_posix()
        if rel.startswith(("runs/", "state/")):
            continue
        files[f"tree/{rel}"] = redact(path.read_bytes())
    files["manifest.json"] = files["tree/manifest.json"]
    for fmt in report.FORMATS:
        files[f"audit/audit.{fmt}"] = redact(report.write("audit", audited, fmt))
    if found is not None and facts is not None:
        for host, probe in sorted(found.items()):
            files[f"hosts/{host}/releases.json"] = redact(
                report.as_json({"releases": probe.get("releases", [])})
            )
        files["backups/backups.json"] = redact(
            report.as_json({"backups": [b.__dict__ for b in facts.backups], "schedulers": facts.schedulers})
        )
        files["backups/restore-drills.json"] = redact(report.as_json({"restore_drills": facts.drills}))
    runs = sorted((tree / "runs").glob("*-*")) if (tree / "runs").is_dir() else []
    for run in (r for r in runs if r.name.rsplit("-", 1)[-1] in LOGGED_ACTIONS):
        for stdout in sorted(run.glob("**/artifacts/*/stdout")):
            rel = (
                stdout.relative_to(run).parts[0] if stdout.relative_to(run).parts[0] != "artifacts" else "run"
            )
            files[f"logs/{run.name}/{rel}.log"] = redact(stdout.read_bytes())
    if images_dir and images_dir.is_dir():
        used = {c.image.split("@")[0] for c in (ctx.postgres, ctx.proxy, ctx.backup)} | {
            a.image.split("@")[0] for a in ctx.apps.values()
        }
        for tag in sorted(used):
            sbom = images_dir / sbom_name(tag)
            if sbom.is_file():
                files[f"images/{sbom.name}"] = sbom.read_bytes()
    return files


def write_zip(target: Path, files: dict[str, bytes], readme: str) -> int:
    """Writes the zip whole or not at all; returns how many members it holds."""
    files = {**files, "README.txt": readme.encode()}
    sums = "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files))
    files["SHA256SUMS"] = sums.encode()
    tmp = target.with_name(f".{target.name}.part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(name, FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, files[name])
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(files)


def evidence(
    profile: Path,
    catalog: Path | None,
    options: Options,
    ui: UI,
    output: Path,
    offline: bool,
    images_dir: Path | None,
) -> Packed:
    from spbe_kit.hosts.apply import new_run_dir
    from spbe_kit.hosts.vault import Secrets

    data = _vault(profile, options.vault_password_file)
    redact = Redactor(Secrets(data).values() if data is not None else [])
    session = read_session(profile, catalog, options)
    found = None if offline else probe(session, new_run_dir(session.tree, "evidence"))
    # The profile by its name: the pack reads the same on every controller.
    audited, facts = audit.run(session, session.profile.name, data, ui, not offline, images_dir)
    files = members(session, audited, facts, found, images_dir, redact)
    readme = README.format(
        region=f"{session.ctx.region.name} ({session.ctx.region.code})",
        agreement=session.ctx.profile.grant.agreement,
        redacted=redact.count,
    )
    count = write_zip(output, files, readme)
    return Packed(output, count, output.stat().st_size, redact.count)
