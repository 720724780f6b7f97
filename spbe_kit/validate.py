"""Validate: a profile against the catalog, the Kemendagri dataset and national rules.

Owns every check that needs more than one key at a time. Reports all problems at once; a
check never stops the others. Reads files only to confirm that referenced TLS files exist.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spbe_kit import wilayah
from spbe_kit.errors import Diagnostic, InvalidInput, KeyPath, Said
from spbe_kit.load import Document, load_yaml, step
from spbe_kit.models.catalog import SENSITIVE_DATA_CLASSES, Advisory, App, Catalog, Setting
from spbe_kit.models.parse import errors_to_diagnostics, parse_model
from spbe_kit.models.profile import Profile
from spbe_kit.render.context import (
    app_hostname,
    database_published,
    monitoring_hostname,
    placement,
    published_ports,
)

NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
AGE_RECIPIENT = re.compile(r"^age1[0-9a-z]{58}$")
# C0 controls other than tab and newline, DEL, C1 controls, and the bidirectional overrides
# that can make a value read differently than it is (Trojan Source).
# The line and paragraph separators end a line in YAML, JSON-in-JS and many editors, so a
# value carrying one could break out of a comment in a rendered file.
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u2028\u2029]")
MAX_TEXT = 2000
RETENTION = re.compile(r"^[1-9][0-9]{0,3} ?(tahun|bulan|hari|years?|months?|days?)$")
ROLES = ("proxy", "apps", "database")


@dataclass(frozen=True)
class Validated:
    """A profile that passed every check, with the catalog it was checked against."""

    profile: Profile
    catalog: Catalog
    profile_doc: Document
    catalog_doc: Document
    profile_path: Path


def load_catalog(path: Path) -> tuple[Catalog, Document]:
    doc = load_yaml(path)
    if doc.problems:
        raise InvalidInput(doc.problems)
    return parse_model(doc, Catalog, "catalog"), doc


def load_profile(path: Path, catalog: Catalog, catalog_doc: Document) -> Validated:
    """Parse and check a profile; raises InvalidInput listing every problem found."""
    return validate_document(load_yaml(path), path, catalog, catalog_doc)


def validate_document(doc: Document, path: Path, catalog: Catalog, catalog_doc: Document) -> Validated:
    """Check an already loaded profile document; ``path`` anchors the files it names."""
    from pydantic import ValidationError

    problems = list(doc.problems)
    try:
        profile = Profile.model_validate(doc.data)
    except ValidationError as exc:
        problems += errors_to_diagnostics(doc, Profile, exc, "profile")
        salvaged = _salvage(doc, problems)
        reported = {d.key_path for d in problems}
        if salvaged is not None:
            problems += [
                d
                for d in check(salvaged, catalog, doc, path)
                if not any(d.key_path[: len(r)] == r for r in reported)
            ]
        raise InvalidInput(problems) from None
    problems += check(profile, catalog, doc, path)
    if problems:
        raise InvalidInput(problems)
    return Validated(profile, catalog, doc, catalog_doc, path)


def _salvage(doc: Document, problems: list[Diagnostic]) -> Profile | None:
    """A profile the other checks can still run on: the keys already reported as wrong are
    dropped and the missing ones filled with a stand-in, whose own findings are not shown."""
    import copy

    from pydantic import ValidationError

    data = copy.deepcopy(doc.data)
    for diag in problems:
        if (
            diag.code in ("profile-unknown-key", "profile-invalid-value", "placeholder-unfilled")
            and diag.key_path
        ):
            _delete(data, diag.key_path)
    for _ in range(8):
        try:
            return Profile.model_validate(data)
        except ValidationError as exc:
            missing = [e["loc"] for e in exc.errors() if e["type"] == "missing"]
            if not missing or not all(_fill(data, tuple(loc)) for loc in missing):
                return None
    return None


_STAND_INS: tuple[object, ...] = ("x", {}, [], 1, datetime.date(2000, 1, 1))


def _fill(data: object, loc: tuple[int | str, ...]) -> bool:
    """Put the first stand-in the model accepts at ``loc`` (a missing key)."""
    import copy

    from pydantic import ValidationError

    parent = data
    for part in loc[:-1]:
        parent = step(parent, part)
    if not isinstance(parent, dict):
        return False
    for candidate in _STAND_INS:
        parent[loc[-1]] = copy.deepcopy(candidate)
        try:
            Profile.model_validate(data)
            return True
        except ValidationError as exc:
            if not any(tuple(e["loc"])[: len(loc)] == loc and e["type"] != "missing" for e in exc.errors()):
                return True
    parent.pop(loc[-1], None)
    return False


def _delete(data: object, path: KeyPath) -> None:
    parent = data
    for part in path[:-1]:
        parent = step(parent, part)
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def check(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> list[Diagnostic]:
    checks = (
        _region,
        _grant,
        _contacts,
        _hosting,
        _hosts,
        _apps,
        _ports,
        _proxy,
        _privacy,
        _aplikasi_umum,
        _tls,
        _backup,
        _monitoring,
        _install_dir,
    )
    unfilled = list(_placeholders(doc.data, (), doc)) + list(_unsafe_text(doc.data, (), doc))
    skip = {d.key_path for d in unfilled}
    found = list(unfilled)
    for run in checks:
        found.extend(d for d in run(profile, catalog, doc, path) if d.key_path not in skip)
    return found


PLACEHOLDER = "ISI"


def _placeholders(data: object, path: KeyPath, doc: Document) -> Iterator[Diagnostic]:
    """Fields ``spbe-kit init`` marked ISI ("fill in") that are still unfilled."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _placeholders(value, (*path, key), doc)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _placeholders(value, (*path, index), doc)
    elif isinstance(data, str) and data.strip() == PLACEHOLDER:
        yield doc.diagnostic("placeholder-unfilled", path)


def _unsafe_text(data: object, path: KeyPath, doc: Document) -> Iterator[Diagnostic]:
    """No string anywhere may carry control or bidi-override characters, or be huge."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _unsafe_text(value, (*path, key), doc)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _unsafe_text(value, (*path, index), doc)
    elif isinstance(data, str):
        bad = UNSAFE_CHARS.search(data)
        if bad:
            yield doc.diagnostic(
                "unsafe-character", path, char=f"U+{ord(bad.group()):04X}", offset=bad.start()
            )
        elif len(data) > MAX_TEXT:
            yield doc.diagnostic("value-too-long", path, length=len(data), limit=MAX_TEXT)


def _kabkota(code: str, where: KeyPath, doc: Document) -> Iterator[Diagnostic]:
    problem = wilayah.kabkota_code_problem(code)
    if problem:
        yield doc.diagnostic("region-code-format", where, code=code)
        return
    data = wilayah.dataset()
    if data.get(code) is None:
        numbers = sorted(int(r.code[3:]) for r in data.kabupaten_kota() if r.code[:2] == code[:2])
        if numbers:
            ranges = _ranges(numbers, code[:2])
            hint, hint_id = (
                f"codes in province {code[:2]}: {ranges}",
                f"kode di provinsi {code[:2]}: {ranges}",
            )
        else:
            hint = f"province {code[:2]} does not exist; e.g. 32 is Jawa Barat"
            hint_id = f"provinsi {code[:2]} tidak ada; mis. 32 adalah Jawa Barat"
        yield doc.diagnostic(
            "region-code-unknown",
            where,
            code=code,
            basis=wilayah.DATASET_BASIS,
            suggestion=Said(hint, hint_id),
        )


def _ranges(numbers: list[int], province: str) -> str:
    """[1, 2, 3, 71, 72] -> '32.01-32.03, 32.71-32.72'."""
    spans: list[tuple[int, int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], n)
        else:
            spans.append((n, n))
    text = [f"{province}.{a:02d}" + (f"-{province}.{b:02d}" if b != a else "") for a, b in spans]
    return ", ".join(text)


def _region(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    region = profile.region
    problems = list(_kabkota(region.code, ("region", "code"), doc))
    yield from problems
    known = wilayah.dataset().get(region.code)
    if not problems and known and region.name and _norm(region.name) != _norm(known.name):
        yield doc.diagnostic(
            "region-name-mismatch",
            ("region", "name"),
            given=region.name,
            code=region.code,
            expected=known.name,
        )
    if not is_dns_name(region.domain):
        yield doc.diagnostic("dns-name-invalid", ("region", "domain"), value=region.domain)


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _grant(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    where = ("grant", "donor")
    problems = list(_kabkota(profile.grant.donor, where, doc))
    yield from problems
    if not problems and profile.grant.donor != catalog.donor.code:
        yield doc.diagnostic(
            "grant-donor-mismatch",
            where,
            given=profile.grant.donor,
            expected=catalog.donor.code,
            name=catalog.donor.name,
        )


def _contacts(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    notice = profile.breach_notice
    for where, contact in (
        (("contacts", "admin"), profile.contacts.admin),
        (("contacts", "dpo"), profile.contacts.dpo),
        (("breach_notice", "notifier"), notice.notifier if notice else None),
    ):
        if contact and not EMAIL.match(contact.email):
            yield doc.diagnostic("email-invalid", (*where, "email"), value=contact.email)


def _hosting(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    # 'ıd'.upper() == 'ID' in Python: only ASCII letters count as a country code.
    if not re.fullmatch(r"[A-Za-z]{2}", profile.hosting.country):
        yield doc.diagnostic("country-invalid", ("hosting", "country"), value=profile.hosting.country)
    elif profile.hosting.country.upper() != "ID":
        yield doc.diagnostic(
            "hosting-outside-indonesia", ("hosting", "country"), country=profile.hosting.country
        )
    for name, processor in profile.processors.items():
        if not NAME.match(name):
            yield doc.diagnostic("name-invalid", ("processors", name), value=name, kind="processor")
        if not re.fullmatch(r"[A-Za-z]{2}", processor.country):
            yield doc.diagnostic("country-invalid", ("processors", name, "country"), value=processor.country)
        elif processor.country.upper() != "ID":
            yield doc.diagnostic(
                "processor-outside-indonesia",
                ("processors", name, "country"),
                processor=name,
                country=processor.country,
            )


def _hosts(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    for name, host in profile.hosts.items():
        if not NAME.match(name):
            yield doc.diagnostic("name-invalid", ("hosts", name), value=name, kind="host")
        if not USER.match(host.user):
            yield doc.diagnostic("name-invalid", ("hosts", name, "user"), value=host.user, kind="user")
        for key in ("address", "internal_address"):
            value = getattr(host, key)
            if value is not None and not is_address(value):
                yield doc.diagnostic("address-invalid", ("hosts", name, key), value=value)
    yield from _database_name(profile, doc)
    local = [n for n, h in profile.hosts.items() if h.connection == "local"]
    if len(local) > 1:
        yield doc.diagnostic("local-host-multiple", ("hosts", local[1], "connection"))
    for role in ROLES:
        holders = [n for n, h in profile.hosts.items() if role in h.roles]
        if not holders:
            yield doc.diagnostic("role-unassigned", ("hosts",), role=role)
        elif len(holders) > 1 and role != "apps":
            yield doc.diagnostic(
                "role-multiple", ("hosts", holders[1], "roles"), role=role, hosts=", ".join(holders)
            )


def _database_name(profile: Profile, doc: Document) -> Iterator[Diagnostic]:
    """Apps on other hosts check PostgreSQL's certificate against the address they connect to;
    the region CA signs only the region's names, so a DNS name must lie under its domain."""
    name = placement(profile).database
    host = profile.hosts.get(name)
    if host is None or not database_published(profile):
        return
    key = "internal_address" if host.internal_address else "address"
    value = getattr(host, key)
    if not is_ip(value) and value != "localhost" and not is_subdomain(value, profile.region.domain):
        yield doc.diagnostic(
            "database-name-outside-domain", ("hosts", name, key), value=value, domain=profile.region.domain
        )


def _apps(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    hostnames: dict[str, str] = {}
    for app_id, entry in profile.apps.items():
        where: KeyPath = ("apps", app_id)
        app = catalog.apps.get(app_id)
        if app is None:
            close = difflib.get_close_matches(app_id, catalog.apps, n=1)
            available = ", ".join(catalog.apps) + (f" (did you mean '{close[0]}'?)" if close else "")
            yield doc.diagnostic("app-unknown", where, app=app_id, available=available)
            continue
        if entry.version not in app.versions:
            yield doc.diagnostic(
                "app-version-unknown",
                (*where, "version"),
                app=app_id,
                version=entry.version,
                available=", ".join(app.versions),
            )
        hostname = app_hostname(profile, app_id, app)
        if entry.hostname is not None and not is_dns_name(entry.hostname):
            yield doc.diagnostic("dns-name-invalid", (*where, "hostname"), value=entry.hostname)
        elif entry.hostname is not None and not is_subdomain(entry.hostname, profile.region.domain):
            domain = profile.region.domain
            yield doc.diagnostic(
                "hostname-outside-domain", (*where, "hostname"), value=entry.hostname, domain=domain
            )
        elif hostname in hostnames:
            yield doc.diagnostic(
                "hostname-duplicate", (*where, "hostname"), hostname=hostname, other=hostnames[hostname]
            )
        hostnames[hostname] = app_id
        if entry.host is not None:
            yield from _app_host(profile, doc, app_id, entry.host)
        yield from _settings(app_id, app, entry.settings, doc)


def _app_host(profile: Profile, doc: Document, app_id: str, host: str) -> Iterator[Diagnostic]:
    where = ("apps", app_id, "host")
    if host not in profile.hosts:
        yield doc.diagnostic("host-undefined", where, host=host, available=", ".join(profile.hosts))
    elif "apps" not in profile.hosts[host].roles:
        yield doc.diagnostic("host-not-apps", where, host=host)


def _settings(
    app_id: str, app: App, values: dict[str, bool | int | str], doc: Document
) -> Iterator[Diagnostic]:
    for name, value in values.items():
        where = ("apps", app_id, "settings", name)
        spec = app.settings.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, app.settings, n=1)
            listing = ", ".join(app.settings)
            yield doc.diagnostic(
                "setting-unknown",
                where,
                app=app_id,
                setting=name,
                suggestion=Said(
                    (f"did you mean '{close[0]}'? " if close else "") + f"settings: {listing}",
                    (f"maksud Anda '{close[0]}'? " if close else "") + f"pengaturan: {listing}",
                ),
            )
            continue
        yield from _setting_value(app_id, name, spec, value, where, doc)


def _setting_value(
    app_id: str, name: str, spec: Setting, value: bool | int | str, where: KeyPath, doc: Document
) -> Iterator[Diagnostic]:
    expected = {"int": "a whole number", "bool": "true or false", "string": "text", "choice": "text"}
    ok_type = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "string": isinstance(value, str),
        "choice": isinstance(value, str),
    }[spec.type]
    if not ok_type:
        yield doc.diagnostic("setting-type", where, app=app_id, setting=name, expected=expected[spec.type])
        return
    control = f"required by {spec.control}" if spec.control else spec.description.en
    if spec.type == "int" and isinstance(value, int):
        low = spec.min if spec.min is not None else value
        high = spec.max if spec.max is not None else value
        if not low <= value <= high:
            yield doc.diagnostic(
                "setting-range",
                where,
                app=app_id,
                setting=name,
                value=value,
                allowed=f"{spec.min}..{spec.max}",
                control=control,
            )
    if spec.type == "choice" and spec.choices and value not in spec.choices:
        yield doc.diagnostic(
            "setting-range",
            where,
            app=app_id,
            setting=name,
            value=value,
            allowed=", ".join(spec.choices),
            control=control,
        )


def _ports(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    for host, ports in published_ports(profile, catalog).items():
        seen: dict[int, str] = {}
        for port, owner, where in ports:
            if port in seen:
                yield doc.diagnostic(
                    "port-collision", where, port=port, host=host, first=seen[port], second=owner
                )
            else:
                seen[port] = owner


def _proxy(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    if not is_ip(profile.proxy.bind):
        yield doc.diagnostic("bind-invalid", ("proxy", "bind"), value=profile.proxy.bind)
    for index, network in enumerate(profile.proxy.admin_networks):
        if not is_network(network):
            yield doc.diagnostic("admin-network-invalid", ("proxy", "admin_networks", index), value=network)


def is_network(value: str) -> bool:
    """A network as nginx's ``allow`` takes it as meant: address/prefix, no host bits (an
    ``allow 10.15.20.7/24`` would silently open the whole /24)."""
    try:
        return "/" in value and bool(ipaddress.ip_network(value, strict=True))
    except ValueError:
        return False


def _privacy(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    holders = {
        app_id: sorted(SENSITIVE_DATA_CLASSES.intersection(catalog.apps[app_id].data_classes))
        for app_id in profile.apps
        if app_id in catalog.apps
    }
    holders = {k: v for k, v in holders.items() if v}
    if not holders:
        return
    apps = ", ".join(holders)
    classes = ", ".join(sorted({c for v in holders.values() for c in v}))
    if profile.contacts.dpo is None:
        yield doc.diagnostic("privacy-dpo-missing", ("contacts", "dpo"), apps=apps, classes=classes)
    required = (
        (
            "legal_basis",
            "UU 27/2022 Art. 20",
            "e.g. legal_basis: 'Pelaksanaan tugas pemerintahan (UU 27/2022 Ps. 20 ayat 2 huruf e)'",
        ),
        ("dpia", "UU 27/2022 Art. 34", "e.g. dpia: 'DPIA/DINKES/2026/001'"),
        ("retention", "UU 27/2022 Art. 43", "e.g. retention: '5 tahun'"),
    )
    for field, article, example in required:
        if not getattr(profile.privacy, field):
            yield doc.diagnostic(
                "privacy-field-missing",
                ("privacy", field),
                apps=apps,
                classes=classes,
                field=field,
                article=article,
                example=example,
            )
    retention = profile.privacy.retention
    if retention and not RETENTION.match(retention.strip().lower()):
        yield doc.diagnostic("privacy-retention-format", ("privacy", "retention"), value=retention)


def _aplikasi_umum(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    for index, national in enumerate(profile.aplikasi_umum):
        if national not in catalog.aplikasi_umum:
            yield doc.diagnostic(
                "aplikasi-umum-unknown",
                ("aplikasi_umum", index),
                value=national,
                available=", ".join(catalog.aplikasi_umum),
            )
            continue
        functions = set(catalog.aplikasi_umum[national].functions)
        for app_id, entry in profile.apps.items():
            app = catalog.apps.get(app_id)
            overlap = sorted(functions.intersection(app.functions)) if app else []
            if overlap and not (entry.justification or "").strip():
                yield doc.diagnostic(
                    "aplikasi-umum-overlap",
                    ("apps", app_id),
                    app=app_id,
                    national=catalog.aplikasi_umum[national].title,
                    functions=", ".join(overlap),
                )


def _tls(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    tls = profile.tls
    if tls.mode == "acme":
        yield from _acme(profile, doc, path)
        return
    if tls.mode != "provided":
        return
    if not tls.certificate or not tls.key:
        yield doc.diagnostic("tls-files-required", ("tls",))
        return
    problems = False
    for key in ("certificate", "key", "ca"):
        value: str | None = getattr(tls, key)
        problem = profile_file_problem(path, value) if value else None
        if problem:
            problems = True
            yield doc.diagnostic(problem, ("tls", key), value=value)
    if problems:
        return
    import datetime

    from spbe_kit.hosts.tls import check_provided

    base = path.resolve().parent
    root = (base / tls.ca).read_bytes() if tls.ca else None
    apps = [app_hostname(profile, a, catalog.apps[a]) for a in profile.apps if a in catalog.apps]
    hostnames = sorted(apps + [h for h in [monitoring_hostname(profile)] if h])
    now = datetime.datetime.now(datetime.UTC)
    chain, private = (base / tls.certificate).read_bytes(), (base / tls.key).read_bytes()
    found = check_provided(chain, private, hostnames, root, now)
    for item in found:
        yield doc.diagnostic(item.code, ("tls", item.key), **item.params)


def _acme(profile: Profile, doc: Document, path: Path) -> Iterator[Diagnostic]:
    tls = profile.tls
    if not tls.acme_email:
        yield doc.diagnostic("acme-email-required", ("tls",))
    url = urllib.parse.urlsplit(tls.acme_directory)
    if url.scheme != "https" or not url.hostname or any(c.isspace() for c in tls.acme_directory):
        yield doc.diagnostic("acme-directory-invalid", ("tls", "acme_directory"), value=tls.acme_directory)
    problem = profile_file_problem(path, tls.ca) if tls.ca else None
    if problem:
        yield doc.diagnostic(problem, ("tls", "ca"), value=tls.ca)


def profile_file_problem(profile_path: Path, reference: str) -> str | None:
    """Files a profile names must stay inside the profile's folder and exist."""
    base = profile_path.resolve().parent
    target = (base / reference).resolve()
    if not target.is_relative_to(base):
        return "path-outside"
    if not target.is_file():
        return "tls-file-missing"
    return None


def _backup(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    problem = cron_problem(profile.backup.schedule)
    if problem:
        yield doc.diagnostic(
            "cron-invalid",
            ("backup", "schedule"),
            value=profile.backup.schedule,
            problem=problem,
        )
    target = profile.backup.copy_to
    if target and target.startswith("/"):
        refused = host_path_problem(target, COPY_ROOTS) or _inside(target, profile.install_dir)
        if refused:
            yield _path_refused(doc, ("backup", "copy_to"), target, refused, COPY_ROOTS)
    elif target and target not in profile.hosts:
        yield doc.diagnostic(
            "host-undefined", ("backup", "copy_to"), host=target, available=", ".join(profile.hosts)
        )
    holder = profile.backup.copy_processor
    if holder and holder not in profile.processors:
        yield doc.diagnostic(
            "processor-undefined",
            ("backup", "copy_processor"),
            processor=holder,
            available=", ".join(profile.processors) or "-",
        )
    elif holder and not target:
        yield doc.diagnostic("copy-processor-without-copy", ("backup", "copy_processor"))
    key = profile.backup.encrypt_to
    if key and not AGE_RECIPIENT.match(key):
        yield doc.diagnostic("age-key-invalid", ("backup", "encrypt_to"), value=key)
    email = profile.tls.acme_email
    if email and not EMAIL.match(email):
        yield doc.diagnostic("email-invalid", ("tls", "acme_email"), value=email)


SMARTHOST = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})$")


def _monitoring(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    mon = profile.monitoring
    if mon.enabled and not (catalog.services.monitoring and catalog.services.exporters):
        yield doc.diagnostic("monitoring-not-in-catalog", ("monitoring", "enabled"))
    for ident in mon.fire_after:
        if ident not in catalog.alerts:
            known = ", ".join(sorted(catalog.alerts)) or "-"
            where = ("monitoring", "fire_after", ident)
            yield doc.diagnostic("alert-unknown", where, value=ident, known=known)
    email = mon.email
    if email:
        sender: KeyPath = ("monitoring", "email", "sender")
        places: list[KeyPath] = [("monitoring", "email", "to", i) for i in range(len(email.to))] + [sender]
        for place, address in zip(places, [*email.to, email.sender], strict=True):
            if not EMAIL.match(address):
                yield doc.diagnostic("email-invalid", place, value=address)
        found = SMARTHOST.match(email.smarthost)
        if not found or not 0 < int(found.group("port")) < 65536:
            where = ("monitoring", "email", "smarthost")
            yield doc.diagnostic("smarthost-invalid", where, value=email.smarthost)
        problem = profile_file_problem(path, email.ca) if email.ca else None
        if problem:
            yield doc.diagnostic(problem, ("monitoring", "email", "ca"), value=email.ca)
    for i, url in enumerate(mon.webhooks):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
            yield doc.diagnostic("webhook-invalid", ("monitoring", "webhooks", i), value=url)
    if mon.web:
        yield from _monitoring_web(profile, catalog, doc, mon.web.hostname)
    if mon.telegram:
        parts = urllib.parse.urlsplit(mon.telegram.api_url)
        if parts.scheme != "https" or not parts.hostname:
            where = ("monitoring", "telegram", "api_url")
            yield doc.diagnostic("webhook-invalid", where, value=mon.telegram.api_url)


def _monitoring_web(profile: Profile, catalog: Catalog, doc: Document, hostname: str) -> Iterator[Diagnostic]:
    """The monitoring pages' name: a DNS name under the region's domain, no app's."""
    where = ("monitoring", "web", "hostname")
    taken = {app_hostname(profile, a, catalog.apps[a]): a for a in profile.apps if a in catalog.apps}
    if not is_dns_name(hostname):
        yield doc.diagnostic("dns-name-invalid", where, value=hostname)
    elif not is_subdomain(hostname, profile.region.domain):
        yield doc.diagnostic("hostname-outside-domain", where, value=hostname, domain=profile.region.domain)
    elif hostname in taken:
        yield doc.diagnostic("hostname-duplicate", where, hostname=hostname, other=taken[hostname])


def _install_dir(profile: Profile, catalog: Catalog, doc: Document, path: Path) -> Iterator[Diagnostic]:
    value = profile.install_dir
    problem = host_path_problem(value, INSTALL_ROOTS)
    if problem:
        yield _path_refused(doc, ("install_dir",), value, problem, INSTALL_ROOTS)


def _path_refused(
    doc: Document, where: KeyPath, value: str, problem: tuple[str, str], roots: tuple[str, ...]
) -> Diagnostic:
    example = f"{roots[0]}/cadangan" if roots is COPY_ROOTS else f"{roots[0]}/spbe-kit"
    return doc.diagnostic(
        "host-path-refused",
        where,
        value=value,
        problem=problem,
        allowed=", ".join(roots),
        example=example,
    )


# Host folders a profile may name. The kit creates and manages only a folder of its own below
# them (<install_dir>/<region>, <copy_to>/spbe-<region>) and never changes the owner or mode of
# a folder it did not create; a profile can still not point it at /, /etc, /root, /usr, /proc,
# /var/lib/docker or the Docker socket.
INSTALL_ROOTS = ("/opt", "/srv", "/data", "/var/opt", "/var/lib/spbe-kit")
COPY_ROOTS = ("/mnt", "/media", "/srv", "/data", "/backup", "/backups", "/var/backups")
HOST_PATH = re.compile(r"/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


def host_path_problem(value: str, roots: tuple[str, ...]) -> Said | None:
    """Why ``value`` may not be used as a host folder (English, Indonesian), or None."""
    if not HOST_PATH.fullmatch(value) or len(value) > 200:
        return Said(
            "it must be an absolute path of letters, digits, '.', '_' and '-' with no trailing '/'",
            "harus lokasi absolut dari huruf, angka, '.', '_' dan '-' tanpa '/' di akhir",
        )
    if any(part.startswith(".") for part in value.split("/")[1:]):
        return Said("no part may start with '.'", "tidak boleh ada bagian yang diawali '.'")
    if not any(value == root or value.startswith(root + "/") for root in roots):
        return Said("it is not below a folder meant for it", "tidak di bawah folder yang ditujukan untuk itu")
    return None


def _inside(value: str, install_dir: str) -> Said | None:
    if value == install_dir or value.startswith(install_dir.rstrip("/") + "/"):
        return Said(
            f"it is inside install_dir ({install_dir}), where the kit keeps its files and secrets",
            f"berada di dalam install_dir ({install_dir}), tempat kit menyimpan berkas dan rahasianya",
        )
    return None


_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
# str.isdigit() is true for '٣' and '²' (int('²') raises): only ASCII digits, and few of them.
_ASCII_NUMBER = re.compile(r"[0-9]{1,4}")


def cron_problem(schedule: str) -> Said | None:
    """What is wrong with a five-field cron schedule, in English and Bahasa Indonesia."""
    fields = schedule.split()
    if len(fields) != 5:
        return Said(f"{len(fields)} fields, expected 5", f"{len(fields)} kolom, seharusnya 5")
    for text, (low, high) in zip(fields, _CRON_RANGES, strict=True):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and not _ASCII_NUMBER.fullmatch(step):
                return Said(f"bad step '{part}'", f"langkah '{part}' tidak sah")
            if base == "*":
                continue
            bounds = base.split("-")
            if len(bounds) > 2 or not all(_ASCII_NUMBER.fullmatch(b) for b in bounds):
                return Said(f"bad field '{text}'", f"kolom '{text}' tidak sah")
            if not all(low <= int(b) <= high for b in bounds):
                return Said(f"'{text}' outside {low}-{high}", f"'{text}' di luar {low}-{high}")
    return None


def is_dns_name(value: str) -> bool:
    if len(value) > 253 or "." not in value:
        return False
    return all(DNS_LABEL.match(label) for label in value.split("."))


def is_subdomain(hostname: str, domain: str) -> bool:
    """A name under ``domain`` (label-wise: x.example.id.evil.example is not under example.id)."""
    return hostname.lower().endswith("." + domain.lower()) and is_dns_name(hostname)


def is_ip(value: str) -> bool:
    """A plain IPv4 or IPv6 address; a zone id (fe80::1%eth0) would change where SSH connects."""
    if "%" in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_address(value: str) -> bool:
    return is_ip(value) or value == "localhost" or is_dns_name(value)


def advisories(profile: Profile, catalog: Catalog) -> list[tuple[str, str, str, Advisory]]:
    """(app, version, advisory id, advisory) for each app version the donor flagged: not an
    error (the region may be mid-way to the fix), a warning every command repeats."""
    return [
        (app, entry.version, ident, advisory)
        for app, entry in sorted(profile.apps.items())
        for ident, advisory in catalog.advisories_for(app, entry.version)
    ]
