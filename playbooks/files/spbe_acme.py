#!/usr/bin/env python3
"""spbe-kit's ACME renewal: obtains and renews the proxy's certificates over HTTP-01.

Runs as the ``acme`` service of the proxy project: the proxy's image and user, sharing the
proxy's PID namespace so that a new certificate reloads nginx with SIGHUP (no Docker socket,
no systemd, no cron). The ACME protocol is certbot's ``acme`` library (Debian python3-acme).

    spbe_acme.py run CONFIG     renew what is due, then sleep until the next one is due
    spbe_acme.py renew CONFIG   one pass now (the deploy's step); exit 1 naming what failed
    spbe_acme.py health CONFIG  exit 0 while the loop's heartbeat is fresh

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
        registration = messages.NewRegistration.from_data(
            email=config["email"], terms_of_service_agreed=True
        )
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


def reload_nginx() -> bool:
    """SIGHUP to the nginx master in the shared PID namespace: new workers read the new
    certificates, old ones finish their requests (no dropped connection)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "cmdline").read_bytes().startswith(b"nginx: master process"):
                os.kill(int(proc.name), signal.SIGHUP)
                return True
        except OSError:
            continue
    return False


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
        issued = []
        for hostname, reason in sorted(due.items()):
            try:
                key_pem, chain_pem = acme.issue(hostname)
            except Exception as exc:
                failures += 1
                log("acme-failed", hostname=hostname, reason=reason, error=_describe(exc))
                continue
            _write(certs / f"{hostname}.key", key_pem, 0o400)
            _write(certs / f"{hostname}.crt", chain_pem, 0o444)
            state[hostname] = {
                "sha256": hashlib.sha256(chain_pem).hexdigest(),
                "directory": config["directory"],
                "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            _write(certs / "state.json", json.dumps(state, indent=2, sort_keys=True).encode(), 0o644)
            issued.append(hostname)
            log("acme-issued", hostname=hostname, reason=reason, renew_at=due_at(chain_pem).isoformat())
        if issued:
            log("nginx-reloaded" if reload_nginx() else "nginx-not-found", hostnames=issued)
        return failures


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:400]


def run(config: dict[str, Any]) -> None:
    heartbeat = Path(config["certs"]) / ".heartbeat"

    def beat() -> None:
        # A thread: an ACME order may take a minute, and the loop is alive all the while.
        while True:
            heartbeat.touch()
            time.sleep(HEARTBEAT_S)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=beat, daemon=True).start()
    while True:
        failures = renew(config)
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


def main(argv: list[str]) -> int:
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
