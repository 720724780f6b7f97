"""Upgrade without fear: backups before version changes, rollback of code and data when the
health gate fails, backup / restore, and restore drills (Kabupaten Belitung on this machine)."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from e2e.helpers import Traffic, api, broken_release_catalog, local_profile, request, spbe_kit

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible]
REGION = ("19.02", "Kabupaten Belitung", "belitungkab", "belitung")
APPS = ("e-simpati", "simpeg", "layanan-publik")
CANARY = {
    "e-simpati": {
        "child_ref": "canary-1",
        "sex": "P",
        "age_months": 30,
        "height_cm": 82.5,
        "kecamatan_code": "19.02.01",
    },
    "simpeg": {"nip": "198503152010012003", "name": "Canary Satu", "unit": "BKPSDM"},
    "layanan-publik": {"service": "Izin usaha", "applicant_ref": "canary-1"},
}


@pytest.fixture(scope="module")
def region(images: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("belitung")
    profile = local_profile(folder, https_port=19443, http_port=19080, region=REGION)
    first = spbe_kit("deploy", str(profile), cwd=folder)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for app in APPS:
        api(profile, app, "/api/records", CANARY[app])
    yield profile
    spbe_kit("destroy", str(profile), "--yes", "--delete-data", cwd=folder)


def set_version(profile: Path, app: str, version: str) -> None:
    data = yaml.safe_load(profile.read_text())
    data["apps"][app]["version"] = version
    profile.write_text(yaml.safe_dump(data, sort_keys=False))


def records(profile: Path, app: str) -> list[dict]:
    return api(profile, app, "/api/records")["records"]


def psql(sql: str, db: str) -> str:
    out = subprocess.run(
        [
            "docker",
            "exec",
            "spbe-belitung-postgres-postgres-1",
            "psql",
            "-At",
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_an_expand_only_upgrade_fails_no_request(region: Path) -> None:
    """e-simpati 1.0.0 -> 1.1.0 adds a column (catalog: migration expand): the new release
    starts beside the old one and takes its requests over once healthy."""
    set_version(region, "e-simpati", "1.1.0")
    with Traffic(region) as traffic:
        upgraded = spbe_kit("deploy", str(region), cwd=region.parent)
    assert upgraded.returncode == 0, upgraded.stdout[-3000:] + upgraded.stderr[-3000:]
    assert {app: traffic.failed(app) for app in APPS} == {app: [] for app in APPS}
    assert all(len(traffic.answers[app]) > 50 for app in APPS)
    assert api(region, "e-simpati", "/healthz")["version"] == "1.1.0"
    assert "canary-1" in {r["child_ref"] for r in records(region, "e-simpati")}
    # Nothing of the switch is left: no spare container, no upstream override.
    assert spbe_kit("verify", str(region), cwd=region.parent).returncode == 0
    assert not list((region.parent / "opt" / "belitung" / "switch").iterdir())


def test_an_exclusive_migration_shows_the_maintenance_page_for_that_app_only(
    region: Path, tmp_path: Path
) -> None:
    """A release the catalog says cannot run beside the old one: the old stops first, and
    meanwhile every request to that app gets the 503 maintenance page with Retry-After."""
    catalog = yaml.safe_load((ROOT / "catalog.yaml").read_text())
    catalog["apps"]["simpeg"]["versions"]["1.1.0"]["migration"] = "exclusive"
    exclusive = tmp_path / "catalog.yaml"
    exclusive.write_text(yaml.safe_dump(catalog))
    set_version(region, "simpeg", "1.1.0")
    with Traffic(region) as traffic:
        upgraded = spbe_kit("--catalog", str(exclusive), "deploy", str(region), cwd=region.parent)
    assert upgraded.returncode == 0, upgraded.stdout[-3000:] + upgraded.stderr[-3000:]
    window = traffic.failed("simpeg")
    assert window and set(window) == {(503, "10")}, window
    assert {app: traffic.failed(app) for app in ("e-simpati", "layanan-publik")} == {
        "e-simpati": [],
        "layanan-publik": [],
    }
    status, page = request(region, "simpeg", "/healthz")
    assert status == 200 and json.loads(page)["version"] == "1.1.0"
    # The deploy says how long simpeg was away, and the release records it.
    said = r"simpeg restarted behind the maintenance page: away for at most ([0-9.]+) s"
    window = re.search(said, upgraded.stdout)
    assert window and 0 < float(window.group(1)) < 60, upgraded.stdout[-2000:]
    history = json.loads(spbe_kit("releases", str(region), "--json", cwd=region.parent).stdout)["local"]
    assert history[-1]["maintenance_s"] == {"simpeg": float(window.group(1))}


def test_upgrade_killed_midway_then_completed_keeps_every_canary_row(region: Path) -> None:
    for app in APPS:
        set_version(region, app, "1.1.0")
    killed = subprocess.Popen(
        [sys.executable, "-m", "spbe_kit", "deploy", str(region)],
        cwd=region.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = region.parent / "opt" / "belitung" / ".spbe-kit" / "deploy.lock"
    deadline = time.monotonic() + 120
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(3)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    upgraded = spbe_kit("deploy", str(region), cwd=region.parent)
    assert upgraded.returncode == 0, upgraded.stdout[-3000:] + upgraded.stderr[-3000:]
    for app in APPS:
        assert api(region, app, "/healthz")["version"] == "1.1.0"
        assert any(
            r.get("child_ref", r.get("applicant_ref", r.get("nip"))) in ("canary-1", "198503152010012003")
            for r in records(region, app)
        ), app
    assert records(region, "e-simpati")[-1]["muac_cm"] is None
    assert records(region, "layanan-publik")[-1]["channel"] == "loket"
    assert psql("SELECT count(*) FROM position_history", "simpeg") == "0"
    listed = json.loads(spbe_kit("backups", str(region), "--json", cwd=region.parent).stdout)
    assert any(b["reason"] == "pre-upgrade" for b in listed["backups"])


def test_failed_upgrade_keeps_the_running_release_and_every_row(region: Path, tmp_path: Path) -> None:
    """The broken release never takes a request: 1.1.0 serves throughout, so what was written
    meanwhile stays (a restore from the pre-upgrade backup would lose it)."""
    api(
        region,
        "e-simpati",
        "/api/records",
        {**CANARY["e-simpati"], "child_ref": "before-attempt", "muac_cm": 13.1},
    )
    broken = broken_release_catalog(tmp_path, "e-simpati", "1.2.0-broken", like="1.1.0")
    traffic = Traffic(region)  # read while the profile names only catalog versions
    before = tmp_path / "before" / region.name  # to write a record while the profile names it
    before.parent.mkdir()
    for path in (region, region.with_name(region.stem + ".ca.crt")):
        shutil.copy(path, before.parent / path.name)
    set_version(region, "e-simpati", "1.2.0-broken")
    try:
        with traffic:
            command = ["-m", "spbe_kit", "--lang", "en", "--catalog", str(broken), "deploy", str(region)]
            attempt = subprocess.Popen(
                [sys.executable, *command],
                cwd=region.parent,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(8)  # the broken release is starting beside 1.1.0 (its gate takes 20 s)
            api(before, "e-simpati", "/api/records", {**CANARY["e-simpati"], "child_ref": "during-attempt"})
            _, stderr = attempt.communicate(timeout=600)
        assert attempt.returncode == 4, stderr[-3000:]
        assert "e-simpati 1.1.0 kept serving throughout" in stderr
        assert "[switch-kept-running]" in stderr
    finally:
        set_version(region, "e-simpati", "1.1.0")
    assert {app: traffic.failed(app) for app in APPS} == {app: [] for app in APPS}
    assert api(region, "e-simpati", "/healthz")["version"] == "1.1.0"
    refs = {r["child_ref"] for r in records(region, "e-simpati")}
    assert {"canary-1", "before-attempt", "during-attempt"} <= refs
    assert spbe_kit("verify", str(region), cwd=region.parent).returncode == 0


def test_backup_delete_restore(region: Path) -> None:
    made = spbe_kit("backup", str(region), "--app", "e-simpati", cwd=region.parent)
    assert made.returncode == 0, made.stderr[-2000:]
    import re

    ident = re.search(r"^backup (\S+) written", made.stdout, re.M).group(1)
    psql("DELETE FROM measurements WHERE child_ref = 'canary-1'", "e_simpati")
    assert "canary-1" not in {r["child_ref"] for r in records(region, "e-simpati")}
    refused = spbe_kit("restore", str(region), "--backup", ident, cwd=region.parent)
    assert refused.returncode == 2 and "restore needs --yes" in refused.stderr
    restored = spbe_kit(
        "restore", str(region), "--backup", ident, "--app", "e-simpati", "--yes", cwd=region.parent
    )
    assert restored.returncode == 0, restored.stdout[-2000:] + restored.stderr[-2000:]
    assert "restored e-simpati from backup" in restored.stdout
    assert {"canary-1", "before-attempt"} <= {r["child_ref"] for r in records(region, "e-simpati")}


def test_restore_drill_passes_then_fails_on_a_corrupted_file(region: Path) -> None:
    assert spbe_kit("backup", str(region), cwd=region.parent).returncode == 0
    drill = spbe_kit("backup", "verify", str(region), cwd=region.parent)
    assert drill.returncode == 0, drill.stdout[-2000:] + drill.stderr[-2000:]
    assert drill.stdout.count("pass  ") == 3
    latest = sorted((region.parent / "opt" / "belitung" / "backups").glob("*-manual"))[-1]
    dump = latest / "simpeg.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    failed = spbe_kit("backup", "verify", str(region), cwd=region.parent)
    assert failed.returncode == 3, failed.stdout[-2000:] + failed.stderr[-2000:]
    assert "FAIL  simpeg" in failed.stdout and "does not match its checksum" in failed.stdout
    assert "[verify-failed]" in failed.stderr
    refused = spbe_kit(
        "restore", str(region), "--backup", latest.name, "--app", "simpeg", "--yes", cwd=region.parent
    )
    assert refused.returncode == 1
    assert "does not match its checksum" in refused.stderr
    assert "check the backup" in refused.stdout and "stop apps" not in refused.stdout
    assert api(region, "simpeg", "/healthz")["status"] == "ok"  # refused before anything stopped
    log = (region.parent / "opt" / "belitung" / "backups" / "verify-log.jsonl").read_text().splitlines()
    assert [json.loads(line)["ok"] for line in log][-2:] == [True, False]


def test_rollback_to_the_first_release_restores_schema_and_data(region: Path) -> None:
    history = json.loads(spbe_kit("releases", str(region), "--json", cwd=region.parent).stdout)["local"]
    assert [r["versions"]["e-simpati"] for r in history][:1] == ["1.0.0"]
    assert history[-1]["versions"] == {"e-simpati": "1.1.0", "layanan-publik": "1.1.0", "simpeg": "1.1.0"}
    unconfirmed = spbe_kit(
        "rollback", str(region), "--to", str(history[0]["number"]), "--app", "simpeg", cwd=region.parent
    )
    assert unconfirmed.returncode == 2
    assert "simpeg: 1.1.0 -> 1.0.0 (release 1); its database goes back to backup" in unconfirmed.stdout
    assert "changes made since then are lost" in unconfirmed.stdout
    done = spbe_kit(
        "rollback",
        str(region),
        "--to",
        str(history[0]["number"]),
        "--app",
        "simpeg",
        "--yes",
        cwd=region.parent,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "simpeg: 1.1.0 -> 1.0.0 (as in release 1), database restored from backup" in done.stdout
    assert api(region, "simpeg", "/healthz") == {
        "status": "ok",
        "app": "simpeg",
        "version": "1.0.0",
        "schema_generation": 1,
    }
    assert {r["nip"] for r in records(region, "simpeg")} >= {"198503152010012003"}
    assert api(region, "e-simpati", "/healthz")["version"] == "1.1.0"

    # The rollback is a release of its own: verify finds no drift against it.
    after = json.loads(spbe_kit("releases", str(region), "--json", cwd=region.parent).stdout)["local"]
    assert after[-1]["number"] == history[-1]["number"] + 1
    assert after[-1]["rollback_of"] == history[0]["number"]
    assert after[-1]["versions"] == {"e-simpati": "1.1.0", "layanan-publik": "1.1.0", "simpeg": "1.0.0"}
    assert after[-1]["backup_before"].endswith("-pre-rollback")
    clean = spbe_kit("verify", str(region), cwd=region.parent)
    assert clean.returncode == 0, clean.stdout[-2000:] + clean.stderr[-2000:]

    # Forward again to the newer release: refused without --yes, and nothing changes.
    newer = str(history[-1]["number"])
    refused = spbe_kit("rollback", str(region), "--to", newer, "--app", "simpeg", cwd=region.parent)
    assert refused.returncode == 2, refused.stdout[-2000:] + refused.stderr[-2000:]
    assert "a rollback to a newer release" in refused.stderr
    assert api(region, "simpeg", "/healthz")["version"] == "1.0.0"
    forward = spbe_kit("rollback", str(region), "--to", newer, "--app", "simpeg", "--yes", cwd=region.parent)
    assert forward.returncode == 0, forward.stdout[-2000:] + forward.stderr[-2000:]
    assert f"simpeg: 1.0.0 -> 1.1.0 (as in release {newer})" in forward.stdout
    assert api(region, "simpeg", "/healthz")["version"] == "1.1.0"
    assert {r["nip"] for r in records(region, "simpeg")} >= {"198503152010012003"}
    assert spbe_kit("verify", str(region), cwd=region.parent).returncode == 0
