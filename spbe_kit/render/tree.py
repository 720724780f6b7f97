"""Render every file of a region's deployment in memory, as ``{relative path: bytes}``.

Deterministic: sorted iteration, no clocks, no absolute controller paths. Writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from spbe_kit import __version__, wilayah
from spbe_kit.errors import InvalidInput, diagnostic
from spbe_kit.models.base import seconds
from spbe_kit.models.catalog import Resources
from spbe_kit.render import assets, monitoring, privacy
from spbe_kit.render.context import (
    CA_IN_CONTAINER,
    NODE_EXPORTER_PORT,
    POSTGRES_EXPORTER_PORT,
    PROXY_HTTP_PORT,
    PROXY_HTTPS_PORT,
    AppContext,
    Context,
    HostContext,
    SchedulerContext,
    build_context,
    database_host,
    database_published,
    database_tls_name,
    monitoring_hostname,
    served_hostnames,
)
from spbe_kit.render.environment import UnsafeValue, make_environment
from spbe_kit.resources import playbooks_dir, templates_dir
from spbe_kit.validate import Validated

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MANIFEST_SCHEMA = "spbe-kit/manifest/v1"
# The ACME renewal container: asleep but for a few seconds per renewal.
ACME_RESOURCES = Resources(cpus=0.25, memory_mb=128, disk_mb=0, pids=32)
# The monitoring pages' virtual host (monitoring.web) and its login file in the proxy's tls/.
MONITORING_VHOST = "spbe-monitoring.conf"
WEB_HTPASSWD = "monitoring.htpasswd"
# Alertmanager and the blackbox exporter, beside Prometheus (the catalog's resources).
MONITORING_SMALL = Resources(cpus=0.25, memory_mb=64, disk_mb=0, pids=64)


def templates_sha256(root: Path) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    stats = tuple((p.as_posix(), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _templates_digest(root, stats)


@cache
def _templates_digest(root: Path, stats: tuple[tuple[str, int, int], ...]) -> str:
    """The digest of the template files; computed again only when a file's name, size or
    modification time changes."""
    digest = hashlib.sha256()
    for name, _, _ in stats:
        path = Path(name)
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_stamp(validated: Validated, templates: Path) -> dict[str, Any]:
    """What the tree was rendered from; a change in any of these makes a tree stale."""
    data = wilayah.dataset()
    return {
        "tool": {"name": "spbe-kit", "version": __version__},
        "catalog": {"version": validated.catalog.version, "sha256": validated.catalog_doc.sha256},
        "templates": {"sha256": templates_sha256(templates)},
        "reference_data": {
            "name": "wilayah-kemendagri",
            "basis": wilayah.DATASET_BASIS,
            "sha256": data.sha256,
        },
        "profile": {"file": validated.profile_path.name, "sha256": validated.profile_doc.sha256},
        "backup_script": {"sha256": hashlib.sha256(backup_script()).hexdigest()},
    }


def acme_script() -> bytes:
    """The ACME renewal, run by the proxy project's ``acme`` service (``tls.mode: acme``)."""
    return (playbooks_dir() / "files" / "spbe_acme.py").read_bytes()


def backup_script() -> bytes:
    """The host-side backup tool, installed beside each scheduler's schedule."""
    return (playbooks_dir() / "files" / "spbe_backup.py").read_bytes()


ACME_ACCOUNT_KEY = "{root}/secrets/acme.account_key"


def secret_files(ctx: Context, host: HostContext) -> list[dict[str, Any]]:
    """Where each secret lands on ``host``: path, owner, mode and its key in the vault."""
    found: list[dict[str, Any]] = []

    def add(path: str, owner: str, mode: str, ref: str, encode: str = "") -> None:
        """``encode``: how the vault value is written (``secretfiles.content``); raw when empty."""
        uid, gid = _ids(owner)
        entry = {"path": path, "uid": uid, "gid": gid, "mode": mode, "ref": ref}
        found.append({**entry, "encode": encode} if encode else entry)

    for app_id in host.apps:
        app = ctx.apps[app_id]
        for name, path in app.secrets.items():
            add(path, app.spec.user, "0400", f"apps/{app_id}/{name}")
    if host.runs_database:
        for name, path in ctx.postgres.secrets.items():
            add(path, ctx.postgres.spec.user, "0400", f"postgres/{name}")
        add(ctx.tls_files["server_cert"], ctx.postgres.spec.user, "0400", "tls/database/cert")
        add(ctx.tls_files["server_key"], ctx.postgres.spec.user, "0400", "tls/database/key")
    if host.apps or host.runs_database or host.name in ctx.schedulers:
        add(ctx.tls_files["ca"], "0:0", "0444", "tls/ca_cert")
    scheduler = ctx.schedulers.get(host.name)
    if scheduler and (scheduler.databases or scheduler.remote):
        for name, path in ctx.backup.secrets.items():
            add(path, ctx.backup.spec.user, "0400", f"backup/{name}")
    if host.runs_proxy and ctx.profile.tls.mode == "acme":
        add(ACME_ACCOUNT_KEY.format(root=ctx.root), ctx.proxy.spec.user, "0400", "acme/account_key")
    if ctx.monitoring and ctx.exporters and host.runs_database:
        for name, path in ctx.exporters.secrets.items():
            add(path, ctx.exporters.spec.user, "0400", f"exporters/{name}")
    if ctx.monitoring and host.runs_proxy:
        # Written as JSON strings: start-alertmanager.sh puts them into YAML as they are.
        for name in monitoring.receiver_secrets(ctx):
            path = f"{ctx.root}/secrets/monitoring.{name}"
            add(path, ctx.monitoring.spec.user, "0400", f"monitoring/{name}", encode="json")
    if host.runs_proxy:
        # With ACME these are the placeholders from the region CA the proxy starts with.
        source = "provided_tls" if ctx.profile.tls.mode == "provided" else "tls/certs"
        for hostname in served_hostnames(ctx):
            base = f"{ctx.root}/tls/{hostname}"
            add(f"{base}.crt", ctx.proxy.spec.user, "0444", f"{source}/{hostname}/cert")
            add(f"{base}.key", ctx.proxy.spec.user, "0400", f"{source}/{hostname}/key")
    if host.runs_proxy and monitoring_hostname(ctx.profile):
        # The monitoring pages' login for nginx (auth_basic), beside the proxy's keys.
        add(
            f"{ctx.root}/tls/{WEB_HTPASSWD}",
            ctx.proxy.spec.user,
            "0400",
            "monitoring/web_password",
            encode="htpasswd",
        )
    return sorted(found, key=lambda f: f["path"])


def _ids(owner: str) -> tuple[int, int]:
    uid, gid = (int(part) for part in owner.split(":"))
    return uid, gid


# Where the proxy's access logs lie on its host (one file a day, kept profile.logs.retention_days).
LOGS_DIR = "{root}/logs/proxy"
SWITCH_DIR = "{root}/switch"


def host_folders(ctx: Context, host: HostContext) -> list[dict[str, Any]]:
    """The folders the kit keeps on ``host`` beside the release tree, in creation order: path,
    mode and, where it matters, owner; ``owner_below`` gives everything inside that owner too
    (backups handed to the scheduler's user). The playbook creates them (``spbe_files``) and a
    deploy's probe compares them."""
    root = ctx.root
    found: list[dict[str, Any]] = [
        {"path": root, "mode": "0755"},
        {"path": f"{root}/.spbe-kit", "mode": "0700"},
        {"path": f"{root}/secrets", "mode": "0700"},
        {"path": f"{root}/tls", "mode": "0755"},
    ]
    scheduler = ctx.schedulers.get(host.name)
    if scheduler:
        uid, gid = _ids(ctx.backup.spec.user)
        found.append({"path": f"{root}/backups", "mode": "0700", "uid": uid, "gid": gid, "owner_below": True})
        if scheduler.copies:
            found.append({"path": scheduler.copies, "mode": "0700", "uid": uid, "gid": gid})
    if host.runs_proxy:
        # nginx writes the access logs; the scheduler (its group) deletes them after retention.
        found += [
            {"path": f"{root}/logs", "mode": "0755"},
            {"path": LOGS_DIR.format(root=root), "mode": "0770", "uid": _ids(ctx.proxy.spec.user)[0],
             "gid": _ids(ctx.backup.spec.user)[1]},
            # Where a deploy points an app's virtual host at its new container while it
            # switches (spbe_switch.py); empty otherwise.
            {"path": SWITCH_DIR.format(root=root), "mode": "0755"},
        ]  # fmt: skip
    if ctx.monitoring:
        # The kit's own signals (the node exporter's text files): the scheduler writes the
        # backups', the deploy the release's and the lock's.
        uid, gid = _ids(ctx.backup.spec.user)
        metrics = monitoring.METRICS_DIR.format(root=root)
        found.append({"path": metrics, "mode": "0755", "uid": uid, "gid": gid})
    if host.runs_proxy and ctx.profile.tls.mode == "acme":
        uid, gid = _ids(ctx.proxy.spec.user)
        found += [
            {"path": f"{root}/acme", "mode": "0755"},
            {"path": f"{root}/acme/certs", "mode": "0755", "uid": uid, "gid": gid},
            {"path": f"{root}/acme/challenges", "mode": "0755", "uid": uid, "gid": gid},
        ]
    return found


class _Renderer:
    def __init__(
        self,
        ctx: Context,
        templates: Path,
        acme_trust: bytes | None = None,
        smtp_trust: bytes | None = None,
        profile_file: str = "profile.yaml",
    ) -> None:
        self.ctx = ctx
        # The roots the profile names (tls.ca, monitoring.email.ca), as files beside it hold them.
        self.acme_trust = acme_trust
        self.smtp_trust = smtp_trust
        # The profile's file name, as the alert rules' runbooks name it.
        self.profile_file = profile_file
        self.env = make_environment(templates)
        https = ctx.profile.proxy.https_port
        self.common: dict[str, Any] = {
            "region": ctx.region,
            "profile": ctx.profile,
            "root": ctx.root,
            "network": ctx.network,
            "stamp": {"tool": __version__, "catalog": ctx.catalog.version},
            "http_port": PROXY_HTTP_PORT,
            "https_port": PROXY_HTTPS_PORT,
            "https_suffix": "" if https == 443 else f":{https}",
            "proxy": ctx.proxy,
            "postgres": ctx.postgres,
            "tls": ctx.tls_files,
        }

    def render(self, template: str, **values: Any) -> bytes:
        try:
            text = self.env.get_template(template).render(**self.common, **values)
        except UnsafeValue as exc:
            raise InvalidInput(
                [diagnostic("unsafe-value", template, value=repr(exc.value), target=exc.target)]
            ) from None
        except jinja2.TemplateError as exc:
            raise InvalidInput(
                [diagnostic("template-error", template, template=template, problem=str(exc))]
            ) from None
        return text.encode("utf-8")

    def privacy_documents(self) -> dict[str, bytes]:
        """The record of processing and the breach-notice template (``render/privacy``), and
        the register of ICT assets (``render/assets``)."""
        ctx = self.ctx
        values = {
            "activities": privacy.activities(ctx),
            "gaps": privacy.record_gaps(ctx),
            "measures": privacy.measures(ctx),
            "hosting_place": privacy.hosting_place(ctx),
            "donor": f"{ctx.catalog.donor.name} ({ctx.catalog.donor.code})",
            "hosts": sorted(ctx.hosts),
        }
        register = {
            "hosts": sorted(ctx.hosts.items()),
            "software": assets.software(ctx),
            "data": assets.data(ctx),
            "hosting_place": values["hosting_place"],
            "backup_schedule": f"jadwal `{ctx.profile.backup.schedule}`, {ctx.profile.backup.keep} disimpan",
        }
        return {
            privacy.RECORD_FILE: self.render("docs/catatan-pemrosesan.md.j2", **values),
            privacy.NOTICE_FILE: self.render("docs/pemberitahuan-kegagalan-pdp.md.j2", **values),
            assets.ASSET_FILE: self.render("docs/daftar-aset-tik.md.j2", **register),
        }

    def host_files(self, host: HostContext) -> dict[str, bytes]:
        """Every file of ``host``'s compose projects: the database, the backup scheduler, each
        app and the proxy, as the host's part of the context places them."""
        files: dict[str, bytes] = {}
        if host.runs_database:
            files.update(self._database_files(host))
        if host.name in self.ctx.schedulers:
            files.update(self._backup_files(host))
        for app_id in host.apps:
            files.update(self._app_files(host, app_id))
        if host.runs_proxy:
            files.update(self._proxy_files(host))
        if "exporters" in host.components:
            files.update(self._exporters_files(host))
        if "monitoring" in host.components:
            files.update(self._monitoring_files(host))
        return files

    def _exporters_files(self, host: HostContext) -> dict[str, bytes]:
        ctx = self.ctx
        assert ctx.exporters
        publish = None if host.runs_proxy else host.internal_address
        compose = self.render(
            "compose/exporters.yaml.j2",
            host=host,
            exporters=ctx.exporters,
            project=f"spbe-{ctx.region.slug}-exporters",
            publish=publish,
            ports={"node": NODE_EXPORTER_PORT, "postgres": POSTGRES_EXPORTER_PORT},
            metrics_dir=monitoring.METRICS_DIR.format(root=ctx.root),
            # Where the PostgreSQL exporter reaches the server: its network alias, beside it.
            postgres_exporter=database_host(ctx.profile, host, True) if host.runs_database else None,
            ca_file=CA_IN_CONTAINER,
        )
        return {f"hosts/{host.name}/exporters/compose.yaml": compose}

    def _monitoring_files(self, host: HostContext) -> dict[str, bytes]:
        ctx, base = self.ctx, f"hosts/{host.name}/monitoring"
        assert ctx.monitoring
        web_trust = self.acme_trust if ctx.profile.tls.mode != "self-signed" else None
        checks_trust = bool(web_trust) or ctx.profile.tls.mode == "self-signed"
        smtp_trust = bool(self.smtp_trust)
        configs = {
            "prometheus.yml": ("What Prometheus reads, where it alerts", monitoring.prometheus_config(ctx)),
            "rules.yml": ("The catalog's alert rules", monitoring.rules(ctx, self.profile_file)),
            "blackbox.yml": ("How each app is checked", monitoring.blackbox_config(ctx, checks_trust)),
            "alertmanager.yml": ("Who is told, how", monitoring.alertmanager_config(ctx, smtp_trust)),
        }
        files = {
            f"{base}/{name}": self.render("monitoring/config.yaml.j2", about=about, config=config)
            for name, (about, config) in configs.items()
        }
        files[f"{base}/spbe.tmpl"] = self.render("monitoring/spbe.tmpl.j2")
        urls = monitoring.web_urls(ctx)
        files[f"{base}/start-alertmanager.sh"] = self.render(
            "monitoring/start-alertmanager.sh.j2",
            monitoring=ctx.monitoring,
            prefix=monitoring.ALERTMANAGER_PREFIX,
            external_url=urls.get("alertmanager"),
            placeholders={n: monitoring.SECRET_PLACEHOLDERS[n] for n in monitoring.receiver_secrets(ctx)},
        )
        if web_trust:
            files[f"{base}/web-trust.pem"] = web_trust
        if self.smtp_trust:
            files[f"{base}/smtp-trust.pem"] = self.smtp_trust

        def digest(*names: str) -> str:
            return hashlib.sha256(b"".join(files.get(f"{base}/{n}", b"") for n in names)).hexdigest()

        files[f"{base}/compose.yaml"] = self.render(
            "compose/monitoring.yaml.j2",
            host=host,
            monitoring=ctx.monitoring,
            small=ctx.monitoring.spec.model_copy(update={"resources": MONITORING_SMALL}),
            project=f"spbe-{ctx.region.slug}-monitoring",
            ports=monitoring.PORTS,
            retention="30d",
            external_url=urls.get("prometheus"),
            alertmanager_prefix=monitoring.ALERTMANAGER_PREFIX,
            secrets={n: f"{ctx.root}/secrets/monitoring.{n}" for n in monitoring.receiver_secrets(ctx)},
            web_trust="./web-trust.pem" if web_trust else ctx.tls_files["ca"] if checks_trust else None,
            smtp_trust=smtp_trust,
            sha256={
                "prometheus": digest("prometheus.yml", "rules.yml"),
                "alertmanager": digest(
                    "alertmanager.yml", "spbe.tmpl", "start-alertmanager.sh", "smtp-trust.pem"
                ),
                "blackbox": digest("blackbox.yml", "web-trust.pem"),
            },
        )
        return files

    def _database_files(self, host: HostContext) -> dict[str, bytes]:
        base, slug = f"hosts/{host.name}", self.ctx.region.slug
        files: dict[str, bytes] = {}
        hba = self.render("postgres/pg_hba.conf.j2")
        files[f"{base}/postgres/pg_hba.conf"] = hba
        files[f"{base}/postgres/compose.yaml"] = self.render(
            "compose/postgres.yaml.j2",
            host=host,
            project=f"spbe-{slug}-postgres",
            publish_database=database_published(self.ctx.profile),
            tls_name=database_tls_name(self.ctx.profile),
            config_sha256=hashlib.sha256(hba).hexdigest(),
        )
        return files

    def _backup_files(self, host: HostContext) -> dict[str, bytes]:
        base, slug = f"hosts/{host.name}", self.ctx.region.slug
        files: dict[str, bytes] = {}
        scheduler = self.ctx.schedulers[host.name]
        schedule = self.render("backup/schedule.json.j2", schedule=self.schedule(scheduler))
        files[f"{base}/backup/schedule.json"] = schedule
        files[f"{base}/backup/spbe_backup.py"] = backup_script()
        files[f"{base}/backup/compose.yaml"] = self.render(
            "compose/backup.yaml.j2",
            host=host,
            scheduler=scheduler,
            backup=self.ctx.backup,
            project=f"spbe-{slug}-backup",
            database_host=database_host(
                self.ctx.profile, self.ctx.hosts[self.ctx.postgres.host], colocated=scheduler.databases
            ),
            ca_file=CA_IN_CONTAINER,
            schedule_timezone=wilayah.timezone_of(self.ctx.region.code),
            config_sha256=hashlib.sha256(schedule + files[f"{base}/backup/spbe_backup.py"]).hexdigest(),
            metrics_dir=monitoring.METRICS_DIR.format(root=self.ctx.root) if self.ctx.monitoring else None,
        )
        return files

    def _app_files(self, host: HostContext, app_id: str) -> dict[str, bytes]:
        base, slug = f"hosts/{host.name}", self.ctx.region.slug
        files: dict[str, bytes] = {}
        app = self.ctx.apps[app_id]
        config = self.render("app/config.json.j2", config=self.app_config(app))
        files[f"{base}/{app_id}/config.json"] = config
        files[f"{base}/{app_id}/compose.yaml"] = self.render(
            "compose/app.yaml.j2",
            host=host,
            app=app,
            project=f"spbe-{slug}-{app_id}",
            config_sha256=hashlib.sha256(config).hexdigest(),
        )
        return files

    def _proxy_files(self, host: HostContext) -> dict[str, bytes]:
        base, slug = f"hosts/{host.name}", self.ctx.region.slug
        files: dict[str, bytes] = {}
        proxy: dict[str, bytes] = {
            f"{base}/proxy/nginx.conf": self.render("nginx/nginx.conf.j2"),
            f"{base}/proxy/conf.d/00-default.conf": self.render("nginx/default.conf.j2"),
        }
        for app in self.ctx.apps.values():
            proxy[f"{base}/proxy/conf.d/{app.id}.conf"] = self.render("nginx/vhost.conf.j2", app=app)
        web = monitoring_hostname(self.ctx.profile)
        if web:
            proxy[f"{base}/proxy/conf.d/{MONITORING_VHOST}"] = self.render(
                "nginx/monitoring.conf.j2",
                hostname=web,
                htpasswd=WEB_HTPASSWD,
                prometheus=monitoring.PROMETHEUS_PORT,
                alertmanager=monitoring.ALERTMANAGER_PORT,
                alertmanager_prefix=monitoring.ALERTMANAGER_PREFIX,
            )
        acme = self.acme_files(f"{base}/proxy")
        if acme:  # the proxy runs nginx under the ACME script's watcher
            proxy[f"{base}/proxy/spbe_acme.py"] = acme[f"{base}/proxy/spbe_acme.py"]
        # The files nginx reads only at start: nginx.conf (mounted alone, so a new file is not
        # seen through the old mount) and the script it runs under. The virtual hosts' folder
        # is mounted whole: the deploy reloads nginx for those, without a restart.
        started = [f"{base}/proxy/nginx.conf", f"{base}/proxy/spbe_acme.py"]
        digest = hashlib.sha256(b"".join(proxy[k] for k in started if k in proxy)).hexdigest()
        files[f"{base}/proxy/compose.yaml"] = self.render(
            "compose/proxy.yaml.j2",
            host=host,
            project=f"spbe-{slug}-proxy",
            config_sha256=digest,
            acme=acme
            and {
                "spec": self.ctx.proxy.spec.model_copy(
                    update={"resources": ACME_RESOURCES, "tmpfs": ["/tmp"]}
                ),
                "trust": f"{base}/proxy/acme-trust.pem" in acme,
                "sha256": hashlib.sha256(b"".join(acme[k] for k in sorted(acme))).hexdigest(),
            },
        )
        files.update(proxy)
        files.update(acme)
        return files

    def acme_files(self, folder: str) -> dict[str, bytes]:
        """The renewal's script, its settings and the root it trusts (``tls.ca``), if ACME."""
        tls = self.ctx.profile.tls
        if tls.mode != "acme":
            return {}
        settings = {
            "directory": tls.acme_directory,
            "email": tls.acme_email,
            "hostnames": served_hostnames(self.ctx),
            "account_key": "/run/spbe/acme/account.key",
            "certs": "/srv/acme/certs",
            "challenges": "/srv/acme/challenges",
            "trust": "/opt/spbe/acme-trust.pem" if self.acme_trust else None,
            "check_minutes": tls.acme_check_minutes,
            # Where the renewal checks that nginx serves what it wrote (the proxy service).
            "proxy": {"host": "proxy", "https_port": PROXY_HTTPS_PORT},
        }
        files = {
            f"{folder}/acme.json": (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode(),
            f"{folder}/spbe_acme.py": acme_script(),
        }
        if self.acme_trust:
            files[f"{folder}/acme-trust.pem"] = self.acme_trust
        return files

    def schedule(self, scheduler: SchedulerContext) -> dict[str, Any]:
        """What the scheduler on one host does (read by spbe_backup.py's ``schedule``)."""
        ctx = self.ctx
        databases = [{"app": a.id, "db": a.database["name"]} for a in ctx.apps.values()]
        volumes = [
            {"app": app, "volume": volume, "mount": f"/volumes/{app}.{volume}"}
            for app, volume in scheduler.volumes
        ]
        local = scheduler.databases or bool(volumes)
        return {
            "region": ctx.region.slug,
            "host": scheduler.host,
            "schedule": ctx.profile.backup.schedule,
            "timezone": wilayah.timezone_of(ctx.region.code),
            "keep": ctx.profile.backup.keep,
            "local": {"databases": databases if scheduler.databases else [], "volumes": volumes}
            if local
            else None,
            "remote": {"databases": databases} if scheduler.remote else None,
            "copies": "/copy" if scheduler.copies else None,
            "encrypt_to": ctx.profile.backup.encrypt_to,
            "versions": {a.id: a.version for a in ctx.apps.values()},
            "logs": {"dir": "/srv/spbe/logs/proxy", "keep_days": ctx.profile.logs.retention_days}
            if scheduler.logs
            else None,
        } | (
            # Its signals for Prometheus (spbe_backup.py ``metrics``), with the RPO they meet.
            {"metrics": "/srv/spbe/metrics", "rpo_s": seconds(ctx.profile.backup.rpo)}
            if ctx.monitoring
            else {}
        )

    def app_config(self, app: AppContext) -> dict[str, Any]:
        ctx = self.ctx
        kecamatan = wilayah.dataset().kecamatan_of(ctx.region.code)
        return {
            "app": {"id": app.id, "version": app.version, "title": app.spec.title.model_dump()},
            "region": {"code": ctx.region.code, "name": ctx.region.name, "domain": ctx.region.domain},
            "grant": {
                "donor": ctx.profile.grant.donor,
                "agreement": ctx.profile.grant.agreement,
                "date": ctx.profile.grant.date.isoformat(),
            },
            "hostname": app.hostname,
            "listen": {"host": "0.0.0.0", "port": app.spec.port},
            "database": {**app.database, "password_file": "/run/secrets/db_password"},
            "secret_files": {name: f"/run/secrets/{name}" for name in app.secrets},
            "volumes": {name: v.path for name, v in sorted(app.spec.volumes.items())},
            "settings": app.settings,
            "kecamatan": [{"code": k.code, "name": k.name} for k in kecamatan],
        }

    def inventory(self) -> dict[str, Any]:
        hosts: dict[str, Any] = {}
        for name, host in self.ctx.hosts.items():
            spec = host.spec
            if spec.connection == "local":
                hosts[name] = {"ansible_connection": "local"}
            else:
                hosts[name] = {
                    "ansible_host": spec.address,
                    "ansible_port": spec.port,
                    "ansible_user": spec.user,
                }
        groups = {
            role: {"hosts": {n: None for n, h in self.ctx.hosts.items() if role in h.spec.roles}}
            for role in ("proxy", "apps", "database")
        }
        return {"all": {"hosts": hosts, "children": groups}}

    def secret_files(self, host: HostContext) -> list[dict[str, Any]]:
        return secret_files(self.ctx, host)

    def deployment_vars(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "spbe_region": {"code": ctx.region.code, "name": ctx.region.name, "slug": ctx.region.slug},
            "spbe_root": ctx.root,
            "spbe_network": ctx.network,
            "spbe_tls_mode": ctx.profile.tls.mode,
            "spbe_monitoring": ctx.monitoring is not None,
            "spbe_acme_directory": ctx.profile.tls.acme_directory,
            "spbe_proxy": {
                "host": ctx.proxy.host,
                "bind": ctx.profile.proxy.bind,
                "http_port": ctx.profile.proxy.http_port,
                "https_port": ctx.profile.proxy.https_port,
                "image": ctx.proxy.image,
                "user": ctx.proxy.spec.user,
            },
            "spbe_postgres": {
                "host": ctx.postgres.host,
                "image": ctx.postgres.image,
                "user": ctx.postgres.spec.user,
                "secrets": ctx.postgres.secrets,
            },
            "spbe_backup": {
                "image": ctx.backup.image,
                "user": ctx.backup.spec.user,
                "hosts": sorted(ctx.schedulers),
            },
            "spbe_apps": {
                app.id: {
                    "host": app.host,
                    "version": app.version,
                    "image": app.image,
                    "hostname": app.hostname,
                    "user": app.spec.user,
                    "health": app.spec.health,
                    "health_timeout_s": app.spec.health_timeout_s,
                    "database": app.database,
                    "secrets": app.secrets,
                    "schema_generation": app.release.schema_generation,
                }
                for app in ctx.apps.values()
            },
            "spbe_hosts": {
                name: {
                    "apps": host.apps,
                    "components": host.components,
                    "backup_copies": getattr(ctx.schedulers.get(host.name), "copies", None),
                    "internal_address": host.internal_address,
                    "directories": host_folders(ctx, host),
                    "secret_files": self.secret_files(host),
                }
                for name, host in ctx.hosts.items()
            },
        }


def render_files(validated: Validated, templates: Path | None = None) -> dict[str, bytes]:
    """Every rendered file, plus ``manifest.json`` and ``SHA256SUMS`` over them."""
    root = templates or templates_dir()
    ctx = build_context(validated.profile, validated.catalog)
    tls, email = validated.profile.tls, validated.profile.monitoring.email
    folder = validated.profile_path.parent
    trust = (folder / tls.ca).read_bytes() if tls.mode in ("acme", "provided") and tls.ca else None
    smtp_trust = (folder / email.ca).read_bytes() if email and email.ca else None
    renderer = _Renderer(ctx, root, trust, smtp_trust, validated.profile_path.name)
    files: dict[str, bytes] = {}
    for host in ctx.hosts.values():
        files.update(renderer.host_files(host))
    files["inventory/hosts.yml"] = renderer.render("inventory/hosts.yml.j2", inventory=renderer.inventory())
    files["inventory/group_vars/all.yml"] = renderer.render(
        "inventory/all.yml.j2", spbe=renderer.deployment_vars()
    )
    files.update(renderer.privacy_documents())
    manifest = {
        "schema": MANIFEST_SCHEMA,
        **inputs_stamp(validated, root),
        "region": {"code": ctx.region.code, "name": ctx.region.name, "slug": ctx.region.slug},
        "files": {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    sums = "".join(f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in sorted(files))
    files[SUMS] = sums.encode()
    return dict(sorted(files.items()))
