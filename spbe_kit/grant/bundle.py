"""The signed offline grant bundle: everything a recipient needs, in one file, with no
registry and no internet.

A bundle is an uncompressed tar. Its first member, ``bundle.json``, names the grant (donor,
catalog, apps and versions) and lists every other member with its sha256, size and, for the
image archive, the sha256 of each layer inside it; the second, ``bundle.json.sig``, is an
``ssh-keygen -Y sign`` signature of the first by the donor's ed25519 key. Verification checks
the signature before it reads anything else, then streams every member through sha256;
import extracts into a staging folder while verifying and acts (installs the kit, loads the
images) only when everything matched.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from spbe_kit import __version__
from spbe_kit.errors import (
    Diagnostic,
    DifferencesFound,
    InvalidInput,
    Location,
    OperationFailed,
    diagnostic,
    unknown_apps,
)
from spbe_kit.models.catalog import Catalog
from spbe_kit.resources import shipped_root
from spbe_kit.runner import Runner

SCHEMA = "spbe-kit/bundle/v1"
NAMESPACE = "spbe-kit-bundle"
MANIFEST = "bundle.json"
SIGNATURE = "bundle.json.sig"
IMAGES = "images/images.tar"
CHUNK = 1 << 20
# Read before the signature is checked, so bounded: a real manifest of nine images is ~60 KB.
MAX_MANIFEST = 4 << 20
MAX_SIGNATURE = 64 << 10
FIXED_MTIME = 315532800  # 1980-01-01: the bundle's bytes do not depend on when files were copied
KIT_FILES = ("catalog.yaml", "templates", "playbooks", "schemas")

# Reports progress: (task name, bytes or steps done, total or None).
Progress = Callable[[str, int, int | None], None]


def _quiet(_task: str, _done: int, _total: int | None) -> None:
    return None


def _run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return Runner().run(argv)


# ------------------------------------------------------------------------------ keys


def keygen(prefix: Path) -> Path:
    """An ed25519 key pair for signing bundles: ``prefix`` (private, 0600) and ``prefix.pub``."""
    if prefix.exists() or prefix.with_name(prefix.name + ".pub").exists():
        raise InvalidInput(
            [diagnostic("bundle-key-exists", str(prefix), path=str(prefix))]
        )
    prefix.parent.mkdir(parents=True, exist_ok=True)
    _run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "spbe-kit donor signing key", "-f", str(prefix)]
    )
    return prefix.with_name(prefix.name + ".pub")


def sign(manifest: Path, key: Path) -> bytes:
    if not key.is_file():
        raise InvalidInput([diagnostic("bundle-key-missing", str(key), path=str(key))])
    _run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(manifest)])
    signature = manifest.with_name(manifest.name + ".sig")
    data = signature.read_bytes()
    signature.unlink()
    return data


def signature_valid(manifest: bytes, signature: bytes, public_key: Path) -> bool:
    if not public_key.is_file():
        raise InvalidInput(
            [diagnostic("bundle-key-missing", str(public_key), path=str(public_key))]
        )
    with tempfile.TemporaryDirectory(prefix="spbe-bundle-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        key = public_key.read_text().split()
        signers.write_text(f"donor {key[0]} {key[1]}\n")
        sig = Path(tmp) / "bundle.json.sig"
        sig.write_bytes(signature)
        argv = [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(signers),
            "-I",
            "donor",
            "-n",
            NAMESPACE,
            "-s",
            str(sig),
        ]
        result = Runner().run(argv, input=manifest, check=False)
    return result.returncode == 0


# ------------------------------------------------------------------------------ export


@dataclass
class Exported:
    path: Path
    size: int
    members: int
    images: dict[str, str]
    image_bytes: int  # sum of the images' own sizes (what separate archives would hold)
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)


def _hash_file(path: Path, progress: Progress, task: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
            done += len(block)
            progress(task, done, size)
    return digest.hexdigest(), size


def _inner_hashes(fileobj: IO[bytes]) -> dict[str, str]:
    """sha256 of each file inside a ``docker save`` archive (layers, configs, manifests)."""
    found: dict[str, str] = {}
    with tarfile.open(fileobj=fileobj, mode="r|") as inner:
        for member in inner:
            if member.isfile():
                handle = inner.extractfile(member)
                assert handle is not None
                digest = hashlib.sha256()
                for block in iter(lambda h=handle: h.read(CHUNK), b""):  # type: ignore[misc]
                    digest.update(block)
                found[member.name] = digest.hexdigest()
    return found


def catalog_images(catalog: Any, apps: list[str] | None) -> list[str]:
    """Every image the chosen apps (all their versions) and the shared services need."""
    chosen = apps or sorted(catalog.apps)
    unknown_apps(chosen, list(catalog.apps))
    tags = {v.image for a in chosen for v in catalog.apps[a].versions.values()}
    for service in catalog.services.components():
        tags |= {v.image for v in service.versions.values()}
    return sorted(tags)


def _package_list(tag: str, image_id: str, images_dir: Path) -> bytes:
    from spbe_kit.grant.images import read_lock, sbom_name

    lock = read_lock(images_dir).get(tag, {})
    sbom = images_dir / sbom_name(tag)
    if lock.get("id") == image_id and sbom.is_file():
        return sbom.read_bytes()
    listed = _run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "dpkg-query",
            tag,
            "-W",
            "-f",
            "${Package} ${Version}\\n",
        ]
    )
    return listed.stdout


def _add_tree(staging: Path, source: Path, target: str) -> None:
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            dest = staging / target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
    else:
        (staging / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staging / target)


def _collection_tar(staging: Path) -> tuple[str, str]:
    """The community.docker collection the playbooks use, as installed with the kit."""
    import importlib.util

    spec = importlib.util.find_spec("ansible_collections.community.docker")
    if spec is None or not spec.submodule_search_locations:
        raise OperationFailed.of(
            "bundle-step-failed", "community.docker", step="find community.docker", problem="not installed"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    version = json.loads((folder / "MANIFEST.json").read_text())["collection_info"]["version"]
    name = f"collections/community.docker-{version}.tar"
    target = staging / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            info = tarfile.TarInfo(
                f"ansible_collections/community/docker/{path.relative_to(folder).as_posix()}"
            )
            info.size, info.mtime, info.mode = path.stat().st_size, FIXED_MTIME, 0o644
            with path.open("rb") as handle:
                archive.addfile(info, handle)
    return name, version


def export(
    out: Path,
    key: Path,
    catalog_path: Path,
    apps: list[str] | None,
    progress: Progress = _quiet,
    images_dir: Path = Path("build/images"),
    valid_days: int | None = None,
) -> Exported:
    """wheels -> kit files -> images -> per-member sha256 -> signed manifest -> one tar,
    written beside ``out`` and renamed into place only when complete."""
    from spbe_kit.validate import load_catalog

    started = time.monotonic()
    steps: dict[str, float] = {}
    catalog, _ = load_catalog(catalog_path)
    tags = catalog_images(catalog, apps)
    if not key.is_file():
        raise InvalidInput([diagnostic("bundle-key-missing", str(key), path=str(key))])
    source = shipped_root()
    if not (source / "pyproject.toml").is_file():
        raise OperationFailed.of("bundle-needs-source", str(source), path=str(source))
    ids, sizes = _local_images(tags)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".spbe-bundle-", dir=out.parent) as tmp:
        staging = Path(tmp)
        mark = time.monotonic()
        kit_wheel = _wheels(staging, source, progress)
        steps["wheels"] = time.monotonic() - mark
        collection, collection_version = _collection_tar(staging)
        for name in KIT_FILES:
            _add_tree(staging, source / name, f"kit/{name}")
        mark = time.monotonic()
        progress("docker save", 0, None)
        (staging / "images").mkdir()
        _run(["docker", "save", "-o", str(staging / IMAGES), *tags])
        steps["docker save"] = time.monotonic() - mark
        for tag in tags:
            (staging / "images" / f"{tag.replace('/', '_').replace(':', '_')}.packages.txt").write_bytes(
                _package_list(tag, ids[tag], images_dir)
            )
        mark = time.monotonic()
        members = _hashed_members(staging, progress)
        steps["hash"] = time.monotonic() - mark
        collection_file = (collection, collection_version)
        manifest = _manifest(catalog, apps, kit_wheel, ids, collection_file, members, valid_days)
        manifest_path = staging / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        signature = sign(manifest_path, key)
        mark = time.monotonic()
        _write_bundle(out, staging, members, signature, progress)
        steps["write"] = time.monotonic() - mark
    return Exported(
        out, out.stat().st_size, len(members) + 2, ids, sum(sizes.values()), time.monotonic() - started, steps
    )


def _local_images(tags: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """Each tag's image id and size in the local engine; a missing image stops the export."""
    from spbe_kit.grant.images import docker_client

    client = docker_client()
    ids: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for tag in tags:
        try:
            image = client.images.get(tag)
        except Exception:  # docker.errors.ImageNotFound and API errors alike
            raise OperationFailed.of("bundle-image-missing", tag, image=tag) from None
        ids[tag], sizes[tag] = image.id, int(image.attrs.get("Size", 0))
    return ids, sizes


def _manifest(
    catalog: Catalog,
    apps: list[str] | None,
    kit_wheel: Path,
    ids: dict[str, str],
    collection: tuple[str, str],
    members: dict[str, dict[str, Any]],
    valid_days: int | None,
) -> dict[str, Any]:
    """What the signature covers: versions, image ids and every member's sha256."""
    signed_at = datetime.datetime.now(datetime.UTC)
    manifest: dict[str, Any] = {
        "schema": SCHEMA,
        "created": signed_at.isoformat(timespec="seconds"),
        "signed_at": signed_at.isoformat(timespec="seconds"),
        # A controller whose kit is older cannot be trusted to read the bundle right.
        "min_kit_version": __version__,
        "donor": catalog.donor.model_dump(),
        "catalog": {"version": catalog.version},
        "kit": {
            "version": __version__,
            "wheel": kit_wheel.name,
            "python": f"cp{sys.version_info[0]}{sys.version_info[1]}",
        },
        "apps": {a: sorted(catalog.apps[a].versions) for a in (apps or sorted(catalog.apps))},
        "images": ids,
        "collections": {"community.docker": {"version": collection[1], "file": collection[0]}},
        "members": members,
    }
    if valid_days:
        manifest["expires"] = (signed_at + datetime.timedelta(days=valid_days)).isoformat(timespec="seconds")
    return manifest


def _wheels(staging: Path, source: Path, progress: Progress) -> Path:
    """The kit's own wheel and its dependencies' wheels (from PyPI) into ``staging/wheels``."""
    wheels = str(staging / "wheels")
    progress("wheels: the kit", 0, 2)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, str(source)])
    kit_wheel = next((staging / "wheels").glob("spbe_kit-*.whl"))
    progress("wheels: dependencies (PyPI)", 1, 2)
    _run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", wheels, str(kit_wheel)])
    progress("wheels: dependencies (PyPI)", 2, 2)
    return kit_wheel


def _hashed_members(staging: Path, progress: Progress) -> dict[str, dict[str, Any]]:
    """sha256 and size of every staged file (and of each layer inside the image archive)."""
    members: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        rel = path.relative_to(staging).as_posix()
        digest, size = _hash_file(path, progress, f"sha256 {rel}" if rel == IMAGES else "sha256")
        members[rel] = {"sha256": digest, "size": size}
    with (staging / IMAGES).open("rb") as handle:
        members[IMAGES]["inner"] = _inner_hashes(handle)
    return members


def _write_bundle(
    out: Path, staging: Path, members: dict[str, dict[str, Any]], signature: bytes, progress: Progress
) -> None:
    """Manifest and signature first, then the members in name order; ``out`` appears whole."""
    part = out.with_name(f".{out.name}.part")
    total = sum(m["size"] for m in members.values())
    written = 0
    try:
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as archive:
            _add_bytes(archive, MANIFEST, (staging / MANIFEST).read_bytes())
            _add_bytes(archive, SIGNATURE, signature)
            for rel in sorted(members):
                info = _info(rel, members[rel]["size"])
                with (staging / rel).open("rb") as handle:
                    archive.addfile(info, handle)
                written += members[rel]["size"]
                progress("write bundle", written, total)
        part.replace(out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid = size, FIXED_MTIME, 0o644, 0, 0
    info.uname = info.gname = ""
    return info


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    archive.addfile(_info(name, len(data)), io.BytesIO(data))


# ------------------------------------------------------------------------------ verify / import


@dataclass
class Verified:
    manifest: dict[str, Any]
    size: int
    seconds: float


def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    try:
        yield from archive
    except tarfile.TarError as exc:
        raise DifferencesFound(
            [
                diagnostic("bundle-member-changed", "(tar header)", member=f"tar structure: {exc}")
            ]
        ) from None


def verify(
    bundle: Path,
    public_key: Path,
    progress: Progress = _quiet,
    extract_to: Path | None = None,
    allow_older: bool = False,
) -> Verified:
    """Check the signature, then every member's sha256; exit 3 naming what changed. With
    ``extract_to``, members are written there as they are checked (use a staging folder).
    Nothing is read unbounded: the manifest and signature have size caps, every member must
    be a regular file whose header size equals the signed size before a byte of it is read."""
    started = time.monotonic()
    if not bundle.is_file():
        raise InvalidInput([diagnostic("bundle-missing", str(bundle), path=str(bundle))])
    total = bundle.stat().st_size
    changed: list[str] = []
    with bundle.open("rb") as raw, _open_tar(bundle, raw) as archive:
        members = _members(archive)
        manifest_bytes = _head(archive, members, MANIFEST, MAX_MANIFEST, bundle)
        signature = _head(archive, members, SIGNATURE, MAX_SIGNATURE, bundle)
        if not signature_valid(manifest_bytes, signature, public_key):
            raise DifferencesFound(
                [diagnostic("bundle-signature-invalid", str(bundle), key=str(public_key))]
            )
        manifest = _signed_manifest(manifest_bytes, bundle)
        _check_window(manifest, bundle, allow_older)
        expected: dict[str, dict[str, Any]] = manifest["members"]
        seen: set[str] = set()
        for member in members:
            name = member.name
            entry = expected.get(name)
            if entry is None or not _regular(member) or ".." in Path(name).parts or name.startswith("/"):
                changed.append(f"{name} (not in the signed manifest)")
                continue
            seen.add(name)
            if member.size != entry["size"]:  # before reading: a header may claim terabytes
                changed.append(f"{name} (size {member.size}, signed {entry['size']})")
                continue
            if (
                _digest(archive, member, extract_to, lambda: progress("verify", raw.tell(), total))
                != entry["sha256"]
            ):
                changed.append(name)
            elif (member.mode, member.mtime) != (0o644, FIXED_MTIME):
                changed.append(f"{name} (tar header)")
        changed += [f"{name} (missing)" for name in sorted(set(expected) - seen)]
    if changed:
        changed = [_name_layer(bundle, manifest, c) if c == IMAGES else c for c in changed]
        raise DifferencesFound(
            [diagnostic("bundle-member-changed", str(bundle), member=c) for c in changed]
        )
    progress("verify", total, total)
    return Verified(manifest, total, time.monotonic() - started)


def _regular(member: tarfile.TarInfo) -> bool:
    """A plain file: no link, device, folder or GNU sparse member (which expands when read)."""
    return member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)


def _open_tar(bundle: Path, raw: IO[bytes]) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=raw, mode="r|")
    except tarfile.TarError:
        raise InvalidInput(
            [diagnostic("bundle-not-tar", str(bundle), path=str(bundle))]
        ) from None


def _head(
    archive: tarfile.TarFile, members: Iterator[tarfile.TarInfo], wanted: str, limit: int, bundle: Path
) -> bytes:
    """The manifest or the signature, read as it streams past: a regular file, within limit."""
    member = next(members, None)
    if member is None or member.name != wanted or not _regular(member) or member.size > limit:
        raise _unsigned(bundle)
    handle = archive.extractfile(member)
    if handle is None:
        raise _unsigned(bundle)
    return handle.read(limit + 1)


def _digest(
    archive: tarfile.TarFile, member: tarfile.TarInfo, extract_to: Path | None, tick: Callable[[], None]
) -> str:
    """sha256 of one member (tarfile reads exactly the header's size), written out if asked."""
    digest = hashlib.sha256()
    handle = archive.extractfile(member)
    assert handle is not None
    target = None
    if extract_to is not None:
        path = extract_to / member.name
        path.parent.mkdir(parents=True, exist_ok=True)
        target = path.open("wb")
    try:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
            if target:
                target.write(block)
            tick()
    finally:
        if target:
            target.close()
    return digest.hexdigest()


def _signed_manifest(data: bytes, bundle: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
        members = manifest["members"]
        ok = isinstance(members, dict) and all(
            isinstance(m, dict) and isinstance(m.get("size"), int) and isinstance(m.get("sha256"), str)
            for m in members.values()
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise InvalidInput([diagnostic("bundle-manifest-invalid", str(bundle))])
    result: dict[str, Any] = manifest
    return result


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def _check_window(manifest: dict[str, Any], bundle: Path, allow_older: bool) -> None:
    """A bundle past its expiry, or older than the kit doing the check (a withdrawn grant
    replaced by a newer one), is refused unless ``--allow-older``; one that needs a newer
    kit always is."""
    where = Location(str(bundle))
    needs = str(manifest.get("min_kit_version", "0"))
    if _version(needs) > _version(__version__):
        raise InvalidInput(
            [Diagnostic("bundle-needs-newer-kit", where, (), {"needs": needs, "have": __version__})]
        )
    if allow_older:
        return
    expires = manifest.get("expires")
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    if isinstance(expires, str) and expires < now:
        raise DifferencesFound([Diagnostic("bundle-expired", where, (), {"expires": expires})])
    kit = str((manifest.get("kit") or {}).get("version", __version__))
    if _version(kit) < _version(__version__):
        raise DifferencesFound([Diagnostic("bundle-older", where, (), {"bundled": kit, "have": __version__})])


def _unsigned(bundle: Path) -> DifferencesFound:
    return DifferencesFound(
        [
            diagnostic("bundle-signature-invalid", str(bundle), key="(no signed manifest first)")
        ]
    )


def _name_layer(bundle: Path, manifest: dict[str, Any], name: str) -> str:
    """Which file inside the image archive changed (a layer, a config)."""
    recorded: dict[str, str] = manifest["members"][name].get("inner", {})
    try:
        with tarfile.open(bundle) as archive:
            handle = archive.extractfile(name)
            assert handle is not None
            found = _inner_hashes(handle)
    except (tarfile.TarError, KeyError, AssertionError) as exc:
        return f"{name} (unreadable: {exc})"
    differing = sorted(n for n in set(recorded) | set(found) if recorded.get(n) != found.get(n))
    return f"{name} ({', '.join(differing[:3]) or 'tar padding'})"


@dataclass
class Imported:
    folder: Path
    manifest: dict[str, Any]
    kit: Path
    images: list[str]
    size: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)


def _record_import(staging: Path, manifest: dict[str, Any], allow_older: bool) -> None:
    """What the auditors read: which bundle, signed when, and whether an old one was forced in."""
    record = {
        "bundle_sha256_manifest": hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest(),
        "signed_at": manifest.get("signed_at", manifest.get("created")),
        "expires": manifest.get("expires"),
        "kit_version": (manifest.get("kit") or {}).get("version"),
        "allow_older": allow_older,
        "imported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    (staging / "import.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def _install_kit(dest: Path, manifest: dict[str, Any], progress: Progress) -> None:
    """The kit into ``dest/venv`` from the bundle's wheels alone (pip --no-index)."""
    progress("install the kit (pip --no-index)", 0, 1)
    _run([sys.executable, "-m", "venv", str(dest / "venv")])
    _run(
        [
            str(dest / "venv" / "bin" / "pip"),
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
            str(dest / "wheels"),
            str(dest / "wheels" / manifest["kit"]["wheel"]),
        ],
    )
    progress("install the kit (pip --no-index)", 1, 1)


def import_bundle(
    bundle: Path,
    public_key: Path,
    dest: Path,
    progress: Progress = _quiet,
    load_images: bool = True,
    allow_older: bool = False,
) -> Imported:
    """Verify while extracting into a staging folder; only a bundle that verified is used:
    the kit is installed into ``dest/venv`` from its wheels alone (pip --no-index), the
    collection is unpacked into ``dest/collections`` and the images are loaded into the local
    Docker engine, from where ``deploy`` transfers them to the hosts that need them."""
    started = time.monotonic()
    steps: dict[str, float] = {}
    if dest.exists() and any(dest.iterdir()):
        raise InvalidInput(
            [diagnostic("bundle-destination-used", str(dest), path=str(dest))]
        )
    staging = dest.with_name(f".{dest.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, mode=0o700)
    try:
        checked = verify(bundle, public_key, progress, extract_to=staging, allow_older=allow_older)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    steps["verify and extract"] = checked.seconds
    _record_import(staging, checked.manifest, allow_older)
    if dest.exists():
        dest.rmdir()
    staging.rename(dest)
    manifest = checked.manifest
    mark = time.monotonic()
    _install_kit(dest, manifest, progress)
    steps["install kit"] = time.monotonic() - mark
    for info in manifest.get("collections", {}).values():
        with tarfile.open(dest / info["file"]) as archive:
            archive.extractall(dest / "collections", filter="data")
    loaded: list[str] = []
    if load_images:
        mark = time.monotonic()
        progress("docker load", 0, None)
        out = _run(["docker", "load", "-i", str(dest / IMAGES)])
        lines = out.stdout.decode().splitlines()
        loaded = sorted(line.split(": ", 1)[1] for line in lines if line.startswith("Loaded image:"))
        steps["docker load"] = time.monotonic() - mark
    return Imported(
        dest,
        manifest,
        dest / "venv" / "bin" / "spbe-kit",
        loaded,
        checked.size,
        time.monotonic() - started,
        steps,
    )
