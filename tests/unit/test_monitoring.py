"""Monitoring as rendered and as reported: placement, rules, receivers, the kit's own metrics,
and what a compromised host could put into Alertmanager's answer (no servers)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, ROOT
from spbe_kit import pipeline
from spbe_kit.errors import InvalidInput, OperationFailed
from spbe_kit.hosts import alerts, hostdata
from spbe_kit.render import monitoring
from spbe_kit.render.context import build_context, published_ports
from spbe_kit.render.tree import render_files

FILES = ROOT / "playbooks" / "files"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, FILES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _context(name: str, **monitoring_section):
    validated = pipeline.validate(EXAMPLES / f"{name}.yaml")
    profile = validated.profile
    if monitoring_section:
        section = profile.monitoring.model_copy(update=monitoring_section)
        profile = profile.model_copy(update={"monitoring": section})
    return build_context(profile, validated.catalog)


def test_prometheus_reads_its_own_host_by_name_and_the_others_on_their_internal_address() -> None:
    ctx = _context("karawang")
    config = monitoring.prometheus_config(ctx)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    nodes = {c["labels"]["host"]: c["targets"][0] for c in jobs["node"]["static_configs"]}
    assert nodes == {"app1": "node-exporter:9100", "db1": "10.15.20.12:9100"}
    assert jobs["postgres"]["static_configs"][0]["targets"] == ["10.15.20.12:9187"]
    probes = {c["labels"]["app"]: c for c in jobs["apps"]["static_configs"]}
    assert probes["layanan-publik"]["labels"]["hostname"] == "layanan.karawangkab.go.id"
    assert probes["e-simpati"]["targets"] == ["https://proxy:8443/healthz"]
    assert config["global"]["external_labels"] == {"region": "32.15", "region_name": "Kabupaten Karawang"}
    # Published on db1's internal address only; nothing of monitoring on the proxy's host.
    ports = published_ports(ctx.profile, ctx.catalog)
    assert (9100, "node-exporter", ("monitoring", "enabled")) in ports["db1"]
    assert (9187, "postgres-exporter", ("monitoring", "enabled")) in ports["db1"]
    assert not [p for p in ports["app1"] if p[0] in (9090, 9093, 9100, 9115, 9187)]
    assert ctx.hosts["app1"].components[-2:] == ["exporters", "monitoring"]
    assert ctx.hosts["db1"].components[-1] == "exporters"


def test_rules_carry_the_profile_file_and_its_fire_after() -> None:
    ctx = _context("demo", fire_after={"SPBE-APP-DOWN": "2m"})
    rules = {r["alert"]: r for r in monitoring.rules(ctx, "kuningan.yaml")["groups"][0]["rules"]}
    assert rules["SPBE-APP-DOWN"]["for"] == "2m"
    assert "for" not in rules["SPBE-BACKUP-FAILED"]
    down = rules["SPBE-APP-DOWN"]
    assert down["labels"] == {"severity": "critical"}
    assert down["annotations"]["runbook_en"].startswith("spbe-kit status kuningan.yaml")
    assert "{profile}" not in json.dumps(rules)
    assert set(rules) >= {
        "SPBE-APP-DOWN", "SPBE-BACKUP-FAILED", "SPBE-BACKUP-STALE", "SPBE-DRILL-OLD", "SPBE-DRILL-FAILED",
        "SPBE-CERT-EXPIRY", "SPBE-DISK-FULL", "SPBE-POSTGRES-DOWN", "SPBE-CLOCK-SKEW",
    }  # fmt: skip


def test_receiver_secrets_are_placeholders_in_the_tree_and_json_strings_on_the_host() -> None:
    validated = pipeline.validate(EXAMPLES / "karawang.yaml")
    files = render_files(validated)
    config = yaml.safe_load(files["hosts/app1/monitoring/alertmanager.yml"])
    receiver = config["receivers"][0]
    assert receiver["email_configs"][0]["auth_password"] == "SPBE_SECRET_SMTP_PASSWORD"
    assert receiver["email_configs"][0]["require_tls"] is True
    assert receiver["telegram_configs"][0]["bot_token"] == "SPBE_SECRET_TELEGRAM_TOKEN"
    script = files["hosts/app1/monitoring/start-alertmanager.sh"].decode()
    assert "SPBE_SECRET_SMTP_PASSWORD" in script and "SPBE_SECRET_TELEGRAM_TOKEN" in script
    spec = yaml.safe_load(files["inventory/group_vars/all.yml"].decode().replace("!unsafe ", ""))
    secret_files = {f["ref"]: f for f in spec["spbe_hosts"]["app1"]["secret_files"]}
    assert secret_files["monitoring/smtp_password"]["encode"] == "json"
    assert secret_files["monitoring/smtp_password"]["uid"] == 10002
    filters = _script_filters()
    value = 'pa"ss\\word: {{ x }}\n#'
    written = filters.spbe_with_secrets(
        [secret_files["monitoring/smtp_password"]], {"monitoring": {"smtp_password": value}}
    )
    assert yaml.safe_load("auth_password: " + written[0]["content"])["auth_password"] == value


def _script_filters():
    spec = importlib.util.spec_from_file_location(
        "spbe_filters", ROOT / "playbooks" / "filter_plugins" / "spbe.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_profile_without_monitoring_renders_none_of_it() -> None:
    files = render_files(pipeline.validate(EXAMPLES / "siak.yaml"))
    assert not [f for f in files if "/monitoring/" in f or "/exporters/" in f]
    schedule = json.loads(next(v for k, v in files.items() if k.endswith("backup/schedule.json")))
    assert "metrics" not in schedule


@pytest.mark.parametrize(
    ("section", "code", "key"),
    [
        ({"fire_after": {"SPBE-NOPE": "1m"}}, "alert-unknown", "monitoring.fire_after.SPBE-NOPE"),
        ({"email": {"to": ["x"], "sender": "a@b.go.id", "smarthost": "mail:587"}}, "email-invalid",
         "monitoring.email.to.0"),
        ({"email": {"to": ["a@b.go.id"], "sender": "a@b.go.id", "smarthost": "mail.b.go.id"}},
         "smarthost-invalid", "monitoring.email.smarthost"),
        ({"webhooks": ["ftp://chat/x"]}, "webhook-invalid", "monitoring.webhooks.0"),
        ({"email": {"to": ["a@b.go.id"], "sender": "a@b.go.id", "smarthost": "m:25", "ca": "../etc/ca.pem"}},
         "path-outside", "monitoring.email.ca"),
    ],
)  # fmt: skip
def test_bad_receivers_are_refused_with_their_key_path(tmp_path: Path, section, code: str, key: str) -> None:
    data = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    data["monitoring"] = {"enabled": True, **section}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InvalidInput) as raised:
        pipeline.validate(path)
    found = {(d.code, ".".join(str(p) for p in d.key_path)) for d in raised.value.diagnostics}
    assert (code, key) in found, found


def test_the_scheduler_writes_its_signals_grouped_and_counts_from_its_first_start(tmp_path: Path) -> None:
    spbe_backup = _script("spbe_backup")
    root = tmp_path
    for ident, created in (("20261201T013000Z-scheduled", "2026-12-01T01:30:05+00:00"),
                           ("20261202T013000Z-scheduled", "2026-12-02T01:30:07+00:00")):  # fmt: skip
        folder = root / "backups" / ident
        folder.mkdir(parents=True)
        files = {"e-simpati.dump": {"sha256": "0" * 64, "size": 1}}
        if ident.startswith("20261202"):
            files["simpeg.dump"] = {"sha256": "0" * 64, "size": 1}
        (folder / "backup.json").write_text(json.dumps({"id": ident, "created": created, "files": files}))
    (root / "backups" / "verify-log.jsonl").write_text(
        json.dumps({"when": "2026-12-03T08:00:00+00:00", "apps": [{"app": "e-simpati", "ok": False}]})
        + "\n{torn\n"
    )
    spec = {
        "rpo_s": 93600,
        "local": {"databases": [{"app": "e-simpati"}, {"app": "simpeg"}, {"app": "layanan"}]},
    }
    status = {
        "since": 1_790_000_000.0,
        "heartbeat": 1_796_000_000.5,
        "runs": [{"started": "2026-12-02T01:30:00+00:00", "ok": False}],
    }
    text = spbe_backup.metrics(str(root), spec, status)
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert float(samples['spbe_backup_last_success_timestamp_seconds{app="e-simpati"}']) == 1796175007.0
    assert float(samples['spbe_backup_last_success_timestamp_seconds{app="layanan"}']) == 1_790_000_000.0
    assert samples["spbe_backup_last_run_success"] == "0"
    assert samples['spbe_restore_drill_last_success{app="e-simpati"}'] == "0"
    assert samples['spbe_restore_drill_last_success{app="simpeg"}'] == "1"  # none yet: counts from since
    assert float(samples['spbe_restore_drill_last_timestamp_seconds{app="simpeg"}']) == 1_790_000_000.0
    names = [line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")]
    # Prometheus's text format: each metric's samples together, one TYPE line each.
    assert names == sorted(names, key=names.index) and all(
        names[i] == names[i + 1] or names[i + 1] not in names[: i + 1] for i in range(len(names) - 1)
    )
    assert text.count("# TYPE ") == len(set(names))
    spbe_backup.write_metrics(str(root), {**spec, "metrics": str(tmp_path / "metrics")}, status)  # no folder
    assert not (tmp_path / "metrics").exists()
    (tmp_path / "metrics").mkdir()
    spbe_backup.write_metrics(str(root), {**spec, "metrics": str(tmp_path / "metrics")}, status)
    assert (tmp_path / "metrics" / "spbe_backup.prom").stat().st_mode & 0o777 == 0o644


def test_a_release_is_a_metric_with_each_apps_version(tmp_path: Path) -> None:
    release = _script("spbe_release")
    (tmp_path / "metrics").mkdir()
    release.write_metrics(str(tmp_path), 7, {"when": "2026-12-07T06:00:00Z", "versions": {"simpeg": "1.1.0"}})
    text = (tmp_path / "metrics" / "spbe_release.prom").read_text()
    assert "spbe_release_number 7\n" in text and 'spbe_app_info{app="simpeg",version="1.1.0"} 1' in text
    assert re.search(r"^spbe_release_timestamp_seconds 1796623200(\.0)?$", text, re.M)
    assert os.stat(tmp_path / "metrics" / "spbe_release.prom").st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    "answer",
    [
        {"alerts": [{"labels": {"alertname": "X\x1b[2J"}, "annotations": {}, "startsAt": ""}]},
        {"alerts": [{"labels": {"bad label": "x"}, "annotations": {}, "startsAt": ""}]},
        {"alerts": [{"labels": {}, "annotations": {"summary_en": "x" * 301}, "startsAt": ""}]},
        {"alerts": [{"labels": {}, "annotations": {}, "startsAt": "", "extra": 1}]},
        {"alerts": [{"labels": {}, "annotations": {}, "startsAt": ""}] * 501},
        {"alerts": "all of them"},
    ],
)
def test_what_a_compromised_host_puts_into_alertmanager_stops_status(answer) -> None:
    with pytest.raises(OperationFailed) as raised:
        hostdata.checked(alerts._Firing, answer, "app1", "Alertmanager's answer")
    assert raised.value.diagnostics[0].code == "host-report-invalid"


def test_an_error_line_from_the_host_cannot_carry_terminal_escapes() -> None:
    answer = {
        "integrations": {"webhook": {"sent": 1, "failed": 1}},
        "errors": {"webhook": "x\x1b]0;owned\x07"},
        "seconds": 1.0,
    }
    with pytest.raises(OperationFailed):
        hostdata.checked(alerts._Tested, answer, "app1", "Alertmanager's answer")
    fine = {**answer, "errors": {"webhook": 'level=error integration=webhook[1] err="connection refused"'}}
    assert (
        hostdata.checked(alerts._Tested, fine, "app1", "Alertmanager's answer").integrations["webhook"].failed
        == 1
    )
    delivery = alerts.Delivery("webhook", 2, sent=5, failed=4, error="")
    assert (delivery.missing, delivery.arrived) == (1, False)
    # Another notification's success does not hide the receiver that refused.
    delivery = alerts.Delivery("webhook", 2, sent=3, failed=1, error="", failed_receivers=1)
    assert (delivery.missing, delivery.arrived) == (1, False)
    assert alerts.Delivery("email", 1, sent=2, failed=0, error="").arrived


def test_the_monitoring_pages_are_published_only_behind_a_login() -> None:
    validated = pipeline.validate(EXAMPLES / "karawang.yaml")
    files = render_files(validated)
    vhost = files["hosts/app1/proxy/conf.d/spbe-monitoring.conf"].decode()
    assert "server_name pantau.karawangkab.go.id;" in vhost
    assert "auth_basic_user_file /etc/spbe-proxy/tls/monitoring.htpasswd;" in vhost
    assert "ssl_certificate /etc/spbe-proxy/tls/pantau.karawangkab.go.id.crt;" in vhost
    ctx = build_context(validated.profile, validated.catalog)
    from spbe_kit.render.context import served_hostnames
    from spbe_kit.render.tree import secret_files

    assert "pantau.karawangkab.go.id" in served_hostnames(ctx)
    specs = {f["path"].rsplit("/", 1)[1]: f for f in secret_files(ctx, ctx.hosts["app1"])}
    login = specs["monitoring.htpasswd"]
    assert (login["ref"], login["encode"], login["mode"], login["uid"]) == (
        "monitoring/web_password",
        "htpasswd",
        "0400",
        33,
    )
    assert "pantau.karawangkab.go.id.key" in specs
    # Nothing published without monitoring.web.
    demo = render_files(pipeline.validate(EXAMPLES / "demo.yaml"))
    assert not [f for f in demo if f.endswith("spbe-monitoring.conf")]


def test_the_login_file_is_a_sha512_crypt_the_same_on_every_deploy() -> None:
    import warnings

    from spbe_kit import secretfiles

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    spec = {"ref": "monitoring/web_password", "encode": "htpasswd"}
    vault_data = {"vault_id": "a" * 64, "monitoring": {"web_password": "rahasia: 'x' \\\\ y"}}
    line = secretfiles.content(spec, vault_data)
    assert line == secretfiles.content(spec, vault_data)
    user, hashed = line.rstrip("\n").split(":", 1)
    assert user == "spbe" and hashed.startswith("$6$")
    assert crypt.crypt("rahasia: 'x' \\\\ y", hashed) == hashed
    other = secretfiles.content(spec, {**vault_data, "vault_id": "b" * 64})
    assert other != line  # another region, another salt


@pytest.mark.parametrize(
    ("hostname", "code"),
    [("pantau.example.com", "hostname-outside-domain"),
     ("simpati.kuningankab.localhost", "hostname-duplicate"),
     ("-bad-.kuningankab.localhost", "dns-name-invalid")],
)  # fmt: skip
def test_the_monitoring_pages_name_is_the_regions_own_and_no_apps(
    tmp_path: Path, hostname: str, code: str
) -> None:
    data = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    data["monitoring"]["web"] = {"hostname": hostname}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InvalidInput) as raised:
        pipeline.validate(path)
    assert (code, "monitoring.web.hostname") in {
        (d.code, ".".join(str(p) for p in d.key_path)) for d in raised.value.diagnostics
    }
