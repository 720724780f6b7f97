"""Bundle verification on small hand-made bundles: what a tampered file looks like to it."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from conftest import require_tool
from spbe_kit import bundle
from spbe_kit.errors import DifferencesFound

pytestmark = pytest.mark.tools


def make(
    folder: Path, members: dict[str, bytes], extra: dict[str, bytes] | None = None, key: str = "donor"
) -> Path:
    require_tool("ssh-keygen")
    if not (folder / key).exists():
        bundle.keygen(folder / key)
    manifest = {
        "schema": bundle.SCHEMA,
        "members": {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in members.items()},
    }
    (folder / "bundle.json").write_text(json.dumps(manifest))
    signature = bundle.sign(folder / "bundle.json", folder / key)
    path = folder / "test.bundle"
    with tarfile.open(path, "w") as archive:
        for name, data in [
            ("bundle.json", (folder / "bundle.json").read_bytes()),
            ("bundle.json.sig", signature),
            *members.items(),
            *(extra or {}).items(),
        ]:
            archive.addfile(bundle._info(name, len(data)), io.BytesIO(data))
    return path


def refused(path: Path, key: Path, into: Path | None = None) -> list[str]:
    with pytest.raises(DifferencesFound) as caught:
        bundle.verify(path, key, extract_to=into)
    return [d.params.get("member") or d.code for d in caught.value.diagnostics]


def test_an_untouched_bundle_verifies(tmp_path: Path) -> None:
    path = make(tmp_path, {"kit/catalog.yaml": b"schema: x\n", "wheels/a.whl": b"PK"})
    assert set(bundle.verify(path, tmp_path / "donor.pub").manifest["members"]) == {
        "kit/catalog.yaml",
        "wheels/a.whl",
    }


def test_an_added_member_is_named(tmp_path: Path) -> None:
    path = make(tmp_path, {"kit/catalog.yaml": b"x"}, extra={"wheels/evil.whl": b"PK"})
    assert refused(path, tmp_path / "donor.pub") == ["wheels/evil.whl (not in the signed manifest)"]


def test_a_traversing_member_is_refused_and_not_written(tmp_path: Path) -> None:
    into = tmp_path / "staging"
    into.mkdir()
    path = make(tmp_path, {"kit/catalog.yaml": b"x"}, extra={"../outside.txt": b"owned"})
    assert refused(path, tmp_path / "donor.pub", into) == ["../outside.txt (not in the signed manifest)"]
    assert not (tmp_path / "outside.txt").exists()


def test_a_changed_manifest_fails_the_signature(tmp_path: Path) -> None:
    path = make(tmp_path, {"kit/catalog.yaml": b"x"})
    data = bytearray(path.read_bytes())
    at = data.index(b'"schema"')
    data[at + 1] = ord("S")
    path.write_bytes(bytes(data))
    assert refused(path, tmp_path / "donor.pub") == ["bundle-signature-invalid"]


def test_a_member_missing_from_the_file_is_named(tmp_path: Path) -> None:
    path = make(tmp_path, {"kit/catalog.yaml": b"x", "kit/templates/a.j2": b"y"})
    with tarfile.open(path) as archive:
        kept = [
            (m, archive.extractfile(m).read()) for m in archive.getmembers() if m.name != "kit/templates/a.j2"
        ]
    with tarfile.open(path, "w") as archive:
        for member, data in kept:
            archive.addfile(member, io.BytesIO(data))
    assert refused(path, tmp_path / "donor.pub") == ["kit/templates/a.j2 (missing)"]
