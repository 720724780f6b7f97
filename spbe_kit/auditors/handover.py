"""The grant handover record (Berita Acara Serah Terima, BAST) from what was actually deployed:
the running containers and their image IDs and the release recorded on each host, not the
profile alone. Bahasa Indonesia first, English beside it. Never contains a secret value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spbe_kit import wilayah
from spbe_kit.fleet import keys
from spbe_kit.hosts.apply import new_run_dir
from spbe_kit.hosts.plan import components_on
from spbe_kit.hosts.session import UI, Options, Session, probe, read_session
from spbe_kit.hosts.vault import vault_path
from spbe_kit.hosts.verify import app_url
from spbe_kit.messages import Lang, word
from spbe_kit.models.report import HandoverRecord
from spbe_kit.render.context import Context

DOCUMENTS = [
    (
        "Katalog hibah (catalog.yaml) dan manifest hasil render dengan sha256 setiap berkas",
        "The grant catalog (catalog.yaml) and the rendered manifest with every file's sha256",
    ),
    (
        "Profil wilayah dan hasil render lengkap (docker compose, nginx, inventaris Ansible)",
        "The region profile and the complete rendered tree (docker compose, nginx, Ansible inventory)",
    ),
    (
        "Laporan audit (spbe-kit audit) dan paket bukti (spbe-kit evidence)",
        "The audit report (spbe-kit audit) and the evidence pack (spbe-kit evidence)",
    ),
    (
        "Panduan operasi spbe-kit: deploy, pencadangan, pemulihan, rollback (README)",
        "The spbe-kit operations guide: deploy, backup, restore, rollback (README)",
    ),
]


def _state(container: dict[str, Any] | None, lang: Lang) -> str:
    if container is None:
        return word("missing", lang)
    return f"{word(container['status'], lang)} ({word(container['health'], lang)})"


def _apps(ctx: Context, found: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each app as its host runs it (the profile's version and image when it is not running)."""
    apps = []
    for app in ctx.apps.values():
        containers = found.get(app.host, {}).get("containers", [])
        running = next((c for c in containers if c["labels"].get("org.spbe-kit.app") == app.id), None)
        apps.append(
            {
                "id": app.id,
                "title": app.spec.title.model_dump(),
                "version": running["labels"].get("org.spbe-kit.version", app.version)
                if running
                else app.version,
                "host": app.host,
                "url": app_url(ctx, app.id),
                "image": running["image"] if running else app.image,
                "image_id": running["image_id"] if running else None,
                "status": {lang: _state(running, lang) for lang in ("id", "en")},
                "data_classes": list(app.spec.data_classes),
            }
        )
    return apps


def _accounts(ctx: Context) -> list[dict[str, Any]]:
    """The accounts the deployment created or uses: database roles and SSH accounts."""
    accounts = [
        {
            "name": app.database["user"],
            "kind": {"id": "Peran basis data aplikasi (PostgreSQL)", "en": "App database role (PostgreSQL)"},
            "where": f"{ctx.postgres.host}: postgres/{app.database['name']}",
        }
        for app in ctx.apps.values()
    ]
    accounts.append(
        {
            "name": "spbe_backup",
            "kind": {"id": "Peran baca-saja untuk pencadangan", "en": "Read-only backup role"},
            "where": f"{ctx.postgres.host}: postgres",
        }
    )
    accounts.append(
        {
            "name": "postgres",
            "kind": {
                "id": "Superuser PostgreSQL (hanya dari host)",
                "en": "PostgreSQL superuser (host only)",
            },
            "where": f"{ctx.postgres.host}: postgres",
        }
    )
    for name, host in ctx.hosts.items():
        if host.spec.connection == "ssh":
            accounts.append(
                {
                    "name": host.spec.user,
                    "kind": {"id": "Akun SSH untuk deploy", "en": "SSH account used to deploy"},
                    "where": f"{name} ({host.spec.address})",
                }
            )
    return accounts


def build(session: Session, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ctx = session.ctx
    profile = ctx.profile
    donor = wilayah.dataset().get(profile.grant.donor)
    releases = {h: (found.get(h, {}).get("releases") or [None])[-1] for h in session.hosts}
    latest = max((r for r in releases.values() if r), key=lambda r: r.get("when", ""), default=None)
    hosts = [
        {
            "name": name,
            "address": host.spec.address,
            "roles": list(host.spec.roles),
            "release": releases[name]["number"] if releases[name] else None,
            "components": [project for project, _ in components_on(ctx, name)],
        }
        for name, host in ctx.hosts.items()
    ]
    admin = profile.contacts.admin
    vault_name = vault_path(session.profile).name
    vault_desc = f"vault {vault_name} (Ansible Vault, AES256)"
    holder = f"{admin.name} <{admin.email}>, Diskominfo {ctx.region.name}: {vault_desc}"
    record = {
        "schema": "spbe-kit/handover/v1",
        "title": {
            "id": "Berita Acara Serah Terima Hibah Aplikasi SPBE",
            "en": "SPBE application grant handover record",
        },
        "agreement": profile.grant.agreement,
        "agreement_date": profile.grant.date.isoformat(),
        "deployed_at": latest.get("when") if latest else None,
        "deployed_by": latest.get("who") if latest else None,
        "manifest_sha256": latest.get("manifest_sha256") if latest else None,
        "report_key": keys.file_fingerprint(keys.public_path(session.profile)),
        "parties": [
            {
                "role": {"id": "Pihak Pertama (pemberi hibah)", "en": "First party (donor)"},
                "code": profile.grant.donor,
                "name": donor.name if donor else ctx.catalog.donor.name,
                "unit": ctx.catalog.donor.team,
                "contact": None,
            },
            {
                "role": {"id": "Pihak Kedua (penerima hibah)", "en": "Second party (recipient)"},
                "code": ctx.region.code,
                "name": ctx.region.name,
                "unit": f"Diskominfo {ctx.region.name}",
                "contact": f"{admin.name} <{admin.email}>",
            },
        ],
        "apps": _apps(ctx, found),
        "hosts": hosts,
        "accounts": _accounts(ctx),
        "secrets_held_by": {
            "id": f"Dipegang oleh {holder} beserta berkas kata sandinya",
            "en": f"Held by {holder} and its password file",
        },
        "documents": [{"id": i, "en": e} for i, e in DOCUMENTS],
    }
    return HandoverRecord.model_validate(record).model_dump(mode="json", by_alias=True)


def handover(profile: Path, catalog: Path | None, options: Options, ui: UI) -> dict[str, Any]:
    session = read_session(profile, catalog, options)
    return build(session, probe(session, new_run_dir(session.tree, "handover")))
