"""Scheduled backups with no systemd or cron on the host: the scheduler container backs up on
the profile's cron schedule (region time), packs an age-encrypted second copy into a mounted
path, and its backups pass the restore drill (Kabupaten Tanah Laut, WITA, on this machine)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from conftest import require_tool
from e2e.helpers import local_profile, spbe_kit

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible]
REGION = ("63.01", "Kabupaten Tanah Laut", "tanahlautkab", "tanahlaut")


@pytest.fixture(scope="module")
def region(images: Path, tmp_path_factory: pytest.TempPathFactory):
    require_tool("age")
    folder = tmp_path_factory.mktemp("tanahlaut")
    subprocess.run(["age-keygen", "-o", str(folder / "age.key")], check=True, capture_output=True)
    recipient = next(
        line.split(": ")[1] for line in (folder / "age.key").read_text().splitlines() if "public key" in line
    )
    profile = local_profile(folder, https_port=20443, http_port=20080, region=REGION)
    data = yaml.safe_load(profile.read_text())
    data["backup"] = {
        "schedule": "* * * * *",
        "keep": 3,
        "copy_to": str(folder / "copies"),
        "encrypt_to": recipient,
    }
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    deployed = spbe_kit("deploy", str(profile), cwd=folder)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    yield profile
    spbe_kit("destroy", str(profile), "--yes", "--delete-data", cwd=folder)


def first_scheduled_run(profile: Path, timeout: float = 150) -> dict:
    status = profile.parent / "opt" / "tanah-laut" / "backups" / "scheduler-status.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status.is_file():
            runs = json.loads(status.read_text())["runs"]
            if runs:
                return runs[0]
        time.sleep(2)
    raise AssertionError("no scheduled backup ran within the timeout")


def test_the_scheduler_backs_up_on_schedule_and_the_drill_passes(region: Path) -> None:
    run = first_scheduled_run(region)
    assert run["ok"], run
    assert run["due"].endswith("+08:00")  # Tanah Laut keeps WITA
    assert run["id"].endswith("-scheduled")
    assert {"e-simpati.dump", "e-simpati.rows.json", "e-simpati.uploads.tar"} <= set(run["files"])
    listed = json.loads(spbe_kit("backups", str(region), "--json", cwd=region.parent).stdout)
    scheduled = [b for b in listed["backups"] if b["reason"] == "scheduled"]
    assert scheduled and scheduled[0]["id"] == run["id"]
    assert listed["schedulers"]["local"]["schedule"] == "* * * * *"
    drill = spbe_kit("backup", "verify", str(region), cwd=region.parent)
    assert drill.returncode == 0, drill.stdout[-2000:] + drill.stderr[-2000:]
    assert drill.stdout.count(f"backup {scheduled[-1]['id']}") == 3
    shown = spbe_kit("backups", str(region), cwd=region.parent)
    assert "schedule on local: '* * * * *' (Asia/Makassar)" in shown.stdout


def test_the_second_copy_is_encrypted_and_matches_the_backup(region: Path) -> None:
    run = first_scheduled_run(region)
    # The kit writes only into its own folder inside copy_to.
    copy = region.parent / "copies" / "spbe-tanah-laut" / run["copy"]["file"]
    sealed = copy.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1")
    assert hashlib.sha256(sealed).hexdigest() == run["copy"]["sha256"]
    opened = subprocess.run(
        ["age", "-d", "-i", str(region.parent / "age.key")], input=sealed, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(opened)) as archive:
        record = json.load(archive.extractfile(f"{run['id']}/backup.json"))
        dump = archive.extractfile(f"{run['id']}/simpeg.dump").read()
    assert hashlib.sha256(dump).hexdigest() == record["files"]["simpeg.dump"]["sha256"]


def test_the_scheduler_reads_as_a_read_only_role_and_a_redeploy_leaves_it_running(region: Path) -> None:
    first_scheduled_run(region)
    name = "spbe-tanah-laut-backup-backup-1"
    inspect = json.loads(subprocess.run(["docker", "inspect", name], capture_output=True, check=True).stdout)
    config = inspect[0]["Config"]
    assert config["User"] == "10001:10001"
    assert "PGUSER=spbe_backup" in config["Env"] and not any("PASSWORD=" in e for e in config["Env"])
    denied = subprocess.run(
        [
            "docker",
            "exec",
            name,
            "sh",
            "-c",
            'PGPASSWORD="$(cat $PGPASSWORD_FILE)" psql -At -d simpeg -c "DELETE FROM employees"',
        ],
        capture_output=True,
        text=True,
    )
    assert denied.returncode != 0 and "permission denied" in denied.stderr
    started = inspect[0]["State"]["StartedAt"]
    again = spbe_kit("deploy", str(region), cwd=region.parent)
    assert again.returncode == 0 and "0 task(s) changed" in again.stdout, again.stdout[-2000:]
    after = json.loads(subprocess.run(["docker", "inspect", name], capture_output=True, check=True).stdout)
    assert after[0]["State"]["StartedAt"] == started
