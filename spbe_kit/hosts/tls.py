"""Certificates, with the cryptography library: the region's own certificate authority for
self-signed TLS (EC P-256 keys; one server certificate per app hostname, serverAuth, SAN) and
the checks of a certificate the region provides itself (``check_provided``).
"""

from __future__ import annotations

import datetime
import ipaddress
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def new_account_key() -> str:
    """An ACME account key: RSA 2048 (RS256 is the one algorithm every ACME server takes)."""
    return _pem_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem_cert(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# The region's CA signs only the region's own names (X.509 name constraints), so a stolen CA
# key cannot mint a certificate for any other site a browser that trusts it would accept.
CA_DAYS = 5 * 365 + 1
# CA/Browser Forum limit for server certificates; the deploy renews 30 days before expiry.
LEAF_MAX_DAYS = 398


def new_ca(common_name: str, domains: list[str], days: int = CA_DAYS) -> tuple[str, str]:
    """A CA that may sign names under ``domains`` only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.NameConstraints(
                permitted_subtrees=[x509.DNSName(d) for d in sorted(set(domains))], excluded_subtrees=None
            ),
            critical=True,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _pem_key(key), _pem_cert(cert)


def issue_leaf(
    ca_key_pem: str,
    ca_cert_pem: str,
    hostname: str,
    days: int,
    extra_names: Sequence[str] = (),
    ips: Sequence[str] = (),
) -> tuple[str, str]:
    """A server certificate for ``hostname`` (and ``extra_names``, IP addresses ``ips``)."""
    days = min(days, LEAF_MAX_DAYS)
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in (hostname, *extra_names)]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return _pem_key(key), _pem_cert(cert)


def needs_renewal(cert_pem: str, now: datetime.datetime, days: int) -> bool:
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return cert.not_valid_after_utc - now < datetime.timedelta(days=days)


def not_after(cert_pem: str) -> datetime.datetime:
    return x509.load_pem_x509_certificate(cert_pem.encode()).not_valid_after_utc


def fingerprint(cert_pem: str) -> str:
    """sha256 of the (first, leaf) certificate's DER: what ``openssl x509 -fingerprint
    -sha256`` prints, without colons."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return cert.fingerprint(hashes.SHA256()).hex()


SYSTEM_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Problem:
    """Why a provided certificate cannot be served: a message code, the profile key it is
    about (``certificate``, ``key`` or ``ca``) and the message's parameters."""

    code: str
    key: str
    params: dict[str, str]


def check_provided(
    chain_pem: bytes, key_pem: bytes, hostnames: Sequence[str], root_pem: bytes | None, now: datetime.datetime
) -> list[Problem]:
    """A region's own certificate, before it is stored or deployed: the file holds the leaf
    first and its intermediates, the key belongs to the leaf, every app hostname is covered, the
    leaf is valid now, and the chain leads to ``root_pem`` (or the system's trust store)."""
    from cryptography.x509 import DNSName
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as exc:
        return [Problem("tls-cert-invalid", "certificate", {"problem": str(exc)[:200]})]
    leaf, intermediates = chain[0], chain[1:]
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        return [Problem("tls-key-invalid", "key", {"problem": str(exc)[:200]})]
    problems = []
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != leaf.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ):
        problems.append(Problem("tls-key-mismatch", "key", {"subject": leaf.subject.rfc4514_string()}))
    names = _dns_names(leaf)
    uncovered = [h for h in hostnames if not any(_covers(n, h) for n in names)]
    if uncovered:
        problems.append(
            Problem(
                "tls-name-uncovered",
                "certificate",
                {"hosts": ", ".join(uncovered), "names": ", ".join(names) or "-"},
            )
        )
    if leaf.not_valid_after_utc <= now or leaf.not_valid_before_utc > now:
        when = leaf.not_valid_after_utc if leaf.not_valid_after_utc <= now else leaf.not_valid_before_utc
        problems.append(Problem("tls-cert-expired", "certificate", {"when": when.isoformat()}))
    if problems:
        return problems
    try:
        trusted = root_pem if root_pem is not None else SYSTEM_ROOTS.read_bytes()
        with warnings.catch_warnings():  # a system root or two has a non-positive serial
            warnings.simplefilter("ignore")
            roots = x509.load_pem_x509_certificates(trusted)
    except (ValueError, OSError) as exc:
        return [Problem("tls-cert-invalid", "ca", {"problem": str(exc)[:200]})]
    policy = PolicyBuilder().store(Store(roots)).time(now)
    for hostname in hostnames:
        try:
            policy.build_server_verifier(DNSName(hostname)).verify(leaf, intermediates)
        except VerificationError as exc:
            issuer = (intermediates[-1] if intermediates else leaf).issuer.rfc4514_string()
            detail = str(exc)[:300]
            return [Problem("tls-chain-incomplete", "certificate", {"issuer": issuer, "detail": detail})]
    return []


def _dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.get_values_for_type(x509.DNSName)]


def _covers(name: str, hostname: str) -> bool:
    """A certificate name covers ``hostname`` exactly or as a one-label wildcard."""
    name, hostname = name.lower(), hostname.lower()
    if name.startswith("*."):
        head, _, rest = hostname.partition(".")
        return bool(head) and rest == name[2:]
    return name == hostname
