"""The signed offline grant bundle: export and verify; a flipped byte in an image layer or
another donor's key is refused; an untouched copy is imported and the imported kit deploys the
demo onto a test server whose network reaches nothing but the controller's SSH."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES
from e2e.helpers import https_health, spbe_kit

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible, pytest.mark.slow]


@pytest.fixture(scope="module")
def bundle(images: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("bundle")
    made = spbe_kit("bundle", "keygen", "-o", str(folder / "donor"))
    assert made.returncode == 0, made.stderr
    exported = spbe_kit(
        "bundle",
        "export",
        "--key",
        str(folder / "donor"),
        "-o",
        str(folder / "grant.bundle"),
        "--images",
        str(images),
    )
    assert exported.returncode == 0, exported.stdout[-2000:] + exported.stderr[-2000:]
    assert "signed with" in exported.stdout
    return folder / "grant.bundle", folder / "donor.pub"


def test_verify_passes_then_a_flipped_layer_byte_is_named(bundle: tuple[Path, Path], tmp_path: Path) -> None:
    path, key = bundle
    good = spbe_kit("bundle", "verify", str(path), "--key", str(key))
    assert good.returncode == 0, good.stderr
    assert "bundle verified" in good.stdout
    damaged = tmp_path / "damaged.bundle"
    damaged.write_bytes(path.read_bytes())
    with tarfile.open(damaged) as outer:
        images = outer.getmember("images/images.tar")
        handle = outer.extractfile(images)
        assert handle is not None
        with tarfile.open(fileobj=handle) as inner:
            layer = max((m for m in inner.getmembers() if m.isfile()), key=lambda m: m.size)
        where = images.offset_data + layer.offset_data + layer.size // 2
    with damaged.open("r+b") as raw:
        raw.seek(where)
        byte = raw.read(1)
        raw.seek(where)
        raw.write(bytes([byte[0] ^ 0x01]))
    refused = spbe_kit("bundle", "verify", str(damaged), "--key", str(key))
    assert refused.returncode == 3
    assert f"bundle member images/images.tar ({layer.name}) does not match" in refused.stderr
    into = tmp_path / "never"
    not_imported = spbe_kit("bundle", "import", str(damaged), "--key", str(key), "--into", str(into))
    assert not_imported.returncode == 3 and not into.exists()


def test_a_bundle_signed_with_another_key_is_refused(bundle: tuple[Path, Path], tmp_path: Path) -> None:
    path, _ = bundle
    assert spbe_kit("bundle", "keygen", "-o", str(tmp_path / "other")).returncode == 0
    refused = spbe_kit("bundle", "verify", str(path), "--key", str(tmp_path / "other.pub"))
    assert refused.returncode == 3 and "[bundle-signature-invalid]" in refused.stderr
    into = tmp_path / "offline"
    not_imported = spbe_kit(
        "bundle", "import", str(path), "--key", str(tmp_path / "other.pub"), "--into", str(into)
    )
    assert not_imported.returncode == 3 and not into.exists()


def offline_profile(folder: Path, address: str) -> Path:
    data = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    data["hosts"] = {"server": {"address": address, "user": "root", "roles": ["proxy", "apps", "database"]}}
    data["proxy"] = {"bind": "0.0.0.0", "http_port": 8080, "https_port": 8443}
    path = folder / "offline.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_import_then_deploy_with_no_registry_and_no_internet(
    bundle: tuple[Path, Path], test_servers, tmp_path: Path
) -> None:
    path, key = bundle
    into = tmp_path / "offline"
    imported = spbe_kit("bundle", "import", str(path), "--key", str(key), "--into", str(into))
    assert imported.returncode == 0, imported.stdout[-2000:] + imported.stderr[-2000:]
    kit = into / "venv" / "bin" / "spbe-kit"
    assert kit.is_file() and "11 images loaded" in imported.stdout
    assert (into / "collections" / "ansible_collections" / "community" / "docker" / "MANIFEST.json").is_file()

    servers = test_servers(1, internal=True)
    server = servers.servers[0]
    outside = servers.ssh(server, "curl -sS -m 5 -o /dev/null http://deb.debian.org/ 2>&1; echo rc=$?")
    assert "rc=0" not in outside.stdout.decode(), "the isolated server reached the internet"

    profile = offline_profile(tmp_path, server.address)
    deployed = subprocess.run(
        [str(kit), "--lang", "en", "deploy", str(profile), "--private-key", str(servers.key)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-3000:]
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    running = servers.ssh(server, "docker ps --format '{{.Names}} {{.Status}}'").stdout.decode()
    # Three apps, postgres, proxy, backup scheduler; the demo's monitoring: two exporters,
    # Prometheus, Alertmanager and the blackbox exporter.
    assert running.count("(healthy)") == 11, running


def test_the_wheels_alone_install_the_kit_on_an_isolated_server(
    bundle: tuple[Path, Path], test_servers, tmp_path: Path
) -> None:
    path, _ = bundle
    with tarfile.open(path) as archive:
        wheels = [m for m in archive.getmembers() if m.name.startswith("wheels/")]
        archive.extractall(tmp_path, members=wheels, filter="data")
    servers = test_servers(1, internal=True)
    server = servers.servers[0]
    subprocess.run(
        ["docker", "cp", str(tmp_path / "wheels"), f"{server.name}:/root/wheels"],
        check=True,
        capture_output=True,
    )
    done = servers.ssh(
        server,
        "python3 -m venv /root/kit && /root/kit/bin/pip install -q --no-index --find-links /root/wheels "
        "/root/wheels/spbe_kit-*.whl && /root/kit/bin/spbe-kit --help",
        check=False,
    )
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, out[-3000:]
    assert "Usage: spbe-kit" in out and "bundle" in out
