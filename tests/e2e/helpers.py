"""Profiles and checks shared by the end-to-end deploy tests (real Docker, Ansible, SSH)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import EXAMPLES, ROOT
from spbe_kit import pipeline
from spbe_kit.hosts import vault
from spbe_kit.hosts.verify import check_app
from spbe_kit.render.context import Context, build_context


def local_profile(
    folder: Path,
    https_port: int = 18443,
    http_port: int = 18080,
    versions: str = "1.0.0",
    region: tuple[str, str, str, str] = ("32.79", "Kota Banjar", "banjarkota", "banjar"),
) -> Path:
    """The demo, as another region (Kota Banjar by default) on other ports and its own folder."""
    code, name, domain, stem = region
    text = (EXAMPLES / "demo.yaml").read_text()
    for old, new in (
        ('"32.08"', f'"{code}"'),
        ("Kabupaten Kuningan", name),
        ("kuningankab", domain),
        ("http_port: 8080", f"http_port: {http_port}"),
        ("https_port: 8443", f"https_port: {https_port}"),
        ("install_dir: /opt/spbe-kit", f"install_dir: {folder / 'opt'}"),
        ('version: "1.0.0"', f'version: "{versions}"'),
    ):
        text = text.replace(old, new)
    path = folder / f"{stem}.yaml"
    path.write_text(text)
    return path


def api(
    profile: Path, app: str, path: str, body: dict[str, Any] | None = None, catalog: Path | None = None
) -> Any:
    """Call an app's JSON API over HTTPS through the proxy, verifying the region's CA."""
    status, data = request(profile, app, path, body, catalog)
    assert status in (200, 201), (status, data)
    return json.loads(data)


def request(
    profile: Path, app: str, path: str, body: dict[str, Any] | None = None, catalog: Path | None = None
) -> tuple[int, bytes]:
    """One HTTPS request to an app through the proxy (the region's CA verified): status, body."""
    from spbe_kit.hosts.verify import _PinnedHTTPS, proxy_address, tls_context

    ctx = context(profile, catalog)
    ca = profile.with_name(profile.stem + ".ca.crt").read_text()
    app_ctx = ctx.apps[app]
    connection = _PinnedHTTPS(
        app_ctx.hostname, proxy_address(ctx), ctx.profile.proxy.https_port, tls_context(ca), 10
    )
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload else {}
    connection.request("POST" if payload else "GET", path, body=payload, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def context(profile: Path, catalog: Path | None = None) -> Context:
    validated = pipeline.validate(profile, catalog)
    return build_context(validated.profile, validated.catalog)


def secret_values(profile: Path) -> list[str]:
    data = vault.load(vault.vault_path(profile), vault.default_password_file(profile))
    return vault.Secrets(data).values()


def https_health(profile: Path) -> dict[str, bool]:
    ctx = context(profile)
    ca = profile.with_name(profile.stem + ".ca.crt").read_text()
    return {app: check_app(ctx, app, ca).ok for app in ctx.apps}


def region_containers(code: str) -> list[dict[str, Any]]:
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=org.spbe-kit.region={code}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not ids:
        return []
    return list(
        json.loads(
            subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True).stdout
        )
    )


def start_times(code: str) -> dict[str, str]:
    return {c["Name"]: c["State"]["StartedAt"] for c in region_containers(code)}


def spbe_kit(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 900,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, as a user runs it (``input``: its standard input)."""
    import os
    import sys

    return subprocess.run(
        [sys.executable, "-m", "spbe_kit", "--lang", "en", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        input=input,
    )


def broken_release_catalog(folder: Path, app: str, version: str, like: str) -> Path:
    """A catalog with ``app`` at ``version``: an image of ``like`` whose /healthz always fails,
    and a 20 s health timeout, for health-gate tests."""
    import yaml

    image = f"spbe-kit/{app}:{version}"
    subprocess.run(
        [
            "docker",
            "build",
            "-q",
            "-t",
            image,
            "--build-arg",
            f"APP={app}",
            "--build-arg",
            f"VERSION={like}",
            "--build-arg",
            "BROKEN=1",
            str(ROOT / "images" / "app"),
        ],
        check=True,
        capture_output=True,
    )
    catalog = yaml.safe_load((ROOT / "catalog.yaml").read_text())
    spec = catalog["apps"][app]
    generation = spec["versions"][like].get("schema_generation", 1)
    spec["versions"][version] = {"image": image, "released": "2026-11-25", "schema_generation": generation}
    spec["health_timeout_s"] = 20
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return path


class Traffic:
    """Citizens' requests while a command runs: one client per app asks its health endpoint
    through the proxy every 50 ms, each on a new connection, and keeps (status, Retry-After)
    or the connection error. Use as a context manager; ``failed(app)`` lists every answer that
    was not a healthy 200."""

    def __init__(self, profile: Path) -> None:
        import threading

        self.ctx = context(profile)
        self.ca = profile.with_name(profile.stem + ".ca.crt").read_text()
        self.answers: dict[str, list[tuple[int | str, str | None]]] = {app: [] for app in self.ctx.apps}
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._ask, args=(app,)) for app in self.ctx.apps]

    def _ask(self, app: str) -> None:
        from spbe_kit.hosts.verify import _PinnedHTTPS, proxy_address, tls_context

        hostname, port = self.ctx.apps[app].hostname, self.ctx.profile.proxy.https_port
        while not self.stop.is_set():
            connection = _PinnedHTTPS(hostname, proxy_address(self.ctx), port, tls_context(self.ca), 10)
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                self.answers[app].append((response.status, response.getheader("Retry-After")))
            except OSError as exc:
                self.answers[app].append((type(exc).__name__, None))
            finally:
                connection.close()
            self.stop.wait(0.05)

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        import time

        time.sleep(1)  # what the command left behind shows in the next second's answers
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def failed(self, app: str) -> list[tuple[int | str, str | None]]:
        return [a for a in self.answers[app] if a[0] != 200]
