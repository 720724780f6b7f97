"""Deploy onto this machine (local connection) with real Docker, Ansible, PostgreSQL, nginx.

The idempotence ladder: deploy (changed), deploy again (nothing changed, no restart), check
mode (reports, changes nothing); then status, locks, the health gate, secrets, destroy.
Tests run in file order against one deployment of Kota Banjar on ports 18080/18443.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT
from e2e import helpers
from e2e.helpers import (
    Traffic,
    broken_release_catalog,
    https_health,
    local_profile,
    region_containers,
    start_times,
)
from spbe_kit.auditors import benchmark
from spbe_kit.hosts import tls, vault

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible]
CODE = "32.79"
OUTPUTS: list[str] = []
CANARIES: dict[str, dict[str, str]] = {
    "apps": {
        app: {name: f"canary-{app}-{name}-{os.urandom(6).hex()}" for name in ("db_password", "app_key")}
        for app in ("e-simpati", "layanan-publik", "simpeg")
    },
    "postgres": {"superuser_password": f"canary-postgres-{os.urandom(6).hex()}"},
    "backup": {"db_password": f"canary-backup-{os.urandom(6).hex()}"},
    "exporters": {"db_password": f"canary-exporters-{os.urandom(6).hex()}"},
}


def spbe_kit(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it; every output is kept for the secret search."""
    result = helpers.spbe_kit(*args, **kwargs)
    OUTPUTS.append(result.stdout + result.stderr)
    return result


def canary_values() -> list[str]:
    return [
        v
        for group in CANARIES.values()
        for item in group.values()
        for v in (item.values() if isinstance(item, dict) else [item])
    ]


@pytest.fixture(scope="module")
def region(images: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("banjar")
    profile = local_profile(folder)
    password = vault.default_password_file(profile)
    password.write_text("test-vault-password\n")
    password.chmod(0o600)
    vault.save(vault.vault_path(profile), password, CANARIES)
    first = spbe_kit("deploy", str(profile), cwd=folder)
    yield profile, first
    spbe_kit("destroy", str(profile), "--yes", "--delete-data", cwd=folder)


def test_first_deploy_serves_every_app_over_https(region) -> None:
    profile, first = region
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    # The vault's id, the CA, three web certificates and PostgreSQL's; canaries kept.
    assert "generated 6 secrets" in first.stdout
    for app, host in (("e-simpati", "simpati"), ("simpeg", "simpeg"), ("layanan-publik", "layanan")):
        assert f"  {app}: https://{host}.banjarkota.localhost:18443/" in first.stdout
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    password_file = profile.with_name("banjar.vault-password")
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert profile.with_name("banjar.vault.yml").read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")


def test_http_redirects_to_https_with_hsts(region) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", 18080, timeout=5)
    connection.request("GET", "/api/records", headers={"Host": "simpeg.banjarkota.localhost"})
    response = connection.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == "https://simpeg.banjarkota.localhost:18443/api/records"


def test_the_proxy_keeps_its_access_log_on_the_host_and_the_scheduler_deletes_old_ones(region) -> None:
    """LOG-01/LOG-02 on real nginx: one file a day in <install_dir>/<region>/logs/proxy, outside
    the container; the scheduler on that host deletes files older than logs.retention_days."""
    import datetime

    profile, _ = region
    folder = profile.parent / "opt" / "kota-banjar" / "logs" / "proxy"
    assert https_health(profile)["simpeg"]
    today = datetime.datetime.now(datetime.UTC).date().isoformat()  # nginx runs in UTC
    lines = (folder / f"access-{today}.log").read_text().splitlines()
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in lines), lines[-5:]
    stale = folder / "access-2020-01-01.log"
    stale.write_text("an old day\n")
    project = "label=com.docker.compose.project=spbe-kota-banjar-backup"
    ids = subprocess.run(["docker", "ps", "-q", "--filter", project], capture_output=True, text=True)
    subprocess.run(["docker", "restart", *ids.stdout.split()], check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while stale.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not stale.exists() and (folder / f"access-{today}.log").exists()
    wait_healthy(profile)


SETTLED = "every host already holds this release"


def test_second_deploy_changes_nothing_and_restarts_nothing(region) -> None:
    profile, _ = region
    before = start_times(CODE)
    again = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert again.returncode == 0, again.stderr[-2000:]
    # The probe found every host as the release leaves it: no playbook ran.
    assert SETTLED in again.stdout and "\n0 task(s) changed in" in again.stdout
    assert not list((Path(again.stdout.rsplit("run log: ", 1)[1].strip())).glob("artifacts"))
    # The playbook itself, run in full, changes nothing either.
    full = spbe_kit("deploy", str(profile), "--full", cwd=profile.parent)
    assert full.returncode == 0, full.stderr[-2000:]
    assert SETTLED not in full.stdout and "\n0 task(s) changed in" in full.stdout, full.stdout[-2000:]
    assert start_times(CODE) == before


def test_a_secret_files_mode_or_a_backup_owner_changed_by_hand_is_put_back(region) -> None:
    """What only the playbook's folder and secret-file step would fix is not settled: the
    deploy runs the playbook, which puts both back (and restarts nothing)."""
    profile, _ = region
    root = next((profile.parent / "opt").rglob("secrets")).parent
    secret = root / "secrets" / "e-simpati.app_key"
    owner = (secret.stat().st_uid, secret.stat().st_gid)
    secret.chmod(0o644)
    stray = root / "backups" / "left-by-hand"
    stray.write_text("x")
    os.chown(stray, 0, 0)
    before = start_times(CODE)
    fixed = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert fixed.returncode == 0, fixed.stdout[-2000:] + fixed.stderr[-2000:]
    assert SETTLED not in fixed.stdout and "\n1 task(s) changed in" in fixed.stdout, fixed.stdout[-2000:]
    assert secret.stat().st_mode & 0o7777 == 0o400 and (secret.stat().st_uid, secret.stat().st_gid) == owner
    backups = (root / "backups").stat()
    assert (stray.stat().st_uid, stray.stat().st_gid) == (backups.st_uid, backups.st_gid) != (0, 0)
    stray.unlink()
    assert start_times(CODE) == before


def test_check_mode_reports_and_changes_nothing(region) -> None:
    profile, _ = region
    original = profile.read_text()
    before = start_times(CODE)
    try:
        layanan = '  layanan-publik:\n    version: "1.0.0"'
        profile.write_text(original.replace(layanan, layanan + "\n    settings:\n      sla_days: 3"))
        checked = spbe_kit("deploy", str(profile), "--check", cwd=profile.parent)
        assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
        # The files count too (it said "0 task(s) would change", then listed changed files).
        assert re.search(r"check mode: 2 file\(s\) and \d+ task\(s\) would change; nothing", checked.stdout)
        assert "local: layanan-publik/config.json would be modified" in checked.stdout
        assert "local: layanan-publik/compose.yaml would be modified" in checked.stdout
        assert "simpeg/config.json" not in checked.stdout
        assert start_times(CODE) == before
        labels = {
            c["Name"]: c["Config"]["Labels"].get("org.spbe-kit.config-sha256")
            for c in region_containers(CODE)
        }
    finally:
        profile.write_text(original)
    restored = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert "\n0 task(s) changed in" in restored.stdout, restored.stdout[-2000:]
    assert {
        c["Name"]: c["Config"]["Labels"].get("org.spbe-kit.config-sha256") for c in region_containers(CODE)
    } == labels


def _installed(profile: Path) -> dict[str, str]:
    """Every file the region has on the host (secrets and certificates included), by sha256;
    not what changes on its own: backups, access logs (monitoring checks the apps through the
    proxy), metrics."""
    import hashlib

    root = profile.parent / "opt"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {"backups", "logs", "metrics"} & set(p.parts)
    }


def test_a_second_controller_with_its_own_vault_is_refused_and_changes_nothing(
    region, tmp_path: Path
) -> None:
    """Two clones, two vaults, one host: the second clone's deploy, backup and restore are
    refused before anything changes; then every container restarted still serves."""
    profile, _ = region
    clone = tmp_path / "second-clone"
    clone.mkdir()
    (clone / profile.name).write_text(profile.read_text())
    before = _installed(profile)
    deployed = spbe_kit("deploy", profile.name, cwd=clone)
    assert deployed.returncode == 1, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    assert "[vault-mismatch]" in deployed.stderr, deployed.stderr[-3000:]
    assert "banjar.vault.yml" in deployed.stderr and "first deployed by" in deployed.stderr
    assert (clone / "banjar.vault.yml").exists()  # its own, new vault: never sent
    for command in (["backup"], ["restore", "--backup", "20261129T000000Z-manual", "--yes"]):
        refused = spbe_kit(command[0], profile.name, *command[1:], cwd=clone)
        assert refused.returncode == 1 and "[vault-mismatch]" in refused.stderr, refused.stderr[-2000:]
    assert _installed(profile) == before

    restart_everything_and_wait_healthy(profile)


def restart_everything_and_wait_healthy(profile: Path) -> None:
    """`docker restart` of every container of the region (a reboot, say): all must serve again."""
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=org.spbe-kit.region={CODE}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    subprocess.run(["docker", "restart", "-t", "5", *ids], check=True, capture_output=True)
    wait_healthy(profile)


def wait_healthy(profile: Path) -> None:
    for _ in range(60):
        status = spbe_kit("status", str(profile), "--json", cwd=profile.parent)
        if status.returncode == 0:
            break
        time.sleep(2)
    assert json.loads(status.stdout)["healthy"] is True, status.stdout[-3000:]


def test_status_json_all_healthy(region) -> None:
    profile, _ = region
    result = spbe_kit("status", str(profile), "--json", cwd=profile.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert data["healthy"] is True
    by_name = {c["component"]: c for c in data["components"]}
    assert set(by_name) == {
        "e-simpati", "simpeg", "layanan-publik", "postgres", "proxy", "backup", "exporters", "monitoring"
    }  # fmt: skip
    # Monitoring answers: the list of alerts firing is there (a fresh region's may be empty).
    assert isinstance(data["alerts"], list)
    assert by_name["simpeg"]["url"] == "https://simpeg.banjarkota.localhost:18443/"
    assert by_name["simpeg"]["https"] == "ok" and by_name["simpeg"]["uptime_s"] >= 0
    assert by_name["postgres"]["image"] == "spbe-kit/postgres:15"


def test_status_exits_3_when_an_app_is_down(region) -> None:
    profile, _ = region
    subprocess.run(
        ["docker", "stop", "-t", "2", "spbe-kota-banjar-simpeg-app-1"], check=True, capture_output=True
    )
    try:
        result = spbe_kit("status", str(profile), cwd=profile.parent)
        assert result.returncode == 3
        assert "✗ simpeg" in result.stdout
    finally:
        redeploy = spbe_kit("deploy", str(profile), cwd=profile.parent)
        assert redeploy.returncode == 0, redeploy.stderr[-2000:]


def test_secret_canaries_appear_only_in_the_hosts_secret_files(region) -> None:
    profile, _ = region
    values = canary_values()
    haystacks = {"cli output": "\n".join(OUTPUTS)}
    for path in profile.parent.rglob("*"):
        if (
            not path.is_file()
            or path.suffix == ".tar"
            or path.name.endswith((".vault.yml", ".vault-password"))
        ):
            continue
        if "secrets" in path.relative_to(profile.parent).parts:
            continue
        haystacks[str(path)] = path.read_text(errors="replace")
    haystacks["docker inspect"] = json.dumps(region_containers(CODE))
    for container in region_containers(CODE):
        logs = subprocess.run(["docker", "logs", container["Id"]], capture_output=True, text=True)
        haystacks[f"docker logs {container['Name']}"] = logs.stdout + logs.stderr
    for where, text in haystacks.items():
        for value in values:
            assert value not in text, f"a canary secret appears in {where}"
    secrets_dir = profile.parent / "opt" / "kota-banjar" / "secrets"
    found = {p.read_text() for p in secrets_dir.iterdir()}
    assert set(values) <= found
    for path in secrets_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o400
        # postgres, the apps and the scheduler; the PostgreSQL exporter (nobody).
        assert path.stat().st_uid in (999, 10001, 65534)
    assert secrets_dir.stat().st_mode & 0o777 == 0o700
    for kept in (vault.vault_path(profile), vault.default_password_file(profile)):
        assert kept.stat().st_mode & 0o777 == 0o600
    runs = next(profile.parent.rglob("runs"))
    assert runs.stat().st_mode & 0o777 == 0o700
    for inventory in runs.rglob("runtime-inventory.yml"):
        assert inventory.stat().st_mode & 0o777 == 0o600


def test_containers_are_hardened(region) -> None:
    containers = region_containers(CODE)
    # Three apps, postgres, proxy, backup scheduler; monitoring: the node and PostgreSQL
    # exporters, Prometheus, Alertmanager and the blackbox exporter.
    assert len(containers) == 11
    for c in containers:
        host, config, name = c["HostConfig"], c["Config"], c["Name"]
        assert config["User"] and not config["User"].startswith(("0", "root")), name
        assert "no-new-privileges:true" in host["SecurityOpt"], name
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"], name
        assert host["ReadonlyRootfs"] is True, name
        assert host["Tmpfs"], name
        assert host["Memory"] > 0 and host["NanoCpus"] > 0 and host["PidsLimit"] > 0, name
        assert config["Healthcheck"]["Test"], name
        assert (
            host["NetworkMode"] not in ("host",)
            and host["PidMode"] == ""
            and host["IpcMode"] in ("private", "shareable", "")
        ), name
        assert host["Privileged"] is False, name
        mounts = [m["Source"] for m in c["Mounts"]]
        assert not any("docker.sock" in m for m in mounts), name
        ports = {
            b["HostIp"]
            for bindings in (c["NetworkSettings"]["Ports"] or {}).values()
            for b in (bindings or [])
        }
        if "proxy" in name:
            assert ports == {"127.0.0.1"}, name
        else:
            assert ports == set(), name


def test_interrupted_deploy_converges_on_the_next_run(region) -> None:
    import signal
    import sys
    import time

    profile, _ = region
    original = profile.read_text()
    layanan = '  layanan-publik:\n    version: "1.0.0"'
    profile.write_text(original.replace(layanan, layanan + "\n    settings:\n      sla_days: 5"))
    try:
        for sig in (signal.SIGINT, signal.SIGKILL):
            running = subprocess.Popen(
                [sys.executable, "-m", "spbe_kit", "deploy", str(profile)],
                cwd=profile.parent,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 60
            while not _lock_path(profile).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            running.send_signal(sig)
            out, err = running.communicate(timeout=120)
            OUTPUTS.append(out + err)
            if sig == signal.SIGINT:
                assert running.returncode == 130, out[-1500:] + err[-1500:]
                assert "Traceback" not in err
            again = spbe_kit("deploy", str(profile), cwd=profile.parent)
            assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
            assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    finally:
        profile.write_text(original)
    assert spbe_kit("deploy", str(profile), cwd=profile.parent).returncode == 0


def _lock_path(profile: Path) -> Path:
    return profile.parent / "opt" / "kota-banjar" / ".spbe-kit" / "deploy.lock"


def test_a_held_lock_refuses_a_second_deploy(region) -> None:
    profile, _ = region
    holder = {
        "who": "admin@other",
        "since": "2026-11-29T01:00:00+00:00",
        "pid": os.getpid(),
        "controller": socket.gethostname(),
    }
    _lock_path(profile).write_text(json.dumps(holder) + "\n")
    try:
        refused = spbe_kit("deploy", str(profile), cwd=profile.parent)
        assert refused.returncode == 1
        assert "is locked by another deploy: admin@other since 2026-11-29T01:00:00+00:00" in refused.stderr
        assert "[deploy-locked]" in refused.stderr
    finally:
        _lock_path(profile).unlink()


def test_a_stale_lock_is_taken_over(region) -> None:
    profile, _ = region
    dead = subprocess.Popen(["true"])
    dead.wait()
    holder = {
        "who": "root@killed",
        "since": "2026-11-29T01:00:00+00:00",
        "pid": dead.pid,
        "controller": socket.gethostname(),
    }
    _lock_path(profile).write_text(json.dumps(holder) + "\n")
    result = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "taking over the lock on local left by root@killed" in result.stdout
    assert not _lock_path(profile).exists()


def test_concurrent_deploy_is_refused(region) -> None:
    profile, _ = region
    import signal
    import sys

    # --full: a deploy that finds nothing to change runs no playbook and takes no lock.
    first = subprocess.Popen(
        [sys.executable, "-m", "spbe_kit", "deploy", str(profile), "--full"],
        cwd=profile.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _lock_path(profile).exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        # A no-op deploy holds the lock for a few seconds only: pause the first deploy (its
        # whole process group, Ansible included) while the second one probes, so the second
        # always meets a lock held by a live deploy; then let the first finish.
        os.killpg(first.pid, signal.SIGSTOP)
        try:
            second = spbe_kit("deploy", str(profile), cwd=profile.parent)
        finally:
            os.killpg(first.pid, signal.SIGCONT)
        assert second.returncode == 1, second.stdout[-1000:]
        assert "[deploy-locked]" in second.stderr
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]


def test_unhealthy_release_exits_4_naming_app_host_and_logs(region, tmp_path: Path) -> None:
    """The new release starts beside the running one, which serves throughout: not one
    request fails, for that app or the others, and nothing needs restoring."""
    profile, _ = region
    broken_catalog = broken_release_catalog(tmp_path, "e-simpati", "1.0.1-broken", like="1.0.0")
    original = profile.read_text()
    traffic = Traffic(profile)  # read while the profile names only catalog versions
    profile.write_text(
        original.replace('  e-simpati:\n    version: "1.0.0"', '  e-simpati:\n    version: "1.0.1-broken"')
    )
    started = start_times(CODE)
    try:
        with traffic:
            result = spbe_kit("--catalog", str(broken_catalog), "deploy", str(profile), cwd=profile.parent)
        assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
        assert (
            "e-simpati 1.0.1-broken did not become healthy on local beside the running release; "
            "e-simpati 1.0.0 kept serving throughout" in result.stderr
        )
        assert "[switch-kept-running]" in result.stderr
        assert "/healthz" in result.stderr
        # A failure names its run folder, as a success does.
        run = result.stderr.split("full log: ", 1)[1].split(")", 1)[0]
        assert Path(run).is_dir() and "/runs/" in run, result.stderr[-1500:]
    finally:
        profile.write_text(original)
    assert {app: traffic.failed(app) for app in traffic.answers} == {app: [] for app in traffic.answers}
    assert all(len(answers) > 100 for answers in traffic.answers.values())
    labels = {c["Name"]: c["Config"]["Labels"] for c in region_containers(CODE)}
    kept = [c for c in region_containers(CODE) if labels[c["Name"]].get("org.spbe-kit.app") == "e-simpati"]
    assert [(c["Name"], c["State"]["StartedAt"]) for c in kept] == [  # the same container, never stopped
        ("/spbe-kota-banjar-e-simpati-app-1", started["/spbe-kota-banjar-e-simpati-app-1"])
    ]
    assert spbe_kit("verify", str(profile), cwd=profile.parent).returncode == 0
    healed = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert healed.returncode == 0, healed.stderr[-2000:]
    assert https_health(profile)["e-simpati"]


def test_verify_names_a_hand_edited_config_file_and_a_redeploy_clears_it(region) -> None:
    profile, _ = region
    clean = spbe_kit("verify", str(profile), cwd=profile.parent)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    config = profile.parent / "opt" / "kota-banjar" / "simpeg" / "config.json"
    config.write_text(
        config.read_text().replace('"session_timeout_minutes": 15', '"session_timeout_minutes": 600')
    )
    # What an intruder (or a careless admin) does to secrets and certificates: a password
    # file changed, and another certificate for simpeg put in place and loaded by nginx.
    root = profile.parent / "opt" / "kota-banjar"
    (root / "secrets" / "simpeg.db_password").write_text("changed-by-hand")
    hostname = "simpeg.banjarkota.localhost"
    ca_key, ca_cert = tls.new_ca("intruder", ["banjarkota.localhost"])
    key, cert = tls.issue_leaf(ca_key, ca_cert, hostname, 30)
    (root / "tls" / f"{hostname}.crt").write_text(cert)
    (root / "tls" / f"{hostname}.key").write_text(key)
    proxy = "spbe-kota-banjar-proxy-proxy-1"
    subprocess.run(["docker", "exec", proxy, "nginx", "-s", "reload"], check=True, capture_output=True)
    time.sleep(1)
    drifted = spbe_kit("verify", str(profile), "--json", cwd=profile.parent)
    assert drifted.returncode == 3
    differences = json.loads(drifted.stdout)["hosts"]["local"]["differences"]
    assert [(d["kind"], d["item"], d["found"]) for d in differences] == [
        ("file", "simpeg/config.json", differences[0]["found"]),
        ("secret", "secrets/simpeg.db_password", "differs from the vault"),
        ("certificate", f"tls/{hostname}.crt", "differs from the vault"),
        ("secret", f"tls/{hostname}.key", "differs from the vault"),
        ("served", hostname, tls.fingerprint(cert)[:12]),
    ]
    shown = spbe_kit("--lang", "id", "verify", str(profile), cwd=profile.parent)
    assert shown.returncode == 3 and "simpeg/config.json" in shown.stdout
    assert "berbeda dari vault" in shown.stdout and "sertifikat yang disajikan" in shown.stdout
    assert "changed-by-hand" not in shown.stdout + drifted.stdout
    assert spbe_kit("deploy", str(profile), cwd=profile.parent).returncode == 0
    again = spbe_kit("verify", str(profile), cwd=profile.parent)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_provided_chain_is_served_exactly_and_back(region) -> None:
    """The region's own certificate (root -> intermediate -> leaf, the root named by tls.ca):
    deployed with a reload, served as leaf + intermediate byte for byte (openssl s_client),
    verify clean; then back to the region's CA."""
    import re as regex

    from certs import chain

    from conftest import require_tool

    require_tool("openssl")
    profile, _ = region
    original = profile.read_text()
    hostnames = sorted(a.hostname for a in helpers.context(profile).apps.values())
    folder = profile.parent / "tls-provided"
    folder.mkdir()
    files = chain(folder, hostnames)
    provided = "\ntls:\n  mode: provided\n  certificate: tls-provided/full.pem\n  key: tls-provided/key.pem\n"
    profile.write_text(original + provided + "  ca: tls-provided/root.pem\n")
    try:
        done = spbe_kit("deploy", str(profile), cwd=profile.parent)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        sent = [
            tls.fingerprint(block)
            for block in regex.findall(
                r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                subprocess.run(
                    [
                        "openssl",
                        "s_client",
                        "-connect",
                        "127.0.0.1:18443",
                        "-servername",
                        hostnames[0],
                        "-showcerts",
                    ],
                    input="",
                    capture_output=True,
                    text=True,
                    timeout=30,
                ).stdout,
                regex.S,
            )
        ]
        expected = [
            tls.fingerprint(block)
            for block in regex.findall(
                r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", files["full"].read_text(), regex.S
            )
        ]
        assert sent == expected and len(sent) == 2
        assert spbe_kit("verify", str(profile), cwd=profile.parent).returncode == 0
    finally:
        profile.write_text(original)
    back = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}


def test_an_app_dropped_from_the_profile_is_taken_down_and_its_data_kept(region) -> None:
    """Dropping an app from the profile takes its containers down at the next deploy (they kept
    running before, outside the proxy, status and backups); its volume stays, so putting the
    app back serves the same records."""
    import yaml

    profile, _ = region
    original = profile.read_text()
    project = f"spbe-{helpers.context(profile).region.slug}-layanan-publik"
    record = {"service": "Izin usaha", "applicant_ref": "kept-after-drop"}
    helpers.api(profile, "layanan-publik", "/api/records", record)
    data = yaml.safe_load(original)
    del data["apps"]["layanan-publik"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        dropped = spbe_kit("deploy", str(profile), cwd=profile.parent)
        assert dropped.returncode == 0, dropped.stdout[-3000:] + dropped.stderr[-3000:]
        assert project in dropped.stdout and "volumes (data) kept" in dropped.stdout
        projects = {c["Config"]["Labels"].get("com.docker.compose.project") for c in region_containers(CODE)}
        assert project not in projects and project.replace("layanan-publik", "simpeg") in projects
        volumes = subprocess.run(
            ["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert volumes, "the dropped app's data volume went with it"
        for command in ("status", "verify"):
            done = spbe_kit(command, str(profile), cwd=profile.parent)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    finally:
        profile.write_text(original)
    back = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
    refs = {r["applicant_ref"] for r in helpers.api(profile, "layanan-publik", "/api/records")["records"]}
    assert "kept-after-drop" in refs


def test_admin_pages_are_served_only_to_the_declared_networks(region) -> None:
    """Perban BSSN 4/2021, the administrator's interface: nginx refuses /admin/ while
    proxy.admin_networks is empty; declaring the address it sees lets that address in; the
    rest of the app stays open to everyone."""
    import yaml

    profile, _ = region
    status, body = helpers.request(profile, "simpeg", "/admin/")
    assert status == 403, body[:300]
    assert b"<h1>Akses ditolak</h1>" in body and b"<h1 lang='en'>Access denied</h1>" in body
    assert helpers.request(profile, "simpeg", "/.spbe-kit/ditolak.html")[0] == 404  # internal only
    assert helpers.request(profile, "simpeg", "/version")[0] == 200
    labels = {c["Id"]: c["Config"]["Labels"] for c in region_containers(CODE)}
    proxy = next(cid for cid, label in labels.items() if label.get("org.spbe-kit.service") == "proxy")
    logs = subprocess.run(["docker", "logs", proxy], capture_output=True, text=True, check=True).stderr
    client = re.findall(r"access forbidden by rule, client: ([0-9a-fA-F.:]+)", logs)[-1]
    original = profile.read_text()
    data = yaml.safe_load(original)
    data["proxy"]["admin_networks"] = [f"{client}/{128 if ':' in client else 32}"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        opened = spbe_kit("deploy", str(profile), cwd=profile.parent)
        assert opened.returncode == 0, opened.stdout[-3000:] + opened.stderr[-3000:]
        status, body = helpers.request(profile, "simpeg", "/admin/")
        assert status == 200 and json.loads(body)["app"] == "simpeg", body[:300]
        assert helpers.request(profile, "e-simpati", "/admin/")[0] == 200
    finally:
        profile.write_text(original)
    closed = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert closed.returncode == 0, closed.stdout[-3000:] + closed.stderr[-3000:]
    assert helpers.request(profile, "simpeg", "/admin/")[0] == 403


def test_acme_certificates_are_obtained_renewed_and_reloaded_without_a_failed_request(
    region, tmp_path: Path
) -> None:
    """tls.mode acme against a real ACME server (pebble) issuing 40-second certificates: the
    deploy obtains them over HTTP-01 through the proxy; the acme service renews each at half
    its life and reloads nginx while requests run in a loop, none failing; renewals go on
    after every container restarts; then back."""
    import ssl
    import threading

    import acme

    profile, _ = region
    original = profile.read_text()
    ctx = helpers.context(profile)
    hostname = sorted(a.hostname for a in ctx.apps.values())[0]
    app = next(a for a in ctx.apps.values() if a.hostname == hostname)
    with acme.pebble(tmp_path / "pebble", ctx.profile.proxy.http_port, validity_s=40) as server:
        (profile.parent / "acme-trust.pem").write_text(server.trust)
        profile.write_text(
            original + "\ntls:\n  mode: acme\n  acme_email: admin@banjarkota.go.id\n"
            f"  acme_directory: {server.directory}\n  ca: acme-trust.pem\n"
        )
        try:
            done = spbe_kit("deploy", str(profile), cwd=profile.parent)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            status = spbe_kit("status", str(profile), "--json", cwd=profile.parent)
            assert status.returncode == 0, status.stdout[-2000:] + status.stderr[-2000:]
            by_name = {c["component"]: c for c in json.loads(status.stdout)["components"]}
            assert by_name["acme"]["health"] == "healthy" and by_name["simpeg"]["https"] == "ok"
            trust = ssl.create_default_context(cadata=server.trust)
            results = {"ok": 0, "failed": []}
            seen: list[str] = []
            stop = threading.Event()

            def served() -> str:
                with (
                    socket.create_connection(("127.0.0.1", 18443), timeout=10) as raw,
                    trust.wrap_socket(raw, server_hostname=hostname) as conn,
                ):
                    return tls.fingerprint(ssl.DER_cert_to_PEM_cert(conn.getpeercert(binary_form=True)))

            def get() -> int:
                """One request on a new TLS connection (a new handshake: the served certificate)."""
                with (
                    socket.create_connection(("127.0.0.1", 18443), timeout=10) as raw,
                    trust.wrap_socket(raw, server_hostname=hostname) as conn,
                ):
                    conn.sendall(
                        f"GET {app.spec.health} HTTP/1.1\r\nHost: {hostname}\r\n"
                        "Connection: close\r\n\r\n".encode()
                    )
                    head = conn.recv(64).decode(errors="replace")
                return int(head.split()[1]) if head.startswith("HTTP/") else 0

            def loop() -> None:
                while not stop.is_set():
                    try:
                        status = get()
                    except (OSError, ValueError) as exc:
                        results["failed"].append(repr(exc))
                        continue
                    if status == 200:
                        results["ok"] += 1
                    else:
                        results["failed"].append(status)

            first = served()
            workers = [threading.Thread(target=loop) for _ in range(2)]
            for worker in workers:
                worker.start()
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and (not seen or seen[-1] == first):
                time.sleep(1)
                seen.append(served())
            time.sleep(2)
            stop.set()
            for worker in workers:
                worker.join()
            assert seen and seen[-1] != first, "no renewal within 90 s"
            logs = subprocess.run(
                ["docker", "logs", f"spbe-{ctx.region.slug}-proxy-acme-1"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            assert logs.count('"event": "nginx-reloaded"') >= 2, logs
            assert results["failed"] == [] and results["ok"] > 20, results
            print(f"\nACME renewal: {results['ok']} requests during the reload, 0 failed")
            clean = spbe_kit("verify", str(profile), cwd=profile.parent)
            assert clean.returncode == 0, clean.stdout[-2000:] + clean.stderr[-2000:]
            # A reboot starts the containers in no fixed order, and either may restart alone:
            # both come back healthy, and the next renewal is served.
            restart_everything_and_wait_healthy(profile)
            subprocess.run(
                ["docker", "restart", "-t", "5", f"spbe-{ctx.region.slug}-proxy-proxy-1"],
                check=True,
                capture_output=True,
                timeout=60,
            )
            wait_healthy(profile)
            restarted = served()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and served() == restarted:
                time.sleep(1)
            assert served() != restarted, "no renewal served within 60 s of the restarts"
            wait_healthy(profile)
            # A certificate on disk that nginx does not serve (here: the service stopped and its
            # file replaced by hand) is drift.
            subprocess.run(
                ["docker", "stop", f"spbe-{ctx.region.slug}-proxy-acme-1"], check=True, capture_output=True
            )
            # A renewal the stop caught half way finishes its reload request first (the proxy
            # loads it within a second); then nothing changes the files but this test.
            for _ in range(20):
                if spbe_kit("verify", str(profile), cwd=profile.parent).returncode == 0:
                    break
                time.sleep(0.5)
            live = Path(ctx.root) / "acme" / "certs" / f"{hostname}.crt"
            live.write_bytes((Path(ctx.root) / "tls" / f"{hostname}.crt").read_bytes())
            drift = spbe_kit("verify", str(profile), "--json", cwd=profile.parent)
            assert drift.returncode == 3, drift.stdout[-2000:] + drift.stderr[-2000:]
            differences = json.loads(drift.stdout)["hosts"]["local"]["differences"]
            assert [(d["kind"], d["item"]) for d in differences] == [("served", hostname)]
        finally:
            profile.write_text(original)
            back = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    services = [c["Config"]["Labels"].get("org.spbe-kit.service") for c in region_containers(CODE)]
    assert "acme" not in services
    # The acme service's files went with it: nothing left for verify to call drift.
    after = spbe_kit("verify", str(profile), cwd=profile.parent)
    assert after.returncode == 0, after.stdout[-2000:] + after.stderr[-2000:]


def test_live_audit_and_handover_record_what_runs(region, tmp_path: Path) -> None:
    import jsonschema

    profile, _ = region
    schemas = Path(__file__).resolve().parents[2] / "schemas"
    audited = spbe_kit(
        "audit", str(profile), "--live", "-o", str(tmp_path / "audit.json"), cwd=profile.parent
    )
    assert audited.returncode == 3, audited.stderr[-2000:]  # no restore drill yet: BAK-04 (high)
    report = json.loads((tmp_path / "audit.json").read_text())
    jsonschema.validate(report, json.loads((schemas / "audit.schema.json").read_text()))
    results = {r["id"]: r for r in report["results"]}
    assert results["BAK-04"]["status"] == "fail"
    assert results["TLS-04"]["status"] == "pass"
    assert results["TLS-05"]["status"] == "pass" and len(results["TLS-05"]["evidence"]) == 3
    assert "expires in" in results["TLS-04"]["evidence"][0]["detail"]
    assert results["TLS-02"]["status"] == "pass"
    assert "negotiated TLSv1.3" in json.dumps(results["TLS-02"]["evidence"])
    # The headers nginx actually answered with, per app, beside the rendered configuration's.
    assert results["HDR-01"]["status"] == "pass", results["HDR-01"]
    served = [e for e in results["HDR-01"]["evidence"] if (e.get("command") or "").startswith("GET ")]
    assert len(served) == 3 and all("x-content-type-options: nosniff" in e["detail"] for e in served)
    assert all("server: nginx," in e["detail"] for e in served), served
    assert report["live"]["hosts"] == ["local"]
    # The CIS ids and outcomes are those docker-bench-security 1.6.0 reported for the demo.
    bench = json.loads((ROOT / "tests" / "data" / "docker-bench-security-1.6.1-demo.json").read_text())
    rows = benchmark.compare(report, bench)
    assert len(rows) == 19 and [r for r in rows if not r.agrees] == []
    assert spbe_kit("backup", str(profile), cwd=profile.parent).returncode == 0
    assert spbe_kit("backup", "verify", str(profile), cwd=profile.parent).returncode == 0
    again = spbe_kit("audit", str(profile), "--live", "-o", str(tmp_path / "again.json"), cwd=profile.parent)
    assert again.returncode == 0, again.stderr[-2000:]
    drill = {r["id"]: r for r in json.loads((tmp_path / "again.json").read_text())["results"]}["BAK-04"]
    assert drill["status"] == "pass" and "(0 days ago)" in drill["evidence"][0]["detail"]
    done = spbe_kit("handover", str(profile), "-o", str(tmp_path / "bast.json"), cwd=profile.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((tmp_path / "bast.json").read_text())
    jsonschema.validate(record, json.loads((schemas / "handover.schema.json").read_text()))
    running = {
        c["Config"]["Labels"]["org.spbe-kit.app"]: c["Image"]
        for c in region_containers(CODE)
        if "org.spbe-kit.app" in c["Config"]["Labels"]
    }
    assert {a["id"]: a["image_id"] for a in record["apps"]} == running
    assert record["title"]["id"] == "Berita Acara Serah Terima Hibah Aplikasi SPBE"
    assert record["hosts"][0]["release"] >= 1 and record["deployed_by"]
    assert (
        spbe_kit("handover", str(profile), "-o", str(tmp_path / "bast.html"), cwd=profile.parent).returncode
        == 0
    )
    for text in ((tmp_path / "bast.json").read_text(), (tmp_path / "bast.html").read_text()):
        assert not any(value in text for value in canary_values())


def test_evidence_pack_has_no_secret_and_every_hash_checks(region, tmp_path: Path) -> None:
    import zipfile

    profile, _ = region
    pack = tmp_path / "evidence.zip"
    done = spbe_kit("evidence", str(profile), "-o", str(pack), cwd=profile.parent)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    unpacked = tmp_path / "pack"
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert {"SHA256SUMS", "manifest.json", "audit/audit.html", "audit/audit.json", "audit/audit.md"} <= set(
        names
    )
    assert "backups/restore-drills.json" in names and "hosts/local/releases.json" in names
    # The record of processing (UU 27/2022 Pasal 31) and the breach-notice template (Pasal 46).
    docs = {"tree/docs/catatan-pemrosesan-data-pribadi.md", "tree/docs/pemberitahuan-kegagalan-pdp.md"}
    assert docs <= set(names)
    assert any(n.startswith("logs/") and n.endswith("-deploy/run.log") for n in names)
    for path in unpacked.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode(errors="replace")
            assert not any(value in text for value in canary_values()), f"a canary secret in {path.name}"
    checked = subprocess.run(
        ["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(names) - 1
    tree = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked / "tree", capture_output=True, text=True
    )
    assert tree.returncode == 0, tree.stdout + tree.stderr


def test_the_evidence_pack_is_deterministic_offline(region, tmp_path: Path) -> None:
    profile, _ = region
    for name in ("a.zip", "b.zip"):
        done = spbe_kit("evidence", str(profile), "--offline", "-o", str(tmp_path / name), cwd=profile.parent)
        assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def _login(role: str, password: str) -> bool:
    """Whether PostgreSQL accepts ``role`` with ``password`` (sent on stdin, never an argument)."""
    done = subprocess.run(
        [
            "docker",
            "exec",
            "-i",
            "spbe-kota-banjar-postgres-postgres-1",
            "sh",
            "-c",
            "read -r PGPASSWORD; export PGPASSWORD; "
            f'psql -h /run/postgresql -U {role} -d postgres -Atc "SELECT 1"',
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
    )
    return done.returncode == 0 and done.stdout.strip() == "1"


class ContainerStarts:
    """Counts the region's container starts while the block runs, from a live ``docker events``
    stream: a ``--since`` query reads the daemon's ring buffer of recent events, which the
    healthchecks' exec events (several a second) overrun within a minute."""

    def __enter__(self) -> ContainerStarts:
        self.process = subprocess.Popen(
            ["docker", "events", "--filter", f"label=org.spbe-kit.region={CODE}", "--filter", "event=start",
             "--format", "{{.Actor.Attributes.name}}"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(0.5)  # subscribed before the block starts anything
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)
        self.process.terminate()
        names = self.process.communicate(timeout=10)[0].split()
        self.counts = {name: names.count(name) for name in set(names)}


def _text(path: Path) -> str:
    """A file's text, or "" once it is gone (ansible-runner renames its partial event files)."""
    try:
        return path.read_text()
    except OSError:
        return ""


def test_a_rotation_killed_half_way_is_finished_by_the_next_run(region) -> None:
    import signal
    import sys

    profile, _ = region
    pending = profile.with_name("banjar.vault.rotating.yml")
    command = [
        sys.executable,
        "-m",
        "spbe_kit",
        "secrets",
        "rotate",
        str(profile),
        "--only",
        "simpeg.db_password",
    ]
    run = subprocess.Popen(
        command,
        cwd=profile.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    runs = profile.parent / "build" / helpers.context(profile).region.slug / "runs"
    started = set(runs.glob("*-rotate"))
    # Killed as the apps play starts: the secret files written, the role's new password being
    # set (a fixed sleep let a fast machine finish the whole rotation first).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        new = set(runs.glob("*-rotate")) - started
        events = [e for d in new for e in d.glob("artifacts/*/job_events/*.json")]
        if any("Set each app's new database password" in _text(e) for e in events):
            break
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert pending.exists()
    refused = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert refused.returncode == 1 and "[rotation-pending]" in refused.stderr, refused.stderr[-2000:]
    finished = spbe_kit("secrets", "rotate", str(profile), cwd=profile.parent)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "finishing the interrupted rotation of simpeg.db_password" in finished.stdout
    assert not pending.exists()
    new = vault.load(vault.vault_path(profile), vault.default_password_file(profile))
    assert _login("simpeg", new["apps"]["simpeg"]["db_password"])
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}


def test_secrets_rotate_changes_every_password_and_restarts_each_consumer_once(region) -> None:
    profile, _ = region
    password = vault.default_password_file(profile)
    old = vault.load(vault.vault_path(profile), password)
    with ContainerStarts() as watched:
        done = spbe_kit("secrets", "rotate", str(profile), cwd=profile.parent)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "rotated" in done.stdout and "recorded as release" in done.stdout
    new = vault.load(vault.vault_path(profile), password)
    assert not profile.with_name("banjar.vault.rotating.yml").exists()
    assert new["tls"]["ca_cert"] == old["tls"]["ca_cert"] and new["vault_id"] == old["vault_id"]
    for app in ("e-simpati", "layanan-publik", "simpeg"):
        role = app.replace("-", "_")
        assert new["apps"][app]["db_password"] != old["apps"][app]["db_password"]
        assert not _login(role, old["apps"][app]["db_password"]), f"{app}: old password still accepted"
        assert _login(role, new["apps"][app]["db_password"]), f"{app}: new password refused"
    assert _login("spbe_backup", new["backup"]["db_password"])
    assert not _login("spbe_backup", old["backup"]["db_password"])
    assert _login("spbe_monitor", new["exporters"]["db_password"])
    assert not _login("spbe_monitor", old["exporters"]["db_password"])
    # Each consumer restarted once, one at a time; PostgreSQL for its new certificate; the
    # proxy not at all (nginx reloads).
    starts = watched.counts
    assert all(count == 1 for count in starts.values()), starts
    consumers = {f"spbe-kota-banjar-{p}-app-1" for p in ("e-simpati", "layanan-publik", "simpeg")}
    assert consumers <= set(starts), starts
    assert "spbe-kota-banjar-proxy-proxy-1" not in starts, starts
    assert https_health(profile) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    served = _served_certificate(profile, "simpeg.banjarkota.localhost")
    assert served == new["tls"]["certs"]["simpeg.banjarkota.localhost"]["cert"].strip()
    # The secret values never reach the output.
    for value in (new["apps"]["simpeg"]["db_password"], old["apps"]["simpeg"]["db_password"]):
        assert value not in done.stdout + done.stderr
    restart_everything_and_wait_healthy(profile)


def _served_certificate(profile: Path, hostname: str) -> str:
    import ssl

    with socket.create_connection(("127.0.0.1", 18443), timeout=5) as raw:
        context = ssl.create_default_context(cafile=str(profile.with_name("banjar.ca.crt")))
        with context.wrap_socket(raw, server_hostname=hostname) as tls:
            der = tls.getpeercert(binary_form=True)
    return ssl.DER_cert_to_PEM_cert(der).strip()


def test_a_lost_vault_is_recovered_from_a_new_controller_with_yes(region, tmp_path: Path) -> None:
    """The region's vault is gone: a new controller takes the region over with `secrets
    recover --yes`. Every password is reset (the old ones refused), the apps serve with the new
    CA, the old controller is refused from then on, and a reboot still leaves all healthy."""
    profile, _ = region
    old = vault.load(vault.vault_path(profile), vault.default_password_file(profile))
    clone = tmp_path / "new-laptop"
    clone.mkdir()
    mine = clone / profile.name
    mine.write_text(profile.read_text())
    before = _installed(profile)
    refused = spbe_kit("secrets", "recover", mine.name, cwd=clone)
    assert refused.returncode == 2 and "[confirm-required]" in refused.stderr, refused.stderr[-2000:]
    assert _installed(profile) == before and not (clone / "banjar.vault.yml").exists()
    with ContainerStarts() as watched:
        done = spbe_kit("secrets", "recover", mine.name, "--yes", cwd=clone)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "recorded as release" in done.stdout
    new = vault.load(vault.vault_path(mine), vault.default_password_file(mine))
    assert new["vault_id"] != old["vault_id"] and new["tls"]["ca_cert"] != old["tls"]["ca_cert"]
    role = "simpeg"
    assert not _login(role, old["apps"]["simpeg"]["db_password"])
    assert _login(role, new["apps"]["simpeg"]["db_password"])
    assert all(count == 1 for count in watched.counts.values()), watched.counts
    assert https_health(mine) == {"e-simpati": True, "layanan-publik": True, "simpeg": True}
    releases = sorted(
        (profile.parent / "opt" / "kota-banjar" / ".spbe-kit" / "releases").iterdir(),
        key=lambda p: int(p.name),
    )
    assert json.loads((releases[-1] / "release.json").read_text())["recovered"] is True
    stale = spbe_kit("backup", profile.name, cwd=profile.parent)
    assert stale.returncode == 1 and "[vault-mismatch]" in stale.stderr, stale.stderr[-2000:]
    again = spbe_kit("deploy", mine.name, cwd=clone)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert spbe_kit("verify", mine.name, cwd=clone).returncode == 0
    restart_everything_and_wait_healthy(mine)
    # What the README says to do with a second controller: copy the vault and its password.
    for source in (vault.vault_path(mine), vault.default_password_file(mine), mine.with_suffix(".ca.crt")):
        (profile.parent / source.name).write_bytes(source.read_bytes())


def test_destroy_needs_yes_and_keeps_data(region) -> None:
    profile, _ = region
    refused = spbe_kit("destroy", str(profile), cwd=profile.parent)
    assert refused.returncode == 2
    assert "destroy needs --yes [confirm-required]" in refused.stderr
    assert len(region_containers(CODE)) == 11
    done = spbe_kit("destroy", str(profile), "--yes", cwd=profile.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert region_containers(CODE) == []
    volumes = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", "name=spbe-kota-banjar"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "spbe-kota-banjar-postgres-data" in volumes
    # The kept data holds this vault's passwords: the host keeps the vault record, so a
    # controller with another vault is still refused.
    assert (profile.parent / "opt" / "kota-banjar" / ".spbe-kit" / "vault.json").is_file()
    back = spbe_kit("deploy", str(profile), cwd=profile.parent)
    assert back.returncode == 0, back.stderr[-2000:]
