"""Kemendagri region codes (kode wilayah), from the dataset shipped in ``spbe_kit/data``.

Owns code formats and look-ups. BPS statistical codes are another scheme: never convert.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from functools import cache, cached_property

from spbe_kit.resources import wilayah_csv

DATASET_BASIS = "Kepmendagri 300.2.2-2138/2025"
KABKOTA_CODE = re.compile(r"^([0-9]{2})\.([0-9]{2})$")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str

    @property
    def is_kota(self) -> bool:
        return self.level == "kabupaten_kota" and self.name.startswith("Kota ")

    @property
    def slug(self) -> str:
        """A folder-safe name: ``Kabupaten Konawe Selatan`` -> ``konawe-selatan``."""
        name = re.sub(r"^Kabupaten ", "", self.name)
        return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class Dataset:
    regions: dict[str, Region]
    sha256: str

    def get(self, code: str) -> Region | None:
        return self.regions.get(code)

    def kabupaten_kota(self) -> list[Region]:
        return [r for r in self.regions.values() if r.level == "kabupaten_kota"]

    def kecamatan_of(self, code: str) -> list[Region]:
        return self._kecamatan.get(code, [])

    @cached_property
    def _kecamatan(self) -> dict[str, list[Region]]:
        """Kecamatan by their kabupaten/kota code (NN.NN.NN -> NN.NN), in dataset order."""
        found: dict[str, list[Region]] = {}
        for region in self.regions.values():
            if region.level == "kecamatan":
                found.setdefault(region.code.rsplit(".", 1)[0], []).append(region)
        return found


def kabkota_code_problem(code: str) -> str | None:
    """Why ``code`` is not a kabupaten/kota code (``NN.01``-``NN.69``, ``NN.71``-``NN.99``)."""
    match = KABKOTA_CODE.match(code)
    if not match:
        return "format"
    number = int(match.group(2))
    if not (1 <= number <= 69 or 71 <= number <= 99):
        return "range"
    return None


@cache
def dataset() -> Dataset:
    raw = wilayah_csv().read_bytes()
    rows = csv.DictReader(raw.decode("utf-8").splitlines())
    regions = {r["kode"]: Region(r["kode"], r["nama"], r["tingkat"]) for r in rows}
    return Dataset(regions, hashlib.sha256(raw).hexdigest())


# Province codes by time zone: WITA (UTC+8) and WIT (UTC+9); every other province is WIB.
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96", "97"}


def timezone_of(code: str) -> str:
    province = code[:2]
    if province in _WIT:
        return "Asia/Jayapura"
    if province in _WITA:
        return "Asia/Makassar"
    return "Asia/Jakarta"
