"""The recipient admin's day over real SSH, on two test servers (proxy + apps on one,
PostgreSQL on the other), typed as an admin types it: relative paths, --private-key, both
languages. init -> validate -> preview -> deploy -> status -> upgrade (previewed) -> backup ->
restore -> rollback -> verify -> a forward rollback refused -> destroy --delete-data. Images
travel from the controller; host keys are recorded on first contact and a changed key stops
the next deploy."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from langcheck import english_leftovers

from e2e.helpers import api, broken_release_catalog, https_health, spbe_kit

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible, pytest.mark.slow]

FILLED = {
    "domain: ISI": "domain: garutkab.go.id",
    "agreement: ISI": "agreement: 027/PKS-SMD/2026/014",
    "date: ISI": "date: 2026-11-02",
    "name: ISI                    # ISI: admin Diskominfo": "name: Asep Sunandar",
    "email: ISI                   # ISI\n  dpo": "email: admin@garutkab.go.id\n  dpo",
    "name: ISI ": "name: Rina Marlina ",
    "email: ISI ": "email: ppdp@garutkab.go.id ",
    "provider: ISI": "provider: Diskominfo Kabupaten Garut",
    "legal_basis: ISI": "legal_basis: Pelaksanaan tugas pemerintahan (UU 27/2022 Ps. 20 ayat 2 huruf e)",
    "dpia: ISI": "dpia: DPIA/DISKOMINFO-GRT/2026/001",
    "name: ISI                    # ISI: penanggung jawab pemberitahuan, biasanya PPDP": "name: Rina Marlina",
    "email: ISI                   # ISI\n  subjects_channel":
        "email: ppdp@garutkab.go.id\n  subjects_channel",
    "subjects_channel: ISI": "subjects_channel: Surat dan SMS ke nomor yang terdaftar",
    "keep: 14": "keep: 14\n  copy_to: app1",
    # One release behind, so the day has an upgrade in it.
    'e-simpati:\n    version: "1.1.0"': 'e-simpati:\n    version: "1.0.0"',
}


def fill_in(path: Path, app_address: str, db_address: str) -> None:
    """What the admin types into the profile that `init` wrote."""
    text = path.read_text()
    for marker, value in FILLED.items():
        assert marker in text, marker
        text = text.replace(marker, value, 1)
    text = text.replace("address: ISI", f"address: {app_address}", 1)
    text = text.replace("address: ISI", f"address: {db_address}", 1)
    assert "ISI " not in text.split("aplikasi_umum")[1] and ": ISI\n" not in text, text
    path.write_text(text)


def in_indonesian(done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert english_leftovers(output) == [], (english_leftovers(output), output[-3000:])


def test_admin_day_over_ssh(test_servers, tmp_path: Path) -> None:
    servers = test_servers(2)
    app_server, db_server = servers.servers
    shutil.copy(servers.key, tmp_path / "walk_key")
    key = "walk_key"

    def kit(*args: str) -> subprocess.CompletedProcess[str]:
        return spbe_kit(*args, "--private-key", key, cwd=tmp_path)

    started = spbe_kit("init", "32.05", "-o", "garut.yaml", "--lang", "id", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    in_indonesian(started)
    unfilled = spbe_kit("validate", "garut.yaml", "--lang", "id", cwd=tmp_path)
    assert unfilled.returncode == 2
    assert unfilled.stderr.count("[placeholder-unfilled]") >= 10, unfilled.stderr
    in_indonesian(unfilled)
    profile = tmp_path / "garut.yaml"
    fill_in(profile, app_server.address, db_server.address)
    assert spbe_kit("validate", "garut.yaml", cwd=tmp_path).returncode == 0

    # A preview on fresh hosts (no image there yet) says what would travel and changes nothing.
    checked = kit("deploy", "garut.yaml", "--check", "--lang", "id")
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-3000:]
    assert "mode periksa:" in checked.stdout
    in_indonesian(checked)
    assert servers.ssh(app_server, "docker ps -aq").stdout.strip() == b""

    first = kit("deploy", "garut.yaml", "--lang", "id")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-3000:]
    in_indonesian(first)
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    # The image archives that travelled are not kept on the controller.
    assert not list((tmp_path / "build" / "garut" / "state" / "images").glob("*.tar"))

    known = profile.with_name("garut.known_hosts")
    for server in (app_server, db_server):
        found = subprocess.run(["ssh-keygen", "-F", server.address, "-f", str(known)], capture_output=True)
        assert found.returncode == 0, f"{server.address} not recorded in {known}"

    for lang, word in (("id", "sehat"), ("en", "healthy")):
        shown = kit("status", "garut.yaml", "--lang", lang)
        assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-2000:]
        assert shown.stdout.count(word) >= 4, shown.stdout
        if lang == "id":
            in_indonesian(shown)

    published = servers.ssh(db_server, "docker ps --format '{{.Names}} {{.Ports}}'").stdout.decode()
    assert f"{db_server.address}:5432->5432/tcp" in published
    apps = servers.ssh(app_server, "docker ps --format '{{.Names}}'").stdout.decode().split()
    assert sorted(apps) == sorted(
        f"spbe-garut-{n}"
        for n in (
            "e-simpati-app-1",
            "layanan-publik-app-1",
            "proxy-proxy-1",
            "simpeg-app-1",
            "backup-backup-1",
            "exporters-node-exporter-1",
            "monitoring-prometheus-1",
            "monitoring-alertmanager-1",
            "monitoring-blackbox-1",
        )
    )
    # Monitoring across the two hosts (init turns it on): the database host's exporters are
    # published on its own address only, and Prometheus on the apps host reads every target.
    assert f"{db_server.address}:9100->9100/tcp" in published, published
    assert f"{db_server.address}:9187->9187/tcp" in published, published
    deadline = time.monotonic() + 90
    while True:
        up = servers.ssh(
            app_server,
            "docker exec spbe-garut-monitoring-prometheus-1 promtool query instant http://127.0.0.1:9090 up",
        ).stdout.decode()
        if up.count("=> 1 @") >= 9 or time.monotonic() > deadline:
            break
        time.sleep(3)
    # Prometheus, Alertmanager, blackbox, two node exporters, PostgreSQL, three apps.
    assert up.count("=> 1 @") == 9 and "=> 0 @" not in up, up
    # Backups: the database host backs up its databases; the apps host (the profile's copy_to)
    # backs up its volumes and pulls a second copy of the dumps over the internal network.
    db_side = servers.ssh(db_server, "docker ps --format '{{.Names}}'").stdout.decode().split()
    assert "spbe-garut-backup-backup-1" in db_side
    pulled = servers.ssh(
        app_server,
        "docker exec spbe-garut-backup-backup-1 sh -c "
        "'PGPASSWORD=$(cat $PGPASSWORD_FILE) psql -At -d simpeg -c \"SELECT count(*) FROM spbe_schema\"'",
    )
    assert pulled.stdout.decode().strip().isdigit()

    # Between hosts PostgreSQL speaks only TLS: from the app host a plaintext login is refused,
    # a verified TLS one (the scheduler's own settings) works, and every app is connected over
    # TLS (UU 27/2022 Pasal 35).
    psql = (
        "docker exec {env} spbe-garut-backup-backup-1 sh -c "
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
            "docker exec spbe-garut-postgres-postgres-1 psql -h /run/postgresql -U postgres -At -c "
            '"SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) '
            'WHERE a.client_addr IS NOT NULL"',
        )
        .stdout.decode()
        .split()
    )
    assert all(line.endswith("|t") for line in sessions), sessions
    connected = {line.rsplit("-", 1)[0] for line in sessions if line.split("|")[0][-1:].isdigit()}
    assert connected == {"e-simpati", "layanan-publik", "simpeg"}, sessions

    again = kit("deploy", "garut.yaml")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "\n0 task(s) changed in" in again.stdout

    # The documented upgrade, previewed then run: the pre-upgrade backup packs the volumes with
    # the image that runs now (the new one is not on the host yet), then the new image travels.
    text = profile.read_text()
    profile.write_text(text.replace('e-simpati:\n    version: "1.0.0"', 'e-simpati:\n    version: "1.1.0"'))
    assert profile.read_text() != text
    preview = kit("deploy", "garut.yaml", "--check")
    assert preview.returncode == 0, preview.stdout[-3000:] + preview.stderr[-2000:]
    assert "e-simpati: 1.0.0 -> 1.1.0 (upgrade)" in preview.stdout
    upgraded = kit("deploy", "garut.yaml")
    assert upgraded.returncode == 0, upgraded.stdout[-4000:] + upgraded.stderr[-3000:]
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    running = servers.ssh(app_server, "docker ps --format '{{.Image}}'").stdout.decode()
    assert "spbe-kit/e-simpati:1.1.0" in running

    # Backup, a record lost, restore: the record is back.
    record = {"nip": "198807242015031002", "name": "Dadan Hermawan", "unit": "BKPSDM"}
    api(profile, "simpeg", "/api/records", record)
    made = kit("backup", "garut.yaml", "--app", "simpeg", "--lang", "id")
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    in_indonesian(made)
    ident = re.search(r"^cadangan (\S+) ditulis", made.stdout, re.M).group(1)
    listed = kit("backups", "garut.yaml", "--lang", "id")
    assert listed.returncode == 0 and ident in listed.stdout, listed.stdout + listed.stderr
    in_indonesian(listed)
    servers.ssh(
        db_server,
        "docker exec spbe-garut-postgres-postgres-1 psql -h /run/postgresql -U postgres -d simpeg "
        "-c \"DELETE FROM employees WHERE nip = '198807242015031002'\"",
    )
    assert record["nip"] not in {r["nip"] for r in api(profile, "simpeg", "/api/records")["records"]}
    restored = kit("restore", "garut.yaml", "--backup", ident, "--app", "simpeg", "--yes")
    assert restored.returncode == 0, restored.stdout[-3000:] + restored.stderr[-3000:]
    assert record["nip"] in {r["nip"] for r in api(profile, "simpeg", "/api/records")["records"]}

    # Roll e-simpati back to the first release: code and data; then no drift.
    history = json.loads(kit("releases", "garut.yaml", "--json").stdout)["app1"]
    first_release, upgrade_release = history[0]["number"], history[-1]["number"]
    back = kit("rollback", "garut.yaml", "--to", str(first_release), "--app", "e-simpati", "--yes")
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
    assert api(profile, "e-simpati", "/healthz")["version"] == "1.0.0"
    clean = kit("verify", "garut.yaml")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]

    # A release that never gets healthy: the running one keeps serving, and nothing of the
    # failed deploy stays on either host (the database host's scheduler, which went ahead on
    # its own, included): verify finds no drift without another deploy.
    (tmp_path / "broken").mkdir()
    broken = broken_release_catalog(tmp_path / "broken", "e-simpati", "1.0.1-broken", like="1.0.0")
    text = profile.read_text()  # still names 1.1.0: a rollback does not edit the profile
    profile.write_text(re.sub(r'(e-simpati:\n    version: )"[^"]+"', r'\1"1.0.1-broken"', text))
    assert "1.0.1-broken" in profile.read_text()
    failed = kit("--catalog", str(broken), "deploy", "garut.yaml")
    assert failed.returncode == 4, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "[switch-kept-running]" in failed.stderr, failed.stderr[-3000:]
    profile.write_text(text)
    assert api(profile, "e-simpati", "/healthz")["version"] == "1.0.0"
    kept = kit("verify", "garut.yaml")
    assert kept.returncode == 0, kept.stdout[-3000:] + kept.stderr[-3000:]

    # Forward again without --yes: refused, nothing changed.
    before = servers.ssh(app_server, "docker ps --format '{{.Names}} {{.Image}} {{.ID}}'").stdout
    forward = kit("rollback", "garut.yaml", "--to", str(upgrade_release), "--app", "e-simpati")
    assert forward.returncode == 2, forward.stdout[-3000:] + forward.stderr[-3000:]
    assert "a rollback to a newer release" in forward.stderr
    assert servers.ssh(app_server, "docker ps --format '{{.Names}} {{.Image}} {{.ID}}'").stdout == before

    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    subprocess.run(
        ["ssh-keygen", "-R", app_server.address, "-f", str(known)], check=True, capture_output=True
    )
    forged = other.with_suffix(".pub").read_text().split()[1]
    with known.open("a") as handle:
        handle.write(f"{app_server.address} ssh-ed25519 {forged}\n")
    refused = kit("deploy", "garut.yaml")
    assert refused.returncode == 1
    assert "[host-key-changed]" in refused.stderr, refused.stderr[-2000:]
    subprocess.run(
        ["ssh-keygen", "-R", app_server.address, "-f", str(known)], check=True, capture_output=True
    )

    # destroy --delete-data leaves no volume of the region on any host (the uploads included).
    known.unlink()
    gone = kit("destroy", "garut.yaml", "--yes", "--delete-data")
    assert gone.returncode == 0, gone.stdout[-3000:] + gone.stderr[-3000:]
    for server in (app_server, db_server):
        left = servers.ssh(server, "docker volume ls -q").stdout.decode().split()
        assert not [v for v in left if v.startswith("spbe-garut-")], (server.address, left)
