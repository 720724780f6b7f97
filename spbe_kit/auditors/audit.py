"""Audit: control-mapped checks of a rendered tree (offline) and of the running hosts (live).

Every check has a stable id, a severity, a remediation and the national controls it maps to
(Perban BSSN 4/2021, Perpres 95/2018, PermenPANRB 59/2020, UU 27/2022, PP 71/2019) plus CIS
Docker Benchmark ids where they apply. The offline audit reads the tree on disk, so a file
edited by hand after rendering is audited as it is; the profile supplies the declarations
(hosting, privacy, audits) that the tree does not hold.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import math
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from spbe_kit.load import Document, parse_yaml
from spbe_kit.models.base import span
from spbe_kit.models.catalog import SENSITIVE_DATA_CLASSES
from spbe_kit.models.controls import ControlsFile
from spbe_kit.models.profile import Profile
from spbe_kit.render import assets, privacy
from spbe_kit.render.context import Context, database_published, exporter_ports
from spbe_kit.render.tree import MANIFEST
from spbe_kit.resources import controls_yaml

if TYPE_CHECKING:  # the session imports nothing of the audit; only the types are needed here
    from spbe_kit.hosts.session import UI, Session

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
Status = Literal["pass", "fail", "deviation", "not-applicable"]
REPORT_SCHEMA = "spbe-kit/audit/v1"


# The controls the checks cite, with version and source: spbe_kit/data/controls.yaml.
@functools.cache
def controls() -> ControlsFile:
    data = yaml.safe_load(controls_yaml().read_text(encoding="utf-8"))
    return ControlsFile.model_validate(data)


def control_entry(control_id: str) -> dict[str, Any]:
    """One control as the report carries it."""
    book = controls()
    entry = book.controls[control_id]
    return {
        "id": control_id,
        "framework": entry.framework,
        "version": entry.version,
        "ref": entry.ref,
        "heading": entry.heading,
        "wording": entry.wording,
        "basis": entry.basis,
        "requires": entry.description,
        "source": book.sources[entry.source].model_dump(exclude_none=True),
    }


@dataclass(frozen=True)
class Check:
    severity: Severity
    title: tuple[str, str]  # (en, id)
    remediation: tuple[str, str]
    controls: tuple[str, ...]
    live: bool = False
    # An accepted deviation from the cited control: why the kit does otherwise (en, id).
    deviation: tuple[str, str] | None = None


# fmt: off
CHECKS: dict[str, Check] = {
    "TLS-01": Check("high", ("HTTPS on every app, HTTP redirects to HTTPS", "HTTPS pada setiap aplikasi, HTTP dialihkan ke HTTPS"), ("Render the proxy with spbe-kit; do not edit its virtual hosts", "Render ulang proxy dengan spbe-kit; jangan ubah virtual host secara manual"), ("bssn-web-communication",)),
    "TLS-02": Check("high", ("Minimum TLS version 1.2", "Versi TLS minimal 1.2"), ("Allow only TLSv1.2 and TLSv1.3 in ssl_protocols", "Izinkan hanya TLSv1.2 dan TLSv1.3 pada ssl_protocols"), ("bssn-web-communication",)),
    "TLS-03": Check("medium", ("HSTS header sent", "Header HSTS dikirim"), ("Send Strict-Transport-Security on every HTTPS response", "Kirim Strict-Transport-Security pada setiap respons HTTPS"), ("bssn-web-communication",)),
    "TLS-04": Check("high", ("Certificates valid for at least 14 more days", "Sertifikat berlaku minimal 14 hari lagi"), ("Run `spbe-kit deploy`: it re-issues the region CA's certificates with fewer than 30 days left (a provided certificate: replace its files first)", "Jalankan `spbe-kit deploy`: sertifikat dari CA daerah yang tersisa kurang dari 30 hari diterbitkan ulang (sertifikat sendiri: ganti dulu berkasnya)"), ("bssn-web-communication",), live=True),
    "TLS-05": Check("high", ("The proxy serves the certificates deployed from the vault", "Proxy menyajikan sertifikat yang dideploy dari vault"), ("Run `spbe-kit verify`, then `spbe-kit deploy` to put the vault's certificates back; find out who replaced them", "Jalankan `spbe-kit verify`, lalu `spbe-kit deploy` untuk memasang lagi sertifikat dari vault; cari tahu siapa yang menggantinya"), ("bssn-web-communication",), live=True),
    "HDR-01": Check("medium", ("Hardening headers sent, server version hidden", "Header pengamanan dikirim, versi server disembunyikan"), ("Render the proxy with spbe-kit: server_tokens off, X-Content-Type-Options nosniff and X-Frame-Options on every virtual host", "Render proxy dengan spbe-kit: server_tokens off, X-Content-Type-Options nosniff dan X-Frame-Options pada setiap virtual host"), ("bssn-web-configuration",)),
    "ADM-01": Check("high", ("Administrator pages only from declared networks", "Halaman administrator hanya dari jaringan yang dideklarasikan"), ("Render the proxy with spbe-kit and list the administrators' networks in proxy.admin_networks; never allow all", "Render proxy dengan spbe-kit dan cantumkan jaringan administrator di proxy.admin_networks; jangan izinkan semua"), ("bssn-web-access",)),
    "NET-01": Check("high", ("Only the proxy publishes ports, on declared addresses", "Hanya proxy yang membuka port, pada alamat yang dideklarasikan"), ("Remove published ports; bind what must be published to a declared address", "Hapus port yang dibuka; ikat ke alamat yang dideklarasikan"), ("bssn-web-configuration", "cis-docker-5.14")),
    "NET-03": Check("critical", ("Database connections only over verified TLS", "Koneksi basis data hanya lewat TLS terverifikasi"), ("Render pg_hba.conf with spbe-kit (hostssl only) and keep sslmode verify-full in every app's configuration", "Render pg_hba.conf dengan spbe-kit (hanya hostssl) dan pertahankan sslmode verify-full di konfigurasi setiap aplikasi"), ("bssn-web-communication", "uu-pdp-35")),
    "NET-02": Check("critical", ("The database is never published", "Basis data tidak pernah dibuka ke jaringan"), ("Remove the database's ports; apps on other hosts reach it on the internal address only", "Hapus port basis data; aplikasi di host lain memakai alamat internal saja"), ("bssn-web-configuration", "uu-pdp-35", "cis-docker-5.14")),
    "CTR-01": Check("high", ("Containers run as a non-root user", "Kontainer berjalan sebagai pengguna non-root"), ("Set user: to the catalog's uid:gid", "Atur user: ke uid:gid dari katalog"), ("cis-docker-4.1",)),
    "CTR-02": Check("high", ("no-new-privileges set", "no-new-privileges diaktifkan"), ("Add no-new-privileges:true to security_opt", "Tambahkan no-new-privileges:true pada security_opt"), ("cis-docker-5.26",)),
    "CTR-03": Check("high", ("Capabilities dropped", "Capability Linux dibuang"), ("cap_drop: [ALL]; add back only what the catalog justifies", "cap_drop: [ALL]; tambahkan hanya yang dijustifikasi katalog"), ("cis-docker-5.4",)),
    "CTR-04": Check("medium", ("Read-only root filesystem where the catalog allows", "Root filesystem baca-saja bila katalog mengizinkan"), ("Set read_only: true", "Atur read_only: true"), ("cis-docker-5.13",)),
    "CTR-05": Check("medium", ("Memory, CPU and PID limits", "Batas memori, CPU dan PID"), ("Set mem_limit, cpus and pids_limit from the catalog", "Atur mem_limit, cpus dan pids_limit dari katalog"), ("cis-docker-5.11", "cis-docker-5.12", "cis-docker-5.29")),
    "CTR-06": Check("medium", ("Health check defined", "Health check didefinisikan"), ("Define a healthcheck; never disable it", "Definisikan healthcheck; jangan dinonaktifkan"), ("cis-docker-5.27",)),
    "CTR-07": Check("critical", ("No Docker socket in any container", "Tidak ada socket Docker di kontainer"), ("Remove the docker.sock mount", "Hapus mount docker.sock"), ("cis-docker-5.32",)),
    "CTR-08": Check("high", ("No host namespaces", "Tidak berbagi namespace host"), ("Remove network_mode/pid/ipc/uts: host", "Hapus network_mode/pid/ipc/uts: host"), ("cis-docker-5.10", "cis-docker-5.16", "cis-docker-5.17", "cis-docker-5.21")),
    "CTR-09": Check("critical", ("No privileged containers", "Tidak ada kontainer privileged"), ("Remove privileged: true", "Hapus privileged: true"), ("cis-docker-5.5",)),
    "CTR-10": Check("high", ("Default seccomp profile kept", "Profil seccomp bawaan dipertahankan"), ("Remove seccomp:unconfined from security_opt", "Hapus seccomp:unconfined dari security_opt"), ("cis-docker-5.22",)),
    "CTR-11": Check("critical", ("No sensitive host folder mounted", "Tidak ada folder sensitif host yang di-mount"), ("Mount only the kit's own folders; never /, /boot, /dev, /etc, /lib, /proc, /sys or /usr", "Mount hanya folder milik kit; jangan /, /boot, /dev, /etc, /lib, /proc, /sys atau /usr"), ("cis-docker-5.6",)),
    "CTR-12": Check("high", ("No host device passed to a container", "Tidak ada perangkat host yang diberikan ke kontainer"), ("Remove devices:", "Hapus devices:"), ("cis-docker-5.18",)),
    "CTR-13": Check("low", ("Restart policy: on-failure up to 5, or the kit's accepted deviation", "Kebijakan restart: on-failure sampai 5, atau penyimpangan yang diterima kit"), ("Keep restart: unless-stopped as rendered (the accepted deviation) or set on-failure:5; never always or no", "Pertahankan restart: unless-stopped seperti hasil render (penyimpangan yang diterima) atau atur on-failure:5; jangan always atau no"), ("cis-docker-5.15",), deviation=("unless-stopped: a public service must come back after a reboot and after a crash at night with nobody on call; on-failure:5 leaves it down after five failures and does not start it after a reboot. A container that keeps failing is reported instead: status shows its restarts and health, the deploy's health gate stops on it", "unless-stopped: layanan publik harus hidup lagi setelah reboot dan setelah gagal pada malam hari tanpa petugas; on-failure:5 membiarkannya mati setelah lima kegagalan dan tidak menyalakannya setelah reboot. Kontainer yang terus gagal dilaporkan: status menampilkan jumlah restart dan kesehatannya, gerbang kesehatan deploy berhenti padanya")),
    "IMG-01": Check("medium", ("Images pinned by digest or by a recorded image ID", "Image dipatok dengan digest atau ID image yang tercatat"), ("Build the images with `spbe-kit images build` (it records their IDs in build/images/images.lock.json) or import the donor's signed bundle, and run the audit with --images pointing there; or record a registry digest in the catalog (versions.<v>.digest)", "Bangun image dengan `spbe-kit images build` (ID-nya dicatat di build/images/images.lock.json) atau impor bundel bertanda tangan dari donor, lalu jalankan audit dengan --images ke sana; atau catat digest registry di katalog (versions.<v>.digest)"), ("kit-image-digest",)),
    "ADV-01": Check("high", ("No app version the donor withdrew or flagged in an advisory", "Tidak ada versi aplikasi yang ditarik atau ditandai donor dalam advisori"), ("Upgrade the app to the version the advisory names (apps.<app>.version), then deploy", "Tingkatkan aplikasi ke versi yang disebut advisori (apps.<app>.version), lalu deploy"), ("kit-advisories", "bssn-web-configuration")),
    "SEC-01": Check("critical", ("No secret value in the rendered tree", "Tidak ada nilai rahasia di hasil render"), ("Remove the value, rotate the secret, keep secrets only in the vault", "Hapus nilai itu, ganti rahasianya, simpan rahasia hanya di vault"), ("bssn-mobile-crypto", "uu-pdp-35")),
    "SEC-03": Check("medium", ("Passwords and keys rotated within the profile's maximum age", "Kata sandi dan kunci diganti dalam batas umur di profil"), ("Run `spbe-kit secrets rotate PROFILE` (all, or --only the old ones); the maximum is security.secret_max_age_days", "Jalankan `spbe-kit secrets rotate PROFILE` (semua, atau --only yang lama); batasnya security.secret_max_age_days"), ("kit-secret-age", "bssn-web-authentication")),
    "SEC-02": Check("high", ("No high-entropy strings that look like keys", "Tidak ada string acak yang tampak seperti kunci"), ("Move the value into the vault", "Pindahkan nilai itu ke vault"), ("bssn-mobile-crypto",)),
    "LOG-01": Check("medium", ("The proxy keeps its access log on the host, outside the container", "Proxy menyimpan log akses di host, di luar kontainer"), ("Render the proxy with spbe-kit: nginx writes /var/log/spbe, mounted from <install_dir>/<region>/logs/proxy", "Render proxy dengan spbe-kit: nginx menulis /var/log/spbe yang di-mount dari <install_dir>/<region>/logs/proxy"), ("bssn-web-logging",)),
    "LOG-02": Check("medium", ("Access logs are kept 90 to 365 days, and deleted after", "Log akses disimpan 90 sampai 365 hari, lalu dihapus"), ("Set logs.retention_days between 90 and 365 and render again", "Atur logs.retention_days antara 90 dan 365, lalu render ulang"), ("kit-log-retention", "uu-pdp-44")),
    "AST-01": Check("medium", ("The ICT asset register lists every server and image that runs", "Daftar aset TIK memuat setiap server dan image yang berjalan"), ("Render again with spbe-kit render: the register (docs/daftar-aset-tik.md) comes from the catalog and the profile", "Render ulang dengan spbe-kit render: daftar aset (docs/daftar-aset-tik.md) berasal dari katalog dan profil"), ("permenpanrb-59-2020-24",)),
    "INT-01": Check("medium", ("Rendered files match their manifest", "Berkas hasil render sesuai manifest"), ("Render again with spbe-kit render; edit the profile, not the output", "Render ulang; ubah profil, bukan hasilnya"), ("permenpanrb-59-2020-27",)),
    "BAK-01": Check("high", ("Backups scheduled with retention", "Cadangan terjadwal dengan masa simpan"), ("Set backup.schedule and backup.keep (at least 7)", "Atur backup.schedule dan backup.keep (minimal 7)"), ("kit-backup", "uu-pdp-35")),
    "BAK-02": Check("medium", ("A second copy of the backups", "Salinan kedua cadangan"), ("Set backup.copy_to to another host or a mounted path", "Atur backup.copy_to ke host lain atau path yang di-mount"), ("kit-backup",)),
    "BAK-03": Check("low", ("The second copy is encrypted", "Salinan kedua dienkripsi"), ("Set backup.encrypt_to to an age public key held off the servers", "Atur backup.encrypt_to ke kunci publik age yang disimpan di luar server"), ("kit-backup", "uu-pdp-35")),
    "BAK-04": Check("high", ("Restore drill passed within 90 days", "Uji pemulihan lulus dalam 90 hari terakhir"), ("Run spbe-kit backup verify", "Jalankan spbe-kit backup verify"), ("kit-backup",), live=True),
    "BAK-05": Check("high", ("The backup scheduler's last run succeeded", "Pencadangan terjadwal terakhir berhasil"), ("Read spbe-kit backups; fix the error it shows", "Baca spbe-kit backups; perbaiki galat yang ditampilkan"), ("kit-backup",), live=True),
    "MON-01": Check("medium", ("Monitoring tells someone: alerts reach at least one receiver", "Pemantauan memberi tahu: peringatan sampai ke minimal satu penerima"), ("Set monitoring.enabled and monitoring.email (or webhooks, telegram), deploy, then run spbe-kit alerts test", "Atur monitoring.enabled dan monitoring.email (atau webhooks, telegram), deploy, lalu jalankan spbe-kit alerts test"), ("bssn-monitoring", "permenpanrb-59-2020-28")),
    "LOC-01": Check("critical", ("Hosting located in Indonesia", "Lokasi hosting di Indonesia"), ("Host the region's systems and data in Indonesia (hosting.country: ID)", "Tempatkan sistem dan data di Indonesia (hosting.country: ID)"), ("pp-71-2019-20", "permenpanrb-59-2020-16")),
    "PDP-01": Check("high", ("A data protection officer is named", "Pejabat pelindungan data pribadi ditunjuk"), ("Fill contacts.dpo", "Isi contacts.dpo"), ("uu-pdp-53",)),
    "PDP-02": Check("high", ("A legal basis is recorded", "Dasar hukum pemrosesan dicatat"), ("Fill privacy.legal_basis", "Isi privacy.legal_basis"), ("uu-pdp-20",)),
    "PDP-03": Check("high", ("A DPIA is referenced", "DPIA dirujuk"), ("Fill privacy.dpia with the DPIA document reference", "Isi privacy.dpia dengan nomor dokumen DPIA"), ("uu-pdp-34", "uu-pdp-4", "uu-pdp-25")),
    "PDP-04": Check("medium", ("A retention period is recorded", "Masa retensi data dicatat"), ("Fill privacy.retention", "Isi privacy.retention"), ("uu-pdp-44",)),
    "PDP-05": Check("high", ("Breach notice ready: who tells the subjects and the lembaga within 3x24 hours", "Pemberitahuan kegagalan PDP siap: siapa memberi tahu Subjek Data dan lembaga dalam 3x24 jam"), ("Fill breach_notice (notifier, subjects_channel, authority); the template is docs/pemberitahuan-kegagalan-pdp.md", "Isi breach_notice (notifier, subjects_channel, authority); templatnya docs/pemberitahuan-kegagalan-pdp.md"), ("uu-pdp-46",)),
    "PDP-06": Check("medium", ("Breach notice rehearsed within a year", "Pemberitahuan kegagalan PDP dilatih dalam setahun"), ("Rehearse with docs/pemberitahuan-kegagalan-pdp.md and record the date in breach_notice.last_exercise", "Latih dengan docs/pemberitahuan-kegagalan-pdp.md dan catat tanggalnya di breach_notice.last_exercise"), ("kit-breach-exercise", "uu-pdp-46")),
    "PDP-07": Check("medium", ("Record of processing activities complete", "Catatan kegiatan pemrosesan Data Pribadi lengkap"), ("Fill the profile keys docs/catatan-pemrosesan-data-pribadi.md lists under 'Yang belum diisi', then render again", "Isi kunci profil yang tercantum di bagian 'Yang belum diisi' pada docs/catatan-pemrosesan-data-pribadi.md, lalu render ulang"), ("uu-pdp-31",)),
    "LOC-02": Check("high", ("Third parties holding personal data are bound by agreement, in Indonesia", "Pihak ketiga pemegang data pribadi terikat perjanjian, di Indonesia"), ("Record hosting.agreement for a third-party data centre and processors.<name>.agreement for every processor", "Catat hosting.agreement untuk pusat data pihak ketiga dan processors.<nama>.agreement untuk setiap prosesor"), ("uu-pdp-51", "pp-71-2019-20")),
    "AU-01": Check("medium", ("Overlap with an Aplikasi Umum is justified", "Tumpang tindih dengan Aplikasi Umum dijustifikasi"), ("Record apps.<app>.justification", "Catat apps.<app>.justification"), ("perpres-95-2018-aplikasi-umum", "permenpanrb-59-2020-11", "permenpanrb-59-2020-15")),
    "AUTH-01": Check("high", ("Passwords of at least 12 characters", "Kata sandi minimal 12 karakter"), ("Set password_min_length to 12 or more", "Atur password_min_length ke 12 atau lebih"), ("bssn-password-length", "bssn-web-authentication")),
    "AUTH-02": Check("high", ("Passwords with four character classes", "Kata sandi dengan empat jenis karakter"), ("Set password_character_classes to 4", "Atur password_character_classes ke 4"), ("bssn-password-complexity", "bssn-web-authentication")),
    "AUTH-03": Check("high", ("Accounts lock after failed logins", "Akun terkunci setelah gagal masuk"), ("Set password_lockout_attempts (at most 10)", "Atur password_lockout_attempts (maksimal 10)"), ("bssn-lockout", "bssn-web-authentication")),
    "AUTH-04": Check("medium", ("Idle sessions expire within 30 minutes", "Sesi tidak aktif berakhir dalam 30 menit"), ("Set session_timeout_minutes to 30 or less", "Atur session_timeout_minutes ke 30 atau kurang"), ("bssn-session-timeout", "bssn-web-session")),
    "AUD-01": Check("medium", ("Security audit within the last two years", "Audit keamanan dalam dua tahun terakhir"), ("Audit the SPBE infrastructure and apps and record security.last_audit", "Lakukan audit keamanan dan catat security.last_audit"), ("perpres-95-2018-58", "permenpanrb-59-2020-31")),
}
# fmt: on

# A served certificate with fewer days left fails TLS-04 (deploy renews at 30; ACME too).
CERT_ALERT_DAYS = 14
HOST_NAMESPACES = {"network_mode": "host", "pid": "host", "ipc": "host", "uts": "host"}
_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{24,}")


@dataclass(frozen=True)
class Evidence:
    file: str | None = None
    line: int | None = None
    host: str | None = None
    command: str | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Result:
    id: str
    status: Status
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def check(self) -> Check:
        return CHECKS[self.id]


class _Results:
    """Collects evidence per check; a check with failing evidence fails, otherwise passes."""

    def __init__(self) -> None:
        self.failed: dict[str, list[Evidence]] = {}
        self.passed: dict[str, list[Evidence]] = {}
        self.deviated: dict[str, list[Evidence]] = {}
        self.skipped: dict[str, str] = {}

    def fail(self, check: str, evidence: Evidence) -> None:
        self.failed.setdefault(check, []).append(evidence)

    def ok(self, check: str, evidence: Evidence) -> None:
        self.passed.setdefault(check, []).append(evidence)

    def deviate(self, check: str, evidence: Evidence) -> None:
        """What the check's control asks for is not done, for the reason the check records."""
        assert CHECKS[check].deviation, check
        self.deviated.setdefault(check, []).append(evidence)

    def not_applicable(self, check: str, why: str) -> None:
        self.skipped[check] = why

    def results(self) -> list[Result]:
        found = []
        for check in CHECKS:
            if check in self.failed:
                found.append(Result(check, "fail", self.failed[check]))
            elif check in self.deviated:
                found.append(Result(check, "deviation", self.deviated[check][:12]))
            elif check in self.passed:
                found.append(Result(check, "pass", self.passed[check][:12]))
            elif check in self.skipped:
                found.append(Result(check, "not-applicable", [Evidence(detail=self.skipped[check])]))
        return found


# ---------------------------------------------------------------- offline: the rendered tree


def _compose_files(tree: Path) -> Iterator[tuple[str, Document]]:
    for path in sorted(tree.glob("hosts/*/*/compose.yaml")):
        rel = path.relative_to(tree).as_posix()
        yield rel, parse_yaml(path.read_text(encoding="utf-8"), rel)


def _line(doc: Document, *path: str | int) -> int:
    return doc.locate(tuple(path)).line or 1


def _services(ctx: Context) -> dict[str, Any]:
    specs: dict[str, Any] = {a.id: a.spec for a in ctx.apps.values()}
    specs.update(postgres=ctx.postgres.spec, proxy=ctx.proxy.spec, backup=ctx.backup.spec)
    return specs


# CIS Docker Benchmark v1.6.0, 5.6: host folders no container may mount (nor below them).
SENSITIVE_HOST_PATHS = ("/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr")


def _bind_source(volume: Any) -> str:
    """The host path of a bind mount in either compose syntax ("" for a named volume)."""
    if isinstance(volume, dict):
        return str(volume.get("source", "")) if volume.get("type") == "bind" else ""
    source = str(volume).split(":", 1)[0]
    return source if source.startswith(("/", ".", "~")) else ""


def _sensitive_host_path(source: str) -> bool:
    if not source.startswith("/"):
        return False
    path = "/" + posixpath.normpath(source).lstrip("/")
    return path == "/" or any(path == p or path.startswith(p + "/") for p in SENSITIVE_HOST_PATHS)


# Image IDs recorded by `images build` or signed into the bundle, and the file that says so.
Pinned = tuple[dict[str, str], str]


def _check_pinned(name: str, image: str, pinned: Pinned, ev: Any, out: _Results) -> None:
    ids, source = pinned
    if "@sha256:" in image:
        out.ok("IMG-01", ev("image", detail=image))
    elif image in ids:
        out.ok("IMG-01", ev("image", detail=f"{name}: {image} is image ID {ids[image][:19]}… in {source}"))
    else:
        where = f"not in {source}" if source else "no images.lock.json or bundle.json found"
        out.fail("IMG-01", ev("image", detail=f"{name}: {image} is a tag with no recorded image ID ({where})"))


def _check_compose(ctx: Context, rel: str, doc: Document, pinned: Pinned, out: _Results) -> None:
    host = rel.split("/")[1]
    component = rel.split("/")[2]
    spec = _services(ctx).get(component)
    for name, service in sorted((doc.data or {}).get("services", {}).items()):
        where = ("services", name)

        def ev(*key: str, detail: str = "", _where: tuple[str, ...] = where) -> Evidence:
            return Evidence(rel, _line(doc, *_where, *key), detail=detail)

        _check_privileges(name, service, spec, ev, out)
        _check_isolation(name, service, ev, out)
        _check_pinned(name, str(service.get("image", "")), pinned, ev, out)
        _check_restart(name, str(service.get("restart", "no")), ev, out)
        _check_ports(ctx, host, component, name, service, ev, out)




def _check_privileges(name: str, service: dict[str, Any], spec: Any, ev: Any, out: _Results) -> None:
    """CTR-01 to CTR-04, CTR-09, CTR-10: who the container runs as and what it may do."""
    user = str(service.get("user", ""))
    if not user or user.split(":")[0] in ("0", "root"):
        out.fail("CTR-01", ev("user", detail=f"{name} runs as {user or 'the image default (root)'}"))
    else:
        out.ok("CTR-01", ev("user", detail=f"{name}: user {user}"))
    options = [str(o).replace("=", ":") for o in service.get("security_opt", [])]
    if "no-new-privileges:true" in options:
        out.ok("CTR-02", ev("security_opt"))
    else:
        out.fail("CTR-02", ev("security_opt", detail=f"{name} lacks no-new-privileges:true"))
    allowed = set(spec.capabilities) if spec else set()
    extra = set(service.get("cap_add", [])) - allowed
    if "ALL" not in service.get("cap_drop", []) or extra:
        why = f"adds {', '.join(sorted(extra))}" if extra else "does not drop ALL"
        out.fail("CTR-03", ev("cap_drop", detail=f"{name} {why}"))
    else:
        out.ok("CTR-03", ev("cap_drop"))
    if service.get("read_only") is not True and (spec is None or spec.read_only_rootfs):
        out.fail("CTR-04", ev("read_only", detail=f"{name}: root filesystem is writable"))
    else:
        out.ok("CTR-04", ev("read_only"))
    if service.get("privileged"):
        out.fail("CTR-09", ev("privileged", detail=f"{name} runs privileged"))
    else:
        out.ok("CTR-09", ev())
    if "seccomp:unconfined" in options:
        out.fail("CTR-10", ev("security_opt", detail=f"{name} runs with seccomp unconfined"))
    else:
        out.ok("CTR-10", ev())


def _check_isolation(name: str, service: dict[str, Any], ev: Any, out: _Results) -> None:
    """CTR-05 to CTR-08, CTR-11, CTR-12: limits, health, and what of the host it reaches."""
    missing = [k for k in ("mem_limit", "cpus", "pids_limit") if not service.get(k)]
    if missing:
        out.fail("CTR-05", ev(detail=f"{name} has no {', '.join(missing)}"))
    else:
        out.ok("CTR-05", ev("mem_limit"))
    health = service.get("healthcheck") or {}
    if not health or health.get("disable") or health.get("test") in (["NONE"], "NONE"):
        out.fail("CTR-06", ev("healthcheck", detail=f"{name} has no health check"))
    else:
        out.ok("CTR-06", ev("healthcheck"))
    sockets = [v for v in service.get("volumes", []) if "docker.sock" in json.dumps(v)]
    if sockets:
        out.fail("CTR-07", ev("volumes", detail=f"{name} mounts the Docker socket"))
    else:
        out.ok("CTR-07", ev())
    shared = [k for k, v in HOST_NAMESPACES.items() if str(service.get(k, "")) == v]
    if shared:
        out.fail("CTR-08", ev(shared[0], detail=f"{name} shares the host's {', '.join(shared)}"))
    else:
        out.ok("CTR-08", ev())
    sensitive = sorted(
        s for s in map(_bind_source, service.get("volumes", [])) if _sensitive_host_path(s)
    )
    if sensitive:
        out.fail("CTR-11", ev("volumes", detail=f"{name} mounts {', '.join(sensitive)} from the host"))
    else:
        out.ok("CTR-11", ev())
    if service.get("devices"):
        out.fail("CTR-12", ev("devices", detail=f"{name} is given host devices"))
    else:
        out.ok("CTR-12", ev())

def _check_restart(name: str, policy: str, ev: Any, out: _Results) -> None:
    """CTR-13 (CIS 5.15): on-failure with at most 5 retries passes; unless-stopped, what the
    kit renders, is its accepted deviation; always, no or more retries fail."""
    kind, _, retries = policy.partition(":")
    if kind == "on-failure" and retries.isdigit() and 0 < int(retries) <= 5:
        out.ok("CTR-13", ev("restart", detail=f"{name}: restart {policy}"))
    elif policy == "unless-stopped":
        out.deviate("CTR-13", ev("restart", detail=f"{name}: restart {policy}"))
    else:
        out.fail("CTR-13", ev("restart", detail=f"{name}: restart {policy}"))


def _check_ports(
    ctx: Context, host: str, component: str, name: str, service: dict[str, Any], ev: Any, out: _Results
) -> None:
    declared = ctx.hosts[host].internal_address if host in ctx.hosts else None
    for index, port in enumerate(service.get("ports", []) or []):
        if isinstance(port, dict):
            bind, target = str(port.get("host_ip", "0.0.0.0")), port.get("target")
            published = port.get("published", target)
        else:  # short syntax: [ip:]published:target
            parts = str(port).split(":")
            bind, target = (parts[0] if len(parts) == 3 else "0.0.0.0"), parts[-1]
            published = parts[-2] if len(parts) >= 2 else target
        # The host's port is what the network sees (the proxy publishes 80 to its own 8080).
        detail = f"{name} publishes {published} on {bind} (container port {target})"
        evidence = ev("ports", index, detail=detail)
        if component == "postgres":
            needed = database_published(ctx.profile) and bind == declared and declared != "0.0.0.0"
            (out.ok if needed else out.fail)("NET-02", evidence)
            continue
        if component == "proxy":
            fine = bind == ctx.profile.proxy.bind
        elif component == "exporters":  # read by Prometheus on the proxy's host, over the LAN
            wanted = {p for h, _, p in exporter_ports(ctx.profile) if h == host}
            fine = str(published) in {str(p) for p in wanted} and bind == declared and declared != "0.0.0.0"
        else:  # apps on a host without the proxy publish to the proxy on the internal address
            fine = (
                component in ctx.apps and ctx.apps[component].published_port is not None and bind == declared
            )
        (out.ok if fine else out.fail)("NET-01", evidence)
    if component == "postgres" and not service.get("ports"):
        out.ok("NET-02", ev(detail="postgres publishes no port"))


def _check_nginx(tree: Path, out: _Results) -> None:
    for path in sorted(tree.glob("hosts/*/proxy/conf.d/*.conf")):
        if path.name.startswith("00-"):
            continue
        rel = path.relative_to(tree).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()

        def at(pattern: str, _lines: list[str] = lines) -> int:
            return next((i + 1 for i, line in enumerate(_lines) if re.search(pattern, line)), 1)

        has_ssl = re.search(r"listen\s+\S+\s+ssl", text) is not None
        redirect = re.search(r"return\s+30[178]\s+https://", text) is not None
        if has_ssl and redirect:
            out.ok("TLS-01", Evidence(rel, at(r"listen\s+\S+\s+ssl")))
        else:
            out.fail("TLS-01", Evidence(rel, at("listen"), detail="no TLS listener or no redirect to HTTPS"))
        # The virtual host's own ssl_protocols wins over the http block's in nginx.conf.
        source, where = text, rel
        main = path.parent.parent / "nginx.conf"
        if "ssl_protocols" not in text and main.is_file():
            source, where = main.read_text(encoding="utf-8"), main.relative_to(tree).as_posix()
        protocols = re.search(r"ssl_protocols\s+([^;]+);", source)
        weak = (
            {"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"} & set(protocols.group(1).split()) if protocols else set()
        )
        line = next((i + 1 for i, ln in enumerate(source.splitlines()) if "ssl_protocols" in ln), 1)
        if protocols and not weak:
            out.ok("TLS-02", Evidence(where, line, detail=f"{rel}: {protocols.group(1)}"))
        else:
            why = f"allows {', '.join(sorted(weak))}" if weak else "no ssl_protocols (nginx default)"
            out.fail("TLS-02", Evidence(where, line, detail=f"{rel}: {why}"))
        if "Strict-Transport-Security" in text:
            out.ok("TLS-03", Evidence(rel, at("Strict-Transport-Security")))
        else:
            out.fail("TLS-03", Evidence(rel, 1, detail="no Strict-Transport-Security header"))
        _check_headers_rendered(rel, text, main, tree, out)


def _check_admin_paths(ctx: Context, tree: Path, out: _Results) -> None:
    """ADM-01 on the rendered proxy: each administrator path of each app is its own location,
    allowed from the declared networks only (never all, never /0) and denied to the rest."""
    apps = [a for a in ctx.apps.values() if a.spec.admin_paths]
    if not apps:
        out.not_applicable("ADM-01", "no app of the catalog has administrator pages")
        return
    proxy = ctx.proxy.host
    for app in apps:
        path = tree / "hosts" / proxy / "proxy" / "conf.d" / f"{app.id}.conf"
        rel = path.relative_to(tree).as_posix()
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        for prefix in app.spec.admin_paths:
            block = re.search(r"location\s+\^~\s+" + re.escape(prefix) + r"\s*\{(?P<body>[^{}]*)\}", text)
            if block is None:
                out.fail("ADM-01", Evidence(rel, 1, detail=f"{prefix}: no location of its own, open like /"))
                continue
            line = text[: block.start()].count("\n") + 1
            body = block.group("body")
            allowed = re.findall(r"^\s*allow\s+([^;\s]+)\s*;", body, re.MULTILINE)
            denied = re.search(r"^\s*deny\s+all\s*;", body, re.MULTILINE)
            everyone = [a for a in allowed if a == "all" or a.endswith("/0")]
            if everyone or not denied:
                why = f"allows {', '.join(everyone)}" if everyone else "no deny all"
                out.fail("ADM-01", Evidence(rel, line, detail=f"{prefix}: {why}"))
            else:
                who = f"allowed from {', '.join(allowed)} only" if allowed else "refused to every address"
                out.ok("ADM-01", Evidence(rel, line, detail=f"{app.id} {prefix}: {who}"))


def _check_headers_rendered(rel: str, text: str, main: Path, tree: Path, out: _Results) -> None:
    """HDR-01 on the rendered proxy: the virtual host adds nosniff and a frame policy, and the
    http block hides nginx's version."""
    lines = text.splitlines()
    missing = _headers_missing(text)
    if missing:
        line, names = missing[0]
        out.fail("HDR-01", Evidence(rel, line, detail=f"no {', '.join(names)}"))
    else:
        line = next(i + 1 for i, ln in enumerate(lines) if "X-Content-Type-Options" in ln)
        out.ok("HDR-01", Evidence(rel, line, detail="nosniff and X-Frame-Options added"))
    source = main.read_text(encoding="utf-8") if main.is_file() else ""
    hidden = re.search(r"^\s*server_tokens\s+off\s*;", source, re.MULTILINE)
    where = main.relative_to(tree).as_posix() if main.is_file() else rel
    if hidden:
        line = source[: hidden.start()].count("\n") + 1
        out.ok("HDR-01", Evidence(where, line, detail=f"{rel}: server_tokens off"))
    else:
        out.fail("HDR-01", Evidence(where, 1, detail=f"{rel}: nginx names its version (no server_tokens off)"))


HARDENING = (
    ("X-Content-Type-Options nosniff", re.compile(r'add_header\s+X-Content-Type-Options\s+"?nosniff', re.I)),
    ("X-Frame-Options", re.compile(r'add_header\s+X-Frame-Options\s+"?(DENY|SAMEORIGIN)', re.I)),
)


def _headers_missing(text: str) -> list[tuple[int, list[str]]]:
    """(line, headers) for each block that answers over HTTPS without a hardening header: a TLS
    server block that does not add it, or a location inside one that adds headers of its own
    without it (nginx then drops the server's add_header lines there). The plain-HTTP server
    only redirects to HTTPS."""
    blocks: list[tuple[int, str, list[str], bool]] = []  # (first line, kind, add_header lines, in TLS)
    stack: list[tuple[int, str, list[str], bool]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if "{" in line and line.endswith("}"):  # a block on one line: nothing of its own added
            continue
        if line.endswith("{"):
            stack.append((number, line.split()[0], [], False))
        elif line.startswith("add_header") and stack:
            stack[-1][2].append(line)
        elif line.startswith("listen") and " ssl" in line and stack:
            stack[-1] = (*stack[-1][:3], True)
        if line.endswith("}") and stack:
            done = stack.pop()
            tls = done[3] or any(outer[3] for outer in stack)
            blocks.append((*done[:3], tls))
    found = []
    for number, kind, added, tls in sorted(blocks):
        if tls and (kind == "server" or (kind == "location" and added)):
            names = [name for name, pattern in HARDENING if not any(pattern.search(a) for a in added)]
            if names:
                found.append((number, names))
    return found


def _check_database_tls(tree: Path, out: _Results) -> None:
    """pg_hba.conf lets no TCP login in without TLS; every client verifies the server."""
    for path in sorted(tree.glob("hosts/*/postgres/pg_hba.conf")):
        rel = path.relative_to(tree).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        plain = [
            (i + 1, line)
            for i, line in enumerate(lines)
            if (fields := line.split())
            and fields[0] in ("host", "hostnossl")
            and fields[-1] not in ("reject",)
        ]
        if plain:
            out.fail(
                "NET-03", Evidence(rel, plain[0][0], detail=f"accepts TCP logins without TLS: {plain[0][1]}")
            )
        else:
            out.ok("NET-03", Evidence(rel, 1, detail="TCP logins only with hostssl"))
    for path in sorted(tree.glob("hosts/*/*/config.json")):
        rel = path.relative_to(tree).as_posix()
        text = path.read_text(encoding="utf-8")
        mode = json.loads(text).get("database", {}).get("sslmode")
        line = next((i + 1 for i, ln in enumerate(text.splitlines()) if '"sslmode"' in ln), 1)
        (out.ok if mode == "verify-full" else out.fail)(
            "NET-03", Evidence(rel, line, detail=f"sslmode = {mode}")
        )
    for path in sorted(tree.glob("hosts/*/backup/compose.yaml")):
        rel = path.relative_to(tree).as_posix()
        text = path.read_text(encoding="utf-8")
        if "PGHOST" in text:
            good = 'PGSSLMODE: "verify-full"' in text
            line = next(
                (i + 1 for i, ln in enumerate(text.splitlines()) if "PGSSLMODE" in ln or "PGHOST" in ln), 1
            )
            (out.ok if good else out.fail)("NET-03", Evidence(rel, line, detail="scheduler PGSSLMODE"))


def _entropy(text: str) -> float:
    counts = {c: text.count(c) for c in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _check_secrets(tree: Path, secrets: list[str] | None, out: _Results) -> None:
    values = sorted({s for s in secrets or [] if len(s) >= 8}, key=len, reverse=True)
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        rel = path.relative_to(tree).as_posix()
        if rel.startswith(("runs/", "state/")):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        in_certificate = False
        for number, line in enumerate(text.splitlines(), 1):
            for value in values:
                if value in line:
                    out.fail("SEC-01", Evidence(rel, number, detail="a value from the region's vault"))
                    break
            # A certificate is public (e.g. the root tls.ca names); a private key is not.
            if line.strip() in ("-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"):
                in_certificate = line.strip().startswith("-----BEGIN")
                continue
            for token in [] if in_certificate else _TOKEN.findall(line):
                mixed = re.search(r"[a-z]", token) and re.search(r"[A-Z]", token) and re.search(r"\d", token)
                if mixed and _entropy(token) >= 4.3 and not any(v in token for v in values):
                    shown = f"{token[:4]}…({len(token)} chars)"
                    out.fail("SEC-02", Evidence(rel, number, detail=f"high-entropy string {shown}"))
    if secrets is None:
        out.ok("SEC-01", Evidence(detail="vault not readable here: exact values not compared"))
    else:
        out.ok("SEC-01", Evidence(detail=f"{len(values)} vault values compared with every file"))
    out.ok("SEC-02", Evidence(detail="every file scanned"))


def _check_manifest(tree: Path, out: _Results) -> None:
    manifest_path = tree / MANIFEST
    if not manifest_path.is_file():
        out.fail("INT-01", Evidence(MANIFEST, detail="no manifest: not a tree rendered by spbe-kit"))
        return
    manifest = json.loads(manifest_path.read_text())
    for rel, digest in sorted(manifest.get("files", {}).items()):
        path = tree / rel
        if not path.is_file():
            out.fail("INT-01", Evidence(rel, detail="listed in the manifest but missing"))
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            out.fail("INT-01", Evidence(rel, detail="changed since it was rendered"))
    out.ok("INT-01", Evidence(MANIFEST, detail=f"{len(manifest.get('files', {}))} files listed"))


LOG_RETENTION_DAYS = (90, 365)


def _check_logs(ctx: Context, tree: Path, profile_file: str, doc: Document | None, out: _Results) -> None:
    """LOG-01: nginx writes its access log to /var/log/spbe and the proxy's compose file mounts
    the host's log folder there. LOG-02: the retention is within policy and the scheduler on
    the proxy's host deletes what is older."""
    base = f"hosts/{ctx.proxy.host}"
    conf = tree / base / "proxy/nginx.conf"
    text = conf.read_text(encoding="utf-8") if conf.is_file() else ""
    logged = re.search(r"^\s*access_log\s+/var/log/spbe/\S+", text, re.M)
    compose = tree / base / "proxy/compose.yaml"
    mounts = parse_yaml(compose.read_text(encoding="utf-8"), str(compose)).data if compose.is_file() else {}
    volumes = ((mounts or {}).get("services", {}).get("proxy", {}) or {}).get("volumes", [])
    mounted = any(isinstance(v, dict) and v.get("target") == "/var/log/spbe" for v in volumes)
    where = f"{base}/proxy/nginx.conf"
    if logged and mounted:
        line = text[: logged.start()].count("\n") + 1
        out.ok("LOG-01", Evidence(where, line, detail=logged.group(0).strip()))
    else:
        missing = "no access_log under /var/log/spbe" if not logged else "no host folder mounted at /var/log/spbe"
        out.fail("LOG-01", Evidence(where, 1, detail=missing))
    days = ctx.profile.logs.retention_days
    low, high = LOG_RETENTION_DAYS
    schedule = tree / base / "backup/schedule.json"
    kept = (json.loads(schedule.read_text()).get("logs") or {}).get("keep_days") if schedule.is_file() else None
    ev = _in_profile(profile_file, doc)
    if kept != days:
        out.fail("LOG-02", Evidence(f"{base}/backup/schedule.json", 1, detail="the scheduler does not delete old logs"))
    else:
        (out.ok if low <= days <= high else out.fail)(
            "LOG-02", ev("logs", "retention_days", detail=f"kept {days} days (policy: {low} to {high})")
        )


def _check_assets(tree: Path, out: _Results) -> None:
    """AST-01: the asset register names every host of the tree and every image its compose
    files run (a compose file changed by hand to run another image is not in it)."""
    register = tree / assets.ASSET_FILE
    if not register.is_file():
        out.fail("AST-01", Evidence(assets.ASSET_FILE, detail="no asset register in the tree"))
        return
    text = register.read_text(encoding="utf-8")
    hosts = sorted({p.parent.name for p in tree.glob("hosts/*/*/")})
    images = sorted(
        {
            str(service.get("image", ""))
            for _, doc in _compose_files(tree)
            for service in ((doc.data or {}).get("services") or {}).values()
        }
    )
    missing = [f"server {h}" for h in hosts if f"`{h}`" not in text]
    missing += [f"image {i}" for i in images if f"`{i}`" not in text]
    if missing:
        out.fail("AST-01", Evidence(assets.ASSET_FILE, detail="not listed: " + ", ".join(missing)))
    else:
        detail = f"{len(hosts)} server(s), {len(images)} image(s) listed"
        out.ok("AST-01", Evidence(assets.ASSET_FILE, detail=detail))


def _check_app_settings(tree: Path, ctx: Context, out: _Results) -> None:
    rules: dict[str, tuple[str, Callable[[int], bool], str]] = {
        "AUTH-01": ("password_min_length", lambda v: v >= 12, "at least 12"),
        "AUTH-02": ("password_character_classes", lambda v: v >= 4, "4"),
        "AUTH-03": ("password_lockout_attempts", lambda v: 0 < v <= 10, "1 to 10"),
        "AUTH-04": ("session_timeout_minutes", lambda v: 0 < v <= 30, "30 or less"),
    }
    for path in sorted(tree.glob("hosts/*/*/config.json")):
        rel = path.relative_to(tree).as_posix()
        text = path.read_text(encoding="utf-8")
        settings = json.loads(text).get("settings", {})
        for check, (key, good, wanted) in rules.items():
            line = next((i + 1 for i, ln in enumerate(text.splitlines()) if f'"{key}"' in ln), 1)
            value = settings.get(key)
            if isinstance(value, int) and good(value):
                out.ok(check, Evidence(rel, line, detail=f"{key} = {value}"))
            else:
                out.fail(check, Evidence(rel, line, detail=f"{key} = {value}; expected {wanted}"))


def _in_profile(profile_file: str, doc: Document | None) -> Callable[..., Evidence]:
    """Evidence at a key path of the profile (its line when the document is at hand)."""

    def ev(*path: str, detail: str = "") -> Evidence:
        line = doc.locate(tuple(path)).line if doc else None
        return Evidence(profile_file, line, detail=detail)

    return ev


def _check_monitoring(profile: Profile, ev: Callable[..., Evidence], out: _Results) -> None:
    mon = profile.monitoring
    receivers = [
        *(["e-mail to " + ", ".join(mon.email.to)] if mon.email else []),
        *([f"{len(mon.webhooks)} webhook(s)"] if mon.webhooks else []),
        *(["Telegram"] if mon.telegram else []),
    ]
    if not mon.enabled:
        out.fail("MON-01", ev("monitoring", detail="monitoring.enabled is false: nothing tells anyone"))
    elif not receivers:
        out.fail("MON-01", ev("monitoring", detail="no receiver: alerts show only in spbe-kit status"))
    else:
        out.ok("MON-01", ev("monitoring", detail="alerts to " + "; ".join(receivers)))


def _check_advisories(ctx: Context, ev: Callable[..., Evidence], out: _Results) -> None:
    for app in ctx.apps.values():
        found = ctx.catalog.advisories_for(app.id, app.version)
        for ident, advisory in found:
            state = "withdrawn" if advisory.withdrawn else "affected"
            fixed = f"; fixed in {advisory.fixed_in}" if advisory.fixed_in else "; no fixed version yet"
            detail = f"{app.id} {app.version} {state} by {ident} ({advisory.severity}){fixed}"
            out.fail("ADV-01", ev("apps", app.id, "version", detail=detail))
        if not found:
            out.ok("ADV-01", ev("apps", app.id, "version", detail=f"{app.id} {app.version}: no advisory"))


def _check_declarations(ctx: Context, profile_file: str, doc: Document | None, out: _Results) -> None:
    profile = ctx.profile
    ev = _in_profile(profile_file, doc)

    backup = profile.backup
    (out.ok if backup.schedule and backup.keep >= 7 else out.fail)(
        "BAK-01", ev("backup", detail=f"schedule '{backup.schedule}', keep {backup.keep}")
    )
    if backup.copy_to:
        out.ok("BAK-02", ev("backup", "copy_to", detail=f"copy to {backup.copy_to}"))
        (out.ok if backup.encrypt_to else out.fail)(
            "BAK-03",
            ev("backup", detail="encrypted with age" if backup.encrypt_to else "copy is not encrypted"),
        )
    else:
        out.fail("BAK-02", ev("backup", detail="no backup.copy_to: the only copy is on the data host"))
        out.not_applicable("BAK-03", "no second copy")
    _check_monitoring(profile, ev, out)
    _check_advisories(ctx, ev, out)
    country = profile.hosting.country
    (out.ok if country == "ID" else out.fail)("LOC-01", ev("hosting", "country", detail=f"country {country}"))
    _check_personal_data(ctx, ev, out)
    _check_aplikasi_umum(ctx, ev, out)
    last = profile.security.last_audit
    if last is None:
        out.fail("AUD-01", ev("security", detail="security.last_audit not declared"))
    else:
        age = datetime.date.today() - last
        (out.ok if age.days <= 730 else out.fail)(
            "AUD-01",
            ev("security", "last_audit", detail=f"last audit {last.isoformat()} ({age.days} days ago)"),
        )


def _check_personal_data(ctx: Context, ev: Any, out: _Results) -> None:
    """PDP-01 to PDP-04: what the profile records for the personal data the apps hold."""
    profile = ctx.profile
    # UU 27/2022 Pasal 53(1)a (read by Putusan MK 151/PUU-XXII/2024) and Pasal 20: any personal
    # data processed for a public service needs a DPO and a legal basis; a DPIA and a retention
    # period are asked for where health, child or financial data is held.
    personal = sorted(a.id for a in ctx.apps.values() if set(a.spec.data_classes) - {"umum"})
    sensitive = sorted(a.id for a in ctx.apps.values() if SENSITIVE_DATA_CLASSES & set(a.spec.data_classes))
    pdp = {
        "PDP-01": (profile.contacts.dpo is not None, ("contacts", "dpo"), personal, "personal data"),
        "PDP-02": (bool(profile.privacy.legal_basis), ("privacy", "legal_basis"), personal, "personal data"),
        "PDP-03": (
            bool(profile.privacy.dpia),
            ("privacy", "dpia"),
            sensitive,
            "health, child or financial data",
        ),
        "PDP-04": (
            bool(profile.privacy.retention),
            ("privacy", "retention"),
            sensitive,
            "health, child or financial data",
        ),
    }
    for check, (present, path, apps, held) in pdp.items():
        if not apps:
            out.not_applicable(check, f"no app holds {held}")
            continue
        detail = f"{'.'.join(path)} {'recorded' if present else 'missing'} ({', '.join(apps)} hold {held})"
        (out.ok if present else out.fail)(check, ev(*path, detail=detail))


def _check_aplikasi_umum(ctx: Context, ev: Any, out: _Results) -> None:
    """AU-01: a granted app doing what an Aplikasi Umum the region uses does needs a reason."""
    profile = ctx.profile
    used = {u: ctx.catalog.aplikasi_umum[u] for u in profile.aplikasi_umum if u in ctx.catalog.aplikasi_umum}
    overlaps = 0
    for app in ctx.apps.values():
        for umum in used.values():
            shared = set(app.spec.functions) & set(umum.functions)
            if shared:
                overlaps += 1
                justified = bool(profile.apps[app.id].justification)
                detail = f"{app.id} overlaps {umum.title} ({', '.join(sorted(shared))})"
                (out.ok if justified else out.fail)("AU-01", ev("apps", app.id, detail=detail))
    if not overlaps:
        out.not_applicable("AU-01", "no granted app overlaps an Aplikasi Umum the region uses")


def _check_privacy(
    ctx: Context, tree: Path, profile_file: str, doc: Document | None, today: datetime.date, out: _Results
) -> None:
    """UU 27/2022 beyond the declarations: breach notice (Pasal 46), the record of processing
    (31) and who else holds the data (51); the documents are read from the rendered tree."""
    profile = ctx.profile
    ev = _in_profile(profile_file, doc)

    activities = privacy.activities(ctx)
    if not activities:
        for check in ("PDP-05", "PDP-06", "PDP-07"):
            out.not_applicable(check, "no app holds personal data")
    else:
        _check_breach_notice(profile, tree, ev, today, out)
        record = tree / privacy.RECORD_FILE
        gaps = privacy.record_gaps(ctx)
        if not record.is_file():
            out.fail("PDP-07", Evidence(privacy.RECORD_FILE, detail="not in the rendered tree: run spbe-kit render"))
        elif gaps:
            out.fail("PDP-07", Evidence(privacy.RECORD_FILE, detail=f"still blank: {', '.join(gaps)}"))
        else:
            names = ", ".join(a.app for a in activities)
            out.ok("PDP-07", Evidence(privacy.RECORD_FILE, detail=f"{len(activities)} activities ({names}), nothing blank"))
    hosting = profile.hosting
    if hosting.operator == "region" and not profile.processors:
        out.not_applicable("LOC-02", "the region's own data centre holds every copy; no processor declared")
        return
    if hosting.operator == "third-party":
        detail = f"data centre run by {hosting.provider}: " + (
            f"agreement {hosting.agreement}" if hosting.agreement else "no agreement recorded"
        )
        (out.ok if hosting.agreement else out.fail)("LOC-02", ev("hosting", "operator", detail=detail))
    for name, processor in sorted(profile.processors.items()):
        country = processor.country.upper()
        agreed = f"agreement {processor.agreement}" if processor.agreement else "no agreement recorded"
        detail = f"{processor.name} ({processor.service}), data kept in {country}: {agreed}"
        (out.ok if processor.agreement and country == "ID" else out.fail)(
            "LOC-02", ev("processors", name, detail=detail)
        )


# A breach notice not rehearsed for longer than this fails PDP-06 (kit policy: once a year).
BREACH_EXERCISE_DAYS = 365


def _check_breach_notice(
    profile: Profile, tree: Path, ev: Callable[..., Evidence], today: datetime.date, out: _Results
) -> None:
    notice = profile.breach_notice
    if notice is None:
        out.fail("PDP-05", ev(detail="no breach_notice: nobody is named to notify within 3x24 hours"))
        out.fail("PDP-06", ev(detail="no breach_notice to rehearse"))
        return
    template = (tree / privacy.NOTICE_FILE).is_file()
    who = f"{notice.notifier.name} notifies the subjects ({notice.subjects_channel}) and {notice.authority}"
    (out.ok if template else out.fail)(
        "PDP-05",
        ev("breach_notice", detail=f"{who}; template {privacy.NOTICE_FILE} {'rendered' if template else 'missing'}"),
    )
    if notice.last_exercise is None:
        out.fail("PDP-06", ev("breach_notice", detail="breach_notice.last_exercise: never rehearsed"))
        return
    age = (today - notice.last_exercise).days
    (out.ok if 0 <= age <= BREACH_EXERCISE_DAYS else out.fail)(
        "PDP-06",
        ev(
            "breach_notice", "last_exercise",
            detail=f"last rehearsed {notice.last_exercise.isoformat()} ({age} days ago; at most {BREACH_EXERCISE_DAYS})",
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class LiveFacts:
    """What the controller observed on the running hosts (gathered by the CLI)."""

    checked_at: float
    proxy_host: str
    probes: list[Any]  # verify.Probe per app
    drills: list[dict[str, Any]]
    schedulers: dict[str, dict[str, Any]]
    backups: list[Any] = field(default_factory=list)  # lifecycle.BackupInfo
    served: dict[str, str] = field(default_factory=dict)  # hostname: sha256 of what the proxy presents
    expected: dict[str, str] | None = None  # hostname: sha256 in the vault (None: no vault here)


def _check_served(live: LiveFacts, out: _Results) -> None:
    if live.expected is None:
        out.not_applicable("TLS-05", "vault not readable here: served certificates not compared")
        return
    for hostname, served in sorted(live.served.items()):
        expected = live.expected.get(hostname)
        if expected is None:
            continue
        detail = f"{hostname}: serves {served[:12] or 'nothing'}, vault {expected[:12]}"
        evidence = Evidence(host=live.proxy_host, command=f"TLS handshake with SNI {hostname}", detail=detail)
        (out.ok if served == expected else out.fail)("TLS-05", evidence)


def _check_headers_served(headers: dict[str, str], host: str, command: str, out: _Results) -> None:
    """HDR-01 on what the proxy answered: nosniff, a frame policy, and a Server header that
    names no version."""
    problems = []
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("no X-Content-Type-Options nosniff")
    if headers.get("x-frame-options", "").upper() not in ("DENY", "SAMEORIGIN"):
        problems.append("no X-Frame-Options DENY or SAMEORIGIN")
    server = headers.get("server", "")
    if re.search(r"[0-9]", server):
        problems.append(f"Server: {server[:40]} names a version")
    sent = ", ".join(f"{k}: {v}" for k, v in sorted(headers.items()) if v)
    detail = "; ".join(problems) if problems else sent
    (out.fail if problems else out.ok)("HDR-01", Evidence(host=host, command=command, detail=detail))


def _check_live(live: LiveFacts, out: _Results) -> None:
    _check_served(live, out)
    for probe in live.probes:
        host, command = live.proxy_host, f"GET {probe.url}"
        if not probe.tls:
            out.fail("TLS-02", Evidence(host=host, command=command, detail=f"no TLS answer: {probe.detail}"))
            continue
        good = probe.tls in ("TLSv1.2", "TLSv1.3")
        (out.ok if good else out.fail)(
            "TLS-02", Evidence(host=host, command=command, detail=f"negotiated {probe.tls}")
        )
        (out.ok if probe.hsts else out.fail)(
            "TLS-03",
            Evidence(
                host=host,
                command=command,
                detail="Strict-Transport-Security " + ("sent" if probe.hsts else "missing"),
            ),
        )
        _check_headers_served(probe.headers, host, command, out)
        if probe.expires is not None:
            days = int((probe.expires - live.checked_at) // 86400)
            (out.ok if days >= CERT_ALERT_DAYS else out.fail)(
                "TLS-04", Evidence(host=host, command=command, detail=f"certificate expires in {days} days")
            )
    passed = [d for d in live.drills if d.get("ok")]
    if passed:
        newest = max(passed, key=lambda d: d["when"])
        age = (live.checked_at - datetime.datetime.fromisoformat(newest["when"]).timestamp()) / 86400
        detail, within = f"last passing drill {newest['when']} ({age:.0f} days ago)", True
        figures = newest.get("recovery")
        if figures:  # the recovery time and point it measured, against the profile's targets
            within = figures["within"]
            detail += (
                f"; every app restored in {span(figures['rto_s'])} (backup.rto {span(figures['rto_target_s'])}), "
                f"newest backup {span(figures['rpo_s'])} old (backup.rpo {span(figures['rpo_target_s'])})"
            )
        (out.ok if age <= 90 and within else out.fail)(
            "BAK-04", Evidence(host=newest.get("host"), command="spbe-kit backup verify", detail=detail)
        )
    else:
        out.fail(
            "BAK-04", Evidence(command="spbe-kit backup verify", detail="no passing restore drill recorded")
        )
    for host, status in sorted(live.schedulers.items()):
        runs = status.get("runs", [])
        last = runs[-1] if runs else None
        detail = (
            "no scheduled run yet"
            if last is None
            else f"{last.get('due')}: " + ("ok" if last.get("ok") else str(last.get("error", "failed")))
        )
        (out.ok if last is None or last.get("ok") else out.fail)(
            "BAK-05", Evidence(host=host, command="spbe-kit backups", detail=detail)
        )
    if not live.schedulers:
        out.fail("BAK-05", Evidence(command="spbe-kit backups", detail="no backup scheduler answered"))


def _check_secret_ages(
    ctx: Context, ages: dict[str, str] | None, today: datetime.date, out: _Results
) -> None:
    """Each password and key against ``security.secret_max_age_days``; the dates come from the
    vault (written when a value is generated or rotated), so the result is the same all day."""
    if ages is None:
        out.not_applicable("SEC-03", "vault not readable here: secret ages unknown")
        return
    limit = ctx.profile.security.secret_max_age_days
    from spbe_kit.hosts.vault import secret_names

    for name in secret_names(ctx):
        command = "spbe-kit secrets rotate"
        when = ages.get(name)
        if when is None:
            detail = f"{name}: age unknown (set before the kit recorded dates); max {limit} days"
            out.fail("SEC-03", Evidence(command=command, detail=detail))
            continue
        days = (today - datetime.date.fromisoformat(when[:10])).days
        detail = f"{name}: set {when[:10]}, {days} days ago (max {limit})"
        (out.ok if days <= limit else out.fail)("SEC-03", Evidence(command=command, detail=detail))


def audit_tree(
    ctx: Context,
    tree: Path,
    profile_file: str,
    profile_doc: Document | None,
    secrets: list[str] | None,
    live: LiveFacts | None = None,
    ages: dict[str, str] | None = None,
    today: datetime.date | None = None,
    pinned: Pinned = ({}, ""),
) -> list[Result]:
    """Every check on the rendered tree; ``ages`` (from the vault) adds the secret-age check,
    ``live`` the checks of the running region."""
    out = _Results()
    for rel, doc in _compose_files(tree):
        _check_compose(ctx, rel, doc, pinned, out)
    _check_nginx(tree, out)
    _check_admin_paths(ctx, tree, out)
    _check_database_tls(tree, out)
    _check_secrets(tree, secrets, out)
    today = today or datetime.datetime.now(datetime.UTC).date()
    _check_secret_ages(ctx, ages, today, out)
    _check_manifest(tree, out)
    _check_assets(tree, out)
    _check_logs(ctx, tree, profile_file, profile_doc, out)
    _check_app_settings(tree, ctx, out)
    _check_declarations(ctx, profile_file, profile_doc, out)
    _check_privacy(ctx, tree, profile_file, profile_doc, today, out)
    if live:
        _check_live(live, out)
    for check in (c for c, spec in CHECKS.items() if spec.live):
        out.not_applicable(check, "live check: run with --live")
    return out.results()


# ---------------------------------------------------------------- the report


def build_report(ctx: Context, results: list[Result], tree: Path, live: LiveFacts | None) -> dict[str, Any]:
    from spbe_kit.models.report import AuditReport

    manifest = tree / MANIFEST
    counts = {s: 0 for s in SEVERITIES}
    for r in results:
        if r.status == "fail":
            counts[r.check.severity] += 1
    report = {
        "schema": REPORT_SCHEMA,
        "region": {"code": ctx.region.code, "name": ctx.region.name},
        "grant": {"agreement": ctx.profile.grant.agreement, "donor": ctx.profile.grant.donor},
        "tree": {
            "manifest_sha256": hashlib.sha256(manifest.read_bytes()).hexdigest()
            if manifest.is_file()
            else None,
        },
        "live": {
            "checked_at": datetime.datetime.fromtimestamp(live.checked_at, datetime.UTC).isoformat(
                timespec="seconds"
            ),
            "hosts": sorted(ctx.hosts),
        }
        if live
        else None,
        "summary": {
            "checks": len(results),
            "passed": sum(r.status == "pass" for r in results),
            "failed": sum(r.status == "fail" for r in results),
            "not_applicable": sum(r.status == "not-applicable" for r in results),
            "deviations": sum(r.status == "deviation" for r in results),
            "failed_by_severity": counts,
        },
        "results": [
            {
                "id": r.id,
                "status": r.status,
                "severity": r.check.severity,
                "title": {"en": r.check.title[0], "id": r.check.title[1]},
                "remediation": {"en": r.check.remediation[0], "id": r.check.remediation[1]},
                "controls": [control_entry(c) for c in r.check.controls],
                "evidence": [e.as_dict() for e in r.evidence],
                "deviation": {"en": r.check.deviation[0], "id": r.check.deviation[1]}
                if r.status == "deviation" and r.check.deviation
                else None,
            }
            for r in results
        ],
        "appendix": [control_entry(c) for c in sorted({c for r in results for c in r.check.controls})],
    }
    # The published schema is the model's: a report that does not fit it is a bug here.
    return AuditReport.model_validate(report).model_dump(mode="json", by_alias=True, exclude_none=False)


def observe(session: Session, ui: UI, expected: dict[str, str] | None = None) -> LiveFacts:
    """Read-only look at the running region: HTTPS per app, the certificate served for each
    (against ``expected``, the vault's, when the vault is here), restore drills, schedulers."""
    import time

    from spbe_kit.hosts.lifecycle import list_backups
    from spbe_kit.hosts.session import web_trust
    from spbe_kit.hosts.verify import check_app, served_certificate

    ctx = session.ctx
    ca = web_trust(session)
    probes = [check_app(ctx, app_id, ca) for app_id in sorted(ctx.apps)]
    served = {ctx.apps[a].hostname: served_certificate(ctx, a) for a in sorted(ctx.apps)}
    listing = list_backups(session, ui)
    return LiveFacts(
        time.time(),
        ctx.proxy.host,
        probes,
        listing.drills,
        listing.schedulers,
        listing.backups,
        served,
        expected,
    )


def run(
    session: Session,
    profile_file: str,
    vault_data: dict[str, Any] | None,
    ui: UI,
    live: bool,
    images_dir: Path | None = Path("build/images"),
) -> tuple[dict[str, Any], LiveFacts | None]:
    """The audit pipeline, the one way to it (the audit command and the evidence pack): the
    rendered tree, with ``live`` the running hosts too, checked against every control; the
    vault, when this controller has it, adds secret leaks, secret ages and served certificates.
    Returns the report (as the published schema has it) and what was observed live."""
    from spbe_kit.hosts import vault

    expected = None if vault_data is None else vault.web_certificates(session.ctx, vault_data)
    facts = observe(session, ui, expected) if live else None
    secrets = None if vault_data is None else vault.Secrets(vault_data).values()
    ages = None if vault_data is None else vault.ages(vault_data)
    doc = session.validated.profile_doc
    from spbe_kit.grant.images import pinned_ids

    pinned = pinned_ids(images_dir) if images_dir else ({}, "")
    results = audit_tree(session.ctx, session.tree, profile_file, doc, secrets, facts, ages, pinned=pinned)
    return build_report(session.ctx, results, session.tree, facts), facts


def worst_failure(report: dict[str, Any], threshold: Severity) -> bool:
    """True when a failed check is at or above ``threshold``."""
    limit = SEVERITIES.index(threshold)
    return any(r["status"] == "fail" and SEVERITIES.index(r["severity"]) <= limit for r in report["results"])
