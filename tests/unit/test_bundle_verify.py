"""Bundle verification on small hand-made bundles: what a tampered file looks like to it."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from conftest import require_tool
from spbe_kit.errors import DifferencesFound
from spbe_kit.grant import bundle

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


# -- Limits: nothing is read unbounded before or after the signature check --------------------


def test_a_manifest_claiming_gigabytes_is_refused_without_reading_it(tmp_path: Path) -> None:
    import resource

    require_tool("ssh-keygen")
    bundle.keygen(tmp_path / "donor")
    path = tmp_path / "huge.bundle"
    with tarfile.open(path, "w") as archive:
        archive.addfile(bundle._info("bundle.json", 0), io.BytesIO(b""))
    data = bytearray(path.read_bytes())
    claim = bundle._info("bundle.json", 2 << 30).tobuf()  # the header claims 2 GiB
    data[: len(claim)] = claim
    path.write_bytes(bytes(data))
    assert path.stat().st_size < 64 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DifferencesFound) as caught:
        bundle.verify(path, tmp_path / "donor.pub")
    assert caught.value.diagnostics[0].code == "bundle-signature-invalid"
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024, f"verify grew by {grown_kib} KiB"


def test_a_member_whose_header_size_differs_is_not_read(tmp_path: Path) -> None:
    path = make(tmp_path, {"wheels/a.whl": b"PK" * 10})
    data = bytearray(path.read_bytes())
    # Rewrite the member's header to claim 1 byte more than signed (checksum recomputed).
    with tarfile.open(path) as archive:
        member = archive.getmember("wheels/a.whl")
    offset = member.offset
    changed = bundle._info("wheels/a.whl", 21).tobuf()
    data[offset : offset + len(changed)] = changed
    path.write_bytes(bytes(data))
    into = tmp_path / "into"
    into.mkdir()
    assert refused(path, tmp_path / "donor.pub", into) == ["wheels/a.whl (size 21, signed 20)"]
    assert not (into / "wheels" / "a.whl").exists()


@pytest.mark.parametrize("content", [b"", b"not a tar at all\n" * 50])
def test_an_empty_or_non_tar_file_is_exit_2_with_a_message(content: bytes, tmp_path: Path, cli) -> None:
    bundle.keygen(tmp_path / "donor")
    (tmp_path / "x.bundle").write_bytes(content)
    result = cli("bundle", "verify", "x.bundle", "--key", "donor.pub", cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    assert "[bundle-not-tar]" in result.stderr and "Traceback" not in result.stderr


def test_a_symlink_member_is_refused(tmp_path: Path) -> None:
    path = make(tmp_path, {"kit/catalog.yaml": b"x"})
    with tarfile.open(path, "a") as archive:
        link = tarfile.TarInfo("kit/evil")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    assert refused(path, tmp_path / "donor.pub") == ["kit/evil (not in the signed manifest)"]


def signed_with(folder: Path, extra: dict[str, object]) -> Path:
    """A bundle whose signed manifest carries ``extra`` fields (validity window, versions)."""
    require_tool("ssh-keygen")
    if not (folder / "donor").exists():
        bundle.keygen(folder / "donor")
    data = b"x"
    manifest = {
        "schema": bundle.SCHEMA,
        "members": {"kit/a": {"sha256": hashlib.sha256(data).hexdigest(), "size": 1}},
        **extra,
    }
    (folder / "bundle.json").write_text(json.dumps(manifest))
    signature = bundle.sign(folder / "bundle.json", folder / "donor")
    path = folder / "w.bundle"
    with tarfile.open(path, "w") as archive:
        for name, content in (
            ("bundle.json", (folder / "bundle.json").read_bytes()),
            ("bundle.json.sig", signature),
            ("kit/a", data),
        ):
            archive.addfile(bundle._info(name, len(content)), io.BytesIO(content))
    return path


def test_an_expired_or_older_bundle_is_refused_unless_allowed(tmp_path: Path) -> None:
    from spbe_kit import __version__
    from spbe_kit.errors import InvalidInput

    key = tmp_path / "donor.pub"
    expired = signed_with(
        tmp_path, {"signed_at": "2020-01-01T00:00:00+00:00", "expires": "2021-01-01T00:00:00+00:00"}
    )
    assert refused(expired, key) == ["bundle-expired"]
    assert bundle.verify(expired, key, allow_older=True).manifest["expires"].startswith("2021")
    older = signed_with(tmp_path, {"kit": {"version": "0.0.1"}})
    assert refused(older, key) == ["bundle-older"]
    assert bundle.verify(older, key, allow_older=True)
    newer_kit = signed_with(tmp_path, {"min_kit_version": "99.0.0"})
    with pytest.raises(InvalidInput) as caught:
        bundle.verify(newer_kit, key, allow_older=True)
    assert caught.value.diagnostics[0].params == {"needs": "99.0.0", "have": __version__}
    current = signed_with(tmp_path, {"kit": {"version": __version__}, "expires": "2999-01-01T00:00:00+00:00"})
    assert bundle.verify(current, key)
