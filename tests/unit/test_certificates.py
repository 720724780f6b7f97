"""Certificates through the years: days left in status, the CA's early warning, the audit's
alarm threshold and which secrets a rotation renews (the rotation itself runs in
tests/e2e/test_deploy_local.py)."""

from __future__ import annotations

import datetime
from pathlib import Path

from certs import chain as make_chain

from spbe_kit.hosts import vault
from spbe_kit.hosts.deploy import ComponentStatus
from spbe_kit.hosts.tls import new_ca
from spbe_kit.ui import ConsoleUI


def test_the_ca_warns_a_year_before_it_expires() -> None:
    now = datetime.datetime.now(datetime.UTC)
    _, young = new_ca("spbe-kit CA Kota Banjar (32.79)", ["banjarkota.go.id"])
    _, old = new_ca("spbe-kit CA Kota Banjar (32.79)", ["banjarkota.go.id"], days=200)
    assert vault.Secrets({"tls": {"ca_cert": young}}).ca_days_left(now) > vault.CA_WARN_DAYS
    assert vault.Secrets({"tls": {"ca_cert": old}}).ca_days_left(now) in (199, 200)


def test_status_shows_each_apps_certificate_days_left_in_both_languages() -> None:
    row = ComponentStatus(
        "app1", "simpeg", "1.1.0", "spbe-kit/simpeg:1.1.0", "running", "healthy", "", 60,
        "https://simpeg.banjarkota.go.id/", "ok", 396,
    )  # fmt: skip
    for lang, text in (("en", "certificate: 396 days left"), ("id", "sertifikat: sisa 396 hari")):
        _, urls = ConsoleUI(lang=lang).status_table([row])
        assert urls == [f"  simpeg: https://simpeg.banjarkota.go.id/ ({text})"]


def test_rotation_names_every_secret_but_the_ca(tmp_path: Path) -> None:
    from e2e.helpers import context, local_profile
    from spbe_kit.hosts.rotate import plan, renew, rotatable

    profile = local_profile(tmp_path)
    password = tmp_path / "pw"
    password.write_text("pw\n")
    ctx = context(profile)
    data = vault.ensure(ctx, profile, password).data
    names = rotatable(ctx, data)
    assert "simpeg.db_password" in names and "postgres.superuser_password" in names
    assert "tls.simpeg.banjarkota.localhost" in names and "tls.database" in names
    assert not any(n.split(".")[-1] == "ca" or n.startswith("tls.ca") for n in names)
    new = renew(ctx, data, names)
    assert new["tls"]["ca_key"] == data["tls"]["ca_key"] and new["vault_id"] == data["vault_id"]
    assert all(new["apps"][a]["db_password"] != data["apps"][a]["db_password"] for a in ctx.apps)
    assert new["tls"]["database"]["names"] == data["tls"]["database"]["names"]
    steps = plan(ctx, ["simpeg.db_password", "backup.db_password"])
    assert steps["roles"] == [
        {"role": "simpeg", "ref": "apps/simpeg/db_password", "app": "simpeg"},
        {"role": "spbe_backup", "ref": "backup/db_password", "app": ""},
    ]
    assert steps["restart"] == {"local": ["simpeg", "backup"]}
    assert not steps["reload_proxy"] and not steps["restart_postgres"]


HOSTS = ["layanan.banjarkota.go.id", "simpati.banjarkota.go.id", "simpeg.banjarkota.go.id"]


def test_a_provided_chain_is_checked_for_key_chain_names_and_dates(tmp_path: Path) -> None:
    from spbe_kit.hosts.tls import check_provided

    now = datetime.datetime.now(datetime.UTC)
    files = make_chain(tmp_path, HOSTS)
    read = {k: v.read_bytes() for k, v in files.items()}
    assert check_provided(read["full"], read["key"], HOSTS, read["root"], now) == []
    [mismatch] = check_provided(read["full"], read["other-key"], HOSTS, read["root"], now)
    assert (mismatch.code, mismatch.key) == ("tls-key-mismatch", "key")
    [incomplete] = check_provided(read["leaf-only"], read["key"], HOSTS, read["root"], now)
    assert incomplete.code == "tls-chain-incomplete" and "Intermediate" in incomplete.params["issuer"]
    more = [*HOSTS, "sipd.banjarkota.go.id"]
    [uncovered] = check_provided(read["full"], read["key"], more, read["root"], now)
    assert uncovered.code == "tls-name-uncovered" and uncovered.params["hosts"] == "sipd.banjarkota.go.id"
    later = now + datetime.timedelta(days=120)
    assert [p.code for p in check_provided(read["full"], read["key"], HOSTS, read["root"], later)] == [
        "tls-cert-expired"
    ]
    # Not publicly trusted: without tls.ca the system's roots do not lead to it.
    assert [p.code for p in check_provided(read["full"], read["key"], HOSTS, None, now)] == [
        "tls-chain-incomplete"
    ]


def test_validate_locates_each_provided_certificate_problem_in_both_languages(tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import EXAMPLES

    make_chain(tmp_path, [h.replace("banjarkota.go.id", "kuningankab.localhost") for h in HOSTS])
    demo = (EXAMPLES / "demo.yaml").read_text()
    assert "tls:" not in demo.split("proxy:")[0]

    def check(chain: str, key: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
        text = demo + f"\ntls:\n  mode: provided\n  certificate: {chain}\n  key: {key}\n  ca: root.pem\n"
        (tmp_path / "p.yaml").write_text(text)
        return subprocess.run(
            [sys.executable, "-m", "spbe_kit", "--lang", lang, "validate", "p.yaml"],
            cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip

    assert check("full.pem", "key.pem").returncode == 0, check("full.pem", "key.pem").stderr
    for chain, key, code, key_path in (
        ("full.pem", "other-key.pem", "tls-key-mismatch", "tls.key"),
        ("leaf-only.pem", "key.pem", "tls-chain-incomplete", "tls.certificate"),
    ):
        done = check(chain, key)
        assert done.returncode == 2, done.stderr
        assert "p.yaml:" in done.stderr and f"{key_path}:" in done.stderr and f"[{code}]" in done.stderr
        assert "Traceback" not in done.stderr
        assert "saran:" in check(chain, key, "id").stderr
