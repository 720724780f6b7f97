"""What a secret file on a host holds: the vault's value as it is, or in the form its reader
takes (``encode`` in the file's spec). One function for the playbooks' filter that writes the
file and for the probe's comparison with the vault, so the two never disagree. No import
beyond the standard library: Ansible loads it with its filter plugins."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

# The login the proxy asks for in front of the monitoring web pages (monitoring.web).
WEB_USER = "spbe"


def pick(data: Any, ref: str) -> Any:
    """Follow a reference ('apps/e-simpati/db_password') into nested dicts; None if absent."""
    node = data
    for part in ref.split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def content(spec: dict[str, Any], secrets: dict[str, Any]) -> str | None:
    """The file's content for ``spec`` (path, ref, encode) from the vault ``secrets``."""
    value = pick(secrets, spec["ref"])
    if not isinstance(value, str):
        return None
    encode = spec.get("encode")
    if encode == "json":  # a YAML (or JSON) scalar another file takes as it is
        return json.dumps(value)
    if encode == "htpasswd":  # nginx auth_basic_user_file: SHA-512 crypt
        return f"{WEB_USER}:{_sha512_crypt(value, str(secrets.get('vault_id', '')))}\n"
    return value


def _sha512_crypt(password: str, vault_id: str) -> str:
    """glibc's SHA-512 crypt (what nginx checks with crypt(3)), with a salt derived from the
    region's vault id and the password: the same file on every deploy (no drift, no reload),
    a different hash in every region."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # Python 3.11 (Debian 12); the hash is glibc's own

    digest = hmac.new(vault_id.encode(), b"monitoring-web:" + password.encode(), hashlib.sha256).digest()
    salt = base64.b64encode(digest, b"./").decode()[:16]
    return str(crypt.crypt(password, f"$6${salt}"))
