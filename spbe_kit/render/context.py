"""What runs where: the profile resolved against the catalog, before any template is read.

Pure data. Decides placement (which host runs which app, postgres, proxy), which ports are
published, database names and the host paths where secrets will live (paths only, never
values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spbe_kit import wilayah
from spbe_kit.errors import KeyPath
from spbe_kit.models.catalog import App, Catalog, Component, SettingValue, Version
from spbe_kit.models.profile import Host, Profile

POSTGRES_PORT = 5432
# Inside containers: the region CA (public) that apps and schedulers verify PostgreSQL with.
CA_IN_CONTAINER = "/etc/spbe-tls/region-ca.crt"
# nginx runs unprivileged inside its container; the profile chooses the published ports.
PROXY_HTTP_PORT = 8080
PROXY_HTTPS_PORT = 8443


@dataclass(frozen=True)
class Placement:
    proxy: str
    database: str
    apps: dict[str, str]


@dataclass(frozen=True)
class AppContext:
    id: str
    spec: App
    version: str
    release: Version
    image: str
    hostname: str
    host: str
    upstream: str
    published_port: int | None
    settings: dict[str, SettingValue]
    secrets: dict[str, str]
    database: dict[str, Any]


@dataclass(frozen=True)
class ServiceContext:
    spec: Component
    version: str
    image: str
    host: str
    secrets: dict[str, str]


@dataclass(frozen=True)
class HostContext:
    name: str
    spec: Host
    apps: list[str]
    runs_proxy: bool
    runs_database: bool
    internal_address: str
    # The region's compose projects on this host (its apps, then the database, the proxy and the
    # backup scheduler where they run): computed here once, rendered into the playbooks'
    # variables, read by plan, deploy, audit, the handover record and the playbooks alike.
    components: list[str]


@dataclass(frozen=True)
class SchedulerContext:
    """The backup scheduler on one host: what it backs up there (``databases``, ``volumes``
    as (app, volume) pairs), whether it pulls a second copy of the databases from the database
    host (``remote``), the host folder receiving packed copies (``copies``), and whether it
    keeps the proxy's access logs to their retention (``logs``: on the proxy's host)."""

    host: str
    databases: bool
    volumes: list[tuple[str, str]]
    remote: bool
    copies: str | None
    logs: bool
    # The backup image; where the scheduler only keeps logs (a proxy-only host), the proxy's
    # image, which that host has anyway: only Python is needed, never PostgreSQL's tools.
    image: str


@dataclass(frozen=True)
class RegionContext:
    code: str
    name: str
    slug: str
    domain: str


@dataclass
class Context:
    region: RegionContext
    profile: Profile
    catalog: Catalog
    root: str
    network: str
    hosts: dict[str, HostContext]
    apps: dict[str, AppContext]
    postgres: ServiceContext
    proxy: ServiceContext
    backup: ServiceContext
    schedulers: dict[str, SchedulerContext]
    # Host paths of the region CA certificate and PostgreSQL's TLS certificate and key.
    tls_files: dict[str, str] = field(default_factory=dict)
    # Profile ``monitoring.enabled``: Prometheus and Alertmanager (the proxy's host), the
    # exporters (every host).
    monitoring: ServiceContext | None = None
    exporters: ServiceContext | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def services(self) -> dict[str, ServiceContext]:
        """The shared services by component name (``monitoring``, ``exporters`` when on)."""
        found = {"postgres": self.postgres, "proxy": self.proxy, "backup": self.backup}
        if self.monitoring and self.exporters:
            found.update(monitoring=self.monitoring, exporters=self.exporters)
        return found


def placement(profile: Profile) -> Placement:
    """The first host holding each role; apps go to their ``host`` or the first apps host."""

    def first(role: str) -> str:
        return next((n for n, h in profile.hosts.items() if role in h.roles), "")

    apps_host = first("apps")
    apps = {app_id: entry.host or apps_host for app_id, entry in profile.apps.items()}
    return Placement(first("proxy"), first("database"), apps)


def published_ports(profile: Profile, catalog: Catalog) -> dict[str, list[tuple[int, str, KeyPath]]]:
    """Per host: (port, owner, key path that chose it) for every port published there."""
    where = placement(profile)
    ports: dict[str, list[tuple[int, str, KeyPath]]] = {name: [] for name in profile.hosts}
    if where.proxy:
        ports[where.proxy] += [
            (profile.proxy.http_port, "proxy (http)", ("proxy", "http_port")),
            (profile.proxy.https_port, "proxy (https)", ("proxy", "https_port")),
        ]
    if where.database and database_published(profile):
        ports[where.database].append((POSTGRES_PORT, "postgres", ("hosts", where.database)))
    for app_id, host in where.apps.items():
        app = catalog.apps.get(app_id)
        if app and host in ports and host != where.proxy:
            ports[host].append((app.host_port, app_id, ("apps", app_id)))
    for host, exporter, port in exporter_ports(profile):
        ports[host].append((port, exporter, ("monitoring", "enabled")))
    return ports


NODE_EXPORTER_PORT = 9100
POSTGRES_EXPORTER_PORT = 9187


def exporter_ports(profile: Profile) -> list[tuple[str, str, int]]:
    """(host, exporter, port) for each exporter Prometheus reads from another host: published on
    that host's internal address only (the region's network), never on the proxy's host."""
    if not profile.monitoring.enabled:
        return []
    where = placement(profile)
    found = [(h, "node-exporter", NODE_EXPORTER_PORT) for h in profile.hosts if h != where.proxy]
    if where.database and where.database != where.proxy:
        found.append((where.database, "postgres-exporter", POSTGRES_EXPORTER_PORT))
    return found


def database_published(profile: Profile) -> bool:
    """Other hosts reach the database: apps elsewhere, or a backup copy host pulling dumps."""
    where = placement(profile)
    copy_host = profile.backup.copy_to if profile.backup.copy_to in profile.hosts else None
    return any(h != where.database for h in where.apps.values()) or copy_host not in (None, where.database)


def database_tls_name(profile: Profile) -> str:
    """The name PostgreSQL's certificate carries for containers on its own network (an alias)."""
    return f"postgres.{profile.region.domain}"


def database_host(profile: Profile, db_host: HostContext, colocated: bool) -> str:
    """How a client reaches PostgreSQL: the network alias next to it, else the host's address."""
    return database_tls_name(profile) if colocated else db_host.internal_address


def url_host(address: str) -> str:
    """An address as the host part of a URL: IPv6 in brackets."""
    return f"[{address}]" if ":" in address else address


def copy_folder(copy_to: str, slug: str) -> str:
    """The kit's own folder inside the profile's ``backup.copy_to``: the only one it manages
    (creates, owns, prunes); the folder the profile names is never chmod'ed or chown'ed."""
    return f"{copy_to.rstrip('/')}/spbe-{slug}"


def schedulers(
    profile: Profile, catalog: Catalog, where: Placement, root: str, slug: str, images: tuple[str, str]
) -> dict[str, SchedulerContext]:
    """Which hosts run a backup scheduler, and what each one does (the proxy's host always
    runs one: it keeps the access logs to their retention). ``images``: the backup image and
    the proxy's."""
    copy_to = profile.backup.copy_to
    copy_host = copy_to if copy_to in profile.hosts and copy_to != where.database else None
    copy_path = copy_folder(copy_to, slug) if copy_to and copy_to.startswith("/") else None
    found = {}
    for name in profile.hosts:
        volumes = [
            (app_id, volume)
            for app_id, host in sorted(where.apps.items())
            if host == name and app_id in catalog.apps
            for volume, spec in sorted(catalog.apps[app_id].volumes.items())
            if spec.backup
        ]
        databases = name == where.database
        remote = name == copy_host
        logs = name == where.proxy
        if databases or volumes or remote or logs:
            local = databases or bool(volumes)
            copies = f"{root}/backup-copies" if remote else (copy_path if local else None)
            image = images[0] if local or remote else images[1]
            found[name] = SchedulerContext(name, databases, volumes, remote, copies, logs, image)
    return found


def _latest(component: Component) -> tuple[str, Version]:
    return max(component.versions.items(), key=lambda kv: kv[1].released)


def image_ref(release: Version) -> str:
    return f"{release.image}@{release.digest}" if release.digest else release.image


def build_context(profile: Profile, catalog: Catalog) -> Context:
    known = wilayah.dataset().get(profile.region.code)
    name = known.name if known else (profile.region.name or profile.region.code)
    slug = known.slug if known else profile.region.code.replace(".", "")
    region = RegionContext(profile.region.code, name, slug, profile.region.domain)
    root = f"{profile.install_dir.rstrip('/')}/{slug}"
    where = placement(profile)

    def service(name: str, host: str) -> ServiceContext:
        spec: Component = getattr(catalog.services, name)
        assert spec is not None  # validate: monitoring needs the catalog's services
        version, release = _latest(spec)
        secrets = {s: f"{root}/secrets/{name}.{s}" for s in sorted(spec.secrets)}
        return ServiceContext(spec, version, image_ref(release), host, secrets)

    postgres = service("postgres", where.database)
    proxy = service("proxy", where.proxy)
    backup = service("backup", where.database)
    backups = schedulers(profile, catalog, where, root, slug, (backup.image, proxy.image))
    monitored = profile.monitoring.enabled
    hosts = {n: _host(n, h, where, n in backups, monitored) for n, h in profile.hosts.items()}
    db_host = hosts[where.database]
    apps = {
        app_id: _app_context(profile, catalog, app_id, where, db_host, hosts, root)
        for app_id in sorted(profile.apps)
    }
    return Context(
        region,
        profile,
        catalog,
        root,
        f"spbe-{slug}",
        hosts,
        apps,
        postgres,
        proxy,
        backup,
        backups,
        tls_files={
            "ca": f"{root}/tls/region-ca.crt",
            "server_cert": f"{root}/secrets/postgres.server.crt",
            "server_key": f"{root}/secrets/postgres.server.key",
        },
        monitoring=service("monitoring", where.proxy) if monitored else None,
        exporters=service("exporters", where.database) if monitored else None,
    )


def monitoring_hostname(profile: Profile) -> str | None:
    """The name the proxy serves the monitoring pages under (``monitoring.web``), if any."""
    mon = profile.monitoring
    return mon.web.hostname if mon.enabled and mon.web else None


def served_hostnames(ctx: Context) -> list[str]:
    """Every name the proxy serves over HTTPS, each needing a certificate: the apps', and the
    monitoring pages' when published."""
    extra = monitoring_hostname(ctx.profile)
    return sorted([a.hostname for a in ctx.apps.values()] + ([extra] if extra else []))


def image_of(ctx: Context, host: str, component: str) -> str:
    """The image ``component`` runs on ``host`` (the scheduler's depends on what it does there)."""
    if component == "backup":
        return ctx.schedulers[host].image
    services = ctx.services()
    return services[component].image if component in services else ctx.apps[component].image


def _host(name: str, spec: Host, where: Placement, scheduler: bool, monitored: bool) -> HostContext:
    apps = sorted(a for a, on in where.apps.items() if on == name)
    components = (
        apps
        + (["postgres"] if name == where.database else [])
        + (["proxy"] if name == where.proxy else [])
        + (["backup"] if scheduler else [])
        # After the scheduler, which writes the backup metrics the node exporter reads.
        + (["exporters"] if monitored else [])
        + (["monitoring"] if monitored and name == where.proxy else [])
    )
    return HostContext(
        name,
        spec,
        apps,
        name == where.proxy,
        name == where.database,
        spec.internal_address or spec.address,
        components,
    )


def app_hostname(profile: Profile, app_id: str, app: App) -> str:
    """The name an app is served under: the profile's, or the catalog's subdomain of the region's."""
    entry = profile.apps[app_id]
    return entry.hostname or f"{app.subdomain}.{profile.region.domain}"


def _app_context(
    profile: Profile,
    catalog: Catalog,
    app_id: str,
    where: Placement,
    db_host: HostContext,
    hosts: dict[str, HostContext],
    root: str,
) -> AppContext:
    entry = profile.apps[app_id]
    spec = catalog.apps[app_id]
    release = spec.versions[entry.version]
    host = where.apps[app_id]
    colocated_proxy = host == where.proxy
    upstream = (
        f"http://{app_id}:{spec.port}"
        if colocated_proxy
        else f"http://{url_host(hosts[host].internal_address)}:{spec.host_port}"
    )
    settings = {name: s.default for name, s in sorted(spec.settings.items())}
    settings.update(entry.settings)
    db_name = app_id.replace("-", "_")
    database = {
        "name": db_name,
        "user": db_name,
        "host": database_host(profile, db_host, colocated=host == where.database),
        "port": POSTGRES_PORT,
        # Only TLS with the region CA and the host name checked (pg_hba.conf: hostssl only).
        "sslmode": "verify-full",
        "sslrootcert": CA_IN_CONTAINER,
    }
    return AppContext(
        id=app_id,
        spec=spec,
        version=entry.version,
        release=release,
        image=image_ref(release),
        hostname=app_hostname(profile, app_id, spec),
        host=host,
        upstream=upstream,
        published_port=None if colocated_proxy else spec.host_port,
        settings=dict(sorted(settings.items())),
        secrets={s: f"{root}/secrets/{app_id}.{s}" for s in sorted(spec.secrets)},
        database=database,
    )
