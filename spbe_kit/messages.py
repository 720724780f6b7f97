"""The message catalog: every user-facing sentence, in English and Bahasa Indonesia.

A diagnostic code maps to a message and a hint, each a format string over the diagnostic's
params. Language comes from ``--lang``, else ``SPBE_KIT_LANG``, else the locale.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from spbe_kit.errors import Diagnostic, Said, format_key_path

Lang = Literal["en", "id"]

# code: (message en, message id, hint en, hint id)
MESSAGES: dict[str, tuple[str, str, str, str]] = {
    "file-not-found": ("file not found", "berkas tidak ditemukan", "check the path", "periksa lokasi berkas"),
    "file-is-directory": (
        "is a folder, not a file",
        "adalah folder, bukan berkas",
        "give the path of a YAML file",
        "berikan lokasi berkas YAML",
    ),
    "file-unreadable": (
        "cannot read the file (permission denied)",
        "berkas tidak dapat dibaca (izin ditolak)",
        "check the file's permissions",
        "periksa izin berkas",
    ),
    "file-not-regular": (
        "is not a regular file (a pipe, device or socket); it was not read",
        "bukan berkas biasa (pipa, perangkat atau soket); tidak dibaca",
        "give the path of a YAML file",
        "berikan lokasi berkas YAML",
    ),
    "yaml-tag-refused": (
        "the YAML tag {tag} is not accepted; only text, whole numbers, true/false, null and dates",
        "tag YAML {tag} tidak diterima; hanya teks, bilangan bulat, true/false, null dan tanggal",
        "remove the tag and write the value as plain text",
        "hapus tag dan tulis nilainya sebagai teks biasa",
    ),
    "yaml-ambiguous-number": (
        "'{value}' is not a plain decimal number (YAML 1.1 reads 016 as 14 and 1:30 as 90)",
        "'{value}' bukan bilangan desimal biasa (YAML 1.1 membaca 016 sebagai 14 dan 1:30 sebagai 90)",
        "write the number in plain digits without a leading zero, or quote it if it is text",
        "tulis angka dengan digit biasa tanpa nol di depan, atau beri tanda kutip bila teks",
    ),
    "yaml-ambiguous-bool": (
        "'{value}' would be read as true/false by YAML 1.1",
        "'{value}' akan dibaca sebagai true/false oleh YAML 1.1",
        "write true or false, or quote it if it is text: '{value}'",
        "tulis true atau false, atau beri tanda kutip bila teks: '{value}'",
    ),
    "yaml-number-too-long": (
        "'{value}' has more than {limit} digits",
        "'{value}' lebih dari {limit} digit",
        "no field takes a number that long; quote it if it is text",
        "tidak ada kolom yang menerima angka sepanjang itu; beri tanda kutip bila teks",
    ),
    "yaml-datetime": (
        "'{value}' is a date with a time; only a date is accepted",
        "'{value}' adalah tanggal dengan jam; hanya tanggal yang diterima",
        "write the date as YYYY-MM-DD",
        "tulis tanggal sebagai YYYY-MM-DD",
    ),
    "yaml-date-invalid": (
        "'{value}' is not a date in the calendar",
        "'{value}' bukan tanggal yang ada",
        "write an existing date as YYYY-MM-DD",
        "tulis tanggal yang ada sebagai YYYY-MM-DD",
    ),
    "yaml-recursive-alias": (
        "an alias refers to a node that contains it (a recursive alias)",
        "alias merujuk ke node yang memuatnya (alias berulang)",
        "write the value out instead of using an anchor and alias",
        "tulis nilainya langsung, bukan dengan anchor dan alias",
    ),
    "yaml-too-deep": (
        "nested more than {limit} levels deep",
        "bersarang lebih dari {limit} tingkat",
        "a profile is a few levels deep; is this the right file?",
        "profil hanya beberapa tingkat; benarkah berkasnya?",
    ),
    "yaml-too-large": (
        "file is {size} bytes; the limit is {limit}",
        "berkas berukuran {size} bita; batasnya {limit}",
        "a profile is a few kilobytes; is this the right file?",
        "profil hanya beberapa kilobita; benarkah berkasnya?",
    ),
    "yaml-not-utf8": (
        "not valid UTF-8 (byte {offset})",
        "bukan UTF-8 yang sah (bita ke-{offset})",
        "save the file as UTF-8",
        "simpan berkas sebagai UTF-8",
    ),
    "yaml-nul-byte": (
        "contains a NUL byte",
        "berisi bita NUL",
        "save the file as plain UTF-8 text",
        "simpan berkas sebagai teks UTF-8 biasa",
    ),
    "yaml-empty": (
        "the file is empty",
        "berkas kosong",
        "start from `spbe-kit init CODE`",
        "mulai dari `spbe-kit init KODE`",
    ),
    "yaml-not-mapping": (
        "expected a mapping of keys at the top, found {found}",
        "diharapkan pemetaan kunci di tingkat atas, ditemukan {found}",
        "a profile starts with `schema: spbe-kit/profile/v1`",
        "profil diawali `schema: spbe-kit/profile/v1`",
    ),
    "yaml-multiple-documents": (
        "more than one YAML document (`---`)",
        "lebih dari satu dokumen YAML (`---`)",
        "keep one profile per file",
        "satu profil per berkas",
    ),
    "yaml-tab": (
        "a tab character is used for indentation",
        "karakter tab dipakai untuk indentasi",
        "indent with spaces, not tabs",
        "gunakan spasi, bukan tab",
    ),
    "yaml-syntax": (
        "YAML syntax error: {problem}",
        "kesalahan sintaks YAML: {problem}",
        "check indentation, colons and quotes on this line",
        "periksa indentasi, titik dua dan tanda kutip pada baris ini",
    ),
    "yaml-duplicate-key": (
        "duplicate key '{key}' (first at line {first_line})",
        "kunci '{key}' ganda (pertama di baris {first_line})",
        "remove one of them; YAML would silently keep only the last",
        "hapus salah satunya; YAML diam-diam hanya menyimpan yang terakhir",
    ),
    "yaml-complex-key": (
        "a key must be a plain scalar",
        "kunci harus berupa skalar biasa",
        "write the key as text",
        "tulis kunci sebagai teks",
    ),
    "yaml-too-many-nodes": (
        "more than {limit} YAML nodes (alias expansion?)",
        "lebih dari {limit} simpul YAML (ekspansi alias?)",
        "remove anchors and aliases that multiply content",
        "hapus anchor dan alias yang menggandakan isi",
    ),
    "profile-unknown-key": (
        "unknown key '{key}'",
        "kunci '{key}' tidak dikenal",
        "{suggestion}",
        "{suggestion}",
    ),
    "profile-missing-key": (
        "required key '{key}' is missing",
        "kunci wajib '{key}' tidak ada",
        "add `{key}:` here",
        "tambahkan `{key}:` di sini",
    ),
    "profile-invalid-value": (
        "invalid value: {problem}",
        "nilai tidak valid: {problem}",
        "found {found}",
        "ditemukan {found}",
    ),
    "profile-schema": (
        "unsupported schema '{found}'",
        "skema '{found}' tidak didukung",
        "use `schema: spbe-kit/profile/v1`",
        "gunakan `schema: spbe-kit/profile/v1`",
    ),
    "region-code-format": (
        "'{code}' is not a kabupaten/kota code",
        "'{code}' bukan kode kabupaten/kota",
        "use NN.NN, kabupaten 01-69 or kota 71-99, e.g. '32.15' (Kemendagri, not BPS)",
        "gunakan NN.NN, kabupaten 01-69 atau kota 71-99, mis. '32.15' (Kemendagri, bukan BPS)",
    ),
    "region-code-unknown": (
        "'{code}' is not in the Kemendagri dataset ({basis})",
        "'{code}' tidak ada dalam data Kemendagri ({basis})",
        "{suggestion}",
        "{suggestion}",
    ),
    "region-name-mismatch": (
        "name '{given}' does not match code {code} ('{expected}')",
        "nama '{given}' tidak cocok dengan kode {code} ('{expected}')",
        "write `name: {expected}` or correct the code",
        "tulis `name: {expected}` atau perbaiki kodenya",
    ),
    "grant-donor-mismatch": (
        "donor {given} is not the catalog's donor {expected} ({name})",
        "donor {given} bukan donor katalog {expected} ({name})",
        "use the donor code from the grant agreement",
        "gunakan kode donor dari perjanjian hibah",
    ),
    "dns-name-invalid": (
        "'{value}' is not a valid DNS name",
        "'{value}' bukan nama DNS yang sah",
        "use lowercase letters, digits and hyphens, labels joined by dots, e.g. simpati.karawangkab.go.id",
        "gunakan huruf kecil, angka dan tanda hubung, dipisah titik, mis. simpati.karawangkab.go.id",
    ),
    "address-invalid": (
        "'{value}' is neither an IP address nor a DNS name",
        "'{value}' bukan alamat IP maupun nama DNS",
        "write e.g. 10.20.0.11 or app1.karawangkab.go.id",
        "tulis mis. 10.20.0.11 atau app1.karawangkab.go.id",
    ),
    "name-invalid": (
        "'{value}' is not a valid {kind} name",
        "'{value}' bukan nama {kind} yang sah",
        "use 1-31 lowercase letters, digits and hyphens, starting with a letter",
        "gunakan 1-31 huruf kecil, angka dan tanda hubung, diawali huruf",
    ),
    "app-unknown": (
        "app '{app}' is not in the catalog",
        "aplikasi '{app}' tidak ada di katalog",
        "granted apps: {available}",
        "aplikasi hibah: {available}",
    ),
    "app-version-unknown": (
        "version '{version}' of {app} is not in the catalog",
        "versi '{version}' dari {app} tidak ada di katalog",
        "available: {available}",
        "tersedia: {available}",
    ),
    "role-unassigned": (
        "no host has the role '{role}'",
        "tidak ada host dengan peran '{role}'",
        "add '{role}' to the roles of one host",
        "tambahkan '{role}' ke peran salah satu host",
    ),
    "role-multiple": (
        "role '{role}' is on several hosts ({hosts}); one is supported",
        "peran '{role}' ada di beberapa host ({hosts}); hanya satu yang didukung",
        "keep '{role}' on one host",
        "pertahankan '{role}' di satu host",
    ),
    "host-undefined": (
        "host '{host}' is not defined under hosts",
        "host '{host}' tidak didefinisikan di hosts",
        "defined hosts: {available}",
        "host yang ada: {available}",
    ),
    "host-not-apps": (
        "host '{host}' does not have the role 'apps'",
        "host '{host}' tidak berperan 'apps'",
        "add 'apps' to its roles or choose another host",
        "tambahkan 'apps' ke perannya atau pilih host lain",
    ),
    "local-host-multiple": (
        "only one host can use the local connection",
        "hanya satu host yang boleh memakai koneksi lokal",
        "give the others connection: ssh",
        "berikan connection: ssh pada host lainnya",
    ),
    "hostname-duplicate": (
        "hostname '{hostname}' is also used by {other}",
        "hostname '{hostname}' juga dipakai oleh {other}",
        "give each app its own hostname",
        "berikan hostname tersendiri untuk tiap aplikasi",
    ),
    "port-collision": (
        "port {port} on host '{host}' is used by both {first} and {second}",
        "port {port} di host '{host}' dipakai oleh {first} dan {second}",
        "change one of the ports",
        "ubah salah satu port",
    ),
    "setting-unknown": (
        "{app} has no setting '{setting}'",
        "{app} tidak punya pengaturan '{setting}'",
        "{suggestion}",
        "{suggestion}",
    ),
    "setting-type": (
        "setting '{setting}' of {app} must be {expected}",
        "pengaturan '{setting}' dari {app} harus {expected}",
        "see `spbe-kit schema profile` or the catalog",
        "lihat `spbe-kit schema profile` atau katalog",
    ),
    "setting-range": (
        "setting '{setting}' of {app} is {value}; allowed {allowed}",
        "pengaturan '{setting}' dari {app} bernilai {value}; yang diizinkan {allowed}",
        "{control}",
        "{control}",
    ),
    "privacy-dpo-missing": (
        "{apps} hold {classes} data; a DPO contact is required (UU 27/2022 Art. 53)",
        "{apps} menyimpan data {classes}; kontak PPDP/DPO wajib (UU 27/2022 Ps. 53)",
        "add contacts.dpo with name and email",
        "tambahkan contacts.dpo dengan nama dan email",
    ),
    "privacy-field-missing": (
        "{apps} hold {classes} data; privacy.{field} is required ({article})",
        "{apps} menyimpan data {classes}; privacy.{field} wajib ({article})",
        "{example}",
        "{example}",
    ),
    "privacy-retention-format": (
        "retention '{value}' is not a period",
        "retensi '{value}' bukan jangka waktu",
        "write e.g. '5 tahun', '18 bulan' or '90 hari'",
        "tulis mis. '5 tahun', '18 bulan' atau '90 hari'",
    ),
    "aplikasi-umum-unknown": (
        "'{value}' is not a known Aplikasi Umum",
        "'{value}' bukan Aplikasi Umum yang dikenal",
        "known: {available}",
        "yang dikenal: {available}",
    ),
    "aplikasi-umum-overlap": (
        "{app} overlaps {national} ({functions}) which the region uses",
        "{app} tumpang tindih dengan {national} ({functions}) yang dipakai daerah",
        "record why under apps.{app}.justification, or stop using one of them",
        "catat alasannya di apps.{app}.justification, atau hentikan salah satunya",
    ),
    "hosting-outside-indonesia": (
        "hosting country is '{country}'; public-scope data must be stored in Indonesia (PP 71/2019)",
        "negara hosting '{country}'; data lingkup publik wajib disimpan di Indonesia (PP 71/2019)",
        "set hosting.country: ID",
        "atur hosting.country: ID",
    ),
    "processor-outside-indonesia": (
        "processor '{processor}' keeps the data in '{country}'; public-scope data must be stored in "
        "Indonesia (PP 71/2019)",
        "prosesor '{processor}' menyimpan data di '{country}'; data lingkup publik wajib disimpan di "
        "Indonesia (PP 71/2019)",
        "choose a processor that keeps the data in Indonesia (country: ID)",
        "pilih prosesor yang menyimpan data di Indonesia (country: ID)",
    ),
    "processor-undefined": (
        "processor '{processor}' is not defined under processors",
        "prosesor '{processor}' tidak didefinisikan di processors",
        "defined processors: {available}",
        "prosesor yang ada: {available}",
    ),
    "copy-processor-without-copy": (
        "backup.copy_processor names who holds the second copy, but there is no backup.copy_to",
        "backup.copy_processor menyebut pemegang salinan kedua, tetapi backup.copy_to kosong",
        "set backup.copy_to to the path or host of the copy, or remove copy_processor",
        "isi backup.copy_to dengan path atau host salinan, atau hapus copy_processor",
    ),
    "admin-network-invalid": (
        "'{value}' is not a network in CIDR notation (an address, '/', a prefix length; host bits zero)",
        "'{value}' bukan jaringan dalam notasi CIDR (alamat, '/', panjang prefiks; bit host nol)",
        "write the network with its prefix and zero host bits, e.g. 10.15.20.0/24 (one address: 10.15.20.7/32)",
        "tulis jaringan beserta prefiksnya dengan bit host nol, mis. 10.15.20.0/24 (satu alamat: 10.15.20.7/32)",
    ),
    "monitoring-not-in-catalog": (
        "this catalog has no monitoring services (services.monitoring and services.exporters)",
        "katalog ini tidak memiliki layanan pemantauan (services.monitoring dan services.exporters)",
        "use the donor's catalog of 2026.12 or later, or set monitoring.enabled: false",
        "pakai katalog donor 2026.12 atau lebih baru, atau setel monitoring.enabled: false",
    ),
    "alert-unknown": (
        "the catalog has no alert '{value}'",
        "katalog tidak memiliki peringatan '{value}'",
        "alerts: {known}",
        "peringatan: {known}",
    ),
    "smarthost-invalid": (
        "'{value}' is not a mail server as host:port",
        "'{value}' bukan server surel dalam bentuk host:port",
        "write e.g. mail.garutkab.go.id:587",
        "tulis mis. mail.garutkab.go.id:587",
    ),
    "webhook-invalid": (
        "'{value}' is not an http(s) URL",
        "'{value}' bukan URL http(s)",
        "write e.g. https://chat.garutkab.go.id/hooks/spbe",
        "tulis mis. https://chat.garutkab.go.id/hooks/spbe",
    ),
    "email-invalid": (
        "'{value}' is not an e-mail address",
        "'{value}' bukan alamat email",
        "write e.g. diskominfo@karawangkab.go.id",
        "tulis mis. diskominfo@karawangkab.go.id",
    ),
    "cron-invalid": (
        "'{value}' is not a cron schedule: {problem}",
        "'{value}' bukan jadwal cron: {problem}",
        "five fields: minute hour day month weekday, e.g. '0 2 * * *'",
        "lima kolom: menit jam tanggal bulan hari, mis. '0 2 * * *'",
    ),
    "acme-email-required": (
        "tls.mode 'acme' needs tls.acme_email, the ACME account's contact",
        "tls.mode 'acme' memerlukan tls.acme_email, kontak akun ACME",
        "write e.g. acme_email: diskominfo@karawangkab.go.id",
        "tulis mis. acme_email: diskominfo@karawangkab.go.id",
    ),
    "acme-directory-invalid": (
        "'{value}' is not an https:// ACME directory URL",
        "'{value}' bukan URL direktori ACME https://",
        "leave it out for Let's Encrypt, or give the directory of your ACME CA",
        "hapus untuk Let's Encrypt, atau isi direktori CA ACME Anda",
    ),
    "tls-files-required": (
        "tls.mode 'provided' needs tls.certificate and tls.key",
        "tls.mode 'provided' memerlukan tls.certificate dan tls.key",
        "give both PEM files, relative to the profile",
        "berikan kedua berkas PEM, relatif terhadap profil",
    ),
    "tls-cert-invalid": (
        "not a PEM certificate file: {problem}",
        "bukan berkas sertifikat PEM: {problem}",
        "the file holds the certificate first, then its intermediates, each as -----BEGIN CERTIFICATE-----",
        "berkas berisi sertifikat lebih dulu, lalu sertifikat perantaranya, masing-masing -----BEGIN CERTIFICATE-----",
    ),
    "tls-key-invalid": (
        "not an unencrypted PEM private key: {problem}",
        "bukan kunci privat PEM tanpa sandi: {problem}",
        "export the key without a passphrase (nginx reads it unattended); keep the file mode 0600",
        "ekspor kunci tanpa frasa sandi (nginx membacanya tanpa operator); mode berkas 0600",
    ),
    "tls-key-mismatch": (
        "the key does not belong to the certificate ({subject})",
        "kunci tidak cocok dengan sertifikat ({subject})",
        "use the key the certificate request was made with",
        "gunakan kunci yang dipakai saat membuat permintaan sertifikat",
    ),
    "tls-name-uncovered": (
        "the certificate does not cover {hosts} (it names {names})",
        "sertifikat tidak mencakup {hosts} (isinya {names})",
        "request a certificate with every app hostname in its SAN, or a wildcard *.<domain>",
        "minta sertifikat dengan setiap hostname aplikasi di SAN, atau wildcard *.<domain>",
    ),
    "tls-cert-expired": (
        "the certificate is not valid now (limit {when})",
        "sertifikat tidak berlaku saat ini (batas {when})",
        "renew it with the certificate authority and replace the file",
        "perpanjang di otoritas sertifikat lalu ganti berkasnya",
    ),
    "tls-chain-incomplete": (
        "the chain does not lead to a trusted root (last issuer: {issuer}): {detail}",
        "rantai sertifikat tidak sampai ke root tepercaya (penerbit terakhir: {issuer}): {detail}",
        "append the intermediate certificates after the certificate in the same file; name the root in tls.ca if it is not publicly trusted",
        "tambahkan sertifikat perantara setelah sertifikat di berkas yang sama; sebut root di tls.ca bila bukan root publik",
    ),
    "tls-file-missing": (
        "file '{value}' does not exist",
        "berkas '{value}' tidak ada",
        "paths are relative to the profile's folder",
        "lokasi relatif terhadap folder profil",
    ),
    "path-outside": (
        "'{value}' points outside the profile's folder",
        "'{value}' menunjuk ke luar folder profil",
        "keep certificate files in or below the profile's folder",
        "simpan berkas sertifikat di dalam folder profil",
    ),
    "alerts-unanswered": (
        "the region's Alertmanager on {host} did not answer: {problem}",
        "Alertmanager daerah di {host} tidak menjawab: {problem}",
        "`spbe-kit status` shows whether the monitoring containers run; `spbe-kit deploy` starts them",
        "`spbe-kit status` menunjukkan apakah kontainer pemantauan berjalan; `spbe-kit deploy` menyalakannya",
    ),
    "host-report-invalid": (
        "{host} reported {file} in a shape spbe-kit never writes ({problem}); nothing was run",
        "{host} melaporkan {file} dalam bentuk yang tidak pernah ditulis spbe-kit ({problem}); tidak ada yang dijalankan",
        "the file was written by someone else: check the host for a compromise, then remove or fix the file by hand",
        "berkas ditulis pihak lain: periksa apakah host disusupi, lalu hapus atau perbaiki berkas itu secara manual",
    ),
    "host-path-refused": (
        "host folder '{value}' is refused: {problem}",
        "folder host '{value}' ditolak: {problem}",
        "use a folder below {allowed}, e.g. {example}; the kit manages only a folder of its own inside it",
        "gunakan folder di bawah {allowed}, mis. {example}; kit hanya mengelola folder miliknya di dalamnya",
    ),
    "database-name-outside-domain": (
        "the database host's name '{value}' is not under {domain}: its TLS certificate could not carry it",
        "nama host basis data '{value}' tidak di bawah {domain}: sertifikat TLS-nya tidak dapat memuatnya",
        "give its IP address, or a name under {domain} (e.g. db.{domain})",
        "berikan alamat IP-nya, atau nama di bawah {domain} (mis. db.{domain})",
    ),
    "hostname-outside-domain": (
        "'{value}' is not a name under the region's domain {domain}",
        "'{value}' bukan nama di bawah domain daerah {domain}",
        "use a subdomain such as simpati.{domain}; certificates are issued only for the region's names",
        "gunakan subdomain seperti simpati.{domain}; sertifikat hanya diterbitkan untuk nama daerah",
    ),
    "country-invalid": (
        "'{value}' is not a two-letter ISO 3166 country code (ASCII letters)",
        "'{value}' bukan kode negara ISO 3166 dua huruf (huruf ASCII)",
        "write ID",
        "tulis ID",
    ),
    "placeholder-unfilled": (
        "this field still says ISI (fill in)",
        "kolom ini masih berisi ISI",
        "replace ISI with the real value",
        "ganti ISI dengan nilai sebenarnya",
    ),
    "command-failed": (
        "`{command}` failed with exit code {code}: {stderr}",
        "`{command}` gagal dengan kode {code}: {stderr}",
        "see the output above; run again with --debug for details",
        "lihat keluaran di atas; jalankan lagi dengan --debug untuk rinciannya",
    ),
    "docker-unavailable": (
        "cannot reach the Docker engine: {problem}",
        "tidak dapat terhubung ke Docker engine: {problem}",
        "run `sudo bash scripts/setup-engine.sh` (installs and starts dockerd)",
        "jalankan `sudo bash scripts/setup-engine.sh` (memasang dan menjalankan dockerd)",
    ),
    "image-build-failed": (
        "building {image} failed: {problem}",
        "membangun {image} gagal: {problem}",
        "read the build output above",
        "baca keluaran build di atas",
    ),
    "image-unknown": (
        "no image matches '{name}'",
        "tidak ada image yang cocok dengan '{name}'",
        "images: {available}",
        "image: {available}",
    ),
    "image-not-buildable": (
        "the catalog names {image} but images/build.yaml does not say how to build it",
        "katalog menyebut {image} tetapi images/build.yaml tidak menjelaskan cara membangunnya",
        "add it to images/build.yaml",
        "tambahkan ke images/build.yaml",
    ),
    "vault-password-missing": (
        "vault password file '{path}' does not exist",
        "berkas kata sandi vault '{path}' tidak ada",
        "give --vault-password-file or set SPBE_KIT_VAULT_PASSWORD_FILE",
        "berikan --vault-password-file atau atur SPBE_KIT_VAULT_PASSWORD_FILE",
    ),
    "vault-decrypt-failed": (
        "cannot decrypt the vault {path} with this password",
        "vault {path} tidak dapat dibuka dengan kata sandi ini",
        "use the vault password file created at the first deploy",
        "gunakan berkas kata sandi vault yang dibuat saat deploy pertama",
    ),
    "vault-missing": (
        "there is no vault at {path}: nothing to rotate",
        "tidak ada vault di {path}: tidak ada yang dapat dirotasi",
        "run the command where the region was deployed from (the vault lies beside the profile)",
        "jalankan perintah di controller tempat daerah dideploy (vault ada di samping profil)",
    ),
    "rotation-pending": (
        "a rotation of the region's secrets was interrupted; some hosts may already use the new values",
        "rotasi rahasia daerah terputus; sebagian host mungkin sudah memakai nilai baru",
        "finish it first: `spbe-kit secrets rotate {profile}`",
        "selesaikan dulu: `spbe-kit secrets rotate {profile}`",
    ),
    "monitoring-off": (
        "the profile has no monitoring",
        "profil tidak memakai pemantauan",
        "set monitoring.enabled: true and a receiver in {profile}, then `spbe-kit deploy {profile}`",
        "setel monitoring.enabled: true dan penerima di {profile}, lalu `spbe-kit deploy {profile}`",
    ),
    "secret-not-set": (
        "the profile's alert receivers need {name}, which the vault does not hold",
        "penerima peringatan di profil memerlukan {name}, yang tidak ada di vault",
        "give it once: `spbe-kit secrets set {profile} {name}` (it reads the value from standard input)",
        "berikan sekali: `spbe-kit secrets set {profile} {name}` (nilainya dibaca dari masukan standar)",
    ),
    "secret-not-settable": (
        "{name} is not a secret the admin gives; the kit generates the others",
        "{name} bukan rahasia yang diberikan admin; rahasia lain dibuat oleh kit",
        "one of: {names}",
        "salah satu dari: {names}",
    ),
    "secret-empty": (
        "no value for {name} on standard input",
        "tidak ada nilai untuk {name} di masukan standar",
        "e.g. `printf %s \"$SMTP_PASSWORD\" | spbe-kit secrets set {profile} {name}`",
        "mis. `printf %s \"$SMTP_PASSWORD\" | spbe-kit secrets set {profile} {name}`",
    ),
    "secret-unknown": (
        "no secret named {names} in this region",
        "tidak ada rahasia bernama {names} di daerah ini",
        "choose among: {known}",
        "pilih di antara: {known}",
    ),
    "image-missing": (
        "image {image} is not on this controller",
        "image {image} tidak ada di controller ini",
        "donor: run `spbe-kit images build`; recipient: `spbe-kit bundle import`",
        "donor: jalankan `spbe-kit images build`; penerima: `spbe-kit bundle import`",
    ),
    "preflight-failed": (
        "preflight {check} failed on {host}: {detail}",
        "pemeriksaan awal {check} gagal di {host}: {detail}",
        "{hint}",
        "{hint}",
    ),
    "deploy-locked": (
        "{host} is locked by another deploy: {who} since {since} (pid {pid} on {controller})",
        "{host} dikunci oleh deploy lain: {who} sejak {since} (pid {pid} di {controller})",
        "wait for it to finish; if it was killed on another controller, run again with --break-lock",
        "tunggu sampai selesai; jika dihentikan di controller lain, jalankan lagi dengan --break-lock",
    ),
    "vault-mismatch": (
        "{host} runs this region with another vault than this controller's: first deployed by "
        "{who} at {since}, last by {last_who} at {last_when}",
        "{host} menjalankan daerah ini dengan vault lain daripada vault controller ini: pertama "
        "dideploy oleh {who} pada {since}, terakhir oleh {last_who} pada {last_when}",
        "nothing was changed. Copy the region's vault ({vault}) and its password file from that "
        "controller beside the profile, then run the command again",
        "tidak ada yang diubah. Salin vault daerah ({vault}) dan berkas kata sandinya dari controller "
        "itu ke samping profil, lalu jalankan lagi perintahnya",
    ),
    "health-gate": (
        "{app} on {host} did not become healthy; last log lines:\n      {logs}",
        "{app} di {host} tidak sehat; baris log terakhir:\n      {logs}",
        "fix the cause above and deploy again; the other apps were left as they were (full log: {run})",
        "perbaiki penyebab di atas lalu deploy lagi; aplikasi lain dibiarkan apa adanya (log lengkap: {run})",
    ),
    "smoke-failed": (
        "{app} does not answer over HTTPS at {url}: {detail}",
        "{app} tidak menjawab lewat HTTPS di {url}: {detail}",
        "check `spbe-kit status` and the proxy's logs",
        "periksa `spbe-kit status` dan log proxy",
    ),
    "host-unreachable": (
        "cannot reach {host}: {problem}",
        "tidak dapat menghubungi {host}: {problem}",
        "check the address, SSH user, key (--private-key) and that sshd runs",
        "periksa alamat, pengguna SSH, kunci (--private-key) dan sshd",
    ),
    "host-key-changed": (
        "the SSH host key of {host} changed since the first contact",
        "kunci host SSH {host} berubah sejak kontak pertama",
        "if the server was reinstalled, verify its new key, then remove its line from the profile's .known_hosts file",
        "jika server dipasang ulang, periksa kunci barunya, lalu hapus barisnya dari berkas .known_hosts profil",
    ),
    "task-failed": (
        "{play}: '{task}' failed on {host}: {problem}",
        "{play}: '{task}' gagal di {host}: {problem}",
        "the full log: {run}",
        "log lengkap: {run}",
    ),
    "confirm-required": ("{action} needs --yes", "{action} memerlukan --yes", "{hint}", "{hint}"),
    "recover-not-needed": (
        "every host already runs this region with this controller's vault ({path})",
        "semua host sudah menjalankan daerah ini dengan vault controller ini ({path})",
        "nothing was changed; to renew passwords and certificates use `spbe-kit secrets rotate`",
        "tidak ada yang diubah; untuk mengganti kata sandi dan sertifikat pakai `spbe-kit secrets rotate`",
    ),
    "unsafe-character": (
        "contains the control or direction character {char} at position {offset}",
        "berisi karakter kontrol atau arah {char} di posisi {offset}",
        "retype the value; copy-paste from documents can carry invisible characters",
        "ketik ulang nilainya; salinan dari dokumen dapat membawa karakter tak terlihat",
    ),
    "value-too-long": (
        "value is {length} characters; the limit is {limit}",
        "nilai {length} karakter; batasnya {limit}",
        "shorten it",
        "persingkat",
    ),
    "bind-invalid": (
        "'{value}' is not an IP address to bind to",
        "'{value}' bukan alamat IP untuk bind",
        "e.g. 0.0.0.0 for every address, or 127.0.0.1",
        "mis. 0.0.0.0 untuk semua alamat, atau 127.0.0.1",
    ),
    "age-key-invalid": (
        "'{value}' is not an age public key",
        "'{value}' bukan kunci publik age",
        "an age recipient starts with age1 and has 62 characters",
        "penerima age diawali age1 dan terdiri dari 62 karakter",
    ),
    "backup-unknown": (
        "no backup {id}",
        "tidak ada cadangan {id}",
        "recent backups: {available} (see `spbe-kit backups`)",
        "cadangan terbaru: {available} (lihat `spbe-kit backups`)",
    ),
    "backup-lacks-app": (
        "backup {id} does not contain {apps}",
        "cadangan {id} tidak memuat {apps}",
        "choose a backup that contains them (`spbe-kit backups`)",
        "pilih cadangan yang memuatnya (`spbe-kit backups`)",
    ),
    "verify-failed": (
        "restore drill failed for {app} (backup {backup}): {detail}",
        "uji pemulihan gagal untuk {app} (cadangan {backup}): {detail}",
        "take a new backup and verify it; keep the failed one for investigation",
        "buat cadangan baru lalu uji; simpan yang gagal untuk diperiksa",
    ),
    "upgrade-rolled-back": (
        "{app} {version} did not become healthy on {host}; rolled back to {previous} and restored its data from backup {backup}. Last log lines:\n      {logs}",
        "{app} {version} tidak sehat di {host}; dikembalikan ke {previous} dan datanya dipulihkan dari cadangan {backup}. Baris log terakhir:\n      {logs}",
        "the previous release serves again; fix the new release before retrying (full log: {run})",
        "rilis sebelumnya kembali melayani; perbaiki rilis baru sebelum mencoba lagi (log lengkap: {run})",
    ),
    "switch-kept-running": (
        "{app} {version} did not become healthy on {host} beside the running release; {app} {running} kept serving throughout and its data was not touched. Last log lines:\n      {logs}",
        "{app} {version} tidak sehat di {host} di samping rilis yang berjalan; {app} {running} tetap melayani sepanjang waktu dan datanya tidak disentuh. Baris log terakhir:\n      {logs}",
        "fix the new release before retrying (full log: {run})",
        "perbaiki rilis baru sebelum mencoba lagi (log lengkap: {run})",
    ),
    "rollback-nothing": (
        "nothing to roll back: {detail}",
        "tidak ada yang dikembalikan: {detail}",
        "see `spbe-kit releases`",
        "lihat `spbe-kit releases`",
    ),
    "rollback-no-backup": (
        "{app} would go back to an older database schema, but no backup was taken after release {release}",
        "{app} akan kembali ke skema basis data lama, tetapi tidak ada cadangan setelah rilis {release}",
        "restore a backup by hand with `spbe-kit restore`",
        "pulihkan cadangan secara manual dengan `spbe-kit restore`",
    ),
    "template-error": (
        "template {template}: {problem}",
        "templat {template}: {problem}",
        "a catalog template is broken; report it to the donor",
        "templat katalog rusak; laporkan ke donor",
    ),
    "unsafe-value": (
        "value {value} cannot be written safely into {target}",
        "nilai {value} tidak dapat ditulis dengan aman ke {target}",
        "remove control characters and quotes",
        "hapus karakter kontrol dan tanda kutip",
    ),
    "output-symlink": (
        "output folder '{path}' is a symbolic link",
        "folder keluaran '{path}' adalah tautan simbolik",
        "choose a real folder with -o",
        "pilih folder sungguhan dengan -o",
    ),
    "output-not-rendered": (
        "'{path}' exists and is not a rendered tree",
        "'{path}' sudah ada dan bukan hasil render",
        "choose an empty or new folder with -o",
        "pilih folder kosong atau baru dengan -o",
    ),
    "bundle-step-failed": (
        "bundle: '{step}' failed: {problem}",
        "bundle: '{step}' gagal: {problem}",
        "the donor machine needs Docker, ssh-keygen and PyPI (for the wheels)",
        "mesin donor memerlukan Docker, ssh-keygen dan PyPI (untuk wheel)",
    ),
    "bundle-key-exists": (
        "'{path}' already exists; a signing key is never overwritten",
        "'{path}' sudah ada; kunci penanda tangan tidak pernah ditimpa",
        "choose another -o PREFIX, or keep using the existing key",
        "pilih -o PREFIX lain, atau tetap pakai kunci yang ada",
    ),
    "fleet-not-a-folder": (
        "'{path}' is not a folder",
        "'{path}' bukan folder",
        "give the folder that holds the regions' profiles and reports",
        "berikan folder yang berisi profil dan laporan daerah",
    ),
    "fleet-unknown-region": (
        "'{name}' names no managed region with {app}",
        "'{name}' bukan daerah kelolaan yang memakai {app}",
        "use region codes or profile names; managed regions with {app}: {known}",
        "pakai kode daerah atau nama profil; daerah kelolaan dengan {app}: {known}",
    ),
    "fleet-region-twice": (
        "region {region} is named in more than one wave",
        "daerah {region} disebut di lebih dari satu gelombang",
        "name each region once; `rest` takes every region not named",
        "sebut setiap daerah sekali; `rest` mengambil semua daerah yang tidak disebut",
    ),
    "fleet-unknown-version": (
        "the catalog has no version {version} of {app}",
        "katalog tidak memiliki versi {version} untuk {app}",
        "versions in the catalog: {known}",
        "versi di katalog: {known}",
    ),
    "bundle-key-missing": (
        "key file '{path}' does not exist",
        "berkas kunci '{path}' tidak ada",
        "create one with `spbe-kit bundle keygen -o PREFIX`; recipients need the donor's PREFIX.pub",
        "buat dengan `spbe-kit bundle keygen -o PREFIX`; penerima memerlukan PREFIX.pub milik donor",
    ),
    "bundle-needs-source": (
        "bundle export needs the kit's source checkout (pyproject.toml), not found at {path}",
        "bundle export memerlukan sumber kit (pyproject.toml), tidak ditemukan di {path}",
        "run it from the donor's clone of the spbe-kit repository",
        "jalankan dari clone repositori spbe-kit milik donor",
    ),
    "bundle-image-missing": (
        "image {image} is not in the local Docker engine",
        "image {image} tidak ada di Docker lokal",
        "build it first: spbe-kit images build",
        "bangun dulu: spbe-kit images build",
    ),
    "bundle-missing": (
        "bundle '{path}' does not exist",
        "bundle '{path}' tidak ada",
        "",
        "",
    ),
    "bundle-signature-invalid": (
        "the bundle's signature does not verify with {key}",
        "tanda tangan bundle tidak valid dengan {key}",
        "nothing was loaded; ask the donor for the bundle and its public key again, over another channel",
        "tidak ada yang dimuat; minta ulang bundle dan kunci publik donor lewat jalur lain",
    ),
    "bundle-member-changed": (
        "bundle member {member} does not match the signed manifest",
        "anggota bundle {member} tidak cocok dengan manifest bertanda tangan",
        "the file was damaged or altered in transit; nothing was loaded",
        "berkas rusak atau diubah di perjalanan; tidak ada yang dimuat",
    ),
    "bundle-destination-used": (
        "'{path}' exists and is not empty",
        "'{path}' sudah ada dan tidak kosong",
        "choose an empty --into folder",
        "pilih folder --into yang kosong",
    ),
    "bundle-not-tar": (
        "'{path}' is not a bundle (empty, or not a tar archive)",
        "'{path}' bukan bundel (kosong, atau bukan arsip tar)",
        "check that the whole file was copied; compare its size with the donor's",
        "pastikan seluruh berkas tersalin; bandingkan ukurannya dengan milik donor",
    ),
    "bundle-manifest-invalid": (
        "the signed manifest is not in the bundle format",
        "manifest bertanda tangan tidak dalam format bundel",
        "ask the donor for a bundle made by `spbe-kit bundle export`",
        "minta donor bundel yang dibuat dengan `spbe-kit bundle export`",
    ),
    "bundle-needs-newer-kit": (
        "this bundle needs spbe-kit {needs} or newer; this kit is {have}",
        "bundel ini memerlukan spbe-kit {needs} atau lebih baru; kit ini {have}",
        "import it with a newer kit (or install the kit from the bundle's wheels after verifying it elsewhere)",
        "impor dengan kit yang lebih baru (atau pasang kit dari wheel bundel setelah diverifikasi di tempat lain)",
    ),
    "bundle-expired": (
        "the bundle's signature expired on {expires}",
        "tanda tangan bundel kedaluwarsa pada {expires}",
        "ask the donor for a current bundle; --allow-older uses it anyway and records that you did",
        "minta bundel terbaru dari donor; --allow-older tetap memakainya dan mencatatnya",
    ),
    "bundle-older": (
        "the bundle carries spbe-kit {bundled}, older than this kit ({have}): it may have been withdrawn",
        "bundel membawa spbe-kit {bundled}, lebih lama dari kit ini ({have}): mungkin sudah ditarik",
        "ask the donor for the current bundle; --allow-older uses it anyway and records that you did",
        "minta bundel terbaru dari donor; --allow-older tetap memakainya dan mencatatnya",
    ),
    "render-stale": (
        "rendered tree is out of date: {reason}",
        "hasil render sudah usang: {reason}",
        "run `spbe-kit render {profile}`",
        "jalankan `spbe-kit render {profile}`",
    ),
    "init-exists": (
        "'{path}' already exists",
        "'{path}' sudah ada",
        "choose another file with -o, or remove it first",
        "pilih berkas lain dengan -o, atau hapus dulu",
    ),
    "init-not-kabkota": (
        "'{code}' is not a kabupaten/kota in the dataset",
        "'{code}' bukan kabupaten/kota dalam data",
        "{hint}",
        "{hint}",
    ),
    "interrupted": (
        "interrupted; nothing was left half-written",
        "dihentikan; tidak ada yang tertulis setengah",
        "run the command again",
        "jalankan perintah lagi",
    ),
}

for _kind in ("unknown-key", "missing-key", "invalid-value"):
    MESSAGES[f"catalog-{_kind}"] = MESSAGES[f"profile-{_kind}"]
MESSAGES["catalog-schema"] = (
    "unsupported catalog schema '{found}'",
    "skema katalog '{found}' tidak didukung",
    "use `schema: spbe-kit/catalog/v1`",
    "gunakan `schema: spbe-kit/catalog/v1`",
)

_SUMMARY = {
    "en": "{count} diagnostic(s) found; nothing was changed.",
    "id": "{count} masalah ditemukan; tidak ada yang diubah.",
}


def detect_lang(explicit: str | None = None) -> Lang:
    choice = explicit or os.environ.get("SPBE_KIT_LANG") or ""
    if not choice:
        for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
            if os.environ.get(var):
                choice = os.environ[var]
                break
    return "id" if choice.lower().startswith(("id", "in_")) else "en"


class _Known(dict[str, Any]):
    """Parameters for ``str.format_map``: one a call site forgot stays ``{name}`` in the text
    (tests/unit/test_message_params.py keeps the package from doing so)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, params: dict[str, Any], lang: Lang) -> str:
    """The template with its parameters; a ``Said`` parameter in the template's language."""
    chosen = {k: getattr(v, lang) if isinstance(v, Said) else v for k, v in params.items()}
    try:
        return template.format_map(_Known(chosen))
    except (IndexError, ValueError, AttributeError):
        return template


def message(diag: Diagnostic, lang: Lang) -> tuple[str, str]:
    en, id_, hint_en, hint_id = MESSAGES.get(diag.code, (diag.code, diag.code, "", ""))
    if lang == "id":
        return _fill(id_, diag.params, lang), _fill(hint_id, diag.params, lang)
    return _fill(en, diag.params, lang), _fill(hint_en, diag.params, lang)


def render_diagnostic(diag: Diagnostic, lang: Lang) -> str:
    """``FILE:LINE:COL: key.path: message [code]`` and an indented hint line."""
    text, hint = message(diag, lang)
    where = str(diag.location)
    path = f" {format_key_path(diag.key_path)}:" if diag.key_path else ""
    out = f"{where}:{path} {text} [{diag.code}]"
    if hint:
        out += f"\n    {'saran' if lang == 'id' else 'hint'}: {hint}"
    return out


def summary(count: int, lang: Lang) -> str:
    return _SUMMARY[lang].format(count=count)


# What the commands say when things go right (and their progress notes): key -> (en, id).
# Placeholders must match; tests check both languages have the same ones.
TEXTS: dict[str, tuple[str, str]] = {
    "valid": ("{path}: valid ({code}, {apps} apps)", "{path}: sah ({code}, {apps} aplikasi)"),
    "render-up-to-date": ("{path}: up to date", "{path}: sudah mutakhir"),
    "render-written": ("{path}: {files} files written", "{path}: {files} berkas ditulis"),
    "render-unchanged": ("{path}: {files} files unchanged", "{path}: {files} berkas tidak berubah"),
    "init-written": (
        "{path}: written; fill in every field marked ISI, then run `spbe-kit validate {path}`",
        "{path}: ditulis; isi setiap kolom bertanda ISI, lalu jalankan `spbe-kit validate {path}`",
    ),
    "check-summary": (
        "check mode: {files} file(s) and {tasks} task(s) would change; nothing was changed",
        "mode periksa: {files} berkas dan {tasks} tugas akan berubah; tidak ada yang diubah",
    ),
    "check-version": ("    {app}: {old} -> {new} ({kind})", "    {app}: {old} -> {new} ({kind})"),
    "upgrade": ("upgrade", "pembaruan"),
    "downgrade": ("downgrade", "penurunan versi"),
    "check-file": ("    {host}: {path} would be {change}", "    {host}: {path} akan {change}"),
    "check-path": ("    {app}: {path}", "    {app}: {path}"),
    "maintenance-window": (
        "{app} restarted behind the maintenance page: away for at most {seconds} s (recorded in the release)",
        "{app} dimulai ulang di balik halaman pemeliharaan: tidak tersedia paling lama {seconds} detik (dicatat di rilis)",
    ),
    "path-start": ("would start (not running yet)", "akan dijalankan (belum berjalan)"),
    "path-switch": (
        "would switch: the new container starts beside the running one and takes over once healthy (no pause)",
        "akan dialihkan: kontainer baru dijalankan di samping yang berjalan dan mengambil alih setelah sehat (tanpa jeda)",
    ),
    "path-maintenance": (
        "would restart: the running container stops first; the maintenance page (HTTP 503) answers until the new one is up",
        "akan dimulai ulang: kontainer yang berjalan dihentikan dulu; halaman pemeliharaan (HTTP 503) menjawab sampai yang baru berjalan",
    ),
    "path-proxy": (
        "would be recreated (its image, ports or nginx.conf changed): every app refuses connections for a moment",
        "akan dibuat ulang (image, port atau nginx.conf berubah): setiap aplikasi menolak koneksi sesaat",
    ),
    "added": ("added", "ditambahkan"),
    "modified": ("modified", "diubah"),
    "removed": ("removed", "dihapus"),
    "check-task": ("    {host}: {play}: {task}", "    {host}: {play}: {task}"),
    "deploy-title": ("deployed", "terpasang"),
    "deploy-done": (
        "{tasks} task(s) changed in {seconds} s; run log: {run}",
        "{tasks} tugas berubah dalam {seconds} dtk; log run: {run}",
    ),
    "app-url": ("  {app}: {url}", "  {app}: {url}"),
    "app-url-cert": (
        "  {app}: {url} (certificate: {days} days left)",
        "  {app}: {url} (sertifikat: sisa {days} hari)",
    ),
    "note-ca-expiring": (
        "the region's CA expires in {days} days ({when}): plan its replacement (every client must trust the new one)",
        "CA daerah kedaluwarsa dalam {days} hari ({when}): rencanakan penggantinya (setiap klien harus memercayai CA baru)",
    ),
    "destroyed": (
        "removed the region's containers ({changes} changes); data volumes {kept}",
        "kontainer daerah dihapus ({changes} perubahan); volume data {kept}",
    ),
    "volumes-deleted": ("deleted", "dihapus"),
    "volumes-kept": (
        "kept (use --delete-data to delete them)",
        "disimpan (--delete-data untuk menghapusnya)",
    ),
    "verify-host": (
        "{host}: release {release}, {count} difference(s)",
        "{host}: rilis {release}, {count} perbedaan",
    ),
    "advisory-warning": (
        "warning: {app} {version} is {state} by the donor's advisory {id} ({severity})",
        "peringatan: {app} {version} {state} oleh advisori donor {id} ({severity})",
    ),
    "advisory-withdrawn": ("withdrawn", "ditarik"),
    "advisory-affected": ("affected", "terdampak"),
    "advisory-fixed": (
        "set apps.{app}.version to {version} (or newer) and deploy",
        "atur apps.{app}.version ke {version} (atau lebih baru) lalu deploy",
    ),
    "advisory-unfixed": ("no fixed version yet: ask the donor", "belum ada versi perbaikan: hubungi donor"),
    "fleet-page-written": (
        "fleet page written: {path} ({regions} regions, {attention} need attention)",
        "halaman armada ditulis: {path} ({regions} daerah, {attention} perlu perhatian)",
    ),
    "fleet-plan-step": (
        "wave {wave}: {code} ({profile}) {running} -> upgrade",
        "gelombang {wave}: {code} ({profile}) {running} -> ditingkatkan",
    ),
    "fleet-plan-already": (
        "wave {wave}: {code} ({profile}) already names {running}: deployed again to converge",
        "gelombang {wave}: {code} ({profile}) sudah {running}: di-deploy lagi agar sesuai",
    ),
    "fleet-plan-summary": (
        "{regions} region(s) to {app} {version}; nothing was changed (--dry-run)",
        "{regions} daerah ke {app} {version}; tidak ada yang diubah (--dry-run)",
    ),
    "fleet-step-start": (
        "wave {wave}: {code} {running} -> {version} ...",
        "gelombang {wave}: {code} {running} -> {version} ...",
    ),
    "fleet-step-done": ("wave {wave}: {code} upgraded (log: {log})", "gelombang {wave}: {code} selesai (log: {log})"),
    "fleet-step-already": (
        "wave {wave}: {code} already upgraded by an earlier run",
        "gelombang {wave}: {code} sudah ditingkatkan oleh jalannya sebelumnya",
    ),
    "fleet-step-failed": (
        "wave {wave}: {code} FAILED; its profile names {running} again (log: {log})",
        "gelombang {wave}: {code} GAGAL; profilnya kembali ke {running} (log: {log})",
    ),
    "fleet-stopped": (
        "stopped at {code} (wave {wave}, {detail}); regions after it were not touched. "
        "Read {log}, fix the cause, then run the same command again: it resumes at {code}",
        "berhenti di {code} (gelombang {wave}, {detail}); daerah sesudahnya tidak disentuh. "
        "Baca {log}, perbaiki penyebabnya, lalu jalankan perintah yang sama lagi: dilanjutkan dari {code}",
    ),
    "fleet-upgraded": (
        "{regions} region(s) run {app} {version}",
        "{regions} daerah menjalankan {app} {version}",
    ),
    "report-written": (
        "status report written: {path} ({kb} kB, {source}), signed with the region's key {fingerprint}",
        "laporan status ditulis: {path} ({kb} kB, {source}), ditandatangani dengan kunci daerah {fingerprint}",
    ),
    "report-source-hosts": ("read from the hosts now", "dibaca dari host sekarang"),
    "report-source-offline": (
        "offline: the rendered tree and the last state read from the hosts",
        "luring: hasil render dan keadaan terakhir yang dibaca dari host",
    ),
    "handover-written": ("handover record written: {path}", "berita acara serah terima ditulis: {path}"),
    "evidence-written": (
        "evidence pack written: {path} ({files} files, {kb} kB, {redacted} secret value(s) replaced by fingerprints)",
        "paket bukti ditulis: {path} ({files} berkas, {kb} kB, {redacted} nilai rahasia diganti sidik jari)",
    ),
    "drill-app": ("{mark}  {app}  backup {backup}: {detail}", "{mark}  {app}  cadangan {backup}: {detail}"),
    "pass": ("pass", "lulus"),
    "FAIL": ("FAIL", "GAGAL"),
    "drill-recorded": (
        "restore drill recorded on the database host at {when}",
        "uji pemulihan dicatat di host basis data pada {when}",
    ),
    "backup-written": (
        "backup {id} written (see `spbe-kit backups {profile}`)",
        "cadangan {id} ditulis (lihat `spbe-kit backups {profile}`)",
    ),
    "drill-line": ("restore drill {when}: {result}", "uji pemulihan {when}: {result}"),
    "drill-recovery": (
        "  recovery: every app restored in {rto} (target {rto_target}); the newest backup was {rpo} old (target {rpo_target}): {result}",
        "  pemulihan: semua aplikasi dipulihkan dalam {rto} (target {rto_target}); cadangan terbaru berumur {rpo} (target {rpo_target}): {result}",
    ),
    "within-target": ("within target", "sesuai target"),
    "over-target": ("OVER TARGET (backup.rto / backup.rpo in the profile)", "MELEBIHI TARGET (backup.rto / backup.rpo di profil)"),
    "schedule-line": (
        "schedule on {host}: '{schedule}' ({zone}), next {next}, last run {last}: {result}",
        "jadwal di {host}: '{schedule}' ({zone}), berikutnya {next}, terakhir {last}: {result}",
    ),
    "logs-line": (
        "access logs on {host} kept {days} days: {when}, {deleted} deleted, {kept} kept",
        "log akses di {host} disimpan {days} hari: {when}, {deleted} dihapus, {kept} disimpan",
    ),
    "ok": ("ok", "ok"),
    "failed-because": ("FAILED ({error})", "GAGAL ({error})"),
    "none-yet": ("none yet", "belum ada"),
    "restored": ("restored {apps} from backup {id}", "{apps} dipulihkan dari cadangan {id}"),
    "rollback-app": (
        "{app}: {now} -> {then} (as in release {release})",
        "{app}: {now} -> {then} (seperti rilis {release})",
    ),
    "rollback-data": (", database restored from backup {id}", ", basis data dipulihkan dari cadangan {id}"),
    "rollback-recorded": (
        "recorded as a new release; `spbe-kit verify` compares the hosts with it",
        "dicatat sebagai rilis baru; `spbe-kit verify` membandingkan host dengannya",
    ),
    "rollback-profile": (
        "the profile still names the versions deployed before: set them to keep this at the next deploy",
        "profil masih menyebut versi sebelumnya: ubahlah agar tetap begini pada deploy berikutnya",
    ),
    # Notes the core sends while it works.
    "note-rendered": ("rendered {path} ({files} files)", "hasil render {path} ({files} berkas)"),
    "note-password-created": (
        "created vault password file {path} (mode 0600); keep it safe: without it the region's secrets cannot be read",
        "berkas kata sandi vault {path} dibuat (mode 0600); simpan baik-baik: tanpanya rahasia daerah tak terbaca",
    ),
    "note-generated": ("generated {count} secrets into {path}", "{count} rahasia dibuat di {path}"),
    "note-downgrade": (
        "{app}: {old} -> {new} is a downgrade; its data may be at a newer schema (`spbe-kit rollback` restores the matching data)",
        "{app}: {old} -> {new} adalah penurunan versi; datanya mungkin berskema lebih baru (`spbe-kit rollback` memulihkan data yang cocok)",
    ),
    "note-settled": (
        "every host already holds this release ({hosts} host(s), {projects} compose project(s) running "
        "as rendered; files, images, folders, owners and secrets checked): nothing to run "
        "(`--full` runs every step anyway)",
        "setiap host sudah memegang rilis ini ({hosts} host, {projects} proyek compose berjalan sesuai "
        "render; berkas, image, folder, pemilik dan rahasia diperiksa): tidak ada yang dijalankan "
        "(`--full` tetap menjalankan setiap langkah)",
    ),
    "note-removing-projects": (
        "{host}: {projects} no longer in the profile here: containers removed, volumes (data) kept "
        "(`spbe-kit destroy --delete-data` or `docker volume rm` deletes them)",
        "{host}: {projects} tidak lagi ada di profil untuk host ini: kontainer dihapus, volume (data) "
        "disimpan (`spbe-kit destroy --delete-data` atau `docker volume rm` menghapusnya)",
    ),
    "note-backing-up": (
        "backing up before the version change ({changes})",
        "mencadangkan sebelum perubahan versi ({changes})",
    ),
    "note-switch-kept": (
        "health gate failed: {apps} kept serving on the running release; putting its files back",
        "gerbang kesehatan gagal: {apps} tetap melayani dengan rilis yang berjalan; berkasnya dikembalikan",
    ),
    "note-gate-rollback": (
        "health gate failed: rolling back {apps} and restoring data from backup {id}",
        "gerbang kesehatan gagal: mengembalikan {apps} dan memulihkan data dari cadangan {id}",
    ),
    "note-takeover-gone": (
        "taking over the lock on {host} left by {who} since {since} (its process is gone)",
        "mengambil alih kunci di {host} yang ditinggalkan {who} sejak {since} (prosesnya sudah tidak ada)",
    ),
    "note-takeover-forced": (
        "taking over the lock on {host} left by {who} since {since} (--break-lock)",
        "mengambil alih kunci di {host} yang ditinggalkan {who} sejak {since} (--break-lock)",
    ),
    "note-stop-orphans": (
        "stopping the interrupted deploy's Ansible (pid {pids})",
        "menghentikan Ansible dari deploy yang terputus (pid {pids})",
    ),
    "note-rollback-line": (
        "{app}: {now} -> {then} (release {release})",
        "{app}: {now} -> {then} (rilis {release})",
    ),
    "note-rollback-line-data": (
        "{app}: {now} -> {then} (release {release}); its database goes back to backup {id} taken "
        "{created}: changes made since then are lost",
        "{app}: {now} -> {then} (rilis {release}); basis datanya kembali ke cadangan {id} dari "
        "{created}: perubahan sejak itu hilang",
    ),
    "note-rotation-resumed": (
        "finishing the interrupted rotation of {names} first",
        "menyelesaikan dulu rotasi {names} yang terputus",
    ),
    "rotated": (
        "rotated {count} secret(s) in {seconds} s; restarted one at a time: {restarted}; recorded as release {release}",
        "{count} rahasia dirotasi dalam {seconds} dtk; dimulai ulang satu per satu: {restarted}; dicatat sebagai rilis {release}",
    ),
    "rotated-names": ("  {names}", "  {names}"),
    "alert-line": (
        "alert {name} ({severity}){where} since {since} UTC",
        "peringatan {name} ({severity}){where} sejak {since} UTC",
    ),
    "alerts-unknown": (
        "alerts: unknown (the region's Alertmanager did not answer; see the monitoring row above)",
        "peringatan: tidak diketahui (Alertmanager daerah tidak menjawab; lihat baris monitoring di atas)",
    ),
    "alerts-arrived": (
        "{integration}: arrived at {expected} of {expected} ({sent} request(s), {failed} failed)",
        "{integration}: terkirim ke {expected} dari {expected} ({sent} permintaan, {failed} gagal)",
    ),
    "alerts-failed": (
        "{integration}: NOT arrived at {missing} of {expected} ({sent} request(s), {failed} failed)",
        "{integration}: TIDAK terkirim ke {missing} dari {expected} ({sent} permintaan, {failed} gagal)",
    ),
    "alerts-tested": (
        "test notification sent through every receiver in {seconds} s",
        "uji pemberitahuan dikirim lewat setiap penerima dalam {seconds} dtk",
    ),
    "alerts-no-receiver": (
        "the profile names no receiver: add monitoring.email, webhooks or telegram to {profile}, then deploy",
        "profil tidak menyebut penerima: tambahkan monitoring.email, webhooks atau telegram ke {profile}, lalu deploy",
    ),
    "secret-set": (
        "{name} is in the vault {path}; `spbe-kit deploy` installs it",
        "{name} tersimpan di vault {path}; `spbe-kit deploy` memasangnya",
    ),
    "recovered": (
        "the hosts now run this controller's vault: {count} secret(s) reset in {seconds} s; restarted: "
        "{restarted}; recorded as release {release}. Keep the vault and its password file safe and "
        "copied: a lost vault costs a recovery",
        "host kini memakai vault controller ini: {count} rahasia disetel ulang dalam {seconds} dtk; "
        "dimulai ulang: {restarted}; dicatat sebagai rilis {release}. Simpan vault dan berkas kata "
        "sandinya dengan aman dan salinannya: vault yang hilang berarti pemulihan lagi",
    ),
    # Table headings and phase names.
    "col-host": ("host", "host"),
    "col-component": ("component", "komponen"),
    "col-version": ("version", "versi"),
    "col-state": ("state", "keadaan"),
    "col-health": ("health", "kesehatan"),
    "col-uptime": ("uptime", "waktu aktif"),
    "col-app": ("app", "aplikasi"),
    "col-when": ("when (UTC)", "waktu (UTC)"),
    "col-who": ("who", "oleh"),
    "col-versions": ("versions, backup before", "versi, cadangan sebelumnya"),
    "col-backup": ("backup", "cadangan"),
    "col-age": ("age", "umur"),
    "col-size": ("size", "ukuran"),
    "col-apps": ("apps", "aplikasi"),
    "col-check": ("check", "pemeriksaan"),
    "col-detail": ("detail", "rincian"),
    "partial": ("PARTIAL: lacks {files}", "TIDAK LENGKAP: tanpa {files}"),
    "minutes": ("{n} min", "{n} mnt"),
    "hours": ("{n} h", "{n} jam"),
    "days": ("{n} d", "{n} hr"),
    "preflight-title": ("preflight", "pemeriksaan awal"),
    "pf-reachable": ("reachable", "terjangkau"),
    "pf-os": ("os", "sistem operasi"),
    "pf-docker-engine": ("docker engine", "mesin docker"),
    "pf-compose-plugin": ("compose plugin", "plugin compose"),
    "pf-cpu": ("cpu", "cpu"),
    "pf-memory": ("memory", "memori"),
    "pf-disk": ("disk", "disk"),
    "pf-ports": ("ports", "port"),
    "pf-ownership": ("ownership", "kepemilikan"),
    "pf-clock": ("clock", "jam"),
    "pf-no-answer": ("no answer from the host", "host tidak menjawab"),
    "pf-no-answer-hint": ("check the address, SSH user and key", "periksa alamat, pengguna SSH dan kuncinya"),
    "pf-as-reported": ("{value}", "{value}"),
    "pf-missing": ("missing", "tidak ada"),
    "pf-os-unknown": ("unknown: /etc/os-release unreadable", "tidak dikenal: /etc/os-release tidak terbaca"),
    "pf-os-hint": (
        "use a Linux host with /etc/os-release (Debian 12 is tested)",
        "pakai host Linux dengan /etc/os-release (Debian 12 sudah diuji)",
    ),
    "pf-docker-down": ("not running: {value}", "tidak berjalan: {value}"),
    "pf-docker-hint": (
        "install docker.io and start dockerd (scripts/setup-engine.sh)",
        "pasang docker.io dan jalankan dockerd (scripts/setup-engine.sh)",
    ),
    "pf-compose-hint": (
        "install the compose v2 plugin 2.20 or newer (scripts/setup-engine.sh)",
        "pasang plugin compose v2 versi 2.20 atau lebih baru (scripts/setup-engine.sh)",
    ),
    "pf-cpu-detail": (
        "{cpus} cores; largest component needs {needed}",
        "{cpus} core; komponen terbesar butuh {needed}",
    ),
    "pf-cpu-hint": ("give the host more CPU cores", "tambahkan core CPU pada host"),
    "pf-memory-detail": ("{mb} MB; {names} need {needed} MB", "{mb} MB; {names} butuh {needed} MB"),
    "pf-memory-hint": (
        "add memory or move an app to another host (apps.<id>.host)",
        "tambah memori atau pindahkan aplikasi ke host lain (apps.<id>.host)",
    ),
    "pf-disk-detail": (
        "{mb} MB free on {path}; need {needed} MB",
        "{mb} MB kosong di {path}; butuh {needed} MB",
    ),
    "pf-disk-hint": ("free disk space under Docker's data root", "kosongkan ruang disk di data root Docker"),
    "pf-ports-free": ("free: {ports}", "bebas: {ports}"),
    "pf-ports-busy": ("in use by another program: {ports}", "dipakai program lain: {ports}"),
    "pf-ports-hint": (
        "stop the program holding the port, or change proxy.http_port / proxy.https_port",
        "hentikan program yang memakai port itu, atau ubah proxy.http_port / proxy.https_port",
    ),
    "pf-ownership-ok": ("installs into {root}", "dipasang di {root}"),
    "pf-ownership-foreign": (
        "region's containers come from {folders}",
        "kontainer daerah ini berasal dari {folders}",
    ),
    "pf-ownership-hint": (
        "this region is already installed from another folder on this host; destroy that one first "
        "or deploy with the same install_dir",
        "daerah ini sudah terpasang dari folder lain di host ini; hapus (destroy) yang itu dulu "
        "atau deploy dengan install_dir yang sama",
    ),
    "pf-clock-detail": ("{skew} s from the controller", "selisih {skew} dtk dari controller"),
    "pf-clock-hint": (
        "synchronise the clock (NTP); certificates and backups depend on it",
        "sinkronkan jam (NTP); sertifikat dan cadangan bergantung padanya",
    ),
    "phase-lock": ("lock", "kunci"),
    "phase-images": ("images", "image"),
    "phase-images, files, database and proxy": (
        "images, secrets and files; database and proxy (TLS)",
        "image, rahasia dan berkas; basis data dan proxy (TLS)",
    ),
    "phase-apps and backup scheduler": (
        "apps + health gate, backup scheduler",
        "aplikasi + gerbang kesehatan, penjadwal cadangan",
    ),
    "phase-files": ("secrets and files", "rahasia dan berkas"),
    "phase-database": ("database", "basis data"),
    "phase-apps": ("apps + health gate", "aplikasi + gerbang kesehatan"),
    "phase-proxy": ("proxy (TLS)", "proxy (TLS)"),
    "phase-unlock": ("unlock", "buka kunci"),
    "phase-backup scheduler": ("backup scheduler", "penjadwal cadangan"),
    "phase-schedulers on the other hosts": ("schedulers on the other hosts", "penjadwal di host lain"),
    "phase-probe": ("probe", "pemeriksaan host"),
    "phase-backups": ("backups", "cadangan"),
    "phase-release": ("release record", "catatan rilis"),
    "phase-destroy": ("destroy", "pembongkaran"),
    "phase-check the backup": ("check the backup", "periksa cadangan"),
    "phase-stop apps": ("stop apps", "hentikan aplikasi"),
    "phase-restore databases": ("restore databases", "pulihkan basis data"),
    "phase-restore volumes and start apps": (
        "restore volumes and start apps",
        "pulihkan volume dan jalankan aplikasi",
    ),
    "phase-previous release": ("previous release", "rilis sebelumnya"),
    "phase-secret files": ("secret files", "berkas rahasia"),
    "col-region": ("region", "daerah"),
    "col-deploy": ("release", "rilis"),
    "col-backup-drill": ("backup / drill", "cadangan / uji"),
    "col-audit": ("audit failing", "audit gagal"),
    "col-report": ("report", "laporan"),
    "fleet-cert-days": ("cert {days} d", "sert. {days} hr"),
    "fleet-summary": (
        "{regions} region(s), {attention} need attention",
        "{regions} daerah, {attention} perlu perhatian",
    ),
    "fleet-attention": ("{code} {name}:", "{code} {name}:"),
    "fleet-affected": ("advisory {id}: {codes}", "advisori {id}: {codes}"),
    "fleet-problem": ("{problem}", "{problem}"),
    "fleet-no-report": (
        "no report: ask the region for `spbe-kit report PROFILE -o FILE`",
        "tidak ada laporan: minta daerah menjalankan `spbe-kit report PROFIL -o BERKAS`",
    ),
    "fleet-untrusted-bad": (
        "{path} does not match its signature: changed after signing, not trusted",
        "{path} tidak cocok dengan tanda tangannya: diubah setelah ditandatangani, tidak dipercaya",
    ),
    "fleet-untrusted-wrong-key": (
        "{path} is signed by a key other than the region's registered key: not trusted",
        "{path} ditandatangani kunci lain, bukan kunci daerah yang terdaftar: tidak dipercaya",
    ),
    "fleet-untrusted-unknown-key": (
        "{path}: no key registered for this region (put its .report-key.pub in keys/CODE.pub, "
        "after comparing the fingerprint with the handover record): not trusted",
        "{path}: belum ada kunci terdaftar untuk daerah ini (simpan .report-key.pub-nya di "
        "keys/KODE.pub setelah sidik jarinya dicocokkan dengan BAST): tidak dipercaya",
    ),
    "fleet-untrusted-missing": ("{path} is not signed: not trusted", "{path} tidak bertanda tangan: tidak dipercaya"),
    "fleet-stale": ("the newest report is {days} days old", "laporan terbaru berumur {days} hari"),
    "fleet-unhealthy": ("{app} is {health}", "{app} {health}"),
    "fleet-advisory": (
        "{app} {version} is named by advisory {id} ({severity})",
        "{app} {version} disebut advisori {id} ({severity})",
    ),
    "fleet-cert": ("{app}: the certificate ends in {days} days", "{app}: sertifikat berakhir dalam {days} hari"),
    "fleet-backup-old": (
        "{app}: no complete backup within the recovery point (backup.rpo)",
        "{app}: tidak ada cadangan lengkap dalam batas titik pemulihan (backup.rpo)",
    ),
    "fleet-drill-failed": ("{app}: the last restore drill failed", "{app}: uji pemulihan terakhir gagal"),
    "fleet-drill-old": (
        "{app}: no restore drill in the last 90 days",
        "{app}: tidak ada uji pemulihan dalam 90 hari terakhir",
    ),
    "fleet-audit": ("audit checks failing: {checks}", "pemeriksaan audit gagal: {checks}"),
    "fleet-scheduler-failed": (
        "the backup scheduler's last run failed",
        "jalannya penjadwal cadangan terakhir gagal",
    ),
    "fleet-drift": (
        "{count} difference(s) from the deployed release (spbe-kit verify)",
        "{count} perbedaan dari rilis terpasang (spbe-kit verify)",
    ),
    "col-what": ("what", "jenis"),
    "col-item": ("item", "butir"),
    "col-expected": ("expected", "seharusnya"),
    "col-found": ("found", "ditemukan"),
    "col-image": ("image", "image"),
    "col-id": ("id", "id"),
    "col-build": ("build", "build"),
    "unchanged": ("unchanged", "tidak berubah"),
    "drift": (
        "drift: the hosts differ from the deployed release; `spbe-kit deploy` puts them back",
        "penyimpangan: host berbeda dari rilis terpasang; `spbe-kit deploy` mengembalikannya",
    ),
    "internal-error": (
        "internal error: {kind}: {error}\n    hint: run again with --debug for a traceback",
        "galat internal: {kind}: {error}\n    saran: jalankan lagi dengan --debug untuk melihat traceback",
    ),
    "audit-summary": (
        "{checks} checks: {passed} passed, {failed} failed, {deviations} accepted deviation(s), "
        "{not_applicable} not applicable",
        "{checks} pemeriksaan: {passed} lulus, {failed} gagal, {deviations} penyimpangan diterima, "
        "{not_applicable} tidak berlaku",
    ),
    "audit-report": ("; report: {path}", "; laporan: {path}"),
    "images-built": (
        "{count} images, {built} built, {seconds} s; lock: {output}/images.lock.json",
        "{count} image, {built} dibangun, {seconds} dtk; kunci: {output}/images.lock.json",
    ),
    "keygen-written": (
        "signing key: {prefix} (keep it private); public key for recipients: {public}",
        "kunci penanda tangan: {prefix} (rahasiakan); kunci publik untuk penerima: {public}",
    ),
    "bundle-written": (
        "bundle written: {path}: {mb} MB, {members} members, {images} images ({image_mb} MB as "
        "separate images), signed with {prefix}; {seconds} s",
        "bundel ditulis: {path}: {mb} MB, {members} anggota, {images} image ({image_mb} MB sebagai "
        "image terpisah), ditandatangani dengan {prefix}; {seconds} dtk",
    ),
    "bundle-verified": (
        "bundle verified: signed by the holder of {prefix}; {members} members match ({mb} MB in {seconds} s)",
        "bundel terverifikasi: ditandatangani pemegang {prefix}; {members} anggota cocok ({mb} MB dalam {seconds} dtk)",
    ),
    "bundle-contents": (
        "  donor {donor}, catalog {catalog}, apps: {apps}",
        "  pemberi hibah {donor}, katalog {catalog}, aplikasi: {apps}",
    ),
    "bundle-imported": (
        "bundle imported into {folder}: {mb} MB, {images} images loaded, {seconds} s",
        "bundel diimpor ke {folder}: {mb} MB, {images} image dimuat, {seconds} dtk",
    ),
    "bundle-next": (
        "next: {kit} deploy PROFILE   (no registry, no internet needed)",
        "berikutnya: {kit} deploy PROFIL   (tanpa registry, tanpa internet)",
    ),
    "word-running": ("running", "berjalan"),
    "word-exited": ("exited", "berhenti"),
    "word-restarting": ("restarting", "memulai ulang"),
    "word-created": ("created", "dibuat"),
    "word-paused": ("paused", "dijeda"),
    "word-dead": ("dead", "mati"),
    "word-missing": ("missing", "tidak ada"),
    "word-unknown": ("unknown", "tidak diketahui"),
    "word-ok": ("ok", "baik"),
    "word-live": ("live", "langsung"),
    "word-critical": ("critical", "kritis"),
    "word-high": ("high", "tinggi"),
    "word-medium": ("medium", "sedang"),
    "word-low": ("low", "rendah"),
    "word-info": ("info", "informasi"),
    "word-trust-valid": ("signed ✓", "bertanda tangan ✓"),
    "word-trust-unknown-key": ("key not registered", "kunci tak terdaftar"),
    "word-trust-wrong-key": ("WRONG KEY", "KUNCI SALAH"),
    "word-trust-bad": ("TAMPERED", "DIUBAH"),
    "word-trust-missing": ("NOT SIGNED", "TIDAK BERTANDA TANGAN"),
    "word-trust-none": ("no report", "tanpa laporan"),
    "word-healthy": ("healthy", "sehat"),
    "word-unhealthy": ("unhealthy", "tidak sehat"),
    "word-starting": ("starting", "memulai"),
    "word-none": ("none", "-"),
    "word-connection refused": ("connection refused", "koneksi ditolak"),
    "word-connection reset": ("connection reset", "koneksi terputus"),
    "word-timed out": ("timed out", "waktu habis"),
    "word-release": ("release", "rilis"),
    "word-file": ("file", "berkas"),
    "word-service": ("service", "layanan"),
    "word-image": ("image", "image"),
    "word-port": ("port", "port"),
    "word-secret": ("secret", "rahasia"),
    "word-certificate": ("certificate", "sertifikat"),
    "word-served": ("served certificate", "sertifikat yang disajikan"),
    "word-as in the vault": ("as in the vault", "sama dengan vault"),
    "word-differs from the vault": ("differs from the vault", "berbeda dari vault"),
    "word-absent": ("absent", "tidak ada"),
    "word-no certificate served": ("no certificate served", "tidak ada sertifikat disajikan"),
    "word-published": ("published", "dibuka"),
    "word-not published": ("not published", "tidak dibuka"),
    "word-a deployed release": ("a deployed release", "rilis yang terpasang"),
    "word-none recorded": ("none recorded", "tidak ada catatan"),
    "word-no container": ("no container", "tidak ada kontainer"),
    "word-certificate not trusted": ("certificate not trusted", "sertifikat tidak dipercaya"),
    "word-manual": ("manual", "manual"),
    "word-pre-upgrade": ("before an upgrade", "sebelum pembaruan"),
    "word-pre-rollback": ("before a rollback", "sebelum rollback"),
    "changed": ("changed", "berubah"),
    "go": ("go", "lanjut"),
    "no-go": ("NO-GO", "TIDAK"),
}


def say(key: str, lang: Lang, **params: Any) -> str:
    """A sentence of the commands' output in ``lang``; a missing parameter is a bug, not text."""
    en, id_ = TEXTS[key]
    chosen = {k: getattr(v, lang) if isinstance(v, Said) else v for k, v in params.items()}
    return (id_ if lang == "id" else en).format(**chosen)


def word(value: str, lang: Lang) -> str:
    """A state Docker or a host record reports (``running``, ``healthy``, ``pre-upgrade``),
    in ``lang`` when the catalog knows it; anything else as it came."""
    key = f"word-{value}"
    return say(key, lang) if key in TEXTS else value


# Ansible task names as the deploy output shows them (a task is shown when it changed or
# failed). The playbooks are written in English; tests check every task name has an entry.
TASKS_ID: dict[str, str] = {
    "Collect the logs of the unhealthy apps": "Kumpulkan log aplikasi yang tidak sehat",
    "Compose projects installed on the host": "Proyek compose yang terpasang di host",
    "Copy the rendered tree": "Salin pohon hasil render",
    "Take down the compose projects the release no longer has here": (
        "Hentikan proyek compose yang tidak lagi ada di rilis untuk host ini"
    ),
    "The database": "Basis data",
    "The proxy": "Proxy",
    "Create one role and one database per app": "Buat satu role dan satu basis data per aplikasi",
    "Create the read-only backup role (pg_read_all_data)": "Buat role cadangan hanya-baca (pg_read_all_data)",
    "Create the region's network unless it exists": "Buat jaringan daerah bila belum ada",
    "Describe the release": "Uraikan rilis",
    "Set the new passwords of the roles without an app": "Atur kata sandi baru role tanpa aplikasi",
    "Restart PostgreSQL (its certificate changed)": "Mulai ulang PostgreSQL (sertifikatnya berubah)",
    "Set each app's new database password, then restart the app": (
        "Atur kata sandi basis data baru tiap aplikasi, lalu mulai ulang aplikasinya"
    ),
    "Set the app's new database password": "Atur kata sandi basis data baru aplikasi",
    "Restart the consumer and wait until it is healthy": "Mulai ulang pemakai dan tunggu sampai sehat",
    "Existing roles and databases": "Role dan basis data yang sudah ada",
    "Forget releases beyond the kept number": "Lupakan rilis di luar jumlah yang disimpan",
    "Health gate": "Gerbang kesehatan",
    "Images the host would receive": "Image yang akan diterima host",
    "Install folders, secret files and the vault record": "Folder instalasi, berkas rahasia dan catatan vault",
    "Keep the installed files (a rollback)": "Simpan berkas yang terpasang (sebuah rollback)",
    "Keep the release's files": "Simpan berkas rilis",
    "Postgres up": "Postgres berjalan",
    "Proxy up": "Proxy berjalan",
    "Pull missing images from the registry": "Tarik image yang belum ada dari registry",
    "Reinstall the release's files": "Pasang ulang berkas rilis",
    "Switch apps back to the release": "Alihkan aplikasi kembali ke rilis",
    "Reload nginx (the kept apps' virtual hosts)": "Muat ulang nginx (virtual host aplikasi yang dipertahankan)",
    "Release folder": "Folder rilis",
    "Release the deploy lock": "Lepaskan kunci deploy",
    "Release the deploy lock held by this run": "Lepaskan kunci deploy milik run ini",
    "Reload certificates": "Muat ulang sertifikat",
    "Reload nginx (virtual hosts or certificates changed)": "Muat ulang nginx (virtual host atau sertifikat berubah)",
    "Remove installed files the release no longer has": "Hapus berkas terpasang yang tidak ada lagi di rilis",
    "ACME certificates to start with": "Sertifikat awal sebelum sertifikat ACME terbit",
    "Obtain the ACME certificates that are due": "Ambil sertifikat ACME yang sudah waktunya",
    "Report the ACME certificates": "Laporkan sertifikat ACME",
    "Remove containers (data volumes stay unless --delete-data)": (
        "Hapus kontainer (volume data tetap kecuali dengan --delete-data)"
    ),
    "Remove installed files and secrets from the host": "Hapus berkas terpasang dan rahasia dari host",
    "Remove the install folder (with --delete-data)": "Hapus folder instalasi (dengan --delete-data)",
    "Remove the region's network": "Hapus jaringan daerah",
    "Remove what compose left (--delete-data removes every volume of the region's projects)": (
        "Hapus sisa compose (--delete-data menghapus setiap volume proyek daerah)"
    ),
    "Report the health gate": "Laporkan gerbang kesehatan",
    "Restore databases from the backup": "Pulihkan basis data dari cadangan",
    "Restore volumes from the backup": "Pulihkan volume dari cadangan",
    "Exporters up": "Eksportir metrik dinyalakan",
    "Reinstall the release's scheduler files": "Pasang ulang berkas penjadwal dari rilis",
    "The scheduler as the release has it": "Penjadwal seperti pada rilis",
    "Monitoring up": "Pemantauan dinyalakan",
    "Create the monitoring role (pg_monitor)": "Buat role pemantauan (pg_monitor)",
    "Scheduler up (after the apps, whose volumes it mounts)": (
        "Penjadwal berjalan (setelah aplikasi, yang volumenya ia pasang)"
    ),
    "Start apps": "Jalankan aplikasi",
    "Undo a switch an interrupted deploy left": "Batalkan peralihan yang ditinggalkan deploy yang terputus",
    "Switch apps to their new container": "Alihkan aplikasi ke kontainer barunya",
    "Start each beside its running release, then move its requests to it": (
        "Jalankan masing-masing di samping rilis yang berjalan, lalu alihkan permintaannya"
    ),
    "Report the health gate of the switched apps": "Laporkan gerbang kesehatan aplikasi yang dialihkan",
    "Start the release": "Jalankan rilis",
    "Start the restored apps": "Jalankan aplikasi yang dipulihkan",
    "Stop the apps being restored": "Hentikan aplikasi yang dipulihkan",
    "Stop the apps being rolled back": "Hentikan aplikasi yang dikembalikan",
    "Take the deploy lock": "Ambil kunci deploy",
    "Stream the missing images to the host (shared layers once)": (
        "Alirkan image yang belum ada ke host (lapisan bersama sekali)"
    ),
    "Unpack the rendered tree": "Buka pohon hasil render",
    "Verify the checksums of the files to restore": "Periksa checksum berkas yang akan dipulihkan",
    "Wait until every started app is healthy (together, failing early)": (
        "Tunggu sampai setiap aplikasi yang dijalankan sehat (bersama, gagal lebih awal)"
    ),
    "What compose may preview": "Yang dapat dipratinjau compose",
    "Write secret files (readable only by the container user)": (
        "Tulis berkas rahasia (hanya dapat dibaca pengguna kontainer)"
    ),
    # backup.yml names its one task after the action it runs.
    "Backup": "Cadangkan",
    "List": "Daftar cadangan",
    "Verify": "Uji pemulihan",
}


def phase_name(play: str, lang: Lang) -> str:
    """A playbook play's name as a phase of the output in ``lang``."""
    key = phase_key(play)
    return say(key, lang) if key in TEXTS else play


def phase_key(play: str) -> str:
    """The message key of a play's phase. Play names start with a capital (ansible-lint's
    name[casing]); message keys do not."""
    return f"phase-{play[:1].lower()}{play[1:]}"


def task_name(name: str, lang: Lang) -> str:
    """A playbook task's name in ``lang`` (the English name when a translation is missing)."""
    return TASKS_ID.get(name, name) if lang == "id" else name
