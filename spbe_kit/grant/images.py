"""The donor's image builder: every image the catalog names, from Debian packages only.

Reads ``images/build.yaml``; creates the Debian base with debootstrap when it is missing;
builds the rest through the Docker SDK in dependency order; skips an image whose build
context (files, arguments and parent image) has not changed; records image IDs in a lock
file and writes each image's package list (its SBOM) beside it. Touches only the local
Docker engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from spbe_kit.errors import InvalidInput, OperationFailed, diagnostic
from spbe_kit.load import load_yaml
from spbe_kit.models.base import Strict
from spbe_kit.models.catalog import Catalog
from spbe_kit.models.parse import parse_model
from spbe_kit.render.assets import package_list
from spbe_kit.resources import images_dir
from spbe_kit.runner import Runner

HASH_LABEL = "org.spbe-kit.context-sha256"
LOCK_NAME = "images.lock.json"
Report = Callable[[str], None]


# What no container of the kit reads: documentation (but each package's copyright), manual and
# info pages, message translations. Left out of the base by dpkg's own path-exclude (so every
# image built on it installs packages without them) and pruned from what debootstrap unpacked:
# about 47 MB less in the base, which every host receives.
SLIM = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
)
BASE_RECIPE_LABEL = "org.spbe-kit.base-recipe"


def _slim(rootfs: Path) -> None:
    """Apply ``SLIM`` to a debootstrapped root: the dpkg configuration, and the files it would
    not have unpacked."""
    (rootfs / "etc/dpkg/dpkg.cfg.d/spbe-kit-slim").write_text("".join(f"{line}\n" for line in SLIM))
    for folder in ("man", "info", "locale"):
        for child in (rootfs / "usr/share" / folder).glob("*"):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    for path in sorted((rootfs / "usr/share/doc").rglob("*"), reverse=True):
        if path.name == "copyright" or (path.is_dir() and not path.is_symlink() and any(path.iterdir())):
            continue
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()


class BaseSpec(Strict):
    tag: str
    suite: str
    variant: str
    mirror: str


class ImageSpec(Strict):
    context: str = Field(pattern=r"^[a-z0-9-]+$")
    from_: str = Field(alias="from")
    args: dict[str, str] = {}
    test_only: bool = False


class BuildSpec(Strict):
    base: BaseSpec
    images: dict[str, ImageSpec]


@dataclass(frozen=True)
class Built:
    tag: str
    image_id: str
    size: int
    seconds: float
    cached: bool


def load_spec(folder: Path | None = None) -> BuildSpec:
    path = (folder or images_dir()) / "build.yaml"
    return parse_model(load_yaml(path), BuildSpec, "catalog")


def build_order(spec: BuildSpec, wanted: list[str]) -> list[str]:
    """``wanted`` and the images they are built from, parents first."""
    order: list[str] = []

    def visit(tag: str) -> None:
        if tag in order or tag == spec.base.tag:
            return
        visit(spec.images[tag].from_)
        order.append(tag)

    for tag in wanted:
        visit(tag)
    return order


def select(spec: BuildSpec, only: list[str], include_tests: bool) -> list[str]:
    if not only:
        return [t for t, s in spec.images.items() if include_tests or not s.test_only]
    chosen = []
    for name in only:
        matches = [t for t in spec.images if name in (t, t.split(":")[0], t.split("/")[-1].split(":")[0])]
        if not matches:
            raise InvalidInput(
                [
                    diagnostic(
                        "image-unknown",
                        "images/build.yaml",
                        name=name,
                        available=", ".join(spec.images),
                    )
                ]
            )
        chosen.extend(matches)
    return chosen


def unbuildable(spec: BuildSpec, catalog: Catalog) -> list[str]:
    """Images the catalog names that build.yaml cannot produce."""
    named = [v.image for c in catalog.services.components() for v in c.versions.values()]
    named += [v.image for app in catalog.apps.values() for v in app.versions.values()]
    return sorted({tag for tag in named if tag not in spec.images})


def context_sha256(context: Path, args: dict[str, str], parent_id: str) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"args": args, "parent": parent_id}, sort_keys=True).encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        mode = "x" if os.access(path, os.X_OK) else "-"
        digest.update(f"\0{path.relative_to(context).as_posix()}\0{mode}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def docker_client() -> Any:
    import docker

    try:
        client = docker.from_env(version="auto", timeout=600)
        client.ping()
        return client
    except Exception as exc:  # the SDK raises several unrelated types for "no engine"
        raise OperationFailed(
            [diagnostic("docker-unavailable", "docker", problem=str(exc)[:300])]
        ) from None


class Builder:
    def __init__(self, spec: BuildSpec, out: Path, report: Report, runner: Runner | None = None) -> None:
        self.spec = spec
        self.out = out
        self.report = report
        self.runner = runner or Runner()
        self.client = docker_client()
        self.folder = images_dir()

    def image_id(self, tag: str) -> str | None:
        import docker.errors

        try:
            return str(self.client.images.get(tag).id)
        except docker.errors.ImageNotFound:
            return None

    def ensure_base(self) -> Built:
        base = self.spec.base
        recipe = hashlib.sha256(json.dumps([base.model_dump(), SLIM], sort_keys=True).encode()).hexdigest()
        found = self.image_id(base.tag)
        if found and self._labels(base.tag).get(BASE_RECIPE_LABEL) == recipe:
            return Built(base.tag, found, self._size(base.tag), 0.0, True)
        self.report(f"{base.tag}: debootstrap --variant={base.variant} {base.suite} (no registry)")
        start = time.monotonic()
        scratch = Path(tempfile.mkdtemp(prefix="spbe-kit-rootfs-"))
        try:
            rootfs = scratch / "rootfs"
            self.runner.run(
                ["debootstrap", f"--variant={base.variant}", base.suite, str(rootfs), base.mirror]
            )
            _slim(rootfs)
            tarball = scratch / "rootfs.tar"
            # debootstrap leaves the downloaded .debs and package lists behind: not image content.
            self.runner.run(
                [
                    "tar",
                    "-C",
                    str(rootfs),
                    "--numeric-owner",
                    "--exclude=./var/cache/apt/archives/*.deb",
                    "--exclude=./var/lib/apt/lists/*",
                    "-cf",
                    str(tarball),
                    ".",
                ]
            )
            repository, tag = base.tag.rsplit(":", 1)
            label = f"LABEL {BASE_RECIPE_LABEL}={recipe}"
            self.client.api.import_image(src=str(tarball), repository=repository, tag=tag, changes=[label])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        built = self.image_id(base.tag)
        if not built:
            raise self._failure(base.tag, "docker import produced no image")
        return Built(base.tag, built, self._size(base.tag), time.monotonic() - start, False)

    def build(self, tag: str) -> Built:
        image = self.spec.images[tag]
        parent = self.image_id(image.from_)
        if parent is None:
            raise self._failure(tag, f"its parent {image.from_} is missing")
        context = self.folder / image.context
        wanted = context_sha256(context, image.args, parent)
        existing = self._labels(tag)
        if existing.get(HASH_LABEL) == wanted:
            found = self.image_id(tag)
            assert found
            return Built(tag, found, self._size(tag), 0.0, True)
        self.report(f"{tag}: building from images/{image.context}")
        start = time.monotonic()
        stream = self.client.api.build(
            path=str(context),
            tag=tag,
            buildargs=image.args,
            labels={HASH_LABEL: wanted},
            rm=True,
            forcerm=True,
            decode=True,
            pull=False,
        )
        for chunk in stream:
            if "error" in chunk:
                raise self._failure(tag, str(chunk["error"]).strip())
            line = str(chunk.get("stream", "")).strip()
            if line.startswith("Step "):
                self.report(f"{tag}: {line[:110]}")
        built = self.image_id(tag)
        if built is None:
            raise self._failure(tag, "the build produced no image")
        return Built(tag, built, self._size(tag), time.monotonic() - start, False)

    def packages(self, tag: str) -> str:
        """The image's Debian package list: its software bill of materials."""
        output = self.client.containers.run(
            tag,
            ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\n"],
            entrypoint="",
            user="0:0",
            remove=True,
            network_disabled=True,
        )
        return "".join(sorted(output.decode().splitlines(keepends=True)))

    def _labels(self, tag: str) -> dict[str, str]:
        import docker.errors

        try:
            return dict(self.client.images.get(tag).labels or {})
        except docker.errors.ImageNotFound:
            return {}

    def _size(self, tag: str) -> int:
        return int(self.client.images.get(tag).attrs.get("Size", 0))

    def _failure(self, tag: str, problem: str) -> OperationFailed:
        return OperationFailed(
            [diagnostic("image-build-failed", tag, image=tag, problem=problem)]
        )


def sbom_name(tag: str) -> str:
    """Where an image's package list goes; the asset register names the same file."""
    return package_list(tag)


def build_images(
    out: Path, report: Report, only: list[str] | None = None, include_tests: bool = False
) -> list[Built]:
    """Build what is asked (and its parents); write the lock file and package lists to ``out``."""
    spec = load_spec()
    builder = Builder(spec, out, report)
    results = [builder.ensure_base()]
    for tag in build_order(spec, select(spec, only or [], include_tests)):
        results.append(builder.build(tag))
    out.mkdir(parents=True, exist_ok=True)
    lock = _read_lock(out)
    for built in results:
        sbom = out / sbom_name(built.tag)
        if not built.cached or not sbom.exists():
            sbom.write_text(builder.packages(built.tag))
        lock[built.tag] = {"id": built.image_id, "size": built.size, "packages": sbom.name}
    (out / LOCK_NAME).write_text(json.dumps(dict(sorted(lock.items())), indent=2) + "\n")
    return results


def _read_lock(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / LOCK_NAME).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def read_lock(out: Path) -> dict[str, Any]:
    return _read_lock(out)


def pinned_ids(folder: Path) -> tuple[dict[str, str], str]:
    """Each image tag's ID as ``images build`` recorded it (``images.lock.json``) or as the
    donor signed it into a bundle (``bundle.json`` of an imported bundle), and which file said
    so. An image ID is the sha256 of the image's configuration: content-addressed, as strong
    a pin as a registry digest for images that never went through a registry."""
    for name in (LOCK_NAME, "bundle.json"):
        path = folder / name
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        entries = data.get("images", {}) if name == "bundle.json" else data
        ids = {
            tag: str(value.get("id") if isinstance(value, dict) else value)
            for tag, value in (entries.items() if isinstance(entries, dict) else [])
        }
        return {t: i for t, i in ids.items() if re.fullmatch(r"sha256:[0-9a-f]{64}", i)}, str(path)
    return {}, ""
