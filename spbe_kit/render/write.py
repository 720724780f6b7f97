"""Put a rendered tree on disk atomically, and compare a tree on disk with a fresh render.

A render is written to a staging folder beside the target, then swapped in by rename; on any
failure (or Ctrl-C) the staging folder is removed and the previous tree is left intact.
Run records (``runs/``) and deploy state (``state/``) kept in the folder survive a render.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spbe_kit.errors import InvalidInput, diagnostic
from spbe_kit.render.tree import MANIFEST

PRESERVED = ("runs", "state")
FILE_MODE = 0o600
DIR_MODE = 0o700


def _guard(out: Path) -> None:
    if out.is_symlink():
        raise InvalidInput([diagnostic("output-symlink", str(out), path=str(out))])
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise InvalidInput([diagnostic("output-not-rendered", str(out), path=str(out))])


def write_tree(files: dict[str, bytes], out: Path) -> None:
    _guard(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    retired = out.parent / f".{out.name}.old-{os.getpid()}"
    moved: list[str] = []
    try:
        os.chmod(staging, DIR_MODE)
        for rel, data in files.items():
            _write_file(staging, rel, data)
        for folder in staging.rglob("*"):
            if folder.is_dir():
                os.chmod(folder, DIR_MODE)
        for name in PRESERVED:
            kept = out / name
            if kept.is_dir() and not kept.is_symlink():
                os.rename(kept, staging / name)
                moved.append(name)
        if out.exists():
            os.rename(out, retired)
        os.rename(staging, out)
    except BaseException:
        for name in moved:
            if (staging / name).exists() and out.is_dir():
                os.rename(staging / name, out / name)
        if not out.exists() and retired.exists():
            os.rename(retired, out)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _write_file(root: Path, rel: str, data: bytes) -> None:
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()):
        raise InvalidInput([diagnostic("path-outside", rel, value=rel)])
    target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass(frozen=True)
class Staleness:
    reasons: list[str]

    @property
    def stale(self) -> bool:
        return bool(self.reasons)


def compare_tree(files: dict[str, bytes], out: Path) -> Staleness:
    """Why the tree at ``out`` differs from ``files`` (empty when up to date)."""
    if not (out / MANIFEST).is_file():
        return Staleness([f"{out} has not been rendered"])
    reasons = _input_changes(files, out)
    on_disk = _tree_files(out)
    for rel in sorted(set(files) | set(on_disk)):
        if rel not in on_disk:
            reasons.append(f"{rel} is missing")
        elif rel not in files:
            reasons.append(f"{rel} is not part of the render")
        elif on_disk[rel].read_bytes() != files[rel] and rel not in (MANIFEST, "SHA256SUMS"):
            reasons.append(f"{rel} differs")
    return Staleness(reasons)


def _input_changes(files: dict[str, bytes], out: Path) -> list[str]:
    try:
        old = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return [f"{MANIFEST} is unreadable"]
    new = json.loads(files[MANIFEST])
    reasons = []
    for key in ("profile", "catalog", "templates", "reference_data", "tool"):
        if old.get(key) != new.get(key):
            reasons.append(f"{key.replace('_', ' ')} changed since the last render")
    return reasons


def _tree_files(out: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        if rel.split("/")[0] in PRESERVED or not path.is_file():
            continue
        found[rel] = path
    return found
