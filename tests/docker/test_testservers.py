"""Disposable test servers: reachable over SSH, able to run a controller's image, no leftovers."""

from __future__ import annotations

import time
import urllib.request

import pytest

from spbe_kit.images import docker_client
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
