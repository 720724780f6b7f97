"""Disposable test servers: reachable over SSH, able to run a controller's image, no leftovers."""

from __future__ import annotations

import time
import urllib.request

import pytest

from spbe_kit.grant.images import docker_client
from spbe_kit.testservers import LABEL

pytestmark = pytest.mark.docker


def test_two_servers_run_a_loaded_image(test_servers) -> None:
    servers = test_servers(2)
    session = servers.session
    for index, server in enumerate(servers.servers):
        assert servers.ssh(server, "hostname").stdout.decode().strip() == server.name
        servers.load_image(server, "spbe-kit/python:bookworm")
        port = 18080 + index
        servers.ssh(
            server, f"docker run -d -p {port}:8000 spbe-kit/python:bookworm python3 -m http.server 8000"
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://{server.address}:{port}/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    assert servers.known_hosts.read_text().count("ssh-ed25519") == 2
    servers.stop()
    client = docker_client()
    selector = {"label": f"{LABEL}={session}"}
    assert client.containers.list(all=True, filters=selector) == []
    assert client.volumes.list(filters=selector) == []
    assert client.networks.list(filters=selector) == []


def test_down_removes_only_the_servers_up_started_for_the_caller(test_servers, tmp_path) -> None:
    """`down` used to remove every test server on the machine, a parallel run's included."""
    import os
    import subprocess
    import sys

    other = test_servers(1)  # another run's server, which `down` must leave alone
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    up = subprocess.run(
        [sys.executable, "-m", "spbe_kit.testservers", "up", "1"], env=env, capture_output=True, text=True
    )
    assert up.returncode == 0, up.stderr
    mine = next((tmp_path / "spbe-kit" / "testservers").iterdir()).name
    client = docker_client()
    assert client.containers.list(all=True, filters={"label": f"{LABEL}={mine}"})
    down = subprocess.run(
        [sys.executable, "-m", "spbe_kit.testservers", "down"], env=env, capture_output=True, text=True
    )
    assert down.returncode == 0 and "removed 1 test server(s)" in down.stdout, down.stdout + down.stderr
    assert client.containers.list(all=True, filters={"label": f"{LABEL}={mine}"}) == []
    assert client.containers.list(all=True, filters={"label": f"{LABEL}={other.session}"})
