"""The donor's fleet on real parts: three regions, each on its own test server over real SSH
(Karawang, Belitung, Siak; e-Simpati only, to keep it short). Each region writes its signed
report; one is tampered with, one is signed by another key; fleet status and the HTML page
(headless Chromium) trust only the good one. --live asks every region at once. Then a staged
upgrade with a broken release in the second wave stops there, leaves the first wave upgraded
and the broken region on its old release with its data, and resumes once the release is
fixed; every profile keeps its comments."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from tools.test_report_browser import NAVY, first_row_with, screenshot

from e2e.helpers import api, broken_release_catalog, spbe_kit

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
REGIONS = [
    ("32.15", "Kabupaten Karawang", "karawang"),
    ("19.02", "Kabupaten Belitung", "belitung"),
    ("14.08", "Kabupaten Siak", "siak"),
]
PROFILE = """\
# Profil {name} ({code}), dikelola donor.  /  {name}'s profile, managed by the donor.
schema: spbe-kit/profile/v1

region:
  code: "{code}"
  name: {name}
  domain: {stem}kab.go.id          # domain pemda

grant:
  donor: "32.11"                   # Kabupaten Sumedang
  agreement: 031/PKS-SMD/2026/{stem}
  date: 2026-02-01

contacts:
  admin:
    name: Diskominfo {name}
    email: diskominfo@{stem}kab.go.id
  dpo:                             # PPDP (UU 27/2022 Ps. 53)
    name: PPDP {name}
    email: ppdp@{stem}kab.go.id

hosting:
  country: ID                      # PP 71/2019
  provider: Diskominfo {name}

hosts:
  server:                          # satu server untuk semuanya / one server for everything
    address: {address}
    user: root
    roles: [proxy, apps, database]

apps:
  e-simpati:
    # Versi yang dijalankan; fleet upgrade hanya mengubah baris berikut.
    version: "1.0.0"               # the running release
    settings:
      timezone: Asia/Jakarta

privacy:
  legal_basis: Pelaksanaan tugas pemerintahan (UU 27/2022 Ps. 20 ayat 2 huruf e)
  dpia: DPIA/{stem}/2026/001
  retention: 5 tahun

breach_notice:
  notifier:
    name: PPDP {name}
    email: ppdp@{stem}kab.go.id
  subjects_channel: Surat dan SMS

backup:
  schedule: "0 2 * * *"
  keep: 7
"""


@pytest.fixture(scope="module")
def fleet(images: Path, tmp_path_factory: pytest.TempPathFactory):
    """The donor's folder with the three regions deployed, each on its own test server."""
    from spbe_kit.testservers import TestServers

    folder = tmp_path_factory.mktemp("fleet")
    servers = TestServers()
    servers.start(3)
    shutil.copy(servers.key, folder / "donor_key")
    try:
        for (code, name, stem), server in zip(REGIONS, servers.servers, strict=True):
            (folder / f"{stem}.yaml").write_text(
                PROFILE.format(code=code, name=name, stem=stem, address=server.address)
            )
            done = spbe_kit("deploy", f"{stem}.yaml", "--private-key", "donor_key", cwd=folder)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            # A record the upgrade's rollback must keep.
            api(folder / f"{stem}.yaml", "e-simpati", "/api/records", canary(code, stem))
        yield folder, servers
    finally:
        for _, _, stem in REGIONS:
            spbe_kit(
                "destroy", f"{stem}.yaml", "--yes", "--delete-data", "--private-key", "donor_key", cwd=folder
            )
        servers.stop()


def canary(code: str, stem: str) -> dict[str, object]:
    from spbe_kit.wilayah import dataset

    kecamatan = dataset().kecamatan_of(code)[0].code
    return {
        "child_ref": f"canary-{stem}",
        "sex": "P",
        "age_months": 30,
        "height_cm": 82.5,
        "kecamatan_code": kecamatan,
    }


def children(profile: Path, catalog: Path | None = None) -> list[str]:
    return [r["child_ref"] for r in api(profile, "e-simpati", "/api/records", catalog=catalog)["records"]]


def status_json(folder: Path, *extra: str) -> tuple[int, dict]:
    done = spbe_kit("fleet", "status", str(folder), "--json", *extra, timeout=600)
    assert done.returncode in (0, 3), done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


def test_reports_tampered_or_signed_by_another_key_are_not_trusted(fleet, tmp_path: Path) -> None:
    folder, _ = fleet
    inbox = tmp_path / "inbox"  # what reached the donor by e-mail: reports and registered keys
    (inbox / "keys").mkdir(parents=True)
    for code, _, stem in REGIONS:
        done = spbe_kit(
            "report",
            f"{stem}.yaml",
            "-o",
            str(inbox / f"{stem}.json"),
            "--private-key",
            "donor_key",
            cwd=folder,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        shutil.copy(folder / f"{stem}.report-key.pub", inbox / "keys" / f"{code}.pub")
    karawang = json.loads((inbox / "karawang.json").read_text())["report"]
    (app,) = karawang["apps"]
    assert app["health"] == "healthy" and app["version"] == "1.0.0" and app["image_id"].startswith("sha256:")
    assert karawang["deploy"]["release"] == 1 and karawang["drift"] == {"checked": True, "differences": 0}
    assert karawang["source"] == "hosts" and app["cert_days"] > 300
    # The handover record names the key the donor registered.
    bast = spbe_kit("handover", "karawang.yaml", "--format", "json", "--private-key", "donor_key", cwd=folder)
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(inbox / "keys" / "32.15.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert json.loads(bast.stdout)["report_key"] == fingerprint

    tampered = json.loads((inbox / "belitung.json").read_text())
    tampered["report"]["audit"]["failed"] = {}
    (inbox / "belitung.json").write_text(json.dumps(tampered))
    # Siak's report comes signed by another key (another controller's copy of the profile).
    shutil.copy(folder / "siak.yaml", tmp_path / "siak.yaml")
    other = spbe_kit("report", "siak.yaml", "--offline", "-o", str(inbox / "siak.json"), cwd=tmp_path)
    assert other.returncode == 0, other.stderr[-2000:]

    code, data = status_json(inbox)
    assert code == 3
    rows = {r["code"]: r for r in data["regions"]}
    assert {c: r["trust"] for c, r in rows.items()} == {
        "32.15": "valid",
        "19.02": "bad",
        "14.08": "wrong-key",
    }
    good = rows["32.15"]
    assert good["apps"] == [{"id": "e-simpati", "version": "1.0.0", "health": "healthy"}]
    assert good["deploy"]["release"] == 1 and good["cert_days"] > 300 and good["backup_days"] is None
    assert rows["19.02"]["apps"] == [] and rows["14.08"]["apps"] == []

    page = tmp_path / "fleet.html"
    assert spbe_kit("fleet", "report", str(inbox), "-o", str(page)).returncode == 0
    shot = ROOT / "build" / "test-artefacts" / "fleet.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    width, _, rows_px = screenshot(page, shot, 1600)
    assert width == 1280 and first_row_with(rows_px, NAVY) is not None, "the table did not render"
    assert first_row_with(rows_px, (0xC6, 0x28, 0x28)) is not None, "the untrusted marks did not render"


def test_live_status_asks_every_region_at_once(fleet) -> None:
    """Three regions at once; a fourth whose server refuses SSH is named and stops nobody."""
    folder, _ = fleet
    gone = folder / "sintang.yaml"
    text = PROFILE.format(code="61.05", name="Kabupaten Sintang", stem="sintang", address="127.0.0.1")
    gone.write_text(text.replace("    user: root\n", "    user: root\n    port: 1\n"))
    try:
        started = time.monotonic()
        _, data = status_json(folder, "--live", "--workers", "3", "--private-key", str(folder / "donor_key"))
        seconds = time.monotonic() - started
    finally:
        gone.unlink()
    rows = {r["code"]: r for r in data["regions"]}
    unreachable = rows.pop("61.05")
    assert unreachable["trust"] == "none" and unreachable["attention"]
    assert unreachable["reasons"][0]["en"].startswith("live: "), unreachable["reasons"]
    assert "Connection refused" in unreachable["reasons"][0]["en"], unreachable["reasons"]
    assert {c: (r["trust"], r["source"]) for c, r in rows.items()} == {
        c: ("valid", "live") for c, _, _ in REGIONS
    }, {c: r.get("reasons") for c, r in rows.items()}
    assert all(r["apps"][0]["health"] == "healthy" for r in rows.values())
    print(f"fleet status --live, 4 regions (one unreachable), 3 workers: {seconds:.1f} s")


def test_a_staged_upgrade_stops_at_a_broken_region_and_resumes(fleet, tmp_path: Path) -> None:
    """Release 1.2.0 is good when the first wave gets it; then the donor's build of it breaks
    (the same tag, an image whose /healthz fails) and the second wave's region gets that."""
    folder, _ = fleet
    catalog = broken_release_catalog(tmp_path, "e-simpati", "1.2.0", "1.1.0")
    good = ["docker", "tag", "spbe-kit/e-simpati:1.1.0", "spbe-kit/e-simpati:1.2.0"]
    broken_id = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", "spbe-kit/e-simpati:1.2.0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(good, check=True)
    before = {stem: (folder / f"{stem}.yaml").read_text() for _, _, stem in REGIONS}

    def upgrade(waves: str) -> subprocess.CompletedProcess[str]:
        return spbe_kit(
            "--catalog",
            str(catalog),
            "fleet",
            "upgrade",
            ".",
            "--app",
            "e-simpati",
            "--to",
            "1.2.0",
            "--waves",
            waves,
            "--private-key",
            "donor_key",
            cwd=folder,
            timeout=1800,
        )

    try:
        first = upgrade("karawang")
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        subprocess.run(["docker", "tag", broken_id, "spbe-kit/e-simpati:1.2.0"], check=True)
        stopped = upgrade("karawang;belitung;rest")
        assert stopped.returncode == 4, stopped.stdout[-3000:] + stopped.stderr[-3000:]
        assert "stopped at 19.02 (wave 2" in stopped.stderr, stopped.stderr
        assert "wave 1: 32.15 already upgraded" in stopped.stdout, stopped.stdout
        for stem, version in (("karawang", "1.2.0"), ("belitung", "1.0.0"), ("siak", "1.0.0")):
            profile = folder / f"{stem}.yaml"
            assert yaml.safe_load(profile.read_text())["apps"]["e-simpati"]["version"] == version, stem
            assert f"canary-{stem}" in children(profile, catalog), stem
        # Belitung runs its old release again, with its data; Siak was never touched.
        _, data = status_json(
            folder, "--live", "--catalog", str(catalog), "--private-key", str(folder / "donor_key")
        )
        versions = {r["code"]: r["apps"][0]["version"] for r in data["regions"]}
        assert versions == {"32.15": "1.2.0", "19.02": "1.0.0", "14.08": "1.0.0"}, data

        subprocess.run(good, check=True)  # the donor fixes the release
        resumed = upgrade("karawang;belitung;rest")
        assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
        assert (
            "wave 1: 32.15 already upgraded" in resumed.stdout and "wave 3: 14.08 upgraded" in resumed.stdout
        )
    finally:
        subprocess.run(["docker", "rmi", "spbe-kit/e-simpati:1.2.0"], capture_output=True)
    for _, _, stem in REGIONS:
        after = (folder / f"{stem}.yaml").read_text()
        changed = [
            (a, b) for a, b in zip(before[stem].splitlines(), after.splitlines(), strict=True) if a != b
        ]
        assert changed == [
            (
                '    version: "1.0.0"               # the running release',
                '    version: "1.2.0"               # the running release',
            )
        ], changed
        assert f"canary-{stem}" in children(folder / f"{stem}.yaml", catalog)
