"""What the region records about its processing of personal data (UU 27/2022): the record of
processing activities (Pasal 31) and the breach-notice template (Pasal 46), both computed
from the catalog's data classes and the profile's declarations, both in Bahasa Indonesia.

One computation for the rendered documents (``docs/`` in the tree) and for the audit's
checks of them, so what the audit calls missing is what the document leaves blank.
"""

from __future__ import annotations

from dataclasses import dataclass

from spbe_kit.models.catalog import SENSITIVE_DATA_CLASSES
from spbe_kit.render.context import Context

RECORD_FILE = "docs/catatan-pemrosesan-data-pribadi.md"
NOTICE_FILE = "docs/pemberitahuan-kegagalan-pdp.md"

# The catalog's data classes as the record names them.
DATA_CLASS_ID = {
    "kesehatan": "data kesehatan",
    "anak": "data anak",
    "keuangan": "data keuangan pribadi",
    "kependudukan": "data kependudukan (NIK, nama, alamat)",
    "kepegawaian": "data kepegawaian (NIP, riwayat jabatan dan kinerja)",
    "umum": "data umum",
}


@dataclass(frozen=True)
class Storage:
    """Where one copy of an app's data lies and who holds it."""

    what: str
    where: str
    holder: str
    third_party: bool  # then processing for the region under a written agreement (Pasal 51)
    agreement: str | None
    key: str  # the profile key of that agreement


@dataclass(frozen=True)
class Activity:
    """One app's processing of personal data, as the record lists it."""

    app: str
    name: str
    purpose: str
    subjects: str
    categories: list[str]
    specific: list[str]
    legal_basis: str | None
    retention: str | None
    storage: list[Storage]

    def gaps(self) -> list[str]:
        """The profile keys the record of this activity still needs."""
        missing = [] if self.legal_basis else ["privacy.legal_basis"]
        if self.specific and not self.retention:
            missing.append("privacy.retention")
        return missing + [s.key for s in self.storage if s.third_party and not s.agreement]


def activities(ctx: Context) -> list[Activity]:
    """Every app that holds personal data (any data class but ``umum``), in the catalog's order."""
    profile = ctx.profile
    hosting = profile.hosting

    def hosted(what: str, host: str) -> Storage:
        """A copy in the region's data centre, run by its provider."""
        return Storage(
            what, f"host {host} ({hosting_place(ctx)})", hosting.provider,
            hosting.operator == "third-party", hosting.agreement, "hosting.agreement",
        )  # fmt: skip

    copies = []
    if profile.backup.copy_to:
        copy, name = profile.backup.copy_to, profile.backup.copy_processor or ""
        holder = profile.processors.get(name)
        if holder:
            at = ", ".join(filter(None, (holder.location, holder.country.upper())))
            place = f"{copy} pada host {ctx.postgres.host} ({at})"
            key = f"processors.{name}.agreement"
            copies.append(Storage("salinan cadangan kedua", place, holder.name, True, holder.agreement, key))
        elif copy.startswith("/"):
            copies.append(hosted(f"salinan cadangan kedua ({copy})", ctx.postgres.host))
        else:
            copies.append(hosted("salinan cadangan kedua", copy))
    found = []
    for app in ctx.apps.values():
        classes = [c for c in app.spec.data_classes if c != "umum"]
        if not classes:
            continue
        files = [hosted(f"berkas aplikasi (volume {v})", app.host) for v in sorted(app.spec.volumes)]
        found.append(
            Activity(
                app=app.id,
                name=app.spec.title.id,
                purpose=app.spec.purpose.id,
                subjects=app.spec.data_subjects.id,
                categories=[DATA_CLASS_ID[c] for c in classes],
                specific=[DATA_CLASS_ID[c] for c in classes if c in SENSITIVE_DATA_CLASSES],
                legal_basis=profile.privacy.legal_basis,
                retention=profile.privacy.retention,
                storage=[hosted("basis data", ctx.postgres.host), *files, *copies],
            )
        )
    return found


def measures(ctx: Context) -> list[str]:
    """The security measures (Pasal 35) the rendered deployment itself applies."""
    backup = ctx.profile.backup
    copy = "tanpa salinan kedua"
    if backup.copy_to:
        copy = "salinan kedua " + ("terenkripsi dengan age" if backup.encrypt_to else "tidak terenkripsi")
    return [
        "HTTPS dengan TLS 1.2 atau 1.3 pada setiap aplikasi; HTTP dialihkan ke HTTPS",
        "koneksi aplikasi ke basis data hanya melalui TLS dengan sertifikat terverifikasi",
        "basis data tidak dibuka ke jaringan; hanya proxy yang membuka port",
        "kata sandi dan kunci dibuat acak, disimpan terenkripsi (vault spbe-kit), tidak pernah di berkas "
        "hasil render",
        "kontainer tanpa hak root, tanpa capability, root filesystem baca-saja, dengan batas sumber daya",
        f"cadangan terjadwal (`{backup.schedule}`), {backup.keep} cadangan disimpan, {copy}; uji pemulihan "
        "dengan `spbe-kit backup verify`",
    ]


def record_gaps(ctx: Context) -> list[str]:
    """Every profile key the record of processing leaves blank, once each, in document order."""
    profile = ctx.profile
    found = activities(ctx)
    missing: list[str] = []
    if found and profile.contacts.dpo is None:
        missing.append("contacts.dpo")
    if any(a.specific for a in found) and not profile.privacy.dpia:
        missing.append("privacy.dpia")
    if profile.hosting.operator == "third-party" and not profile.hosting.agreement:
        missing.append("hosting.agreement")
    for activity in found:
        missing += activity.gaps()
    missing += [f"processors.{k}.agreement" for k, p in sorted(profile.processors.items()) if not p.agreement]
    return list(dict.fromkeys(missing))


def hosting_place(ctx: Context) -> str:
    hosting = ctx.profile.hosting
    return ", ".join(filter(None, (hosting.data_centre, hosting.provider, hosting.country.upper())))
