"""The donor's grant catalog: granted apps, shared services and the Aplikasi Umum list."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from spbe_kit.models.base import Duration, Int, Strict, Text

DataClass = Literal["kesehatan", "anak", "keuangan", "kependudukan", "kepegawaian", "umum"]
# UU 27/2022 Art. 4(2): health, child and personal financial data are data spesifik.
SENSITIVE_DATA_CLASSES: frozenset[str] = frozenset({"kesehatan", "anak", "keuangan"})
SettingValue = bool | int | str


class Setting(Strict):
    type: Literal["string", "int", "bool", "choice"]
    default: SettingValue
    description: Text
    min: Int | None = None
    max: Int | None = None
    choices: list[str] | None = None
    # Which national control this setting implements, for the audit (e.g. bssn-password-length).
    control: str | None = None


class Version(Strict):
    image: str
    # sha256 image ID, recorded by the donor once built; rendered as a pin when present.
    digest: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")
    released: datetime.date
    # Database schema generation; a change between releases means rollback needs a restore.
    schema_generation: Int = Field(default=1, ge=1)
    # How this version's schema change (from the generation before) meets the release it
    # replaces: "expand" only adds (the older release keeps working on the new schema, so a
    # deploy switches to the new container with no pause); "exclusive" needs the older one
    # stopped first (the proxy shows the maintenance page meanwhile). Ignored without a change.
    migration: Literal["expand", "exclusive"] = "exclusive"
    notes: Text | None = None


class Resources(Strict):
    cpus: float = Field(gt=0, le=64)
    memory_mb: Int = Field(gt=0)
    disk_mb: Int = Field(ge=0)
    pids: Int = Field(default=256, gt=0)


class Volume(Strict):
    path: str
    backup: bool = True


class Component(Strict):
    title: Text
    maintainer: str
    versions: dict[str, Version]
    port: Int | None = Field(default=None, ge=1, le=65535, description="None: listens nowhere.")
    user: str = Field(pattern=r"^[0-9]+:[0-9]+$")
    health: str = "/healthz"
    health_timeout_s: Int = Field(default=90, ge=5, le=1800)
    resources: Resources
    volumes: dict[str, Volume] = {}
    secrets: dict[str, Text] = {}
    read_only_rootfs: bool = True
    tmpfs: list[str] = ["/tmp"]
    # Linux capabilities kept after dropping ALL, each with its justification.
    capabilities: dict[str, str] = {}


class App(Component):
    port: Int = Field(ge=1, le=65535)
    family: str = Field(
        pattern=r"^[a-z][a-z0-9-]*$",
        description="The domain the app serves (stunting, kepegawaian, layanan-publik, ...).",
    )
    subdomain: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    host_port: Int = Field(ge=1024, le=65535)
    settings: dict[str, Setting] = {}
    data_classes: list[DataClass]
    functions: list[str]
    purpose: Text = Field(description="Why the app processes personal data (the record of processing).")
    data_subjects: Text = Field(description="Whose personal data it holds.")
    admin_paths: list[Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*/$")]] = Field(
        default=[],
        description="URL prefixes of the app's administrator pages: the proxy serves them only to "
        "the networks in the profile's proxy.admin_networks.",
    )


class Services(Strict):
    postgres: Component
    proxy: Component
    backup: Component
    # A region's monitoring (profile ``monitoring.enabled``): Prometheus, Alertmanager and the
    # blackbox exporter on the proxy's host; the node (and PostgreSQL) exporters on every host.
    monitoring: Component | None = None
    exporters: Component | None = None

    def components(self) -> list[Component]:
        """Every shared service the catalog defines (what a bundle carries, what gets built)."""
        found = [self.postgres, self.proxy, self.backup, self.monitoring, self.exporters]
        return [c for c in found if c is not None]


class Alert(Strict):
    """One alert rule the kit ships with the catalog (rendered into Prometheus's rules)."""

    severity: Literal["critical", "warning"]
    expr: str = Field(min_length=1, description="PromQL; fires while it returns a series.")
    for_: Duration | None = Field(alias="for", default=None, description="How long it must hold first.")
    summary: Text = Field(description="What happened; may name {{ $labels.app }} or {{ $labels.host }}.")
    runbook: Text = Field(description="What to do: the spbe-kit commands ({profile}: the profile's file).")


class Advisory(Strict):
    """A donor's security or defect notice about released versions of an app."""

    app: str
    versions: list[str] = Field(min_length=1, description="The affected versions.")
    severity: Literal["critical", "high", "medium", "low"]
    withdrawn: bool = Field(default=False, description="True: the versions must not run any more.")
    fixed_in: str | None = Field(default=None, description="The version to upgrade to.")
    text: Text = Field(description="What is wrong and what to do, in both languages.")


class Donor(Strict):
    code: str
    name: str
    team: str


class AplikasiUmum(Strict):
    title: str
    owner: str
    functions: list[str]


class Catalog(Strict):
    schema_: Literal["spbe-kit/catalog/v1"] = Field(alias="schema")
    version: str
    donor: Donor
    aplikasi_umum: dict[str, AplikasiUmum]
    services: Services
    apps: dict[str, App]
    alerts: dict[Annotated[str, Field(pattern=r"^SPBE-[A-Z0-9-]+$")], Alert] = {}
    advisories: dict[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9-]{2,40}$")], Advisory] = {}

    @field_validator("advisories")
    @classmethod
    def _advisories_name_released_versions(
        cls, advisories: dict[str, Advisory], info: ValidationInfo
    ) -> dict[str, Advisory]:
        apps: dict[str, App] = info.data.get("apps", {})
        for ident, advisory in advisories.items():
            app = apps.get(advisory.app)
            if app is None:
                raise ValueError(f"{ident}: app '{advisory.app}' is not in the catalog")
            named = [*advisory.versions, *([advisory.fixed_in] if advisory.fixed_in else [])]
            unknown = [v for v in named if v not in app.versions]
            if unknown:
                raise ValueError(f"{ident}: {advisory.app} has no version {', '.join(unknown)}")
            if advisory.fixed_in in advisory.versions:
                raise ValueError(f"{ident}: fixed_in {advisory.fixed_in} is one of the affected versions")
        return advisories

    def advisories_for(self, app: str, version: str) -> list[tuple[str, Advisory]]:
        """The advisories that name ``version`` of ``app``, most severe first."""
        order = ("critical", "high", "medium", "low")
        found = [(i, a) for i, a in self.advisories.items() if a.app == app and version in a.versions]
        return sorted(found, key=lambda item: (order.index(item[1].severity), item[0]))
