"""Secrets of one region: generated once, kept in an Ansible Vault file beside the profile.

Owns generation (database passwords, app keys, the region's TLS CA and certificates when
self-signed), encryption at rest and the vault password file. A value, once generated, is
never regenerated: later deploys only add what new apps or hostnames need. Values never
leave this module except towards Ansible (through the vault) and the redaction list.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spbe_kit.errors import InvalidInput, diagnostic
from spbe_kit.render.context import Context, served_hostnames

ENV_PASSWORD_FILE = "SPBE_KIT_VAULT_PASSWORD_FILE"
LEAF_DAYS = 397
RENEW_BEFORE_DAYS = 30
# The CA is not renewed by a deploy (every client trusts it by name): warn a year ahead.
CA_WARN_DAYS = 365


def vault_path(profile: Path) -> Path:
    return profile.with_name(profile.stem + ".vault.yml")


def pending_path(profile: Path) -> Path:
    """A rotation's new values until every host and the database use them (``rotate``)."""
    return profile.with_name(profile.stem + ".vault.rotating.yml")


def default_password_file(profile: Path) -> Path:
    return profile.with_name(profile.stem + ".vault-password")


@dataclass
class PasswordSource:
    path: Path
    created: bool = False
    temporary: bool = False

    def cleanup(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


def password_source(
    profile: Path, explicit: Path | None, prompt: Callable[[str], str] | None = None
) -> PasswordSource:
    """--vault-password-file, else $SPBE_KIT_VAULT_PASSWORD_FILE, else the file beside the
    profile, else a prompt on a terminal, else (no terminal, as in the demo) a new random
    password file beside the profile, mode 0600."""
    chosen = explicit or (Path(os.environ[ENV_PASSWORD_FILE]) if os.environ.get(ENV_PASSWORD_FILE) else None)
    if chosen:
        if not chosen.is_file():
            raise InvalidInput(
                [diagnostic("vault-password-missing", str(chosen), path=str(chosen))]
            )
        return PasswordSource(chosen)
    beside = default_password_file(profile)
    if beside.is_file():
        return PasswordSource(beside)
    if prompt is not None and sys.stdin.isatty():
        password = prompt("Vault password / kata sandi vault: ")
        return PasswordSource(_private_temp_file(password), temporary=True)
    _write_private(beside, secrets.token_urlsafe(32) + "\n")
    return PasswordSource(beside, created=True)


def existing_values(profile: Path, explicit: Path | None) -> list[str] | None:
    """The region's secret values when its vault and password are already here (for checks
    that compare, never print); None otherwise. Never prompts, never creates anything."""
    data = existing(profile, explicit)
    return None if data is None else Secrets(data).values()


def _private_temp_file(content: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="spbe-kit-vault-")
    with os.fdopen(fd, "w") as handle:
        handle.write(content + "\n")
    return Path(name)


def _write_private(path: Path, content: str) -> None:
    """Write via a temp file in the same folder, mode 0600, then rename: never half-written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _vault_lib(password_file: Path) -> Any:
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = password_file.read_text().strip().encode()
    return VaultLib([("default", VaultSecret(password))])


@dataclass
class Secrets:
    """The decrypted secrets of one region and what this load added."""

    data: dict[str, Any]
    generated: list[str] = field(default_factory=list)

    def values(self) -> list[str]:
        """Every secret value, for redaction."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, str) and len(node) >= 8:
                found.append(node)
                found.extend(line for line in node.splitlines() if len(line) >= 16 and "-----" not in line)

        walk({k: v for k, v in self.data.items() if k != "public"})
        return found

    def fingerprint(self, region_code: str) -> str | None:
        """The region's vault as the hosts know it (see ``fingerprint``)."""
        return fingerprint(self.data, region_code)

    def ca_days_left(self, now: datetime.datetime) -> int | None:
        from spbe_kit.hosts.tls import not_after

        cert = self.ca_certificate
        return (not_after(cert) - now).days if cert else None

    @property
    def ca_certificate(self) -> str | None:
        tls = self.data.get("tls", {})
        return tls.get("ca_cert") if isinstance(tls, dict) else None


def fingerprint(data: dict[str, Any], region_code: str) -> str | None:
    """An HMAC under the vault's own random ``vault_id`` key: the same for every copy of one
    vault, different for any other vault, and no help to whoever reads it on a host (the key
    never leaves the vault). None for a vault written before vaults had an id."""
    key = data.get("vault_id")
    if not isinstance(key, str) or not key:
        return None
    message = b"spbe-kit vault fingerprint v1 " + region_code.encode()
    return hmac.new(bytes.fromhex(key), message, hashlib.sha256).hexdigest()


def existing(profile: Path, explicit: Path | None) -> dict[str, Any] | None:
    """This controller's vault of the region, or None when it has no vault (or no password for
    it) here. Never prompts, never creates anything."""
    chosen = explicit or (Path(os.environ[ENV_PASSWORD_FILE]) if os.environ.get(ENV_PASSWORD_FILE) else None)
    password = chosen or default_password_file(profile)
    if not (password.is_file() and vault_path(profile).is_file()):
        return None
    return load(vault_path(profile), password)


def existing_fingerprint(profile: Path, explicit: Path | None, region_code: str) -> str | None:
    """This controller's fingerprint of the region's vault, or None (see ``existing``)."""
    data = existing(profile, explicit)
    return None if data is None else fingerprint(data, region_code)


def load(path: Path, password_file: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    from ansible.errors import AnsibleError

    try:
        plain = _vault_lib(password_file).decrypt(path.read_bytes())
    except AnsibleError:
        raise InvalidInput(
            [diagnostic("vault-decrypt-failed", str(path), path=str(path))]
        ) from None
    data = yaml.safe_load(plain) or {}
    return dict(data.get("spbe_secrets", {}))


def save(path: Path, password_file: Path, data: dict[str, Any]) -> None:
    text = yaml.safe_dump({"spbe_secrets": data}, sort_keys=True)
    encrypted = _vault_lib(password_file).encrypt(text)
    _write_private(path, encrypted.decode())


def ensure(
    ctx: Context, profile: Path, password_file: Path, tls_files: dict[str, tuple[str, str]] | None = None
) -> Secrets:
    """Load the region's secrets, generate what is missing, save only when something was added."""
    path = vault_path(profile)
    data = load(path, password_file)
    result = Secrets(data)
    if "vault_id" not in data:
        data["vault_id"] = secrets.token_hex(32)
        result.generated.append("vault_id")
    apps = data.setdefault("apps", {})
    for app_id, app in sorted(ctx.apps.items()):
        mine = apps.setdefault(app_id, {})
        for name in app.secrets:
            if name not in mine:
                mine[name] = generate(name)
                result.generated.append(f"{app_id}.{name}")
    for kind, service in ((k, v) for k, v in ctx.services().items() if v.spec.secrets):
        mine = data.setdefault(kind, {})
        for name in service.secrets:
            if name not in mine:
                mine[name] = generate(name)
                result.generated.append(f"{kind}.{name}")
    # The region CA also signs PostgreSQL's certificate, whatever the proxy's TLS mode, and the
    # certificates the proxy starts with under ACME until the first ones are issued.
    mode = ctx.profile.tls.mode
    web = served_hostnames(ctx) if mode in ("self-signed", "acme") else []
    if mode == "acme" and "account_key" not in data.get("acme", {}):
        from spbe_kit.hosts.tls import new_account_key

        data.setdefault("acme", {})["account_key"] = new_account_key()
        result.generated.append("acme.account_key")
    _ensure_tls(data.setdefault("tls", {}), web, ctx, result)
    if tls_files:
        # The region's own certificate lives in the vault like every other secret (the proxy
        # host's files come from it); replacing the files beside the profile replaces it.
        provided = {h: {"cert": c, "key": k} for h, (c, k) in sorted(tls_files.items())}
        if data.get("provided_tls") != provided:
            data["provided_tls"] = provided
            result.generated.append("provided_tls")
    if result.generated:
        stamp(data, [n for n in result.generated if not n.startswith("tls") and "." in n])
        save(path, password_file, data)
    return result


# The secrets an admin gives the vault (``spbe-kit secrets set``): the kit never generates them.
PROVIDED = {"monitoring.smtp_password", "monitoring.telegram_token", "monitoring.web_password"}


def set_provided(profile: Path, password_file: Path, name: str, value: str) -> None:
    """Put ``value`` into the vault as ``name`` (one of PROVIDED), stamped for the audit's age
    check; the vault is written again only through ``save`` (encrypted, atomically)."""
    group, key = name.split(".", 1)
    path = vault_path(profile)
    data = load(path, password_file)
    data.setdefault(group, {})[key] = value
    stamp(data, [name])
    save(path, password_file, data)


def missing_provided(ctx: Context, data: dict[str, Any]) -> list[str]:
    """The provided secrets the profile's receivers need that the vault lacks."""
    from spbe_kit.render.monitoring import provided_secrets

    have = data.get("monitoring", {}) if ctx.monitoring else {}
    return [f"monitoring.{n}" for n in provided_secrets(ctx) if ctx.monitoring and n not in have]


def _ensure_database_cert(tls: dict[str, Any], ctx: Context, now: datetime.datetime, result: Secrets) -> None:
    """PostgreSQL's server certificate: the network alias, and the address other hosts use."""
    from spbe_kit.hosts.tls import issue_leaf, needs_renewal
    from spbe_kit.render.context import database_tls_name
    from spbe_kit.validate import is_ip

    address = ctx.hosts[ctx.postgres.host].internal_address
    names = [database_tls_name(ctx.profile)]
    ips = [address] if is_ip(address) else []
    if not ips and address not in names and address != "localhost":
        names.append(address)
    current = tls.get("database")
    wanted = {"names": names, "ips": ips}
    if (
        current is None
        or {k: current.get(k) for k in wanted} != wanted
        or needs_renewal(current["cert"], now, RENEW_BEFORE_DAYS)
    ):
        key, cert = issue_leaf(tls["ca_key"], tls["ca_cert"], names[0], LEAF_DAYS, names[1:], ips)
        tls["database"] = {**wanted, "key": key, "cert": cert}
        result.generated.append("tls.database")


def secret_names(ctx: Context) -> list[str]:
    """The region's passwords and keys (certificates aside), as ``secrets rotate`` names them."""
    names = [f"{app}.{name}" for app in sorted(ctx.apps) for name in sorted(ctx.apps[app].secrets)]
    names += [f"postgres.{name}" for name in sorted(ctx.postgres.secrets)]
    names += [f"backup.{name}" for name in sorted(ctx.backup.secrets)] if ctx.schedulers else []
    names += [f"exporters.{name}" for name in sorted(ctx.exporters.secrets)] if ctx.exporters else []
    return names


def web_certificates(ctx: Context, data: dict[str, Any]) -> dict[str, str]:
    """Each app hostname's certificate in the vault (the region CA's, or the provided one), as
    the sha256 of its leaf: what the proxy must present."""
    from spbe_kit.hosts.tls import fingerprint

    key = "certs" if ctx.profile.tls.mode == "self-signed" else None
    group = data.get("tls", {}).get("certs", {}) if key else data.get("provided_tls", {})
    found = {}
    for app in ctx.apps.values():
        entry = group.get(app.hostname) if isinstance(group, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("cert"), str):
            found[app.hostname] = fingerprint(entry["cert"])
    return found


def stamp(data: dict[str, Any], names: list[str], when: datetime.datetime | None = None) -> None:
    """Record when each secret in ``names`` got its value, for the audit's age check. Kept under
    ``public``: dates are not secrets and are never redacted."""
    moment = (when or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    set_at = data.setdefault("public", {}).setdefault("set_at", {})
    for name in names:
        set_at[name] = moment


def ages(data: dict[str, Any]) -> dict[str, str]:
    """When each secret got its value (``stamp``); a secret missing here predates the record."""
    found = data.get("public", {}).get("set_at", {})
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def generate(name: str) -> str:
    """A new value for a secret: a URL-safe password, or 256 bits in hex for keys."""
    if name.endswith("password"):
        return secrets.token_urlsafe(24)
    return secrets.token_hex(32)


def _ensure_tls(tls: dict[str, Any], hostnames: list[str], ctx: Context, result: Secrets) -> None:
    from spbe_kit.hosts.tls import issue_leaf, needs_renewal, new_ca

    if "ca_key" not in tls:
        tls["ca_key"], tls["ca_cert"] = new_ca(
            f"spbe-kit CA {ctx.region.name} ({ctx.region.code})", [ctx.region.domain]
        )
        result.generated.append("tls.ca")
    certs = tls.setdefault("certs", {})
    now = datetime.datetime.now(datetime.UTC)
    _ensure_database_cert(tls, ctx, now, result)
    for hostname in hostnames:
        current = certs.get(hostname)
        if current is None or needs_renewal(current["cert"], now, RENEW_BEFORE_DAYS):
            key, cert = issue_leaf(tls["ca_key"], tls["ca_cert"], hostname, LEAF_DAYS)
            certs[hostname] = {"key": key, "cert": cert}
            result.generated.append(f"tls.{hostname}")
