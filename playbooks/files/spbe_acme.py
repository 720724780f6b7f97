#!/usr/bin/env python3
"""spbe-kit's ACME renewal: obtains and renews the proxy's certificates over HTTP-01.

Runs as the ``acme`` service of the proxy project, in the proxy's image and user (no Docker
socket, no systemd, no cron). The ACME protocol is certbot's ``acme`` library (Debian
python3-acme). The two containers share only the certificates folder: after writing new
certificates the service rewrites its ``.reload`` file there, and the proxy's first process
(this script's ``proxy`` command) reloads nginx when it sees that file change. Either container
may restart, in any order, without the other.

    spbe_acme.py run CONFIG      renew what is due, then sleep until the next one is due
    spbe_acme.py renew CONFIG    one pass now (the deploy's step); exit 1 naming what failed
    spbe_acme.py health CONFIG   exit 0 while the loop's heartbeat is fresh
    spbe_acme.py proxy MARKER -- NGINX...
                                 the proxy's PID 1: run nginx, reload it when MARKER changes

CONFIG is the rendered acme.json. Certificates are written beside a state file that records
which ones this ACME directory issued; anything else in their place (the deploy's placeholder
from the region CA, a hand-copied file) is replaced at the next pass.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any

DAY = datetime.timedelta(days=1)
HEARTBEAT_S = 10
FRESH_S = 60
# After a failed order: a quarter of the time the certificate has left, between 10 s and an hour
# (Let's Encrypt allows 5 failed validations per hostname and hour).
RETRY_AFTER_FAILURE = datetime.timedelta(hours=1)
# How often the proxy looks at the .reload file (one stat), and how long a renewal waits to see
# nginx serve what it wrote.
WATCH_S = 0.5
SERVED_WITHIN_S = 20
RELOAD = ".reload"


def log(event: str, **fields: Any) -> None:
    fields = {"time": _now().strftime("%Y-%m-%dT%H:%M:%SZ"), "event": event, **fields}
    print(json.dumps(fields, sort_keys=True), flush=True)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def renew_before(life: datetime.timedelta) -> datetime.timedelta:
    """How long before expiry a certificate is renewed: at 30 days left or a third of its
    life, whichever comes first, but never past half its life (short-lived certificates
    would otherwise be renewed on every pass)."""
    return min(max(30 * DAY, life / 3), life / 2)


def due_at(cert_pem: bytes) -> datetime.datetime:
    start, end = _validity(cert_pem)
    return end - renew_before(end - start)


def not_after(cert_pem: bytes) -> datetime.datetime:
    return _validity(cert_pem)[1]


def _validity(cert_pem: bytes) -> tuple[datetime.datetime, datetime.datetime]:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem)
    if hasattr(cert, "not_valid_after_utc"):
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    else:  # Debian bookworm's cryptography (38) has only the naive-UTC properties.
        utc = datetime.timezone.utc
        start, end = (cert.not_valid_before.replace(tzinfo=utc), cert.not_valid_after.replace(tzinfo=utc))
    return start, end


def covers(cert_pem: bytes, hostname: str) -> bool:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return hostname in names.get_values_for_type(x509.DNSName)


def why_due(
    config: dict[str, Any], state: dict[str, Any], hostname: str, now: datetime.datetime
) -> str | None:
    """Why ``hostname``'s certificate must be (re)issued now, or None."""
    path = Path(config["certs"]) / f"{hostname}.crt"
    try:
        pem = path.read_bytes()
        expected = state.get(hostname, {})
        if expected.get("sha256") != hashlib.sha256(pem).hexdigest():
            return "not issued by this ACME directory yet"
        if expected.get("directory") != config["directory"]:
            return "issued by another ACME directory"
        if not covers(pem, hostname):
            return "does not cover the hostname"
        if now >= due_at(pem):
            return "due for renewal"
    except FileNotFoundError:
        return "no certificate"
    except ValueError:
        return "unreadable certificate"
    return None


def next_wake(config: dict[str, Any], now: datetime.datetime, failed: bool = False) -> datetime.datetime:
    """When the loop looks again: the next certificate due, at most ``check_minutes`` away;
    after a failure, a quarter of the shortest time left (10 s to RETRY_AFTER_FAILURE)."""
    wake = now + datetime.timedelta(minutes=config["check_minutes"])
    retry = RETRY_AFTER_FAILURE
    for hostname in config["hostnames"]:
        with contextlib.suppress(OSError, ValueError):
            pem = (Path(config["certs"]) / f"{hostname}.crt").read_bytes()
            wake = min(wake, due_at(pem))
            retry = min(retry, (not_after(pem) - now) / 4)
    floor = datetime.timedelta(seconds=HEARTBEAT_S)
    if failed:
        return now + max(retry, floor)
    return max(wake, now + floor)


def _read_state(config: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads((Path(config["certs"]) / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomically: nginx reads either the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Acme:
    """One account on the directory, registered (or found again) with the vault's key."""

    def __init__(self, config: dict[str, Any]) -> None:
        import josepy
        from acme import client, errors, messages
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(Path(config["account_key"]).read_bytes(), None)
        verify: str | bool = config["trust"] or True
        net = client.ClientNetwork(
            josepy.JWKRSA(key=key), alg=josepy.RS256, verify_ssl=verify, user_agent="spbe-kit"
        )
        directory = client.ClientV2.get_directory(config["directory"], net)
        self.client = client.ClientV2(directory, net)
        registration = messages.NewRegistration.from_data(email=config["email"], terms_of_service_agreed=True)
        try:
            self.client.new_account(registration)
        except errors.ConflictError as exc:
            net.account = messages.RegistrationResource(uri=exc.location, body=messages.Registration())
        self.challenges = Path(config["challenges"])

    def issue(self, hostname: str) -> tuple[bytes, bytes]:
        from acme import challenges, crypto_util, messages
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        order = self.client.new_order(crypto_util.make_csr(key_pem, [hostname]))
        written = []
        try:
            for authz in order.authorizations:
                if authz.body.status == messages.STATUS_VALID:
                    continue  # an authorization the server reuses (Let's Encrypt: 30 days)
                http = [c for c in authz.body.challenges if isinstance(c.chall, challenges.HTTP01)]
                if not http:
                    raise RuntimeError("the ACME server offered no HTTP-01 challenge")
                response, validation = http[0].response_and_validation(self.client.net.key)
                token = self.challenges / http[0].chall.encode("token")
                token.write_text(validation)
                token.chmod(0o444)
                written.append(token)
                self.client.answer_challenge(http[0], response)
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=90)
            order = self.client.poll_and_finalize(order, deadline)
        finally:
            for token in written:
                token.unlink(missing_ok=True)
        return key_pem, order.fullchain_pem.encode()


def request_reload(certs: Path, hostnames: list[str]) -> None:
    """Tell the proxy to reload nginx: it watches this file (a new inode on every write)."""
    body = {"hostnames": hostnames, "time": _now().strftime("%Y-%m-%dT%H:%M:%SZ")}
    _write(certs / RELOAD, json.dumps(body, sort_keys=True).encode(), 0o444)


def served_leaf(address: tuple[str, int], hostname: str) -> bytes | None:
    """The certificate nginx presents for ``hostname`` now (DER), or None if unreachable."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the question is which certificate, not whether trusted
    try:
        with (
            socket.create_connection(address, timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=hostname) as conn,
        ):
            return conn.getpeercert(binary_form=True)
    except OSError:
        return None


def leaf_der(chain_pem: bytes) -> bytes:
    """The first certificate of a PEM chain, DER-encoded (what a TLS server presents)."""
    text = chain_pem.decode("ascii")
    end = text.index(ssl.PEM_FOOTER) + len(ssl.PEM_FOOTER)
    return ssl.PEM_cert_to_DER_cert(text[text.index(ssl.PEM_HEADER) : end])


def wait_served(
    config: dict[str, Any], written: dict[str, bytes], timeout: float = SERVED_WITHIN_S
) -> list[str]:
    """Wait until the proxy serves each new certificate; the hostnames it still does not."""
    address = (config["proxy"]["host"], config["proxy"]["https_port"])
    leaves = {h: leaf_der(pem) for h, pem in written.items()}
    deadline = time.monotonic() + timeout
    while True:
        waiting = sorted(h for h, leaf in leaves.items() if served_leaf(address, h) != leaf)
        if not waiting or time.monotonic() >= deadline:
            return waiting
        time.sleep(WATCH_S / 2)


def renew(config: dict[str, Any]) -> int:
    """One pass: issue every certificate that is due. Returns the number of failures."""
    certs = Path(config["certs"])
    with open(certs / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = _read_state(config)
        now = _now()
        due = {h: r for h in config["hostnames"] if (r := why_due(config, state, h, now))}
        if not due:
            return 0
        failures = 0
        try:
            acme = Acme(config)
        except Exception as exc:  # any failure is reported with its cause
            log("acme-unreachable", directory=config["directory"], error=_describe(exc))
            return len(due)
        issued: dict[str, bytes] = {}
        for hostname, reason in sorted(due.items()):
            try:
                key_pem, chain_pem = acme.issue(hostname)
            except Exception as exc:
                failures += 1
                log("acme-failed", hostname=hostname, reason=reason, error=_describe(exc))
                continue
            # Key, certificate, state and the reload request go together: a stop signal in
            # between waits for them (a certificate on disk that nginx is never told to load
            # would be served stale until it expired).
            with STOPPING.deferred():
                _write(certs / f"{hostname}.key", key_pem, 0o400)
                _write(certs / f"{hostname}.crt", chain_pem, 0o444)
                state[hostname] = {
                    "sha256": hashlib.sha256(chain_pem).hexdigest(),
                    "directory": config["directory"],
                    "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                _write(certs / "state.json", json.dumps(state, indent=2, sort_keys=True).encode(), 0o644)
                request_reload(certs, [hostname])
            issued[hostname] = chain_pem
            log("acme-issued", hostname=hostname, reason=reason, renew_at=due_at(chain_pem).isoformat())
    if issued:
        started = time.monotonic()
        # Not a failure of the renewal: a proxy that is down reads the new files when it starts.
        if stale := wait_served(config, issued):
            log("nginx-not-reloaded", hostnames=stale, waited_s=SERVED_WITHIN_S)
        else:
            log("nginx-reloaded", hostnames=sorted(issued), seconds=round(time.monotonic() - started, 2))
    return failures


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:400]


class _Stopping:
    """SIGTERM (docker stop) ends the loop at once, except inside ``deferred()``, where it
    waits for the block to finish."""

    def __init__(self) -> None:
        self.depth = 0
        self.requested = False

    def handle(self, *_: object) -> None:
        if self.depth:
            self.requested = True
        else:
            sys.exit(0)

    @contextlib.contextmanager
    def deferred(self) -> Any:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.requested and not self.depth:
                sys.exit(0)


STOPPING = _Stopping()


def reconcile(config: dict[str, Any]) -> list[str]:
    """At start: certificates on disk that nginx does not serve (the service was killed after
    writing them, before the proxy reloaded) get a reload request. Returns their hostnames."""
    certs = Path(config["certs"])
    address = (config["proxy"]["host"], config["proxy"]["https_port"])
    stale = []
    for hostname in config["hostnames"]:
        try:
            leaf = leaf_der((certs / f"{hostname}.crt").read_bytes())
        except (OSError, ValueError):
            continue
        served = served_leaf(address, hostname)
        if served is not None and served != leaf:
            stale.append(hostname)
    if stale:
        request_reload(certs, stale)
        log("nginx-reload-requested", hostnames=stale, reason="certificates on disk not served")
    return stale


def run(config: dict[str, Any]) -> None:
    heartbeat = Path(config["certs"]) / ".heartbeat"

    def beat() -> None:
        # A thread: an ACME order may take a minute, and the loop is alive all the while.
        while True:
            heartbeat.touch()
            time.sleep(HEARTBEAT_S)

    signal.signal(signal.SIGTERM, STOPPING.handle)
    threading.Thread(target=beat, daemon=True).start()
    try:
        reconcile(config)
    except Exception as exc:  # never a reason not to renew
        log("acme-error", error=_describe(exc))
    while True:
        try:
            failures = renew(config)
        except Exception as exc:  # a bug or a full disk: logged and retried, never a crash loop
            log("acme-error", error=_describe(exc))
            failures = 1
        wake = next_wake(config, _now(), failed=failures > 0)
        log("acme-sleeping", until=wake.strftime("%Y-%m-%dT%H:%M:%SZ"))
        while _now() < wake:
            time.sleep(min(HEARTBEAT_S, max(0.0, (wake - _now()).total_seconds())))


def health(config: dict[str, Any]) -> int:
    try:
        age = time.time() - (Path(config["certs"]) / ".heartbeat").stat().st_mtime
    except OSError:
        return 1
    return 0 if age < FRESH_S else 1


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def proxy(marker: Path, argv: list[str]) -> int:
    """The proxy container's first process under tls.mode acme: starts nginx, forwards the
    signals Docker sends (SIGQUIT: finish the requests in flight), reaps orphans, and sends
    nginx SIGHUP when ``marker`` changes: new workers read the new certificates while the old
    ones finish their requests. Exits with nginx's status, so Docker's restart policy applies."""
    seen = _stamp(marker)  # before nginx starts: a change from here on is never missed
    nginx = os.posix_spawnp(argv[0], argv, dict(os.environ))

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(nginx, signum)

    for signum in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(signum, forward)
    while True:
        while (child := os.waitpid(-1, os.WNOHANG))[0]:
            if child[0] == nginx:
                code = os.waitstatus_to_exitcode(child[1])
                return code if code >= 0 else 128 - code  # killed by a signal: 128 + its number
        if (now := _stamp(marker)) != seen:
            seen = now
            forward(signal.SIGHUP, None)
            log("nginx-reload", marker=str(marker))
        time.sleep(WATCH_S)


def main(argv: list[str]) -> int:
    if len(argv) > 4 and argv[1] == "proxy" and argv[3] == "--":
        return proxy(Path(argv[2]), argv[4:])
    if len(argv) != 3 or argv[1] not in ("run", "renew", "health"):
        print(__doc__, file=sys.stderr)
        return 2
    config = json.loads(Path(argv[2]).read_text())
    if argv[1] == "health":
        return health(config)
    if argv[1] == "renew":
        return 1 if renew(config) else 0
    run(config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
