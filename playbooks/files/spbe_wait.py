#!/usr/bin/env python3
"""Health gate: wait for several compose projects' containers to become healthy, together.

Usage: spbe_wait.py TIMEOUT_S PROJECT_DIR...
Exits 0 when every container is healthy; exits 1 as soon as one is unhealthy, exited or
restarting, or when TIMEOUT_S passes. Prints JSON {project: status}. Read-only.
"""

import json
import subprocess
import sys
import time


def state(project_dir):
    out = subprocess.run(
        ["docker", "compose", "ps", "-a", "--format", "json"], cwd=project_dir, capture_output=True, text=True
    )
    if out.returncode != 0 or not out.stdout.strip():
        return "missing"
    text = out.stdout.strip()
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()]
    worst = "healthy"
    for row in rows:
        status = row.get("State", "")
        health = row.get("Health", "") or ("healthy" if status == "running" else "")
        if status in ("exited", "dead") or "restarting" in status:
            return "exited"
        if health == "unhealthy":
            return "unhealthy"
        if health != "healthy":
            worst = "starting"
    return worst


def main():
    timeout, projects = float(sys.argv[1]), sys.argv[2:]
    deadline = time.monotonic() + timeout
    while True:
        states = {p: state(p) for p in projects}
        failed = any(s in ("unhealthy", "exited", "missing") for s in states.values())
        if all(s == "healthy" for s in states.values()) or failed or time.monotonic() > deadline:
            print(json.dumps(states, sort_keys=True))
            sys.exit(0 if all(s == "healthy" for s in states.values()) else 1)
        time.sleep(1)


if __name__ == "__main__":
    main()
