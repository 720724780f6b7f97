"""Where the donor's shipped files live: the catalog, templates, playbooks and schemas.

A wheel carries them under ``spbe_kit/_bundled``; a source checkout (editable install, tests)
has them at the repository root. Nothing else in the package should guess paths.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def shipped_root() -> Path:
    bundled = _PACKAGE_DIR / "_bundled"
    if (bundled / "catalog.yaml").is_file():
        return bundled
    return _PACKAGE_DIR.parent


def default_catalog() -> Path:
    return shipped_root() / "catalog.yaml"


def templates_dir() -> Path:
    return shipped_root() / "templates"


def playbooks_dir() -> Path:
    return shipped_root() / "playbooks"


def schemas_dir() -> Path:
    return shipped_root() / "schemas"


def images_dir() -> Path:
    return shipped_root() / "images"


def wilayah_csv() -> Path:
    return _PACKAGE_DIR / "data" / "wilayah-kemendagri.csv"


def controls_yaml() -> Path:
    """Every control the audit cites, with its version and source (spbe_kit/data)."""
    return _PACKAGE_DIR / "data" / "controls.yaml"
