"""A real ACME server for tests: Debian's pebble, with pebble-challtestsrv as its DNS so that
every name resolves to this machine (where the region's proxy answers HTTP-01)."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conftest import require_tool


@dataclass
class Pebble:
    directory: str
    trust: str  # PEM: the listener's certificate and the root pebble issues under


def docker_host_address() -> str:
    """This machine as containers reach it: the default bridge's gateway. A freshly started
    engine may leave the gateway out of the network's IPAM, so the bridge's own address."""
    out = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"],
        capture_output=True, text=True, check=True, timeout=30,
    )
    if gateway := out.stdout.strip():
        return gateway
    addr = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, check=True, timeout=30
    )
    return addr.stdout.split("inet ")[1].split("/")[0]


def _listener_cert(folder: Path, address: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pebble listener")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(a)) for a in sorted({address, "127.0.0.1"})]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "listener.crt", folder / "listener.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def pebble(folder: Path, http_port: int, validity_s: int) -> Iterator[Pebble]:
    """pebble on this machine validating HTTP-01 on ``http_port``, issuing certificates that
    live ``validity_s`` seconds."""
    require_tool("pebble")
    require_tool("pebble-challtestsrv")
    folder.mkdir(parents=True, exist_ok=True)
    address = docker_host_address()
    cert, key = _listener_cert(folder, address)
    acme_port, management, dns, dns_management = (_free_port() for _ in range(4))
    config = {
        "pebble": {
            "listenAddress": f"0.0.0.0:{acme_port}",
            "managementListenAddress": f"127.0.0.1:{management}",
            "certificate": str(cert),
            "privateKey": str(key),
            "httpPort": http_port,
            "tlsPort": _free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            "certificateValidityPeriod": validity_s,
        }
    }
    (folder / "pebble.json").write_text(json.dumps(config))
    env = {"PATH": "/usr/bin:/bin", "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
    with open(folder / "challtestsrv.log", "w") as dns_log, open(folder / "pebble.log", "w") as log:
        resolver = subprocess.Popen(
            ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-http01", "",
             "-https01", "", "-tlsalpn01", "", "-dns01", f"127.0.0.1:{dns}",
             "-management", f"127.0.0.1:{dns_management}"],
            stdout=dns_log, stderr=subprocess.STDOUT,
        )
        server = subprocess.Popen(
            ["pebble", "-config", str(folder / "pebble.json"), "-dnsserver", f"127.0.0.1:{dns}"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        try:
            context = ssl.create_default_context(cafile=str(cert))
            root = None
            for _ in range(100):
                try:
                    with urllib.request.urlopen(
                        f"https://127.0.0.1:{management}/roots/0", context=context, timeout=5
                    ) as response:
                        root = response.read().decode()
                    break
                except OSError:
                    time.sleep(0.1)
            assert root, (folder / "pebble.log").read_text()
            yield Pebble(f"https://{address}:{acme_port}/dir", cert.read_text() + root)
        finally:
            for process in (server, resolver):
                process.terminate()
                process.wait(timeout=10)
