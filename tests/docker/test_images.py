"""`spbe-kit images build`: every catalog image exists, a second run rebuilds nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from spbe_kit.grant.images import build_images, load_spec, sbom_name, unbuildable
from spbe_kit.resources import default_catalog
from spbe_kit.validate import load_catalog

pytestmark = pytest.mark.docker


def test_every_catalog_image_has_a_build_recipe() -> None:
    catalog, _ = load_catalog(default_catalog())
    assert unbuildable(load_spec(), catalog) == []


def test_second_build_rebuilds_nothing(images: Path, tmp_path: Path) -> None:
    start = time.monotonic()
    results = build_images(tmp_path, lambda line: None, [], include_tests=True)
    elapsed = time.monotonic() - start
    assert all(r.cached for r in results), [r.tag for r in results if not r.cached]
    assert elapsed < 10
    catalog, _ = load_catalog(default_catalog())
    lock = json.loads((tmp_path / "images.lock.json").read_text())
    for app in catalog.apps.values():
        for version in app.versions.values():
            assert lock[version.image]["id"].startswith("sha256:")
            packages = (tmp_path / sbom_name(version.image)).read_text()
            assert "\npython3-psycopg2\t" in packages
    assert "postgresql-15\t15." in (tmp_path / sbom_name("spbe-kit/postgres:15")).read_text()


def test_only_selects_by_app_name(images: Path, tmp_path: Path) -> None:
    results = build_images(tmp_path, lambda line: None, ["simpeg"])
    assert [r.tag for r in results] == [
        "spbe-kit/debian:bookworm",
        "spbe-kit/python:bookworm",
        "spbe-kit/simpeg:1.0.0",
        "spbe-kit/simpeg:1.1.0",
    ]


def test_cli_reports_unknown_image(cli) -> None:
    result = cli("images", "build", "--only", "nope")
    assert result.exit_code == 2
    assert "no image matches 'nope' [image-unknown]" in result.stderr
