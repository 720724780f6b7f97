"""Deploy a two-server region over real SSH: proxy + apps on one test server, PostgreSQL on
the other. Images travel from the controller; host keys are recorded on first contact and a
changed key stops the next deploy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES
from e2e.helpers import https_health, spbe_kit

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible, pytest.mark.slow]


def two_server_profile(folder: Path, proxy_apps: str, database: str) -> Path:
    text = (EXAMPLES / "karawang.yaml").read_text()
    text = (
        text.replace("10.15.20.11", proxy_apps)
        .replace("10.15.20.12", database)
        .replace("user: spbe", "user: root")
        # Starts one release behind, so the test can upgrade it.
        .replace('e-simpati:\n    version: "1.1.0"', 'e-simpati:\n    version: "1.0.0"')
    )
    path = folder / "karawang.yaml"
    path.write_text(text)
    return path


def test_two_servers_over_ssh(test_servers, tmp_path: Path) -> None:
    servers = test_servers(2)
    app_server, db_server = servers.servers
    profile = two_server_profile(tmp_path, app_server.address, db_server.address)
    # Relative paths, as an admin types them: the profile and the key beside it.
    shutil.copy(servers.key, tmp_path / "walk_key")
    key = "walk_key"

    # A preview on fresh hosts (no image there yet) says what would travel and changes nothing.
    checked = spbe_kit("deploy", "karawang.yaml", "--check", "--private-key", key, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-3000:]
    assert servers.ssh(app_server, "docker ps -aq").stdout.strip() == b""

    first = spbe_kit("deploy", "karawang.yaml", "--private-key", key, cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-3000:]
    assert "transfer missing images" not in first.stderr
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    # The image archives that travelled are not kept on the controller.
    assert not list((tmp_path / "build" / "karawang" / "state" / "images").glob("*.tar"))

    known = profile.with_name("karawang.known_hosts")
    for server in (app_server, db_server):
        found = subprocess.run(["ssh-keygen", "-F", server.address, "-f", str(known)], capture_output=True)
        assert found.returncode == 0, f"{server.address} not recorded in {known}"

    published = servers.ssh(db_server, "docker ps --format '{{.Names}} {{.Ports}}'").stdout.decode()
    assert f"{db_server.address}:5432->5432/tcp" in published
    apps = servers.ssh(app_server, "docker ps --format '{{.Names}}'").stdout.decode().split()
    assert sorted(apps) == sorted(
        f"spbe-karawang-{n}"
        for n in (
            "e-simpati-app-1",
            "layanan-publik-app-1",
            "proxy-proxy-1",
            "simpeg-app-1",
            "backup-backup-1",
        )
    )
    # Backups: the database host backs up its databases; the apps host (the profile's copy_to)
    # backs up its volumes and pulls a second copy of the dumps over the internal network.
    db_side = servers.ssh(db_server, "docker ps --format '{{.Names}}'").stdout.decode().split()
    assert "spbe-karawang-backup-backup-1" in db_side
    pulled = servers.ssh(
        app_server,
        "docker exec spbe-karawang-backup-backup-1 sh -c "
        "'PGPASSWORD=$(cat $PGPASSWORD_FILE) psql -At -d simpeg -c \"SELECT count(*) FROM spbe_schema\"'",
    )
    assert pulled.stdout.decode().strip().isdigit()

    # Between hosts PostgreSQL speaks only TLS: from the app host a plaintext login is refused,
    # a verified TLS one (the scheduler's own settings) works, and every app is connected over
    # TLS (UU 27/2022 Pasal 35).
    psql = (
        "docker exec {env} spbe-karawang-backup-backup-1 sh -c "
        "'PGPASSWORD=$(cat $PGPASSWORD_FILE) psql -At -d simpeg -c \"{sql}\"'"
    )
    plain = servers.ssh(app_server, psql.format(env="-e PGSSLMODE=disable", sql="SELECT 1"), check=False)
    assert plain.returncode != 0
    assert "no encryption" in plain.stderr.decode(), plain.stderr.decode()
    over_tls = servers.ssh(
        app_server, psql.format(env="", sql="SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    )
    assert over_tls.stdout.decode().strip() == "t"
    sessions = (
        servers.ssh(
            db_server,
            "docker exec spbe-karawang-postgres-postgres-1 psql -h /run/postgresql -U postgres -At -c "
            '"SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) '
            'WHERE a.client_addr IS NOT NULL"',
        )
        .stdout.decode()
        .split()
    )
    assert all(line.endswith("|t") for line in sessions), sessions
    connected = {line.rsplit("-", 1)[0] for line in sessions if line.split("|")[0][-1:].isdigit()}
    assert connected == {"e-simpati", "layanan-publik", "simpeg"}, sessions

    again = spbe_kit("deploy", str(profile), "--private-key", key, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "\n0 task(s) changed in" in again.stdout

    # The documented upgrade, over SSH: the pre-upgrade backup packs the volumes with the image
    # that runs now (the new one is not on the host yet), then the new image travels.
    text = profile.read_text()
    profile.write_text(text.replace('e-simpati:\n    version: "1.0.0"', 'e-simpati:\n    version: "1.1.0"'))
    assert profile.read_text() != text
    upgraded = spbe_kit("deploy", "karawang.yaml", "--private-key", key, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stdout[-4000:] + upgraded.stderr[-3000:]
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    running = servers.ssh(app_server, "docker ps --format '{{.Image}}'").stdout.decode()
    assert "spbe-kit/e-simpati:1.1.0" in running

    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    subprocess.run(
        ["ssh-keygen", "-R", app_server.address, "-f", str(known)], check=True, capture_output=True
    )
    forged = other.with_suffix(".pub").read_text().split()[1]
    with known.open("a") as handle:
        handle.write(f"{app_server.address} ssh-ed25519 {forged}\n")
    refused = spbe_kit("deploy", str(profile), "--private-key", key, cwd=tmp_path)
    assert refused.returncode == 1
    assert "[host-key-changed]" in refused.stderr, refused.stderr[-2000:]
    subprocess.run(
        ["ssh-keygen", "-R", app_server.address, "-f", str(known)], check=True, capture_output=True
    )

    # destroy --delete-data leaves no volume of the region on any host (the uploads included).
    known.unlink()
    gone = spbe_kit("destroy", "karawang.yaml", "--yes", "--delete-data", "--private-key", key, cwd=tmp_path)
    assert gone.returncode == 0, gone.stdout[-3000:] + gone.stderr[-3000:]
    for server in (app_server, db_server):
        left = servers.ssh(server, "docker volume ls -q").stdout.decode().split()
        assert not [v for v in left if v.startswith("spbe-karawang-")], (server.address, left)
