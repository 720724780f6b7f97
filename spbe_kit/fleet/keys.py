"""A region's report signing key: ed25519, kept beside its profile (``<stem>.report-key``, 0600,
and ``<stem>.report-key.pub``), created at the first deploy. The donor registers the public key
(its fingerprint is in the handover record) and trusts a report only when that key signed it.

Signatures are plain ed25519 over a domain-separated message, so a donor checks hundreds of
reports in well under a second; keys are stored in OpenSSH format (``ssh-keygen -l -f`` prints
the same fingerprint as the handover record)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# Never valid as another kind of signed message (a bundle, an SSH login).
DOMAIN = b"spbe-kit region report v1\n"

Trust = Literal["valid", "unknown-key", "wrong-key", "bad", "missing"]


def key_path(profile: Path) -> Path:
    return profile.with_name(profile.stem + ".report-key")


def public_path(profile: Path) -> Path:
    return profile.with_name(profile.stem + ".report-key.pub")


def ensure(profile: Path, code: str) -> Path:
    """The region's private key, created (0600, with its .pub) when there is none yet."""
    private = key_path(profile)
    if private.exists():
        return private
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    staged = private.with_name(f".{private.name}.{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path(profile).write_text(f"{public.decode()} spbe-kit region {code}\n")
    os.replace(staged, private)
    return private


def fingerprint(public_line: str) -> str | None:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it, or None for anything but an ed25519 key."""
    blob = _blob(public_line)
    if blob is None:
        return None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def file_fingerprint(path: Path) -> str | None:
    return fingerprint(path.read_text()) if path.is_file() else None


def _blob(public_line: str) -> bytes | None:
    parts = public_line.strip().split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    return blob if len(blob) == 51 else None  # string "ssh-ed25519" + string(32 bytes)


def _public(public_line: str) -> Ed25519PublicKey | None:
    blob = _blob(public_line)
    if blob is None:
        return None
    try:
        key = serialization.load_ssh_public_key(b"ssh-ed25519 " + base64.b64encode(blob))
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def sign(private: Path, message: bytes) -> tuple[str, str]:
    """(public key line, base64 signature) of ``message`` by the key at ``private``."""
    key = serialization.load_ssh_private_key(private.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{private} is not an ed25519 key")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode(), base64.b64encode(key.sign(DOMAIN + message)).decode()


def _verifies(public_line: str, message: bytes, signature: str) -> bool:
    key = _public(public_line)
    if key is None:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, DOMAIN + message)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def trust(message: bytes, signer: str | None, signature: str | None, registered: str | None) -> Trust:
    """How far a report can be trusted: signed by the region's registered key (valid), by a
    key nobody registered (unknown-key), by a key other than the registered one (wrong-key),
    not matching its bytes (bad: changed after signing), or not signed (missing)."""
    if not signer or not signature:
        return "missing"
    if registered and _verifies(registered, message, signature):
        return "valid"
    if not _verifies(signer, message, signature):
        return "bad"
    return "wrong-key" if registered else "unknown-key"
