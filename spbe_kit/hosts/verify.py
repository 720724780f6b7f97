"""Verify: what the controller sees from outside — each app's health over HTTPS via the proxy.

Connects to the proxy host's address with the app's hostname as SNI and Host, verifies the
certificate (the region's CA when self-signed, the system's trust otherwise), and reads the
app's health endpoint. Never changes anything.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass, field

from spbe_kit.render.context import Context


@dataclass(frozen=True)
class Probe:
    app: str
    url: str
    ok: bool
    detail: str
    hsts: bool = False
    tls: str = ""  # negotiated protocol, e.g. TLSv1.3
    expires: float | None = None  # certificate notAfter, seconds since the epoch
    # The hardening headers the answer carried (the audit's HDR-01), by lower-case name.
    headers: dict[str, str] = field(default_factory=dict)


# Response headers the proxy adds to harden every app (and Server, which must name no version).
HARDENING_HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy", "server")


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to ``address`` while presenting and verifying ``hostname``."""

    def __init__(
        self, hostname: str, address: str, port: int, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(hostname, port, context=context, timeout=timeout)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def tls_context(ca_pem: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def app_url(ctx: Context, app_id: str) -> str:
    port = ctx.profile.proxy.https_port
    suffix = "" if port == 443 else f":{port}"
    return f"https://{ctx.apps[app_id].hostname}{suffix}/"


def proxy_address(ctx: Context) -> str:
    host = ctx.hosts[ctx.proxy.host].spec
    bind = ctx.profile.proxy.bind
    return bind if bind not in ("0.0.0.0", "::") and host.connection == "local" else host.address


def check_app(ctx: Context, app_id: str, ca_pem: str | None, timeout: float = 5.0) -> Probe:
    app = ctx.apps[app_id]
    url = app_url(ctx, app_id)
    connection = _PinnedHTTPS(
        app.hostname, proxy_address(ctx), ctx.profile.proxy.https_port, tls_context(ca_pem), timeout
    )
    try:
        connection.request("GET", app.spec.health)
        response = connection.getresponse()
        body = response.read(4096)
        hsts = bool(response.getheader("Strict-Transport-Security"))
        headers = {h: response.getheader(h, "") for h in HARDENING_HEADERS}
        tls, expires = "", None
        if isinstance(connection.sock, ssl.SSLSocket):
            tls = connection.sock.version() or ""
            not_after = (connection.sock.getpeercert() or {}).get("notAfter")
            expires = ssl.cert_time_to_seconds(str(not_after)) if not_after else None
        if response.status != 200:
            return Probe(app_id, url, False, f"HTTP {response.status}", hsts, tls, expires, headers)
        status = json.loads(body).get("status", "?")
        return Probe(app_id, url, status == "ok", f"HTTP 200, status {status}", hsts, tls, expires, headers)
    except (OSError, ssl.SSLError, http.client.HTTPException, ValueError) as exc:
        return Probe(app_id, url, False, _failure(exc))
    finally:
        connection.close()


def served_certificate(ctx: Context, app_id: str, timeout: float = 5.0) -> str:
    """The sha256 of the certificate the proxy presents for the app's hostname, trusted or not
    (verify compares it with the vault's); "" when nothing answers with TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    address = (proxy_address(ctx), ctx.profile.proxy.https_port)
    try:
        with (
            socket.create_connection(address, timeout) as raw,
            context.wrap_socket(raw, server_hostname=ctx.apps[app_id].hostname) as tls,
        ):
            return hashlib.sha256(tls.getpeercert(binary_form=True) or b"").hexdigest()
    except (OSError, ssl.SSLError):
        return ""


_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset"),
    (TimeoutError, "timed out"),
    (ssl.SSLCertVerificationError, "certificate not trusted"),
)


def _failure(exc: BaseException) -> str:
    """A short, stable description of why a probe failed (the status table translates it)."""
    for kind, words in _FAILURES:
        if isinstance(exc, kind):
            reason = getattr(exc, "verify_message", "")
            return f"{words} ({reason})" if reason else words
    return f"{type(exc).__name__}: {exc}"[:160]


def smoke(ctx: Context, ca_pem: str | None, wait_s: float = 30.0) -> list[Probe]:
    """Each app's health through the proxy; retries for ``wait_s`` while the proxy warms up."""
    deadline = time.monotonic() + wait_s
    results = {app_id: check_app(ctx, app_id, ca_pem) for app_id in sorted(ctx.apps)}
    while not all(r.ok for r in results.values()) and time.monotonic() < deadline:
        time.sleep(1)
        for app_id, result in results.items():
            if not result.ok:
                results[app_id] = check_app(ctx, app_id, ca_pem)
    return list(results.values())
