"""A fourth granted app needs no change to the kit: its catalog entry, its image build entry
and its settings are enough for init, render, deploy, status and destroy (real Docker,
Ansible, PostgreSQL and nginx, on this machine, ports 21080/21443)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT
from e2e.helpers import local_profile, spbe_kit
from spbe_kit import pipeline
from spbe_kit.hosts.verify import _PinnedHTTPS, proxy_address, tls_context
from spbe_kit.render.context import build_context

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.ansible]

APP = "e-arsip"
IMAGE = f"spbe-kit/{APP}:1.0.0"
# The catalog entry, as the donor would add it below the three apps.
ENTRY = f"""
  {APP}:
    title:
      id: e-Arsip — Pengelolaan arsip dinamis daerah
      en: e-Arsip — The region's records management
    family: kearsipan
    maintainer: Diskominfo dan Dinas Kearsipan Kabupaten Sumedang
    subdomain: arsip
    port: 8000
    host_port: 8104
    user: "10001:10001"
    health: /healthz
    versions:
      "1.0.0":
        image: {IMAGE}
        released: 2026-11-28
        schema_generation: 1
    settings:
      timezone:
        type: choice
        default: Asia/Jakarta
        choices: [Asia/Jakarta, Asia/Makassar, Asia/Jayapura]
        description: {{ id: "Zona waktu (WIB, WITA, WIT)", en: "Time zone (WIB, WITA, WIT)" }}
      retention_years:
        type: int
        default: 10
        min: 1
        max: 30
        description: {{ id: Masa simpan arsip aktif (tahun), en: Active records retention (years) }}
    secrets:
      db_password: {{ id: Kata sandi basis data aplikasi, en: The app's database password }}
    data_classes: [umum]
    volumes:
      uploads: {{ path: /var/lib/spbe-app/uploads }}
    resources: {{ cpus: 0.5, memory_mb: 256, disk_mb: 1024, pids: 128 }}
    functions: [kearsipan]
    admin_paths: [/admin/]
    purpose:
      id: Pengelolaan arsip dinamis perangkat daerah
      en: Managing the records of the region's offices
    data_subjects:
      id: Pegawai pengelola arsip
      en: Staff who manage the records
"""


def _build_image(images: Path) -> None:
    """The app's image build entry, built the way `spbe-kit images build` builds the others."""
    from spbe_kit.grant.images import Builder, ImageSpec, load_spec

    spec = load_spec()
    entry = {"context": "app", "from": "spbe-kit/python:bookworm", "args": {"APP": APP, "VERSION": "1.0.0"}}
    spec.images[IMAGE] = ImageSpec.model_validate(entry)
    Builder(spec, images, lambda line: None).build(IMAGE)


def _request(profile: Path, catalog: Path, path: str, body: dict | None = None) -> tuple[int, bytes]:
    validated = pipeline.validate(profile, catalog)
    ctx = build_context(validated.profile, validated.catalog)
    ca = profile.with_name(profile.stem + ".ca.crt").read_text()
    connection = _PinnedHTTPS(
        ctx.apps[APP].hostname, proxy_address(ctx), ctx.profile.proxy.https_port, tls_context(ca), 10
    )
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload else {}
    connection.request("POST" if payload else "GET", path, body=payload, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def test_a_fourth_catalog_app_is_offered_rendered_and_deployed(images: Path, tmp_path: Path) -> None:
    _build_image(images)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text((ROOT / "catalog.yaml").read_text().rstrip("\n") + "\n" + ENTRY)

    # init offers every app of the catalog it is given, the new one included.
    starter = tmp_path / "garut.yaml"
    made = spbe_kit("--catalog", str(catalog), "init", "32.05", "-o", str(starter), cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    offered = f'  {APP}:\n    version: "1.0.0"\n    settings:\n      timezone: Asia/Jakarta\n'
    assert offered in starter.read_text()

    region = ("32.06", "Kabupaten Tasikmalaya", "tasikmalayakab", "tasikmalaya")
    profile = local_profile(tmp_path, https_port=21443, http_port=21080, region=region)
    chosen = f'\napps:\n  {APP}:\n    version: "1.0.0"\n'
    profile.write_text(profile.read_text().replace("\napps:\n", chosen, 1))
    refused = spbe_kit("validate", str(profile), cwd=tmp_path)
    assert refused.returncode == 2 and APP in refused.stderr  # the kit's own catalog does not know it

    deployed = spbe_kit("--catalog", str(catalog), "deploy", str(profile), cwd=tmp_path)
    try:
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        tree = tmp_path / "build" / "tasikmalaya"
        assert (tree / "hosts" / "local" / APP / "compose.yaml").is_file()
        config = json.loads((tree / "hosts" / "local" / APP / "config.json").read_text())
        assert config["settings"]["retention_years"] == 10

        status = spbe_kit("--catalog", str(catalog), "status", str(profile), "--json", cwd=tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        rows = {c["component"]: c for c in json.loads(status.stdout)["components"]}
        assert rows[APP]["health"] == "healthy" and rows[APP]["version"] == "1.0.0"

        created, _ = _request(profile, catalog, "/api/records", {"title": "Surat keputusan 1/2026"})
        assert created == 201
        listed, body = _request(profile, catalog, "/api/records")
        assert listed == 200 and json.loads(body)["count"] == 1
        admin, _ = _request(profile, catalog, "/admin/")
        assert admin == 403  # no admin network declared: the proxy refuses everyone
    finally:
        gone = spbe_kit(
            "--catalog", str(catalog), "destroy", str(profile), "--yes", "--delete-data", cwd=tmp_path
        )
    assert gone.returncode == 0, gone.stdout + gone.stderr
