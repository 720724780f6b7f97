"""Second hostile-input round: YAML type tricks, special files, host paths, names outside the
region, addresses, line separators and what a compromised host writes back.

Every case here failed (crashed, slipped through or ran code) before this round; each must
now be exit 2 with a located message, or refused as host data naming the host and file.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, nginx_accepts
from spbe_kit import pipeline
from spbe_kit.errors import InvalidInput, OperationFailed
from spbe_kit.hosts import hostdata
from spbe_kit.render.tree import render_files

DEMO = (EXAMPLES / "demo.yaml").read_text()


def validate_text(tmp_path: Path, text: str) -> list[tuple[str, str, str]]:
    """(code, location, key path) of every problem, or [] when the profile is valid."""
    path = tmp_path / "p.yaml"
    path.write_text(text)
    try:
        pipeline.validate(path)
    except InvalidInput as exc:
        return [(d.code, str(d.location), ".".join(map(str, d.key_path))) for d in exc.diagnostics]
    return []


def rendered_demo(tmp_path: Path) -> tuple[pipeline.Validated, Path]:
    """The demo profile validated and its tree written to ``tmp_path / "tree"``."""
    from spbe_kit.render.write import write_tree

    profile = tmp_path / "p.yaml"
    profile.write_text(DEMO)
    validated = pipeline.validate(profile)
    write_tree(render_files(validated), tmp_path / "tree")
    return validated, tmp_path / "tree"


def swap(old: str, new: str) -> str:
    assert old in DEMO, old
    return DEMO.replace(old, new)


# -- YAML type tricks: each is refused at its own line with a stable code ----------------------

TYPE_TRICKS = {
    "binary smuggles control bytes": (
        ("agreement: DEMO/PKS/2026/001", "agreement: !!binary G1szMW1ldmlsG1swbQA="),
        "yaml-tag-refused",
    ),
    "a set": (("provider: Mesin lokal (demo)", "provider: !!set {a, b}"), "yaml-tag-refused"),
    "a local tag": (("provider: Mesin lokal (demo)", "provider: !evil x"), "yaml-tag-refused"),
    "keep: on": (("keep: 7", "keep: on"), "yaml-ambiguous-bool"),
    "keep: 016 (octal 14)": (("keep: 7", "keep: 016"), "yaml-ambiguous-number"),
    "keep: 1:30 (sexagesimal 90)": (("keep: 7", "keep: 1:30"), "yaml-ambiguous-number"),
    "port: yes": (("https_port: 8443", "https_port: yes"), "yaml-ambiguous-bool"),
    "5,000 digits": (("keep: 7", "keep: " + "9" * 5000), "yaml-number-too-long"),
    "a date with a time": (("date: 2026-11-01", "date: 2026-11-01 10:00:00"), "yaml-datetime"),
    "a date not in the calendar": (("date: 2026-11-01", "date: 2026-02-30"), "yaml-date-invalid"),
    "recursive alias": (("provider: Mesin lokal (demo)", "provider: &a [*a]"), "yaml-recursive-alias"),
    "deep nesting": (("provider: Mesin lokal (demo)", "provider: " + "[" * 80 + "]" * 80), "yaml-too-deep"),
}


@pytest.mark.parametrize("name", sorted(TYPE_TRICKS))
def test_yaml_type_tricks_are_refused_where_they_stand(name: str, tmp_path: Path) -> None:
    (old, new), code = TYPE_TRICKS[name]
    text = swap(old, new)
    line = text[: text.index(new)].count("\n") + 1
    found = validate_text(tmp_path, text)
    assert found and found[0][0] == code, found
    assert found[0][1].startswith(f"{tmp_path / 'p.yaml'}:{line}:"), found


@pytest.mark.parametrize(
    "old,new,key",
    [
        ("keep: 7", "keep: true", "backup.keep"),
        ("date: 2026-11-01", "date: 1700000000", "grant.date"),
        ("date: 2026-11-01", "date: 0", "grant.date"),
        ("https_port: 8443", "https_port: 8443.0", "proxy.https_port"),
    ],
)
def test_numbers_and_booleans_are_not_coerced(old: str, new: str, key: str, tmp_path: Path) -> None:
    assert ("profile-invalid-value", key) in [(c, k) for c, _, k in validate_text(tmp_path, swap(old, new))]


@pytest.mark.parametrize(
    "old,new,code",
    [
        ("country: ID", "country: ıd", "country-invalid"),  # 'ıd'.upper() == 'ID'
        ('code: "32.08"', 'code: "٣٢.٠٨"', "region-code-format"),  # Arabic-Indic digits
        ('schedule: "30 1 * * *"', 'schedule: "30 ² * * *"', "cron-invalid"),  # int('²') raises
        ('schedule: "30 1 * * *"', 'schedule: "٣0 1 * * *"', "cron-invalid"),
    ],
)
def test_look_alike_letters_and_digits_are_refused(old: str, new: str, code: str, tmp_path: Path) -> None:
    assert code in [c for c, _, _ in validate_text(tmp_path, swap(old, new))]


def test_the_cli_says_it_with_exit_2_and_no_traceback(cli, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        swap("keep: 7", "keep: " + "9" * 5000).replace("provider: Mesin", "x: &a [*a]\n  provider: Mesin")
    )
    result = cli("validate", "bad.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert re.search(r"bad\.yaml:\d+:\d+: .*\[yaml-", result.stderr), result.stderr


# -- Special files: refused before a byte is read --------------------------------------------


def special_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    return {"fifo": fifo, "device": zero, "folder": folder}


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_special_files_are_refused_at_once(kind: str, cli, tmp_path: Path) -> None:
    path = special_files(tmp_path)[kind]
    outcome: dict[str, object] = {}
    worker = threading.Thread(target=lambda: outcome.update(r=cli("validate", str(path))), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), f"validate blocked on a {kind}"
    result = outcome["r"]
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert ("file-not-regular" if kind != "folder" else "file-is-directory") in result.stderr  # type: ignore[attr-defined]


# -- Host paths: only folders meant for it; the kit manages a folder of its own ---------------

REFUSED_COPY = [
    "/",
    "/etc",
    "/root/.ssh",
    "/var/run/docker.sock",
    "/run",
    "/proc",
    "/usr",
    "/var/lib/docker",
    "/opt/spbe-kit/kuningan/secrets",
    "/opt/spbe-kit",
    "/mnt/../etc",
    "/mnt/.hidden",
    "/srv/x/",
]


@pytest.mark.parametrize("target", REFUSED_COPY)
def test_backup_copy_to_system_folders_is_refused(target: str, tmp_path: Path) -> None:
    text = swap("  keep: 7\n", f"  keep: 7\n  copy_to: {target}\n")
    assert ("host-path-refused", "backup.copy_to") in [(c, k) for c, _, k in validate_text(tmp_path, text)]


@pytest.mark.parametrize(
    "target", ["/", "/etc", "/root", "/usr/local", "/var/lib/docker/x", "/tmp/x", "/home/.x"]
)
def test_install_dir_outside_its_folders_is_refused(target: str, tmp_path: Path) -> None:
    text = swap("install_dir: /opt/spbe-kit", f"install_dir: {target}")
    assert ("host-path-refused", "install_dir") in [(c, k) for c, _, k in validate_text(tmp_path, text)]


def test_the_documented_copy_folder_works_and_only_a_subfolder_is_managed(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(swap("  keep: 7\n", "  keep: 7\n  copy_to: /mnt/cadangan\n"))
    files = render_files(pipeline.validate(path))
    compose = yaml.safe_load(files["hosts/local/backup/compose.yaml"])
    sources = [v["source"] for v in compose["services"]["backup"]["volumes"] if v["type"] == "bind"]
    assert "/mnt/cadangan/spbe-kuningan" in sources and "/mnt/cadangan" not in sources
    inventory = files["inventory/group_vars/all.yml"].decode()
    assert '"backup_copies": !unsafe "/mnt/cadangan/spbe-kuningan"' in inventory


# -- Names outside the region, addresses, line separators ------------------------------------


@pytest.mark.parametrize(
    "hostname",
    ["simpati.kuningankab.localhost.evil.example", "evilkuningankab.localhost", "kuningankab.localhost"],
)
def test_app_hostnames_must_lie_under_the_region_domain(hostname: str, tmp_path: Path) -> None:
    text = swap(
        '  e-simpati:\n    version: "1.0.0"', f'  e-simpati:\n    version: "1.0.0"\n    hostname: {hostname}'
    )
    found = [(c, k) for c, _, k in validate_text(tmp_path, text)]
    assert ("hostname-outside-domain", "apps.e-simpati.hostname") in found


@pytest.mark.parametrize("address", ["fe80::1%eth0", "fe80::1%eth0@db1.attacker.example", "::1%lo"])
def test_ipv6_zone_ids_are_refused(address: str, tmp_path: Path) -> None:
    text = swap("address: 127.0.0.1", f'address: "{address}"')
    assert ("address-invalid", "hosts.local.address") in [(c, k) for c, _, k in validate_text(tmp_path, text)]
    text = swap("bind: 127.0.0.1", f'bind: "{address}"')
    assert ("bind-invalid", "proxy.bind") in [(c, k) for c, _, k in validate_text(tmp_path, text)]


def test_an_ipv6_app_host_renders_a_bracketed_nginx_upstream(tmp_path: Path) -> None:
    siak = (EXAMPLES / "siak.yaml").read_text()
    assert "internal_address: 192.168.8.6" in siak
    path = tmp_path / "siak.yaml"
    siak = siak.replace("internal_address: 192.168.8.6", 'internal_address: "fd00:8::6"')
    siak = siak.replace("roles: [database]", "roles: [apps, database]")
    path.write_text(
        siak.replace(
            'e-simpati:\n    version: "1.0.0"', 'e-simpati:\n    version: "1.0.0"\n    host: basisdata'
        )
    )
    files = render_files(pipeline.validate(path))
    upstreams = [
        line
        for rel, data in files.items()
        if rel.endswith(".conf")
        for line in data.decode().splitlines()
        if "fd00:8::6" in line
    ]
    assert upstreams and all("[fd00:8::6]:" in line for line in upstreams), upstreams
    # and nginx itself accepts it
    tree = tmp_path / "tree"
    for rel, data in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
    checked = nginx_accepts(tree / "hosts" / "gateway" / "proxy", tmp_path / "nginx")
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("char", ["\u2028", "\u2029"])
def test_line_and_paragraph_separators_are_refused_everywhere(char: str, tmp_path: Path) -> None:
    text = swap('schedule: "30 1 * * *"', f'schedule: "30 1 * * *{char}"')
    assert ("unsafe-character", "backup.schedule") in [(c, k) for c, _, k in validate_text(tmp_path, text)]


# -- What a compromised host writes back ------------------------------------------------------

PAYLOADS = ["{{ lookup('pipe', 'touch /tmp/spbe-pwned') }}", "$(touch /tmp/spbe-pwned)", "a\nb", "x" * 5000]
GOOD_LOCK = {
    "who": "admin@controller",
    "since": "2026-11-29T01:02:03+00:00",
    "pid": 4242,
    "controller": "controller",
    "run": "20261129T010203.000001Z-deploy",
}


@pytest.mark.parametrize("field", sorted(GOOD_LOCK))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_forged_lock_is_refused_naming_host_and_file(field: str, payload: str) -> None:
    forged = json.dumps({**GOOD_LOCK, field: payload})
    with pytest.raises(OperationFailed) as caught:
        hostdata.lock("app1", forged, "/opt/spbe-kit/garut")
    diag = caught.value.diagnostics[0]
    assert diag.code == "host-report-invalid"
    assert diag.params["host"] == "app1"
    assert diag.params["file"] == "/opt/spbe-kit/garut/.spbe-kit/deploy.lock"
    assert hostdata.lock("app1", json.dumps(GOOD_LOCK), "/opt/x") is not None


def test_forged_release_and_backup_records_are_refused() -> None:
    release = {
        "number": 2,
        "manifest_sha256": "0" * 64,
        "versions": {"e-simpati": "1.0.0"},
        "image_ids": {"spbe-kit/e-simpati:1.0.0": "sha256:" + "a" * 64},
        "who": "admin@controller",
        "when": "2026-11-29T01:02:03+00:00",
    }
    assert hostdata.releases("db", [release], "/opt/x")[0]["number"] == 2
    for forged in ({"number": "2"}, {"versions": {"e-simpati": PAYLOADS[0]}}, {"who": PAYLOADS[1]}):
        with pytest.raises(OperationFailed):
            hostdata.releases("db", [{**release, **forged}], "/opt/x")
    backup = {
        "id": "20261129T010203Z-manual",
        "reason": "manual",
        "created": "2026-11-29T01:02:03+00:00",
        "versions": {"e-simpati": "1.0.0"},
        "files": {"e-simpati.dump": {"sha256": "0" * 64, "size": 1}},
    }
    assert hostdata.backup_records("db", [backup], "/opt/x")
    for forged in (
        {"id": PAYLOADS[0]},
        {"id": "../../etc"},
        {"files": {"../x": {"sha256": "0" * 64, "size": 1}}},
    ):
        with pytest.raises(OperationFailed) as caught:
            hostdata.backup_records("db", [{**backup, **forged}], "/opt/x")
        assert caught.value.diagnostics[0].params["host"] == "db"


def test_forged_restore_drills_and_switch_reports_are_refused() -> None:
    """The drill log and the switch folder come from the host's own files: what the audit and
    `backups` show of them, and what the deploy undoes, must have the shape the kit writes."""
    drill = {
        "when": "2026-12-07T01:02:03+00:00",
        "ok": True,
        "apps": [{"app": "simpeg", "ok": True, "detail": "3 rows", "backup": "20261207T010000Z-manual",
                  "rows": 3, "seconds": 1.5, "backup_age_s": 123}],
        "rto_s": 1.5,
        "rpo_s": 123,
    }
    assert hostdata.drills("db", [drill], "/opt/x")[0]["rto_s"] == 1.5
    old = {k: v for k, v in drill.items() if k not in ("rto_s", "rpo_s")}  # a drill from before the figures
    assert hostdata.drills("db", [old], "/opt/x")[0]["rto_s"] is None
    forgeries = (
        {"when": "yesterday"},
        {"rto_s": -1},
        {"apps": [{"app": PAYLOADS[0], "ok": True, "detail": ""}]},
        {"ok": "yes please"},
        {"extra": 1},
    )
    for forged in forgeries:
        with pytest.raises(OperationFailed) as caught:
            hostdata.drills("db", [{**drill, **forged}], "/opt/x")
        assert caught.value.diagnostics[0].params["host"] == "db"
    probe = {"switch": ["e-simpati"], "releases": [], "lock": None}
    assert hostdata.probe("web", probe, "/opt/x")["switch"] == ["e-simpati"]
    with pytest.raises(OperationFailed):
        hostdata.probe("web", {**probe, "switch": ["../../etc/passwd"]}, "/opt/x")


@pytest.mark.ansible
def test_extra_vars_reach_ansible_as_data_never_as_templates(tmp_path: Path) -> None:
    """A real ansible-playbook run: a Jinja payload in the run's variables is printed, not run."""
    from spbe_kit.hosts.apply import Connection, run_playbook

    _, tree = rendered_demo(tmp_path)
    marker = tmp_path / "pwned"
    payload = "{{ lookup('pipe', 'touch " + str(marker) + "') }}"
    connection = Connection(tmp_path / "known_hosts", local_hosts=["local"])
    result = run_playbook(
        "unlock.yml", tree, tmp_path / "run", connection, ["local"], {"spbe_run": {"lock": payload}}
    )
    assert result.ok, [t.result for t in result.tasks]
    assert not marker.exists(), "Ansible evaluated a value the kit passed as data"
    assert "!unsafe" in (tmp_path / "run" / "spbe-extravars.yml").read_text()


# -- The region's CA signs only the region's names; leaves live at most 398 days --------------


def test_the_region_ca_is_constrained_to_the_region_domain(tmp_path: Path) -> None:
    import datetime
    import subprocess

    from spbe_kit.hosts import tls

    ca_key, ca_cert = tls.new_ca("spbe-kit CA test", ["garutkab.go.id"])
    (tmp_path / "ca.pem").write_text(ca_cert)
    verdicts = {}
    for name in ("simpati.garutkab.go.id", "garutkab.go.id.evil.example", "www.example.com"):
        _, leaf = tls.issue_leaf(ca_key, ca_cert, name, 825)
        lifetime = tls.not_after(leaf) - datetime.datetime.now(datetime.UTC)
        assert lifetime <= datetime.timedelta(days=398)
        (tmp_path / "leaf.pem").write_text(leaf)
        checked = subprocess.run(
            ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem")],
            capture_output=True,
            text=True,
        )
        verdicts[name] = checked.returncode == 0
    assert verdicts == {
        "simpati.garutkab.go.id": True,
        "garutkab.go.id.evil.example": False,
        "www.example.com": False,
    }
    assert tls.not_after(ca_cert) - datetime.datetime.now(datetime.UTC) <= datetime.timedelta(
        days=tls.CA_DAYS
    )


# -- Reports: free text is literal Markdown; encoded secrets are redacted ---------------------

MARKDOWN_PAYLOADS = [
    "[klik di sini](http://evil.example)",
    "<img src=x onerror=alert(1)>",
    "# heading | col | `code` **bold** _it_",
    "![img](http://evil.example/x.png)",
]


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_free_text_in_the_audit_markdown_stays_literal(payload: str, tmp_path: Path) -> None:
    from e2e.helpers import spbe_kit

    data = yaml.safe_load(DEMO)
    data["grant"]["agreement"] = payload
    profile = tmp_path / "p.yaml"
    profile.write_text(yaml.safe_dump(data, allow_unicode=True))
    done = spbe_kit("audit", str(profile), "--tree", str(tmp_path / "tree"), "-o", str(tmp_path / "a.md"))
    assert done.returncode in (0, 3), done.stderr
    line = next(
        ln for ln in (tmp_path / "a.md").read_text().splitlines() if ln.startswith("Perjanjian hibah")
    )
    literal = line.split("grant agreement: ", 1)[1].split(" · manifest")[0]
    # Every Markdown metacharacter of the payload is escaped; unescaping gives the payload back.
    assert re.sub(r"\\(.)", r"\1", literal) == payload
    assert not re.search(r"(?<!\\)[\[\]<>`*_#|()!]", literal), literal


def test_markdown_code_spans_cannot_be_closed_by_the_value() -> None:
    from spbe_kit.auditors.report import _md_code

    assert _md_code("a`b") == "``a`b``"
    assert _md_code("`x`") == "`` `x` ``"


def test_the_evidence_redaction_finds_base64_and_hex_encoded_secrets() -> None:
    import base64
    import secrets

    from spbe_kit.auditors.evidence import Redactor

    value = secrets.token_urlsafe(24)
    redact = Redactor([value])
    for prefix in (b"", b"u", b"us", b"user:"):
        basic = base64.b64encode(prefix + value.encode()).decode()
        for text in (basic, base64.urlsafe_b64encode(prefix + value.encode()).decode()):
            out = redact(f"Authorization: Basic {text}\n".encode()).decode()
            assert "[secret sha256:" in out, (prefix, out)
    for text in (value.encode().hex(), value.encode().hex().upper(), value):
        assert redact(text.encode()).decode().startswith("[secret sha256:")


def test_the_records_the_kit_writes_pass_the_host_data_checks(tmp_path: Path) -> None:
    """The shapes are strict; what the kit itself writes must always fit them."""
    from spbe_kit.hosts.deploy import rendered_hashes
    from spbe_kit.hosts.lifecycle import backup_id, release_record
    from spbe_kit.render.context import build_context

    validated, tree = rendered_demo(tmp_path)
    ctx = build_context(validated.profile, validated.catalog)
    image_ids = {a.image: "sha256:" + "b" * 64 for a in ctx.apps.values()}
    for before in (None, backup_id("pre-upgrade")):
        record = {
            **release_record(ctx, "c" * 64, image_ids),
            "backup_before": before,
            "files": rendered_hashes(tree),
            "number": 1,
        }
        assert hostdata.releases("local", [json.loads(json.dumps(record))], ctx.root)
