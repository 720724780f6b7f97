#!/usr/bin/env python3
"""Health gate: wait for several compose projects' containers to become healthy, together.

Usage: spbe_wait.py TIMEOUT_S PROJECT_DIR...
       spbe_wait.py --restart TIMEOUT_S PROJECT_DIR...
Exits 0 when every container is healthy; exits 1 as soon as one is unhealthy, exited or
restarting, or when TIMEOUT_S passes. Prints JSON {project: status}. Read-only, except with
--restart: each project is restarted in turn and must be healthy before the next one is.
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


def wait(timeout, projects):
    deadline = time.monotonic() + timeout
    while True:
        states = {p: state(p) for p in projects}
        failed = any(s in ("unhealthy", "exited", "missing") for s in states.values())
        if all(s == "healthy" for s in states.values()) or failed or time.monotonic() > deadline:
            return states
        time.sleep(1)


def main():
    restart = sys.argv[1] == "--restart"
    args = sys.argv[2:] if restart else sys.argv[1:]
    timeout, projects = float(args[0]), args[1:]
    if not restart:
        states = wait(timeout, projects)
    else:
        states = {}
        for project in projects:
            subprocess.run(["docker", "compose", "restart"], cwd=project, check=True, capture_output=True)
            states.update(wait(timeout, [project]))
            if states[project] != "healthy":
                break
    print(json.dumps(states, sort_keys=True))
    sys.exit(0 if all(s == "healthy" for s in states.values()) else 1)


if __name__ == "__main__":
    main()
