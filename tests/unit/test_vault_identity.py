"""One vault per region: the fingerprint a host records and the check every changing command
makes against it (the whole path runs in tests/e2e/test_deploy_local.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from spbe_kit.errors import OperationFailed
from spbe_kit.hosts import hostdata, vault
from spbe_kit.hosts.session import check_vault

ROOT = "/opt/spbe-kit/banjar"
MARK = '{"fingerprint": "%s", "who": "asep@laptop-diskominfo", "since": "2026-11-02T03:04:05Z"}'


def test_the_fingerprint_is_the_same_for_copies_of_a_vault_and_differs_between_vaults() -> None:
    one = {"vault_id": "11" * 32}
    assert vault.fingerprint(one, "32.79") == vault.fingerprint(dict(one), "32.79")
    assert vault.fingerprint(one, "32.79") != vault.fingerprint({"vault_id": "22" * 32}, "32.79")
    assert vault.fingerprint(one, "32.79") != vault.fingerprint(one, "32.15")
    assert "11" * 32 not in (vault.fingerprint(one, "32.79") or "")
    assert vault.fingerprint({}, "32.79") is None


def test_ensure_gives_an_old_vault_an_id_once(tmp_path: Path) -> None:
    from e2e.helpers import context, local_profile

    profile = local_profile(tmp_path)
    password = tmp_path / "pw"
    password.write_text("pw\n")
    ctx = context(profile)
    first = vault.ensure(ctx, profile, password)
    assert "vault_id" in first.generated
    again = vault.ensure(ctx, profile, password)
    assert again.generated == [] and again.fingerprint(ctx.region.code) == first.fingerprint(ctx.region.code)


def _session(*hosts: str) -> SimpleNamespace:
    return SimpleNamespace(hosts=list(hosts), profile=Path("/srv/banjar/banjar.yaml"))


def test_a_host_deployed_with_another_vault_is_refused_naming_who_and_when() -> None:
    mine = vault.fingerprint({"vault_id": "11" * 32}, "32.79")
    theirs = vault.fingerprint({"vault_id": "22" * 32}, "32.79")
    probes = {
        "app1": {"vault": hostdata.vault_mark("app1", MARK % theirs, ROOT).model_dump(), "releases": []},
        "db1": {"vault": hostdata.vault_mark("db1", MARK % mine, ROOT).model_dump(), "releases": []},
        "new": {"vault": None, "releases": []},
    }
    with pytest.raises(OperationFailed) as raised:
        check_vault(_session("app1", "db1", "new"), probes, mine)  # type: ignore[arg-type]
    [diag] = raised.value.diagnostics
    assert diag.code == "vault-mismatch" and diag.params["host"] == "app1"
    assert diag.params["who"] == "asep@laptop-diskominfo" and diag.params["vault"] == "banjar.vault.yml"
    # A controller with no vault at all is another vault too; hosts never deployed pass.
    with pytest.raises(OperationFailed):
        check_vault(_session("db1"), probes, None)  # type: ignore[arg-type]
    check_vault(_session("db1", "new"), probes, mine)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        "{{ lookup('pipe', 'id') }}",
        MARK % ("{{ lookup('pipe','id') }}"),
        MARK % ("ab" * 32) + "\n" + MARK % ("cd" * 32),
        '{"fingerprint": "%s", "who": "x@y", "since": "2026-11-02T03:04:05Z", "extra": 1}' % ("ab" * 32),
        '{"fingerprint": "%s", "who": "$(reboot)@y", "since": "2026-11-02T03:04:05Z"}' % ("ab" * 32),
        "x" * 5000,
    ],
)
def test_a_forged_vault_record_stops_the_command(raw: str) -> None:
    with pytest.raises(OperationFailed) as raised:
        hostdata.probe("app1", {"vault": raw, "releases": []}, ROOT)
    assert raised.value.diagnostics[0].code == "host-report-invalid"


@pytest.mark.parametrize(
    "keyed",
    [
        "{{ lookup('pipe', 'id') }}",
        {"secrets/x": "{{ lookup('pipe','id') }}"},
        {"../../etc/shadow": "ab" * 32},
        {"secrets/x": "AB" * 32},
        {"secrets/x": ["ab" * 32]},
        {f"secrets/{n}": "ab" * 32 for n in range(2001)},
    ],
)
def test_forged_secret_digests_stop_the_command(keyed: object) -> None:
    """verify compares HMACs the host sends; anything but hex digests under plain names is refused."""
    with pytest.raises(OperationFailed) as raised:
        hostdata.probe("app1", {"keyed": keyed, "releases": []}, ROOT)
    assert raised.value.diagnostics[0].code == "host-report-invalid"


def test_secret_digests_in_the_kits_shape_pass() -> None:
    found = hostdata.probe("app1", {"keyed": {"secrets/simpeg.db_password": "ab" * 32}, "releases": []}, ROOT)
    assert found["keyed"] == {"secrets/simpeg.db_password": "ab" * 32}
    assert hostdata.probe("app1", {"releases": []}, ROOT)["keyed"] == {}
