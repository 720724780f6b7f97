"""The three granted apps: their schema migrations, record validation and summaries; any
other app id (a catalog's newer app, before its own image exists) gets a plain record book.

Each app's schema grows by generation; version 1.0.0 knows generation 1, 1.1.0 knows 2.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

SUPPORTED_GENERATION = {"1.0.0": 1, "1.1.0": 2}


class Invalid(ValueError):
    """A record that the API refuses, with a message for the client."""


# WHO Child Growth Standards (2006), length/height-for-age: median and SD at six-month knots,
# linearly interpolated between them. Enough for a reference classification.
_HFA = {
    "L": [
        (0, 49.9, 1.89),
        (6, 67.6, 2.24),
        (12, 75.7, 2.50),
        (18, 82.3, 2.80),
        (24, 87.1, 3.06),
        (30, 91.9, 3.36),
        (36, 96.1, 3.70),
        (42, 99.9, 3.97),
        (48, 103.3, 4.22),
        (54, 106.7, 4.46),
        (60, 110.0, 4.70),
    ],
    "P": [
        (0, 49.1, 1.86),
        (6, 65.7, 2.32),
        (12, 74.0, 2.60),
        (18, 80.7, 2.90),
        (24, 85.7, 3.22),
        (30, 90.7, 3.54),
        (36, 95.1, 3.72),
        (42, 99.0, 3.99),
        (48, 102.7, 4.26),
        (54, 106.2, 4.52),
        (60, 109.4, 4.76),
    ],
}


def height_for_age_z(sex: str, age_months: int, height_cm: float) -> float:
    knots = _HFA[sex]
    for (m0, med0, sd0), (m1, med1, sd1) in pairwise(knots):
        if m0 <= age_months <= m1:
            t = (age_months - m0) / (m1 - m0)
            median, sd = med0 + t * (med1 - med0), sd0 + t * (sd1 - sd0)
            return round((height_cm - median) / sd, 2)
    raise Invalid("age_months must be between 0 and 60")


def stunting_status(z: float) -> str:
    if z < -3:
        return "sangat pendek"  # severely stunted
    if z < -2:
        return "pendek"  # stunted
    return "normal"


def nip_problem(nip: str) -> str | None:
    """NIP: birth date (8), TMT CPNS yyyymm (6), gender 1/2 (1), serial (3)."""
    if not re.fullmatch(r"[0-9]{18}", nip):
        return "NIP must be 18 digits"
    try:
        born = datetime.date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        return "NIP birth date (digits 1-8) is not a date"
    year, month = int(nip[8:12]), int(nip[12:14])
    if not 1 <= month <= 12 or year < born.year + 18:
        return "NIP TMT CPNS (digits 9-14) is not a valid month at least 18 years after birth"
    if nip[14] not in "12":
        return "NIP gender digit (15) must be 1 or 2"
    if nip[15:] == "000":
        return "NIP serial (16-18) must not be 000"
    return None


@dataclass(frozen=True)
class AppSpec:
    table: str
    migrations: dict[int, list[str]]
    create: Callable[[dict[str, Any], dict[str, Any], int], dict[str, Any]]
    columns: Callable[[int], list[str]]
    # Generations whose migration only adds (a column with a default, a table): the release
    # before keeps working on them, so it may run beside the new one (catalog: migration expand).
    expand: frozenset[int] = frozenset()


def _simpati_create(body: dict[str, Any], config: dict[str, Any], generation: int) -> dict[str, Any]:
    kecamatan = {k["code"] for k in config["kecamatan"]}
    try:
        sex, age, height = str(body["sex"]), int(body["age_months"]), float(body["height_cm"])
        child, code = str(body["child_ref"]), str(body["kecamatan_code"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Invalid(f"child_ref, sex, age_months, height_cm, kecamatan_code required ({exc})") from None
    if sex not in ("L", "P"):
        raise Invalid("sex must be L or P")
    if code not in kecamatan:
        raise Invalid(f"kecamatan_code {code} is not a kecamatan of {config['region']['name']}")
    if not 30 <= height <= 130:
        raise Invalid("height_cm must be between 30 and 130")
    z = height_for_age_z(sex, age, height)
    row = {
        "child_ref": child,
        "sex": sex,
        "age_months": age,
        "height_cm": height,
        "kecamatan_code": code,
        "haz": z,
        "status": stunting_status(z),
    }
    if generation >= 2 and body.get("muac_cm") is not None:
        row["muac_cm"] = float(body["muac_cm"])
    return row


def _simpeg_create(body: dict[str, Any], config: dict[str, Any], generation: int) -> dict[str, Any]:
    nip, name, unit = str(body.get("nip", "")), str(body.get("name", "")), str(body.get("unit", ""))
    problem = nip_problem(nip)
    if problem and config["settings"].get("strict_nip", True):
        raise Invalid(problem)
    if not name or not unit:
        raise Invalid("name and unit are required")
    row: dict[str, Any] = {"nip": nip, "name": name, "unit": unit}
    if generation >= 2 and body.get("position"):
        row["_position"] = str(body["position"])
    return row


def _layanan_create(body: dict[str, Any], config: dict[str, Any], generation: int) -> dict[str, Any]:
    service, applicant = str(body.get("service", "")), str(body.get("applicant_ref", ""))
    if not service or not applicant:
        raise Invalid("service and applicant_ref are required")
    row: dict[str, Any] = {"service": service, "applicant_ref": applicant, "status": "diterima"}
    if generation >= 2:
        channel = str(body.get("channel", "loket"))
        if channel not in ("loket", "daring", "mpp"):
            raise Invalid("channel must be loket, daring or mpp")
        row["channel"] = channel
    return row


APPS: dict[str, AppSpec] = {
    "e-simpati": AppSpec(
        table="measurements",
        migrations={
            1: [
                """CREATE TABLE measurements (
                     id serial PRIMARY KEY,
                     child_ref text NOT NULL,
                     sex char(1) NOT NULL CHECK (sex IN ('L', 'P')),
                     age_months int NOT NULL CHECK (age_months BETWEEN 0 AND 60),
                     height_cm numeric(5,1) NOT NULL,
                     kecamatan_code text NOT NULL,
                     haz numeric(5,2) NOT NULL,
                     status text NOT NULL,
                     measured_on date NOT NULL DEFAULT current_date,
                     created_at timestamptz NOT NULL DEFAULT now())""",
                "CREATE INDEX measurements_kecamatan ON measurements (kecamatan_code)",
            ],
            2: ["ALTER TABLE measurements ADD COLUMN muac_cm numeric(4,1)"],
        },
        create=_simpati_create,
        expand=frozenset({2}),
        columns=lambda g: (
            [
                "id",
                "child_ref",
                "sex",
                "age_months",
                "height_cm",
                "kecamatan_code",
                "haz",
                "status",
                "measured_on",
            ]
            + (["muac_cm"] if g >= 2 else [])
        ),
    ),
    "simpeg": AppSpec(
        table="employees",
        migrations={
            1: [
                """CREATE TABLE employees (
                     id serial PRIMARY KEY,
                     nip char(18) NOT NULL UNIQUE,
                     name text NOT NULL,
                     unit text NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now())"""
            ],
            2: [
                """CREATE TABLE position_history (
                     id serial PRIMARY KEY,
                     employee_id int NOT NULL REFERENCES employees(id),
                     position text NOT NULL,
                     since date NOT NULL DEFAULT current_date)"""
            ],
        },
        create=_simpeg_create,
        expand=frozenset({2}),
        columns=lambda g: ["id", "nip", "name", "unit"],
    ),
    "layanan-publik": AppSpec(
        table="requests",
        migrations={
            1: [
                """CREATE TABLE requests (
                     id serial PRIMARY KEY,
                     service text NOT NULL,
                     applicant_ref text NOT NULL,
                     status text NOT NULL CHECK (status IN ('diterima', 'diproses', 'selesai', 'ditolak')),
                     created_at timestamptz NOT NULL DEFAULT now())"""
            ],
            2: [
                """ALTER TABLE requests ADD COLUMN channel text NOT NULL DEFAULT 'loket'
                     CHECK (channel IN ('loket', 'daring', 'mpp'))"""
            ],
        },
        create=_layanan_create,
        expand=frozenset({2}),
        columns=lambda g: ["id", "service", "applicant_ref", "status"] + (["channel"] if g >= 2 else []),
    ),
}


def _record_create(body: dict[str, Any], config: dict[str, Any], generation: int) -> dict[str, Any]:
    title = str(body.get("title", ""))
    if not title:
        raise Invalid("title is required")
    row: dict[str, Any] = {"title": title}
    if generation >= 2:
        row["note"] = str(body.get("note", ""))
    return row


# What an app id the image does not know runs: titled records, one column more in 1.1.0.
RECORDS = AppSpec(
    table="records",
    migrations={
        1: [
            """CREATE TABLE records (
                 id serial PRIMARY KEY,
                 title text NOT NULL,
                 created_at timestamptz NOT NULL DEFAULT now())"""
        ],
        2: ["ALTER TABLE records ADD COLUMN note text NOT NULL DEFAULT ''"],
    },
    create=_record_create,
    expand=frozenset({2}),
    columns=lambda g: ["id", "title"] + (["note"] if g >= 2 else []),
)
