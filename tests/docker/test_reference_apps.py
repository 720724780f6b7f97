"""Reference apps started by hand with `docker compose` from a rendered tree: health, records,
and an upgrade to 1.1.0 that keeps every row and adds the new column or table."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES
from spbe_kit import pipeline

pytestmark = pytest.mark.docker
APPS = ("e-simpati", "simpeg", "layanan-publik")
CANARY = {
    "e-simpati": {
        "child_ref": "K-1",
        "sex": "P",
        "age_months": 30,
        "height_cm": 82.5,
        "kecamatan_code": "32.79.01",
    },
    "simpeg": {"nip": "198503152010012003", "name": "Siti Canary", "unit": "BKPSDM"},
    "layanan-publik": {"service": "Izin usaha", "applicant_ref": "canary-1"},
}


def compose(folder: Path, *args: str) -> None:
    result = subprocess.run(["docker", "compose", *args], cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def address(project: str) -> str:
    out = subprocess.run(
        [
            "docker",
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            f"{project}-app-1",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def call(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class HandDeployment:
    """What the deploy playbook automates, done by hand for one region on this engine."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.profile = tmp / "banjar.yaml"
        self.root = tmp / "opt" / "kota-banjar"
        self.network = "spbe-kota-banjar"

    def render(self, version: str) -> Path:
        text = (EXAMPLES / "demo.yaml").read_text()
        for old, new in (
            ('"32.08"', '"32.79"'),
            ("Kabupaten Kuningan", "Kota Banjar"),
            ("kuningankab", "banjarkota"),
            ("/opt/spbe-kit", str(self.tmp / "opt")),
            ('version: "1.0.0"', f'version: "{version}"'),
        ):
            text = text.replace(old, new)
        self.profile.write_text(text)
        out = self.tmp / f"tree-{version}"
        pipeline.render(pipeline.validate(self.profile), out)
        return out / "hosts" / "local"

    def install(self, tree: Path) -> None:
        for item in tree.iterdir():
            target = self.root / item.name
            target.mkdir(parents=True, exist_ok=True)
            for file in item.rglob("*"):
                if file.is_file():
                    dest = target / file.relative_to(item)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(file, dest)
                    dest.chmod(0o644)

    def secrets(self) -> dict[str, str]:
        folder = self.root / "secrets"
        folder.mkdir(parents=True, exist_ok=True)
        values = {"postgres.superuser_password": secrets.token_hex(16)}
        for app in APPS:
            values[f"{app}.db_password"] = secrets.token_hex(16)
            values[f"{app}.app_key"] = secrets.token_hex(16)
        for name, value in values.items():
            path = folder / name
            path.write_text(value)
            path.chmod(0o400)
            uid = 999 if name.startswith("postgres.") else 10001
            shutil.chown(path, uid, uid)
        self.tls()
        return values

    def tls(self) -> None:
        """The region CA and PostgreSQL's certificate, which the deploy takes from the vault."""
        from spbe_kit.hosts import tls

        ca_key, ca_cert = tls.new_ca("test CA", ["banjarkota.localhost"])
        key, cert = tls.issue_leaf(ca_key, ca_cert, "postgres.banjarkota.localhost", 30)
        (self.root / "tls").mkdir(parents=True, exist_ok=True)
        (self.root / "tls" / "region-ca.crt").write_text(ca_cert)
        for name, content in (("postgres.server.crt", cert), ("postgres.server.key", key)):
            path = self.root / "secrets" / name
            path.write_text(content)
            path.chmod(0o400)
            shutil.chown(path, 999, 999)

    def database(self, values: dict[str, str]) -> None:
        for app in APPS:
            role = app.replace("-", "_")
            password = values[f"{app}.db_password"]
            sql = f"CREATE ROLE {role} LOGIN PASSWORD '{password}'; CREATE DATABASE {role} OWNER {role};"
            subprocess.run(
                [
                    "docker",
                    "exec",
                    "-i",
                    "spbe-kota-banjar-postgres-postgres-1",
                    "psql",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-U",
                    "postgres",
                ],
                input=sql,
                text=True,
                check=True,
                capture_output=True,
            )

    def down(self) -> None:
        for folder in sorted(self.root.glob("*/compose.yaml")):
            subprocess.run(
                ["docker", "compose", "down", "-v", "--timeout", "5"], cwd=folder.parent, capture_output=True
            )
        subprocess.run(["docker", "network", "rm", self.network], capture_output=True)


def test_apps_keep_records_across_upgrade(images: Path, tmp_path: Path) -> None:
    hand = HandDeployment(tmp_path)
    try:
        hand.install(hand.render("1.0.0"))
        values = hand.secrets()
        subprocess.run(["docker", "network", "create", hand.network], check=True, capture_output=True)
        compose(hand.root / "postgres", "up", "-d", "--wait")
        hand.database(values)
        for app in APPS:
            compose(hand.root / app, "up", "-d", "--wait")
        urls = {app: f"http://{address(f'spbe-kota-banjar-{app}')}:8000" for app in APPS}
        for app, url in urls.items():
            assert call(f"{url}/healthz")["schema_generation"] == 1
            call(f"{url}/api/records", CANARY[app])
            assert call(f"{url}/api/records")["count"] == 1
        with urllib.request.urlopen(urls["e-simpati"] + "/", timeout=5) as page:
            html = page.read().decode()
        assert "Kota Banjar (32.79)" in html and "1 catatan" in html

        hand.install(hand.render("1.1.0"))
        for app in APPS:
            compose(hand.root / app, "up", "-d", "--wait")
        urls = {app: f"http://{address(f'spbe-kota-banjar-{app}')}:8000" for app in APPS}
        for app, url in urls.items():
            assert call(f"{url}/healthz") == {
                "status": "ok",
                "app": app,
                "version": "1.1.0",
                "schema_generation": 2,
            }
            listed = call(f"{url}/api/records")
            assert listed["count"] == 1
        assert "muac_cm" in call(f"{urls['e-simpati']}/api/records")["records"][0]
        assert call(f"{urls['layanan-publik']}/api/records")["records"][0]["channel"] == "loket"
        created = call(
            f"{urls['simpeg']}/api/records",
            {"nip": "199001012015031001", "name": "Budi", "unit": "Setda", "position": "Analis"},
        )
        assert created["id"] == 2
        for secret in values.values():
            inspect = subprocess.run(
                [
                    "docker",
                    "inspect",
                    "spbe-kota-banjar-simpeg-app-1",
                    "spbe-kota-banjar-postgres-postgres-1",
                ],
                capture_output=True,
                text=True,
            )
            assert secret not in inspect.stdout
    finally:
        hand.down()


def test_stunting_classification_and_nip_rules() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "images" / "app"))
    from spbe_app.domain import height_for_age_z, nip_problem, stunting_status

    assert stunting_status(height_for_age_z("L", 24, 87.1)) == "normal"
    assert stunting_status(height_for_age_z("L", 24, 79.0)) == "pendek"
    assert stunting_status(height_for_age_z("P", 36, 83.0)) == "sangat pendek"
    assert nip_problem("198503152010012003") is None
    assert nip_problem("198513152010012003") == "NIP birth date (digits 1-8) is not a date"
    assert nip_problem("198503152010013003") == "NIP gender digit (15) must be 1 or 2"
    assert nip_problem("12345") == "NIP must be 18 digits"
