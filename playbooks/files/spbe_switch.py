#!/usr/bin/env python3
"""Switch apps to their new release without a failed request. For each app, in turn:

1. start the new release beside the old one, as compose project ``PROJECT-next`` (the same
   compose file, volumes and network), and wait until it is healthy;
2. point the proxy at it: a file in SWITCH_DIR that the app's virtual host includes, then an
   nginx reload, then wait until the old nginx workers have finished their requests;
3. recreate the app's own container on the new release and wait until it is healthy;
4. point the proxy at that container, reload and drain again; remove ``PROJECT-next``;
5. remove the file and reload: the virtual host is the rendered one again.

The old container serves until the new one is healthy. If the new one never is, it is removed
and the old one keeps serving: nothing else was touched.

Usage: spbe_switch.py TIMEOUT_S PROXY_DIR SWITCH_DIR APP:PROJECT_DIR:PROJECT:PORT...
Prints JSON {"apps": {app: "switched" | "unhealthy"}, "logs": {app: [line, ...]}}; exits 1 when
an app was unhealthy (the apps after it are still switched).
"""

import json
import os
import subprocess
import sys
import time

DRAIN_S = 60  # the virtual hosts' proxy_read_timeout: no request outlives it
HEALTH = "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"


def run(argv, timeout=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def workers(proxy):
    """The PIDs of the proxy's nginx workers now."""
    listing = "grep -ls 'worker process' /proc/[0-9]*/cmdline || true"
    found = run(["docker", "exec", proxy, "sh", "-c", listing])
    return {line.split("/")[2] for line in found.stdout.split()}


def reload(proxy):
    """nginx reads the virtual hosts again; returns once the workers of before have finished
    the requests they had (they get no new ones), or after DRAIN_S."""
    before = workers(proxy)
    done = run(["docker", "exec", proxy, "sh", "-c", "nginx -t -q && nginx -s reload"])
    if done.returncode != 0:
        raise RuntimeError(f"nginx reload failed: {done.stderr.strip()}")
    deadline = time.monotonic() + DRAIN_S
    while before & workers(proxy) and time.monotonic() < deadline:
        time.sleep(0.1)


def point(switch_dir, app, upstream):
    """Send the app's requests to ``upstream`` (None: back to the rendered virtual host)."""
    path = os.path.join(switch_dir, f"{app}.conf")
    if upstream is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    with open(path + ".tmp", "w") as out:
        out.write(f"# spbe-kit: {app} is being switched to a new container\nset $spbe_upstream {upstream};\n")
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)


def compose(compose_file, *args):
    return run(["docker", "compose", "-f", compose_file, *args])


def up(compose_file, timeout):
    """Create or recreate the project's container and wait until Docker reports it healthy
    (polled here: compose's own --wait was seen to return before an unhealthy container's
    verdict). A CompletedProcess-like result: returncode 0 when healthy."""
    started = compose(compose_file, "up", "-d")
    if started.returncode != 0:
        return started
    ids = compose(compose_file, "ps", "-q").stdout.split()
    deadline = time.monotonic() + timeout
    while True:
        states = [run(["docker", "inspect", "-f", HEALTH, i]).stdout.split() for i in ids]
        if ids and all(state == ["running", "healthy"] for state in states):
            return subprocess.CompletedProcess(started.args, 0, "", "")
        if not ids or any(state[:1] != ["running"] or "unhealthy" in state for state in states):
            return subprocess.CompletedProcess(started.args, 1, "", f"not healthy: {states}")
        if time.monotonic() > deadline:
            return subprocess.CompletedProcess(started.args, 1, "", f"not healthy after {timeout}s: {states}")
        time.sleep(0.5)


def spare_file(project_dir, switch_dir, app, spare):
    """The app's compose project as a spare: its own name, the same volumes (external to it, so
    taking it down never touches them) and no network alias, so that no request reaches it
    before the proxy is pointed at it by container name. None if compose cannot read it."""
    shown = compose(os.path.join(project_dir, "compose.yaml"), "config", "--format", "json")
    if shown.returncode != 0:
        return None, shown.stderr
    config = json.loads(shown.stdout)
    config["name"] = spare
    for service in config.get("services", {}).values():
        for network in (service.get("networks") or {}).values():
            if isinstance(network, dict):
                network.pop("aliases", None)
    for volume in config.get("volumes", {}).values():
        volume["external"] = True
    path = os.path.join(switch_dir, f"{app}.spare.json")
    with open(path, "w") as out:
        json.dump(config, out)
    return path, ""


def switch(timeout, proxy, switch_dir, app, project_dir, project, port):
    spare = f"{project}-next"
    main = os.path.join(project_dir, "compose.yaml")
    spare_compose, error = spare_file(project_dir, switch_dir, app, spare)
    if spare_compose is None:
        return "unhealthy", error.splitlines()[-40:]
    started = up(spare_compose, timeout)
    if started.returncode != 0:
        logs = compose(spare_compose, "logs", "--no-color", "--tail", "25")
        compose(spare_compose, "down", "--timeout", "5")
        os.unlink(spare_compose)
        return "unhealthy", (logs.stdout + started.stderr).splitlines()[-40:]
    point(switch_dir, app, f"http://{spare}-app-1:{port}")
    reload(proxy)
    recreated = up(main, timeout)
    if recreated.returncode != 0:  # the spare serves the new release; the next deploy cleans up
        logs = compose(main, "logs", "--no-color", "--tail", "25")
        return "unhealthy", (logs.stdout + recreated.stderr).splitlines()[-40:]
    point(switch_dir, app, f"http://{project}-app-1:{port}")
    reload(proxy)
    compose(spare_compose, "down", "--timeout", "10")
    os.unlink(spare_compose)
    point(switch_dir, app, None)
    reload(proxy)
    return "switched", []


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    timeout, switch_dir = int(argv[0]), argv[2]
    proxy = compose(os.path.join(argv[1], "compose.yaml"), "ps", "-q", "proxy").stdout.strip()
    if not proxy:
        print(f"the proxy of {argv[1]} is not running", file=sys.stderr)
        return 1
    result = {"apps": {}, "logs": {}}
    for spec in argv[3:]:
        app, project_dir, project, port = spec.split(":")
        state, logs = switch(timeout, proxy, switch_dir, app, project_dir, project, port)
        result["apps"][app] = state
        if logs:
            result["logs"][app] = logs
    print(json.dumps(result))
    return 1 if "unhealthy" in result["apps"].values() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
