"""The reference apps' container health check (images/app/spbe-app-healthcheck) against a real
socket: it reads the whole answer, so the app's write of a slow body never meets a reset (the
app logged a traceback for every check that closed early)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / "images" / "app" / "spbe-app-healthcheck"


def serve_once(status: str, errors: list[str]) -> tuple[int, threading.Thread]:
    """A server answering one request in three writes, as the app's handler does (headers, then
    the body); records an error if the client went away before the last write."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            conn.recv(1024)
            body = json.dumps({"status": status}).encode()
            conn.sendall(f"HTTP/1.0 {status}\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            try:
                for part in (body[:5], body[5:]):
                    time.sleep(0.3)
                    conn.sendall(part)
            except OSError as exc:
                errors.append(repr(exc))

    server = threading.Thread(target=answer, daemon=True)
    server.start()
    return listener.getsockname()[1], server


@pytest.mark.parametrize(("status", "code"), [("200 OK", 0), ("503 Service Unavailable", 1)])
def test_the_health_check_reads_the_whole_answer(tmp_path: Path, status: str, code: int) -> None:
    errors: list[str] = []
    port, server = serve_once(status, errors)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"listen": {"port": port}}))
    done = subprocess.run(
        [sys.executable, "-IS", str(SCRIPT)],
        env={"SPBE_APP_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=20,
    )
    server.join(timeout=10)
    assert done.returncode == code, done.stderr
    assert errors == []
