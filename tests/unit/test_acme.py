"""The ACME renewal's decisions (playbooks/files/spbe_acme.py) and the acme profile checks.
The protocol itself runs against a real ACME server in the e2e test."""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from certs import chain

from conftest import EXAMPLES
from spbe_kit.resources import playbooks_dir

_spec = importlib.util.spec_from_file_location("spbe_acme", playbooks_dir() / "files" / "spbe_acme.py")
assert _spec and _spec.loader
spbe_acme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(spbe_acme)
DAY = datetime.timedelta(days=1)


def test_renewal_comes_at_30_days_or_a_third_of_the_life_and_never_past_half() -> None:
    assert spbe_acme.renew_before(90 * DAY) == 30 * DAY
    assert spbe_acme.renew_before(365 * DAY) == 365 * DAY / 3
    assert spbe_acme.renew_before(60 * DAY) == 30 * DAY
    # Short-lived certificates: half their life, or they would be renewed on every pass.
    assert spbe_acme.renew_before(6 * DAY) == 3 * DAY
    assert spbe_acme.renew_before(datetime.timedelta(seconds=40)) == datetime.timedelta(seconds=20)


def test_a_certificate_is_due_unless_this_directory_issued_it_and_it_is_fresh(tmp_path: Path) -> None:
    files = chain(tmp_path, ["simpati.example.go.id"])  # valid 1 day ago .. 90 days ahead
    certs = tmp_path / "certs"
    certs.mkdir()
    config = {"certs": str(certs), "directory": "https://acme.example/dir", "check_minutes": 720,
              "hostnames": ["simpati.example.go.id"]}  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    name = "simpati.example.go.id"
    assert spbe_acme.why_due(config, {}, name, now) == "no certificate"
    pem = files["full"].read_bytes()
    (certs / f"{name}.crt").write_bytes(pem)
    assert spbe_acme.why_due(config, {}, name, now) == "not issued by this ACME directory yet"
    state = {name: {"sha256": hashlib.sha256(pem).hexdigest(), "directory": config["directory"]}}
    assert spbe_acme.why_due(config, state, name, now) is None
    assert spbe_acme.why_due({**config, "directory": "https://other/dir"}, state, name, now) == (
        "issued by another ACME directory"
    )
    assert spbe_acme.why_due(config, state, "simpeg.example.go.id", now) == "no certificate"
    assert spbe_acme.why_due(config, state, name, now + 61 * DAY) == "due for renewal"
    # The loop wakes when the first certificate falls due, not only every check_minutes.
    due = spbe_acme.due_at(pem)
    assert spbe_acme.next_wake({**config, "check_minutes": 10080}, due - DAY) == due
    assert spbe_acme.next_wake(config, now) == now + datetime.timedelta(minutes=720)
    # After a failed order: an hour while 90 days remain, a quarter of what is left near the end.
    assert spbe_acme.next_wake(config, now, failed=True) == now + datetime.timedelta(hours=1)
    late = spbe_acme.not_after(pem) - datetime.timedelta(minutes=8)
    assert spbe_acme.next_wake(config, late, failed=True) == late + datetime.timedelta(minutes=2)


def test_health_follows_the_loops_heartbeat(tmp_path: Path) -> None:
    config = {"certs": str(tmp_path)}
    assert spbe_acme.health(config) == 1
    (tmp_path / ".heartbeat").touch()
    assert spbe_acme.health(config) == 0


def test_acme_profiles_need_a_contact_and_an_https_directory(tmp_path: Path) -> None:
    demo = (EXAMPLES / "demo.yaml").read_text()

    def validate(tls: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
        (tmp_path / "p.yaml").write_text(demo + "\ntls:\n  mode: acme\n" + tls)
        return subprocess.run(
            [sys.executable, "-m", "spbe_kit", "--lang", lang, "validate", "p.yaml"],
            cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip

    assert validate("  acme_email: admin@kuningankab.go.id\n").returncode == 0
    done = validate("  acme_directory: http://acme.example/dir\n")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "[acme-email-required]" in done.stderr and "[acme-directory-invalid]" in done.stderr
    assert "tls.acme_directory:" in done.stderr and "p.yaml:" in done.stderr
    assert "saran:" in validate("  acme_directory: ftp://x\n", "id").stderr
    missing = validate("  acme_email: a@b.go.id\n  ca: nowhere.pem\n")
    assert missing.returncode == 2 and "tls.ca:" in missing.stderr


def test_the_probe_reports_the_leaf_of_each_certificate_the_acme_service_wrote(tmp_path: Path) -> None:
    from spbe_kit.errors import OperationFailed
    from spbe_kit.hosts import hostdata, tls

    spec = importlib.util.spec_from_file_location("spbe_probe", playbooks_dir() / "files" / "spbe_probe.py")
    assert spec and spec.loader
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    pki = tmp_path / "pki"
    pki.mkdir()
    files = chain(pki, ["simpati.example.go.id"])
    certs = tmp_path / "root" / "acme" / "certs"
    certs.mkdir(parents=True)
    (certs / "simpati.example.go.id.crt").write_text(files["full"].read_text())
    (certs / "simpati.example.go.id.key").write_text("not reported")
    (certs / "garbage.crt").write_text("-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n")
    (certs / "link.crt").symlink_to(files["full"])
    found = probe.acme_certificates(str(tmp_path / "root"))
    assert found == {"simpati.example.go.id": tls.fingerprint(files["full"].read_text())}
    # What a compromised host could write instead is refused, located.
    report = {"acme_certs": {"simpati.example.go.id; rm -rf /": "0" * 64}}
    with pytest.raises(OperationFailed) as refused:
        hostdata.probe("app1", report, "/opt/spbe-kit/x")
    assert refused.value.diagnostics[0].params["file"] == "/opt/spbe-kit/x/acme/certs"


def test_the_leaf_of_a_chain_is_what_a_server_presents(tmp_path: Path) -> None:
    """wait_served compares the served certificate with the first one of the chain written."""
    import ssl

    files = chain(tmp_path, ["simpati.example.go.id"])
    full = files["full"].read_bytes()
    assert full.count(b"BEGIN CERTIFICATE") >= 2
    leaf = files["full"].read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    assert spbe_acme.leaf_der(full) == ssl.PEM_cert_to_DER_cert(leaf)


def test_the_proxy_process_reloads_nginx_when_the_marker_changes_and_forwards_stop(tmp_path: Path) -> None:
    """The proxy's PID 1 under ACME (spbe_acme.py proxy): a rewritten .reload file becomes one
    SIGHUP to nginx; Docker's stop signal (SIGQUIT) reaches nginx; its exit status is kept."""
    import json
    import os
    import signal
    import time

    marker, record = tmp_path / ".reload", tmp_path / "signals"
    fake_nginx = (
        "import signal, sys, time\n"
        f"out = open({str(record)!r}, 'a', buffering=1)\n"
        "signal.signal(signal.SIGHUP, lambda *_: out.write('HUP\\n'))\n"
        "signal.signal(signal.SIGQUIT, lambda *_: (out.write('QUIT\\n'), sys.exit(7)))\n"
        "out.write('ready\\n')\n"
        "while True: time.sleep(0.05)\n"
    )
    script = str(playbooks_dir() / "files" / "spbe_acme.py")
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", script, "proxy", str(marker), "--", sys.executable, "-c", fake_nginx],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip

    def lines(count: int) -> list[str]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = record.read_text().split() if record.exists() else []
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return got

    try:
        assert lines(1) == ["ready"]
        spbe_acme.request_reload(tmp_path, ["simpati.example.go.id"])
        assert lines(2) == ["ready", "HUP"]
        time.sleep(1.2)  # an unchanged marker is no reload
        assert record.read_text().split() == ["ready", "HUP"]
        spbe_acme.request_reload(tmp_path, ["simpati.example.go.id"])
        assert lines(3) == ["ready", "HUP", "HUP"]
        proc.send_signal(signal.SIGQUIT)
        assert proc.wait(timeout=10) == 7
    finally:
        proc.kill()
    assert lines(4) == ["ready", "HUP", "HUP", "QUIT"]
    events = [json.loads(line)["event"] for line in proc.stdout.read().splitlines()]  # type: ignore[union-attr]
    assert events == ["nginx-reload", "nginx-reload"]
    assert sorted(os.listdir(tmp_path)) == [".reload", "signals"]  # written whole, no temporary left


def test_a_stop_signal_waits_for_a_certificate_and_its_reload_request() -> None:
    """docker stop between writing a certificate and asking the proxy to load it would leave
    nginx serving the old one; inside deferred() the exit waits for the block's end."""
    stopping = spbe_acme._Stopping()
    with pytest.raises(SystemExit):
        stopping.handle()
    done = []
    with pytest.raises(SystemExit), stopping.deferred():
        stopping.handle()
        done.append("certificate")
        done.append("reload requested")
    assert done == ["certificate", "reload requested"]


def test_certificates_on_disk_that_nginx_does_not_serve_get_a_reload_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {}
    for name in ("a.go.id", "b.go.id", "c.go.id"):
        (tmp_path / name).mkdir()
        files[name] = chain(tmp_path / name, [name])
    certs = tmp_path / "certs"
    certs.mkdir()
    for name, made in files.items():
        (certs / f"{name}.crt").write_bytes(made["full"].read_bytes())
    leaf = {n: spbe_acme.leaf_der(m["full"].read_bytes()) for n, m in files.items()}
    # b: nginx still serves another certificate (a's); c: the proxy is down, it loads at start.
    served = {"a.go.id": leaf["a.go.id"], "b.go.id": leaf["a.go.id"], "c.go.id": None}
    monkeypatch.setattr(spbe_acme, "served_leaf", lambda _address, host: served[host])
    config = {"certs": str(certs), "hostnames": sorted(files), "proxy": {"host": "proxy", "https_port": 8443}}
    assert spbe_acme.reconcile(config) == ["b.go.id"]
    assert json.loads((certs / ".reload").read_text())["hostnames"] == ["b.go.id"]
    served["b.go.id"] = leaf["b.go.id"]
    (certs / ".reload").unlink()
    assert spbe_acme.reconcile(config) == [] and not (certs / ".reload").exists()
