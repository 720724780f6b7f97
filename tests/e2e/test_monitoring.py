"""Monitoring end to end on this machine (Kota Malang): Prometheus, Alertmanager and the
exporters from Debian packages tell a real SMTP server (aiosmtpd, STARTTLS with its own CA)
and a webhook when an app stops, when it is back, when the scheduled backup fails and when a
certificate is about to expire; `alerts test` reports each receiver; `status` lists what fires.

The receivers listen on the region's Docker network gateway (this machine, never the LAN).
"""

from __future__ import annotations

import base64
import datetime
import http.client
import ipaddress
import json
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import helpers
from e2e.helpers import local_profile, spbe_kit
from spbe_kit.hosts import tls, vault

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible]
REGION = ("35.73", "Kota Malang", "malangkota", "malang")
WEB = "pantau.malangkota.localhost"
WEB_PASSWORD = "kata-sandi-pantau-" + os.urandom(4).hex()


class Inbox:
    """What the receivers got: e-mails (subject and text) and webhook payloads."""

    def __init__(self) -> None:
        self.mails: list[str] = []
        self.hooks: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def wait(self, what: str, found: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                hit = found()
            if hit:
                return hit
            time.sleep(1)
        raise AssertionError(
            f"{what}: nothing within {timeout:.0f} s; mails {self.mails[-3:]}, hooks {self.hooks[-3:]}"
        )

    def mail(self, *parts: str) -> str | None:
        return next((m for m in self.mails if all(p in m for p in parts)), None)

    def hook(self, alertname: str, status: str) -> dict[str, Any] | None:
        for payload in self.hooks:
            for alert in payload.get("alerts", []):
                if alert["labels"].get("alertname") == alertname and alert["status"] == status:
                    return alert
        return None


def _smtp_certificate(folder: Path, address: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for ``address`` (an IP), as a mail server would have."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mail CA Kota Malang (test)")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    paths = folder / "mail-ca.pem", folder / "mail.crt", folder / "mail.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture(scope="module")
def receivers(images: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Inbox]]:
    from aiosmtpd.controller import Controller

    folder = tmp_path_factory.mktemp("malang")
    profile = local_profile(folder, https_port=22443, http_port=22080, region=REGION)
    ctx = helpers.context(profile)
    # The region's network exists before the deploy (which keeps it): its gateway is this
    # machine as the containers see it, where the receivers listen.
    subprocess.run(["docker", "network", "rm", ctx.network], capture_output=True)
    subprocess.run(
        ["docker", "network", "create", "--label", f"org.spbe-kit.region={REGION[0]}", ctx.network],
        check=True, capture_output=True,
    )  # fmt: skip
    inspected = json.loads(subprocess.run(["docker", "network", "inspect", ctx.network], capture_output=True,
                                          check=True, text=True).stdout)  # fmt: skip
    gateway = inspected[0]["IPAM"]["Config"][0]["Gateway"]
    inbox = Inbox()

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mail = message_from_bytes(envelope.content)
            body = "".join(
                part.get_payload(decode=True).decode()
                for part in mail.walk()
                if part.get_content_type() == "text/plain"
            )
            with inbox.lock:
                inbox.mails.append(f"{mail['Subject']}\n{body}")
            return "250 OK"

    ca, cert, key = _smtp_certificate(folder, gateway)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    smtp = Controller(
        Mailbox(), hostname=gateway, port=_free_port(gateway), tls_context=context, require_starttls=True
    )
    smtp.start()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with inbox.lock:
                inbox.hooks.append(payload)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hooks = ThreadingHTTPServer((gateway, 0), Hook)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    data = yaml.safe_load(profile.read_text())
    data["backup"] = {"schedule": "* * * * *", "keep": 2}
    data["monitoring"] = {
        "enabled": True,
        "scrape_interval": "5s",
        "fire_after": {"SPBE-APP-DOWN": "20s"},
        "email": {
            "to": ["tim-it@malangkota.go.id"],
            "sender": "spbe-kit@malangkota.go.id",
            "smarthost": f"{gateway}:{smtp.port}",
            "ca": ca.name,
        },
        "webhooks": [f"http://{gateway}:{hooks.server_address[1]}/spbe"],
        "web": {"hostname": WEB},
    }
    profile.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    # Given before the first deploy, as an admin would: the vault starts with it.
    given = spbe_kit(
        "secrets", "set", profile.name, "monitoring.web_password", input=WEB_PASSWORD, cwd=folder
    )
    assert given.returncode == 0, given.stdout + given.stderr
    deployed = spbe_kit("deploy", str(profile), cwd=folder)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    yield profile, inbox
    spbe_kit("destroy", str(profile), "--yes", "--delete-data", cwd=folder)
    smtp.stop()
    hooks.shutdown()


def _free_port(address: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _container(app: str) -> str:
    found = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=org.spbe-kit.region={REGION[0]}",
         "--filter", f"label=org.spbe-kit.app={app}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(found) == 1, found
    return found[0]


def test_alerts_test_reaches_every_receiver(receivers) -> None:
    profile, inbox = receivers
    tested = spbe_kit("alerts", "test", profile.name, cwd=profile.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "email: arrived at 1 of 1" in tested.stdout and "webhook: arrived at 1 of 1" in tested.stdout, (
        tested.stdout
    )
    mail = inbox.wait(
        "the test e-mail", lambda: inbox.mail("SPBE-TEST", "Uji pemberitahuan", "test notification"), 30
    )
    assert "[SPBE 35.73 Kota Malang]" in mail, mail
    assert inbox.wait("the test webhook", lambda: inbox.hook("SPBE-TEST", "firing"), 30)


def test_a_stopped_app_is_told_in_both_languages_and_so_is_its_return(receivers) -> None:
    profile, inbox = receivers
    container = _container("e-simpati")
    stopped = time.monotonic()
    subprocess.run(["docker", "stop", container], check=True, capture_output=True)
    try:
        mail = inbox.wait(
            "the app-down e-mail",
            lambda: inbox.mail("SPBE-APP-DOWN", "AKTIF / FIRING", "e-simpati"),
            150,
        )
        told = time.monotonic() - stopped
        assert "tidak menjawab lewat proxy" in mail and "does not answer through the proxy" in mail, mail
        assert f"spbe-kit status {profile.name}" in mail, mail
        hook = inbox.wait("the app-down webhook", lambda: inbox.hook("SPBE-APP-DOWN", "firing"), 30)
        assert hook["labels"]["app"] == "e-simpati" and hook["labels"]["severity"] == "critical"
        assert hook["annotations"]["summary_id"] and hook["annotations"]["summary_en"]
        shown = spbe_kit("status", profile.name, cwd=profile.parent)
        assert shown.returncode == 3
        assert "SPBE-APP-DOWN" in shown.stdout and f"spbe-kit deploy {profile.name}" in shown.stdout, (
            shown.stdout
        )
        shown_id = spbe_kit("--lang", "id", "status", profile.name, cwd=profile.parent)
        assert "peringatan SPBE-APP-DOWN" in shown_id.stdout and "tidak menjawab" in shown_id.stdout
        print(f"failure to notification: {told:.1f} s")
    finally:
        subprocess.run(["docker", "start", container], check=True, capture_output=True)
    mail = inbox.wait("the resolved e-mail", lambda: inbox.mail("SPBE-APP-DOWN", "PULIH / RESOLVED"), 150)
    assert "e-simpati" in mail
    assert inbox.wait("the resolved webhook", lambda: inbox.hook("SPBE-APP-DOWN", "resolved"), 30)


def test_a_certificate_about_to_expire_is_told(receivers) -> None:
    profile, inbox = receivers
    ctx = helpers.context(profile)
    app = ctx.apps["simpeg"]
    data = vault.load(vault.vault_path(profile), vault.default_password_file(profile))
    key, cert = tls.issue_leaf(data["tls"]["ca_key"], data["tls"]["ca_cert"], app.hostname, 5)
    folder = Path(ctx.root) / "tls"
    (folder / f"{app.hostname}.crt").write_text(cert)
    (folder / f"{app.hostname}.key").write_text(key)
    subprocess.run(["docker", "exec", _proxy(), "nginx", "-s", "reload"], check=True, capture_output=True)
    mail = inbox.wait(
        "the certificate e-mail", lambda: inbox.mail("SPBE-CERT-EXPIRY", "AKTIF / FIRING", app.hostname), 120
    )
    assert "kurang dari 14 hari" in mail and "less than 14 days" in mail


def _proxy() -> str:
    return subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=org.spbe-kit.region={REGION[0]}",
         "--filter", "label=org.spbe-kit.service=proxy"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip


def test_a_failed_scheduled_backup_is_told(receivers) -> None:
    profile, inbox = receivers
    postgres = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=org.spbe-kit.region={REGION[0]}",
         "--filter", "label=org.spbe-kit.service=postgres"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    # The backup role's password no longer matches the one the scheduler has.
    subprocess.run(
        ["docker", "exec", postgres, "psql", "-q", "-U", "postgres", "-c",
         "ALTER ROLE spbe_backup PASSWORD 'revoked'"],
        check=True, capture_output=True,
    )  # fmt: skip
    mail = inbox.wait("the backup e-mail", lambda: inbox.mail("SPBE-BACKUP-FAILED", "AKTIF / FIRING"), 180)
    assert f"spbe-kit backup now {profile.name}" in mail, mail
    assert "Pencadangan terjadwal" in mail and "scheduled backup" in mail


def test_a_receiver_that_refuses_is_named_by_alerts_test(receivers) -> None:
    profile, _ = receivers
    original = profile.read_text()
    data = yaml.safe_load(original)
    gateway = data["monitoring"]["email"]["smarthost"].rsplit(":", 1)[0]
    data["monitoring"]["webhooks"].append(f"http://{gateway}:{_free_port(gateway)}/nobody-listens")
    profile.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    try:
        deployed = spbe_kit("deploy", profile.name, cwd=profile.parent)
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        tested = spbe_kit("alerts", "test", profile.name, "--wait", "30", cwd=profile.parent)
        assert tested.returncode == 3, tested.stdout + tested.stderr
        assert "email: arrived" in tested.stdout and "webhook: NOT arrived at 1 of 2" in tested.stdout, (
            tested.stdout
        )
        assert "nobody-listens" in tested.stdout or "connection refused" in tested.stdout, tested.stdout
    finally:
        profile.write_text(original)


def _web(profile: Path, path: str, password: str | None) -> tuple[int, bytes]:
    """A request to the monitoring pages through the proxy, as a browser with the region's CA."""
    ca = profile.with_name(profile.stem + ".ca.crt")
    context = ssl.create_default_context(cafile=str(ca))

    class Pinned(http.client.HTTPSConnection):
        def connect(self) -> None:
            import socket

            raw = socket.create_connection(("127.0.0.1", 22443), timeout=10)
            self.sock = context.wrap_socket(raw, server_hostname=WEB)

    connection = Pinned(WEB, 22443, context=context, timeout=10)
    headers = {"Host": WEB}
    if password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"spbe:{password}".encode()).decode()
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_the_monitoring_pages_are_served_only_behind_the_password(receivers) -> None:
    profile, _ = receivers
    assert _web(profile, "/api/v1/status/buildinfo", None)[0] == 401
    assert _web(profile, "/api/v1/status/buildinfo", "wrong")[0] == 401
    status, body = _web(profile, "/api/v1/status/buildinfo", WEB_PASSWORD)
    assert status == 200 and json.loads(body)["data"]["version"].startswith("2.42"), body[:300]
    status, body = _web(profile, "/alertmanager/api/v2/status", WEB_PASSWORD)
    assert status == 200 and json.loads(body)["versionInfo"]["version"].startswith("0.25"), body[:300]
    # Its links point at the published address.
    status, body = _web(profile, "/api/v1/status/flags", WEB_PASSWORD)
    assert json.loads(body)["data"]["web.external-url"] == f"https://{WEB}:22443/"
