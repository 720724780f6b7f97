"""What a monitored region's Prometheus, Alertmanager and blackbox exporter read (profile
``monitoring``), as data: the templates write it out as YAML.

Prometheus and Alertmanager run on the proxy's host, beside the blackbox exporter that checks
each app through the proxy (its health and its certificate); every host runs the node exporter
(load, disks, clock, and the kit's own signals: text files the backup scheduler and the deploy
write into ``<root>/metrics``), the database host the PostgreSQL exporter. Exporters on the
proxy's host are read over the region's Docker network, the others on their host's internal
address. Pure data: no file is read here.
"""

from __future__ import annotations

from typing import Any

from spbe_kit.models.base import seconds
from spbe_kit.render.context import (
    NODE_EXPORTER_PORT,
    POSTGRES_EXPORTER_PORT,
    PROXY_HTTPS_PORT,
    Context,
    monitoring_hostname,
    url_host,
)

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
BLACKBOX_PORT = 9115
PORTS = {"prometheus": PROMETHEUS_PORT, "alertmanager": ALERTMANAGER_PORT, "blackbox": BLACKBOX_PORT}
# Alertmanager serves under this path, so that the proxy can publish it beside Prometheus.
ALERTMANAGER_PREFIX = "/alertmanager"
# Inside the monitoring containers: what the blackbox exporter and Alertmanager trust.
WEB_TRUST = "/etc/spbe-monitoring/web-trust.pem"
SMTP_TRUST = "/etc/spbe-monitoring/smtp-trust.pem"
# Alertmanager 0.25 reads no secret from a file: the rendered configuration carries these
# placeholders, and the container puts the vault's values in at start, in memory
# (start-alertmanager.sh), so no reviewed file ever holds them.
SECRET_PLACEHOLDERS = {
    "smtp_password": "SPBE_SECRET_SMTP_PASSWORD",
    "telegram_token": "SPBE_SECRET_TELEGRAM_TOKEN",
}
# Where the kit's own signals lie on every host (the node exporter's text-file collector).
METRICS_DIR = "{root}/metrics"


def receiver_secrets(ctx: Context) -> list[str]:
    """The vault entries (``monitoring.<name>``) the profile's receivers need: set by the admin
    with ``spbe-kit secrets set``, never generated."""
    mon = ctx.profile.monitoring
    needed = []
    if mon.email and mon.email.username:
        needed.append("smtp_password")
    if mon.telegram:
        needed.append("telegram_token")
    return needed


def provided_secrets(ctx: Context) -> list[str]:
    """Every vault entry of monitoring the admin gives: the receivers', and the web pages'
    password (``monitoring.web``)."""
    web = ["web_password"] if monitoring_hostname(ctx.profile) else []
    return receiver_secrets(ctx) + web



def web_urls(ctx: Context) -> dict[str, str]:
    """Where the proxy publishes Prometheus and Alertmanager (``monitoring.web``); none if not."""
    web = monitoring_hostname(ctx.profile)
    if not web:
        return {}
    port = ctx.profile.proxy.https_port
    base = f"https://{web}" + ("" if port == 443 else f":{port}")
    return {"prometheus": f"{base}/", "alertmanager": f"{base}{ALERTMANAGER_PREFIX}/"}


def _target(ctx: Context, host: str, service: str, port: int) -> str:
    """How Prometheus reaches an exporter: by name beside it, else the host's internal address."""
    if host == ctx.proxy.host:
        return f"{service}:{port}"
    return f"{url_host(ctx.hosts[host].internal_address)}:{port}"


def prometheus_config(ctx: Context) -> dict[str, Any]:
    mon = ctx.profile.monitoring
    nodes = [
        {"targets": [_target(ctx, name, "node-exporter", NODE_EXPORTER_PORT)], "labels": {"host": name}}
        for name in sorted(ctx.hosts)
    ]
    database = ctx.postgres.host
    probes = [
        {
            "targets": [f"https://proxy:{PROXY_HTTPS_PORT}{app.spec.health}"],
            "labels": {"app": app.id, "hostname": app.hostname, "module": f"app_{app.id}", "host": app.host},
        }
        for app in sorted(ctx.apps.values(), key=lambda a: a.id)
    ]
    here = {"host": ctx.proxy.host}
    return {
        "global": {
            "scrape_interval": mon.scrape_interval,
            "evaluation_interval": mon.scrape_interval,
            "scrape_timeout": "10s" if seconds(mon.scrape_interval) > 10 else mon.scrape_interval,
            "external_labels": {"region": ctx.region.code, "region_name": ctx.region.name},
        },
        "rule_files": ["/etc/spbe-monitoring/rules.yml"],
        "alerting": {
            "alertmanagers": [
                {
                    "path_prefix": ALERTMANAGER_PREFIX,
                    "static_configs": [{"targets": [f"alertmanager:{ALERTMANAGER_PORT}"]}],
                }
            ]
        },
        "scrape_configs": [
            _static("prometheus", f"localhost:{PROMETHEUS_PORT}", here),
            _static("alertmanager", f"alertmanager:{ALERTMANAGER_PORT}", here)
            | {"metrics_path": f"{ALERTMANAGER_PREFIX}/metrics"},
            _static("blackbox", f"blackbox:{BLACKBOX_PORT}", here),
            {"job_name": "node", "static_configs": nodes},
            _static(
                "postgres",
                _target(ctx, database, "postgres-exporter", POSTGRES_EXPORTER_PORT),
                {"host": database},
            ),
            {
                "job_name": "apps",
                "metrics_path": "/probe",
                "static_configs": probes,
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["module"], "target_label": "__param_module"},
                    {"target_label": "__address__", "replacement": f"blackbox:{BLACKBOX_PORT}"},
                    {"regex": "module", "action": "labeldrop"},
                ],
            },
        ],
    }


def _static(job: str, target: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"job_name": job, "static_configs": [{"targets": [target], "labels": labels}]}


def rules(ctx: Context, profile_file: str) -> dict[str, Any]:
    """The catalog's alert rules, with the profile's ``fire_after`` and its file in the runbook."""
    found = []
    for ident, alert in sorted(ctx.catalog.alerts.items()):
        rule: dict[str, Any] = {"alert": ident, "expr": alert.expr}
        wait = ctx.profile.monitoring.fire_after.get(ident, alert.for_)
        if wait:
            rule["for"] = wait
        rule["labels"] = {"severity": alert.severity}
        rule["annotations"] = {
            "summary_id": alert.summary.id,
            "summary_en": alert.summary.en,
            "runbook_id": alert.runbook.id.replace("{profile}", profile_file),
            "runbook_en": alert.runbook.en.replace("{profile}", profile_file),
        }
        found.append(rule)
    return {"groups": [{"name": f"spbe-kit-catalog-{ctx.catalog.version}", "rules": found}]}


def blackbox_config(ctx: Context, web_trust: bool) -> dict[str, Any]:
    """One module per app: its health path through the proxy, under its own name (SNI, Host)."""
    modules = {}
    for app in sorted(ctx.apps.values(), key=lambda a: a.id):
        tls: dict[str, Any] = {"server_name": app.hostname}
        if web_trust:
            tls["ca_file"] = WEB_TRUST
        modules[f"app_{app.id}"] = {
            "prober": "http",
            "timeout": "10s",
            "http": {
                "method": "GET",
                "headers": {"Host": app.hostname},
                "valid_status_codes": [200],
                "fail_if_not_ssl": True,
                "follow_redirects": False,
                "tls_config": tls,
                "preferred_ip_protocol": "ip4",
            },
        }
    return {"modules": modules}


def alertmanager_config(ctx: Context, smtp_trust: bool) -> dict[str, Any]:
    """One receiver holding every channel the profile names (e-mail, webhooks, Telegram), each
    sending the bilingual text of ``spbe.tmpl`` and the resolution too."""
    mon = ctx.profile.monitoring
    receiver: dict[str, Any] = {"name": "region"}
    if mon.email:
        email: dict[str, Any] = {
            "to": ", ".join(mon.email.to),
            "from": mon.email.sender,
            "smarthost": mon.email.smarthost,
            "require_tls": mon.email.starttls,
            "send_resolved": True,
            "headers": {"Subject": '{{ template "spbe.subject" . }}'},
            "text": '{{ template "spbe.text" . }}',
            "html": '{{ template "spbe.html" . }}',
        }
        if mon.email.username:
            email["auth_username"] = mon.email.username
            email["auth_password"] = SECRET_PLACEHOLDERS["smtp_password"]
        if smtp_trust:
            email["tls_config"] = {"ca_file": SMTP_TRUST}
        receiver["email_configs"] = [email]
    if mon.webhooks:
        receiver["webhook_configs"] = [{"url": url, "send_resolved": True} for url in mon.webhooks]
    if mon.telegram:
        receiver["telegram_configs"] = [
            {
                "api_url": mon.telegram.api_url,
                "bot_token": SECRET_PLACEHOLDERS["telegram_token"],
                "chat_id": mon.telegram.chat_id,
                "parse_mode": "",
                "message": '{{ template "spbe.text" . }}',
                "send_resolved": True,
            }
        ]
    return {
        "route": {
            "receiver": "region",
            "group_by": ["alertname", "app", "host"],
            "group_wait": "10s",
            "group_interval": "1m",
            "repeat_interval": "12h",
        },
        "receivers": [receiver],
        "templates": ["/etc/spbe-monitoring/spbe.tmpl"],
    }
