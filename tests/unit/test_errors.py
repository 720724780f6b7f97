"""Exact user-facing text for invalid profiles: file:line:col, key path, message, hint, exit 2."""

from __future__ import annotations

import pytest

DPO = "  dpo:\n    name: PPDP Demo\n    email: ppdp@kuningankab.localhost\n"
SIMPEG = '  simpeg:\n    version: "1.0.0"'

CASES: dict[str, tuple[list[tuple[str, str]], str]] = {
    "unknown-key": (
        [("  domain: kuningankab.localhost", "  domain: kuningankab.localhost\n  domian: x")],
        "bad.yaml:12:3: region.domian: unknown key 'domian' [profile-unknown-key]\n"
        "    hint: did you mean 'domain'? allowed: code, name, domain\n",
    ),
    "region-format": (
        [('code: "32.08"', 'code: "3208"')],
        "bad.yaml:9:3: region.code: '3208' is not a kabupaten/kota code [region-code-format]\n"
        "    hint: use NN.NN, kabupaten 01-69 or kota 71-99, e.g. '32.15' (Kemendagri, not BPS)\n",
    ),
    "region-range": (
        [('code: "32.08"', 'code: "32.70"')],
        "bad.yaml:9:3: region.code: '32.70' is not a kabupaten/kota code [region-code-format]\n"
        "    hint: use NN.NN, kabupaten 01-69 or kota 71-99, e.g. '32.15' (Kemendagri, not BPS)\n",
    ),
    "region-unknown": (
        [('code: "32.08"', 'code: "32.68"')],
        "bad.yaml:9:3: region.code: '32.68' is not in the Kemendagri dataset "
        "(Kepmendagri 300.2.2-2138/2025) [region-code-unknown]\n"
        "    hint: codes in province 32: 32.01-32.18, 32.71-32.79\n",
    ),
    "name-mismatch": (
        [("name: Kabupaten Kuningan", "name: Kabupaten Cirebon")],
        "bad.yaml:10:3: region.name: name 'Kabupaten Cirebon' does not match code 32.08 "
        "('Kabupaten Kuningan') [region-name-mismatch]\n"
        "    hint: write `name: Kabupaten Kuningan` or correct the code\n",
    ),
    "duplicate-key": (
        [("  keep: 7", "  keep: 7\n  keep: 8")],
        "bad.yaml:57:3: backup.keep: duplicate key 'keep' (first at line 56) [yaml-duplicate-key]\n"
        "    hint: remove one of them; YAML would silently keep only the last\n",
    ),
    "undefined-host": (
        [(SIMPEG, SIMPEG + "\n    host: app9")],
        "bad.yaml:41:5: apps.simpeg.host: host 'app9' is not defined under hosts [host-undefined]\n"
        "    hint: defined hosts: local\n",
    ),
    "missing-dpo": (
        [(DPO, "")],
        "bad.yaml:18:1: contacts.dpo: e-simpati, simpeg hold anak, kesehatan, keuangan data; "
        "a DPO contact is required (UU 27/2022 Art. 53) [privacy-dpo-missing]\n"
        "    hint: add contacts.dpo with name and email\n",
    ),
    "version-unknown": (
        [(SIMPEG, '  simpeg:\n    version: "2.0"')],
        "bad.yaml:40:5: apps.simpeg.version: version '2.0' of simpeg is not in the catalog "
        "[app-version-unknown]\n    hint: available: 1.0.0, 1.1.0\n",
    ),
    "app-unknown": (
        [("  simpeg:\n", "  simpegg:\n")],
        "bad.yaml:39:3: apps.simpegg: app 'simpegg' is not in the catalog [app-unknown]\n"
        "    hint: granted apps: e-simpati, simpeg, layanan-publik (did you mean 'simpeg'?)\n",
    ),
    "hostname-duplicate": (
        [(SIMPEG, SIMPEG + "\n    hostname: simpati.kuningankab.localhost")],
        "bad.yaml:41:5: apps.simpeg.hostname: hostname 'simpati.kuningankab.localhost' is also "
        "used by e-simpati [hostname-duplicate]\n    hint: give each app its own hostname\n",
    ),
    "port-collision": (
        [("  https_port: 8443", "  https_port: 8080")],
        "bad.yaml:47:3: proxy.https_port: port 8080 on host 'local' is used by both proxy (http) "
        "and proxy (https) [port-collision]\n    hint: change one of the ports\n",
    ),
    "setting-range": (
        [
            (
                '  e-simpati:\n    version: "1.0.0"',
                '  e-simpati:\n    version: "1.0.0"\n    settings:\n      password_min_length: 8',
            )
        ],
        "bad.yaml:40:7: apps.e-simpati.settings.password_min_length: setting 'password_min_length' "
        "of e-simpati is 8; allowed 12..128 [setting-range]\n    hint: required by bssn-password-length\n",
    ),
    "aplikasi-umum-overlap": (
        [("install_dir", "aplikasi_umum: [sp4n-lapor]\ninstall_dir")],
        "bad.yaml:41:3: apps.layanan-publik: layanan-publik overlaps SP4N-LAPOR! (pengaduan) which "
        "the region uses [aplikasi-umum-overlap]\n"
        "    hint: record why under apps.layanan-publik.justification, or stop using one of them\n",
    ),
    "role-unassigned": (
        [("roles: [proxy, apps, database]", "roles: [proxy, apps]")],
        "bad.yaml:30:1: hosts: no host has the role 'database' [role-unassigned]\n"
        "    hint: add 'database' to the roles of one host\n",
    ),
    "hosting-outside": (
        [("country: ID", "country: SG")],
        "bad.yaml:27:3: hosting.country: hosting country is 'SG'; public-scope data must be stored "
        "in Indonesia (PP 71/2019) [hosting-outside-indonesia]\n    hint: set hosting.country: ID\n",
    ),
    "processor-outside": (
        [("install_dir: /opt/spbe-kit", "install_dir: /opt/spbe-kit\nprocessors:\n  cadangan:\n"
          "    name: PT Awan\n    service: salinan\n    country: SG")],
        "bad.yaml:63:5: processors.cadangan.country: processor 'cadangan' keeps the data in 'SG'; "
        "public-scope data must be stored in Indonesia (PP 71/2019) [processor-outside-indonesia]\n"
        "    hint: choose a processor that keeps the data in Indonesia (country: ID)\n",
    ),
    "processor-undefined": (
        [("  keep: 7", "  keep: 7\n  copy_to: /srv/cadangan\n  copy_processor: arsip")],
        "bad.yaml:58:3: backup.copy_processor: processor 'arsip' is not defined under processors "
        "[processor-undefined]\n    hint: defined processors: -\n",
    ),
    "breach-notifier-email": (
        [("ppdp@kuningankab.localhost\n  subjects_channel", "ppdp\n  subjects_channel")],
        "bad.yaml:64:5: breach_notice.notifier.email: 'ppdp' is not an e-mail address [email-invalid]\n"
        "    hint: write e.g. diskominfo@karawangkab.go.id\n",
    ),
    "admin-network": (
        [("  https_port: 8443", "  https_port: 8443\n  admin_networks: [10.15.20.7/24]")],
        "bad.yaml:48:20: proxy.admin_networks[0]: '10.15.20.7/24' is not a network in CIDR notation "
        "(an address, '/', a prefix length; host bits zero) [admin-network-invalid]\n"
        "    hint: write the network with its prefix and zero host bits, e.g. 10.15.20.0/24 (one address: "
        "10.15.20.7/32)\n",
    ),
    "wrong-type": (
        [("  keep: 7", "  keep: seven")],
        "bad.yaml:56:3: backup.keep: invalid value: Input should be a valid integer "
        "[profile-invalid-value]\n    hint: found 'seven'\n",
    ),
    "missing-key": (
        [("  agreement: DEMO/PKS/2026/001\n", "")],
        "bad.yaml:13:1: grant.agreement: required key 'agreement' is missing [profile-missing-key]\n"
        "    hint: add `agreement:` here\n",
    ),
    "cron": (
        [('"30 1 * * *"', '"30 25 * * *"')],
        "bad.yaml:55:3: backup.schedule: '30 25 * * *' is not a cron schedule: '25' outside 0-23 "
        "[cron-invalid]\n    hint: five fields: minute hour day month weekday, e.g. '0 2 * * *'\n",
    ),
    "tab": (
        [("  keep: 7", "\tkeep: 7")],
        "bad.yaml:56:1: a tab character is used for indentation [yaml-tab]\n"
        "    hint: indent with spaces, not tabs\n",
    ),
    "dns-name": (
        [("domain: kuningankab.localhost", "domain: kuningan_kab.localhost")],
        "bad.yaml:11:3: region.domain: 'kuningan_kab.localhost' is not a valid DNS name "
        "[dns-name-invalid]\n    hint: use lowercase letters, digits and hyphens, labels joined "
        "by dots, e.g. simpati.karawangkab.go.id\n",
    ),
    "tls-outside": (
        [
            (
                "install_dir",
                "tls:\n  mode: provided\n  certificate: ../../etc/passwd\n  key: k.pem\ninstall_dir",
            )
        ],
        "bad.yaml:60:3: tls.certificate: '../../etc/passwd' points outside the profile's folder "
        "[path-outside]\n    hint: keep certificate files in or below the profile's folder\n"
        "bad.yaml:61:3: tls.key: file 'k.pem' does not exist [tls-file-missing]\n"
        "    hint: paths are relative to the profile's folder\n",
    ),
}


def mutate(text: str, subs: list[tuple[str, str]]) -> str:
    for old, new in subs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_error_text(name, cli, demo_text, write_profile, tmp_path) -> None:
    subs, expected = CASES[name]
    write_profile(mutate(demo_text, subs))
    result = cli("validate", "bad.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    count = expected.count("\n    hint:")
    assert result.stderr == expected + f"{count} diagnostic(s) found; nothing was changed.\n"
    assert "Traceback" not in result.output


def test_all_problems_at_once(cli, demo_text, write_profile, tmp_path) -> None:
    """The issue's acceptance: unknown key, wrong code, undefined host, duplicate key, no DPO."""
    subs = [
        CASES["unknown-key"][0][0],
        CASES["region-unknown"][0][0],
        CASES["duplicate-key"][0][0],
        CASES["undefined-host"][0][0],
        (DPO, ""),
    ]
    write_profile(mutate(demo_text, subs))
    result = cli("validate", "bad.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("bad.yaml:")]
    assert [line.split(" [")[-1] for line in lines] == [
        "region-code-unknown]",
        "profile-unknown-key]",
        "privacy-dpo-missing]",
        "host-undefined]",
        "yaml-duplicate-key]",
    ]
    assert [line.split(": ")[0] for line in lines] == [
        "bad.yaml:9:3",
        "bad.yaml:12:3",
        "bad.yaml:19:1",
        "bad.yaml:39:5",
        "bad.yaml:56:3",
    ]
    assert "Traceback" not in result.output


def test_bahasa_indonesia(cli, demo_text, write_profile, tmp_path) -> None:
    write_profile(mutate(demo_text, CASES["region-unknown"][0]))
    result = cli("--lang", "id", "validate", "bad.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        "bad.yaml:9:3: region.code: '32.68' tidak ada dalam data Kemendagri "
        "(Kepmendagri 300.2.2-2138/2025) [region-code-unknown]\n"
        "    saran: kode di provinsi 32: 32.01-32.18, 32.71-32.79\n"
        "1 masalah ditemukan; tidak ada yang diubah.\n"
    )


def test_an_indonesian_error_carries_an_indonesian_detail(cli, demo_text, write_profile, tmp_path) -> None:
    """The cron and admin-network errors carry a detail; under --lang id it is not English."""
    write_profile(mutate(demo_text, CASES["cron"][0] + CASES["admin-network"][0]))
    result = cli("--lang", "id", "validate", "bad.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    cron = "bad.yaml:56:3: backup.schedule: '30 25 * * *' bukan jadwal cron: '25' di luar 0-23 [cron-invalid]"
    network = "'10.15.20.7/24' bukan jaringan dalam notasi CIDR (alamat, '/', panjang prefiks; bit host nol)"
    assert cron in result.stderr and network in result.stderr
    assert "outside" not in result.stderr and "host bits set" not in result.stderr


def test_missing_file(cli, tmp_path) -> None:
    result = cli("validate", "nope.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("nope.yaml: file not found [file-not-found]\n")


def test_debug_shows_traceback(cli, tmp_path) -> None:
    from spbe_kit.errors import InvalidInput

    with pytest.raises(InvalidInput):
        cli("--debug", "validate", "nope.yaml", cwd=tmp_path)
