"""A region's profile: what one recipient admin writes, versioned ``spbe-kit/profile/v1``.

Structure and types only; checks that need the catalog or the Kemendagri dataset live in
``spbe_kit.validate``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from spbe_kit.models.base import Date, Duration, Int, Strict
from spbe_kit.models.catalog import SettingValue

PROFILE_SCHEMA = "spbe-kit/profile/v1"
Role = Literal["proxy", "apps", "database"]


class Region(Strict):
    code: str = Field(description="Kemendagri code of the kabupaten/kota, e.g. '32.15'.")
    name: str | None = Field(default=None, description="Checked against the dataset.")
    domain: str = Field(description="The region's domain, e.g. karawangkab.go.id.")


class Grant(Strict):
    donor: str = Field(default="32.11", description="Kemendagri code of the donor region.")
    agreement: str = Field(min_length=1, description="Grant agreement (NPHD/PKS) number.")
    date: Date = Field(description="Date the agreement was signed.")
    mou: str | None = Field(default=None, description="MoU number, if any.")


class Contact(Strict):
    name: str = Field(min_length=1)
    email: str
    phone: str | None = None


class Contacts(Strict):
    admin: Contact
    dpo: Contact | None = Field(default=None, description="Data protection officer (UU 27/2022 Art. 53).")


class Hosting(Strict):
    country: str = Field(default="ID", description="ISO 3166 code; PP 71/2019 wants ID.")
    provider: str = Field(min_length=1, description="Who runs the data centre.")
    data_centre: str | None = None
    operator: Literal["region", "third-party"] = Field(
        default="region",
        description="The region's own data centre, or a third party processing the data for it "
        "(UU 27/2022 Art. 51: then name the agreement).",
    )
    agreement: str | None = Field(
        default=None, description="Agreement (PKS/SLA) with a third-party operator."
    )


class Processor(Strict):
    name: str = Field(min_length=1, description="Who processes the region's personal data on its behalf.")
    service: str = Field(min_length=1, description="What they do for it, e.g. 'salinan cadangan kedua'.")
    country: str = Field(default="ID", description="ISO 3166 code of where they keep the data.")
    location: str | None = Field(default=None, description="Data centre or city.")
    agreement: str | None = Field(default=None, description="Written agreement (PKS/SLA) number (Art. 51).")


class BreachNotice(Strict):
    """Who sends the written notice of a personal-data protection failure within 3x24 hours
    (UU 27/2022 Art. 46), to whom, and when the region last rehearsed it."""

    notifier: Contact = Field(description="Who signs and sends the notice (often the DPO).")
    authority: str = Field(
        default="Lembaga Pelindungan Data Pribadi",
        min_length=1,
        description="The lembaga notified (Art. 46(1)b).",
    )
    subjects_channel: str = Field(
        min_length=1, description="How the data subjects are told (Art. 46(1)a), e.g. 'surat dan SMS'."
    )
    last_exercise: Date | None = Field(default=None, description="Date of the last breach-notice exercise.")


class Host(Strict):
    address: str = Field(description="IP address or DNS name the controller reaches.")
    connection: Literal["ssh", "local"] = "ssh"
    user: str = "root"
    port: Int = Field(default=22, ge=1, le=65535)
    roles: list[Role] = Field(min_length=1)
    internal_address: str | None = Field(
        default=None, description="Address other hosts use to reach this one (default: address)."
    )


class AppEntry(Strict):
    version: str
    hostname: str | None = Field(default=None, description="Default: <subdomain>.<domain>.")
    host: str | None = Field(default=None, description="Which apps host; default: the first.")
    settings: dict[str, SettingValue] = {}
    justification: str | None = Field(
        default=None, description="Why this app may overlap an Aplikasi Umum the region uses."
    )


class Proxy(Strict):
    bind: str = "0.0.0.0"
    http_port: Int = Field(default=80, ge=1, le=65535)
    https_port: Int = Field(default=443, ge=1, le=65535)
    admin_networks: list[str] = Field(
        default=[],
        description="Networks (CIDR, e.g. 10.15.20.0/24) from which the apps' administrator pages "
        "are served; none: the proxy refuses them to everyone.",
    )


LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"


class Tls(Strict):
    mode: Literal["self-signed", "provided", "acme"] = "self-signed"
    certificate: str | None = Field(default=None, description="PEM file, relative to profile.")
    key: str | None = Field(default=None, description="PEM key, relative to the profile.")
    ca: str | None = Field(
        default=None,
        description="PEM of the root the provided or ACME chain leads to, relative to the profile "
        "(default: the system's trust store); with acme it also verifies the directory's HTTPS.",
    )
    acme_email: str | None = Field(default=None, description="Contact for the ACME account.")
    acme_directory: str = Field(
        default=LETS_ENCRYPT, description="ACME directory URL (default: Let's Encrypt)."
    )
    acme_check_minutes: Int = Field(
        default=720,
        ge=1,
        le=10080,
        description="How often the renewal container checks (it also wakes when one is due).",
    )


class Backup(Strict):
    schedule: str = Field(default="0 2 * * *", description="cron: minute hour day month weekday")
    keep: Int = Field(default=14, ge=1, le=3650)
    copy_to: str | None = Field(default=None, description="A host name or an absolute path.")
    encrypt_to: str | None = Field(default=None, description="age public key (age1...).")
    copy_processor: str | None = Field(
        default=None, description="The processors entry that holds the copy, when a third party does."
    )
    rto: Duration = Field(
        default="1h",
        description="Recovery time objective: a restore drill restoring every app must take at most "
        "this long (e.g. 30m, 1h).",
    )
    rpo: Duration = Field(
        default="26h",
        description="Recovery point objective: the newest backup at a restore drill must be at most this "
        "old (a daily backup, with two hours' slack: 26h).",
    )


class Logs(Strict):
    retention_days: Int = Field(
        default=180,
        ge=1,
        le=3650,
        description="How long the proxy's access logs are kept on its host (the audit's policy: "
        "90 to 365 days; they hold visitors' addresses, personal data).",
    )


class Privacy(Strict):
    legal_basis: str | None = Field(default=None, description="UU 27/2022 Art. 20 basis.")
    dpia: str | None = Field(default=None, description="DPIA document reference (Art. 34).")
    retention: str | None = Field(default=None, description="e.g. '5 tahun', '18 bulan'.")


class Security(Strict):
    last_audit: Date | None = Field(
        default=None, description="Last SPBE security audit (Perpres 95/2018 Art. 58)."
    )
    secret_max_age_days: Int = Field(
        default=365,
        ge=30,
        le=3650,
        description="The audit flags a password or key older than this (`spbe-kit secrets rotate`).",
    )


class Email(Strict):
    """Alerts by e-mail through the region's mail server (SMTP, STARTTLS by default)."""

    to: list[str] = Field(min_length=1, description="Who receives the alerts.")
    sender: str = Field(description="The From address.")
    smarthost: str = Field(description="The mail server as host:port, e.g. mail.garutkab.go.id:587.")
    username: str | None = Field(
        default=None,
        description="SMTP login, if the server asks for one; its password goes into the vault with "
        "`spbe-kit secrets set PROFILE monitoring.smtp_password`.",
    )
    starttls: bool = Field(default=True, description="Refuse to send unless the server offers STARTTLS.")
    ca: str | None = Field(
        default=None, description="PEM of the root of the mail server's certificate, relative to the profile."
    )


class Telegram(Strict):
    """Alerts to a Telegram chat; the bot's token goes into the vault with
    ``spbe-kit secrets set PROFILE monitoring.telegram_token``."""

    chat_id: Int = Field(description="The chat's id (a group's is negative).")
    api_url: str = Field(default="https://api.telegram.org", description="The Bot API's address.")


class MonitoringWeb(Strict):
    """Prometheus's and Alertmanager's web pages through the proxy, behind a password."""

    hostname: str = Field(
        description="The name they are served under (Prometheus at /, Alertmanager at /alertmanager/), "
        "e.g. pantau.karawangkab.go.id; login spbe, the password given with "
        "`spbe-kit secrets set PROFILE monitoring.web_password`.",
    )


class Monitoring(Strict):
    enabled: bool = Field(default=False, description="Prometheus, Alertmanager and the exporters.")
    scrape_interval: Duration = Field(default="30s", description="How often Prometheus reads every target.")
    fire_after: dict[str, Duration] = Field(
        default={},
        description="How long a catalog alert's condition must hold before it fires, by alert id "
        "(e.g. SPBE-APP-DOWN: 2m); default: the catalog's.",
    )
    email: Email | None = None
    webhooks: list[str] = Field(
        default=[], description="URLs receiving every alert as Alertmanager's JSON (chat bridges, tickets)."
    )
    telegram: Telegram | None = None
    web: MonitoringWeb | None = Field(
        default=None, description="Publish the web pages through the proxy (default: not published at all)."
    )


class Profile(Strict):
    schema_: Literal["spbe-kit/profile/v1"] = Field(alias="schema")
    region: Region
    grant: Grant
    contacts: Contacts
    hosting: Hosting
    hosts: dict[str, Host] = Field(min_length=1)
    apps: dict[str, AppEntry] = Field(min_length=1)
    aplikasi_umum: list[str] = Field(
        default=[], description="National Aplikasi Umum the region uses (e.g. sp4n-lapor)."
    )
    proxy: Proxy = Proxy()
    tls: Tls = Tls()
    backup: Backup = Backup()
    logs: Logs = Logs()
    privacy: Privacy = Privacy()
    processors: dict[str, Processor] = Field(
        default={}, description="Third parties processing the region's personal data (Art. 51)."
    )
    breach_notice: BreachNotice | None = None
    security: Security = Security()
    monitoring: Monitoring = Monitoring()
    install_dir: str = Field(default="/opt/spbe-kit", description="Root folder on every host.")
