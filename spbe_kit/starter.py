"""``spbe-kit init``: a commented starter profile for one region, from the dataset.

Fields the admin must fill carry the marker ``ISI`` and fail validation until filled.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from spbe_kit import wilayah
from spbe_kit.errors import Diagnostic, InvalidInput, Location, Said, diagnostic
from spbe_kit.models.catalog import Catalog
from spbe_kit.resources import default_catalog, schemas_dir
from spbe_kit.validate import load_catalog

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# Profil spbe-kit untuk {name} ({code}).  /  spbe-kit profile for {name} ({code}).
# Isi setiap kolom bertanda ISI, lalu jalankan: spbe-kit validate {file}
# Fill in every field marked ISI, then run:    spbe-kit validate {file}
schema: spbe-kit/profile/v1

region:
  code: "{code}"
  name: {name}
  domain: ISI                    # ISI: domain pemda, mis. {guess}

grant:
  donor: "32.11"                 # Kabupaten Sumedang
  agreement: ISI                 # ISI: nomor NPHD/PKS hibah aplikasi
  date: ISI                      # ISI: tanggal perjanjian, YYYY-MM-DD

contacts:
  admin:
    name: ISI                    # ISI: admin Diskominfo
    email: ISI                   # ISI
  dpo:                           # Pejabat Pelindungan Data Pribadi (UU 27/2022 Ps. 53)
    name: ISI                    # ISI
    email: ISI                   # ISI

hosting:
  country: ID                    # PP 71/2019: data disimpan di Indonesia
  provider: ISI                  # ISI: pengelola pusat data, mis. Diskominfo {short}
  operator: region               # region: pusat data milik pemda; third-party: isi juga agreement

# Pihak ketiga yang memproses data pribadi untuk pemda (UU 27/2022 Ps. 51), mis.:
#   salinan: {{name: PT Contoh, service: salinan cadangan kedua, country: ID, agreement: PKS/...}}
processors: {{}}

hosts:
  app1:
    address: ISI                 # ISI: alamat IP server aplikasi
    user: root
    roles: [proxy, apps]
  db1:
    address: ISI                 # ISI: alamat IP server basis data
    user: root
    roles: [database]

apps:
{apps}
# Aplikasi Umum yang dipakai daerah; tumpang tindih wajib diberi justifikasi per aplikasi.
aplikasi_umum: []

privacy:                         # wajib untuk data kesehatan, anak, keuangan (UU 27/2022)
  legal_basis: ISI               # ISI: dasar pemrosesan (Ps. 20)
  dpia: ISI                      # ISI: nomor dokumen DPIA (Ps. 34)
  retention: 5 tahun

breach_notice:                   # pemberitahuan kegagalan PDP dalam 3x24 jam (UU 27/2022 Ps. 46)
  notifier:
    name: ISI                    # ISI: penanggung jawab pemberitahuan, biasanya PPDP
    email: ISI                   # ISI
  subjects_channel: ISI          # ISI: cara memberi tahu Subjek Data, mis. surat dan SMS
  # last_exercise: YYYY-MM-DD    # tanggal latihan pemberitahuan terakhir

backup:
  schedule: "0 2 * * *"
  keep: 14

# Pemantauan: Prometheus dan Alertmanager memberi tahu bila aplikasi mati, cadangan gagal atau
# sertifikat hampir habis. Tambahkan penerima (README: Monitoring and alerts), mis.:
#   email: {{to: [tim-it@...], sender: spbe-kit@..., smarthost: mail...:587}}
monitoring:
  enabled: true
"""


def starter_text(code: str, file: str, schema: str = "", catalog: Catalog | None = None) -> str:
    region = wilayah.dataset().get(code)
    if region is None or region.level != "kabupaten_kota":
        raise InvalidInput([_not_kabkota(code)])
    short = region.name.replace("Kabupaten ", "Kab. ")
    return TEMPLATE.format(
        name=region.name,
        code=code,
        file=file,
        guess=domain_guess(region),
        short=short,
        apps=_apps(catalog or load_catalog(default_catalog())[0], wilayah.timezone_of(code)),
        schema=schema or (schemas_dir() / "profile.schema.json").as_posix(),
    )


def _apps(catalog: Catalog, timezone: str) -> str:
    """Every app of the catalog at its newest release, with the region's time zone where the
    app has that setting."""
    text = ""
    for app_id, app in catalog.apps.items():
        newest = max(app.versions, key=lambda v: app.versions[v].released)
        text += f'  {app_id}:\n    version: "{newest}"\n'
        if "timezone" in app.settings:
            text += f"    settings:\n      timezone: {timezone}\n"
    return text


def domain_guess(region: wilayah.Region) -> str:
    """PermenKominfo 5/2015 names: karawangkab.go.id, ambonkota.go.id (not kotaambonkota)."""
    base = re.sub(r"^kota-", "", region.slug).replace("-", "")
    return base + ("kota" if region.is_kota else "kab") + ".go.id"


def _not_kabkota(code: str) -> Diagnostic:
    """A BPS code (3205) is a different scheme from Kemendagri's (32.05): say so."""
    bps = re.fullmatch(r"[0-9]{4}", code)
    hint_en = (
        f"'{code}' looks like a BPS code; Kemendagri codes are written NN.NN "
        f"(e.g. {code[:2]}.{code[2:]}; the two schemes differ, check the region's name)"
        if bps
        else "e.g. spbe-kit init 32.15"
    )
    hint_id = (
        f"'{code}' tampaknya kode BPS; kode Kemendagri ditulis NN.NN "
        f"(mis. {code[:2]}.{code[2:]}; kedua skema berbeda, periksa nama daerahnya)"
        if bps
        else "mis. spbe-kit init 32.15"
    )
    return Diagnostic(
        "init-not-kabkota", Location(code), (), {"code": code, "hint": Said(hint_en, hint_id)}
    )


def write_starter(code: str, output: Path | None, catalog: Path | None = None) -> Path:
    region = wilayah.dataset().get(code)
    target = output or Path(f"{region.slug if region else code}.yaml")
    # A path an editor can open, relative to the profile (the kit's own copy of the schema).
    schema = os.path.relpath(schemas_dir() / "profile.schema.json", target.resolve().parent)
    model = load_catalog(catalog or default_catalog())[0]
    text = starter_text(code, str(target), Path(schema).as_posix(), model)
    if target.exists():
        raise InvalidInput([diagnostic("init-exists", str(target), path=str(target))])
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return target
