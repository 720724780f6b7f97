"""Host data: what a possibly compromised host reports, checked against a strict shape.

Owns the trust boundary between the hosts and the controller. The deploy lock, the release
records and the backup records come back from the hosts' own files; a host an attacker
controls can write anything there. Every value is checked against the shape the kit itself
writes before anything uses it, and a value that does not fit stops the command with an
error naming the host and the file. Nothing here may pass host text on unchecked: Ansible
extra vars are templates (``apply`` writes them ``!unsafe`` as a second line of defence).
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from spbe_kit.errors import OperationFailed, diagnostic
from spbe_kit.models.shapes import ImageId, ImageRef, Moment, Name, Version, Who

Hostname = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.-]{1,253}$")]
RunId = Annotated[str, StringConstraints(pattern=r"^([0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[a-z][a-z-]{0,30})?$")]
BackupId = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}T[0-9]{6}Z-[a-z][a-z-]{0,30}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_RELPATH = r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*){0,8}"
RelPath = Annotated[str, StringConstraints(pattern=f"^{_RELPATH}$")]
SecretName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,200}$")]
FileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,120}$")]

def is_relpath(path: str) -> bool:
    """A path below a root, with no ``..`` and no leading dot in any part (``RelPath``)."""
    return re.fullmatch(_RELPATH, path) is not None


Text300 = Annotated[str, StringConstraints(max_length=300)]
Text80 = Annotated[str, StringConstraints(max_length=80)]

LOCK_FILE = ".spbe-kit/deploy.lock"
VAULT_FILE = ".spbe-kit/vault.json"
RELEASE_FILE = ".spbe-kit/releases/N/release.json"
BACKUP_FILE = "backups/ID/backup.json"


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Lock(_Shape):
    who: Who
    since: Moment
    pid: int = Field(ge=1, le=4_194_304)
    controller: Hostname
    run: RunId = ""  # locks written before runs were named carry none


class Keyed(_Shape):
    """HMACs of the secret and certificate files under the run's nonce (``spbe_probe.py``)."""

    files: dict[RelPath, Sha256] = Field(max_length=2000)


class DrillApp(_Shape):
    app: Name
    ok: bool
    detail: Text300
    backup: BackupId | None = None
    rows: int | None = Field(default=None, ge=0)
    seconds: float | None = Field(default=None, ge=0, le=10_000_000)
    backup_age_s: int | None = Field(default=None, ge=-86_400, le=1_000_000_000)


class Drill(_Shape):
    """One restore drill, as ``spbe_backup.py verify`` appends it to backups/verify-log.jsonl;
    older drills carry no recovery figures."""

    when: Moment
    ok: bool
    apps: list[DrillApp] = Field(max_length=100)
    rto_s: float | None = Field(default=None, ge=0, le=10_000_000)
    rpo_s: int | None = Field(default=None, ge=-86_400, le=1_000_000_000)


class Switching(_Shape):
    """The apps whose virtual host an interrupted deploy left pointed at a spare container."""

    apps: list[Name] = Field(max_length=100)


class AcmeCertificates(_Shape):
    """The leaf fingerprint of each certificate the acme service wrote (``spbe_probe.py``)."""

    files: dict[Hostname, Sha256] = Field(max_length=2000)


AbsPath = Annotated[str, StringConstraints(pattern=r"^/[^\x00]{0,4095}$")]
Kind = Annotated[str, StringConstraints(pattern=r"^(dir|file|other)$")]
Id = Annotated[int, Field(ge=0, le=2**32)]


class Layout(_Shape):
    """Kind, mode and owner of the folders and secret files a deploy keeps, and the owners
    found below a folder handed to one owner (``spbe_probe.py``, asked by a deploy). Lax only
    so that JSON lists fit the tuples."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
    stats: dict[AbsPath, tuple[Kind, Annotated[int, Field(ge=0, le=0o7777)], Id, Id]] = Field(max_length=2000)
    below: dict[AbsPath, list[tuple[Id, Id]]] = Field(max_length=100)


class Images(_Shape):
    """Tagged images on the host and their IDs; only refs the region needs are ever used, and
    only with a well-formed ID (``plan.missing_images``)."""

    refs: dict[Text300, Text80] = Field(max_length=20_000)


class VaultMark(_Shape):
    """Which vault deployed the region on this host: its fingerprint, who and when (first)."""

    fingerprint: Sha256
    who: Who
    since: Moment


class Release(_Shape):
    number: int = Field(ge=1, le=1_000_000)
    manifest_sha256: Sha256
    versions: dict[Name, Version]
    image_ids: dict[ImageRef, ImageId]
    who: Who
    when: Moment
    backup_before: BackupId | None = None
    files: dict[Name, dict[RelPath, Sha256]] = {}
    rollback_of: int | None = Field(default=None, ge=1)
    rotated: list[SecretName] = []
    recovered: bool = False  # `secrets recover`: the hosts were given this controller's vault
    # Apps the deploy restarted behind the maintenance page, and for about how long (seconds).
    maintenance_s: dict[Name, float] = Field(default={}, max_length=100)


class BackupFile(_Shape):
    sha256: Sha256
    size: int = Field(ge=0)


class BackupRecord(_Shape):
    id: BackupId
    reason: Name
    created: Moment
    versions: dict[Name, Version] = {}
    files: dict[FileName, BackupFile]


def invalid(host: str, file: str, problem: str) -> OperationFailed:
    return OperationFailed(
        [
            diagnostic("host-report-invalid", host, host=host, file=file, problem=problem)
        ]
    )


def _check(model: type[_Shape], data: Any, host: str, file: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise invalid(host, file, f"{where}: {first['msg']}") from None


def checked(model: type[BaseModel], data: Any, host: str, file: str) -> Any:
    """``data`` from ``host`` (its ``file``) in ``model``'s strict shape, or the command stops."""
    return _check(model, data, host, file)  # type: ignore[arg-type]


def _small_json(model: type[_Shape], host: str, raw: Any, file: str, what: str) -> Any:
    """A small JSON file the kit writes on a host (a lock, the vault record), checked against
    its shape; None when the host has none."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 1024:
        raise invalid(host, file, f"not {what} written by spbe-kit")
    import json

    try:
        data = json.loads(raw)
    except ValueError:
        raise invalid(host, file, "not JSON") from None
    return _check(model, data, host, file)


def lock(host: str, raw: Any, root: str) -> Lock | None:
    """The deploy lock a host holds, or None; anything but the kit's own JSON is refused."""
    found: Lock | None = _small_json(Lock, host, raw, f"{root}/{LOCK_FILE}", "a lock")
    return found


def vault_mark(host: str, raw: Any, root: str) -> VaultMark | None:
    """The vault fingerprint a host recorded at its first deploy, or None (never deployed)."""
    found: VaultMark | None = _small_json(VaultMark, host, raw, f"{root}/{VAULT_FILE}", "a vault record")
    return found


def lock_hash(raw: str) -> str:
    """How the playbook recognises the lock it may take over: the sha256 of the file's bytes
    (the kit writes the JSON and a newline). The host's text itself never reaches Ansible."""
    return hashlib.sha256((raw + "\n").encode()).hexdigest()


def releases(host: str, items: Any, root: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise invalid(host, f"{root}/{RELEASE_FILE}", "not a list of releases")
    checked = [_check(Release, item, host, f"{root}/{RELEASE_FILE}") for item in items]
    return [r.model_dump() for r in sorted(checked, key=lambda r: r.number)]


def backup_records(host: str, items: Any, root: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise invalid(host, f"{root}/{BACKUP_FILE}", "not a list of backups")
    return [_check(BackupRecord, item, host, f"{root}/{BACKUP_FILE}").model_dump() for item in items]


DRILL_LOG = "backups/verify-log.jsonl"


def drills(host: str, items: Any, root: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise invalid(host, f"{root}/{DRILL_LOG}", "not a list of restore drills")
    return [_check(Drill, item, host, f"{root}/{DRILL_LOG}").model_dump() for item in items]


def probe(host: str, data: Any, root: str) -> dict[str, Any]:
    """A probe's report with its lock and releases checked (the rest is only compared)."""
    if not isinstance(data, dict):
        raise invalid(host, "spbe_probe.py output", "not a JSON object")
    lock(host, data.get("lock"), root)
    mark = vault_mark(host, data.get("vault"), root)
    return {
        **data,
        "vault": mark.model_dump() if mark else None,
        "releases": releases(host, data.get("releases", []), root),
        "keyed": _check(Keyed, {"files": data.get("keyed", {})}, host, f"{root}/secrets, {root}/tls").files,
        "images": _check(Images, {"refs": data.get("images", {})}, host, "docker images").refs,
        "switch": _check(Switching, {"apps": data.get("switch", [])}, host, f"{root}/switch").apps,
        "acme_certs": _check(
            AcmeCertificates, {"files": data.get("acme_certs", {})}, host, f"{root}/acme/certs"
        ).files,
        "layout": _check(
            Layout, data.get("layout", {"stats": {}, "below": {}}), host, f"{root}: folders and secret files"
        ).model_dump(),
    }
