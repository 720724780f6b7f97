#!/usr/bin/env python3
"""Read-only probe run on a target host by spbe-kit; prints one JSON object.

Usage: spbe_probe.py ROOT REGION_CODE [NONCE [LAYOUT]]
Reports what preflight, status and verify need: OS, Docker engine and compose versions,
CPUs, memory, free disk, listening TCP ports, this region's containers, the deploy lock and
the sha256 of every file spbe-kit installed. With NONCE (hex, new for each run), the secret
and certificate files are reported as HMAC-SHA256(NONCE, content): the controller compares
them with its vault without any stable digest of a secret leaving the host. With LAYOUT (JSON:
{"paths": [...], "below": [...]}, the folders and secret files a deploy keeps), the kind, mode
and owner of each path, and the owners found below each "below" folder. The engine is read
through its API on the local socket when the docker CLI would use that socket too (one process
instead of a CLI start per question), else through the CLI. Changes nothing. Python 3 stdlib
only.
"""

import base64
import hashlib
import hmac
import json
import os
import platform
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.parse


def run(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return out.returncode, out.stdout.strip(), out.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)


def os_release():
    try:
        with open("/etc/os-release") as f:
            pairs = dict(line.rstrip().split("=", 1) for line in f if "=" in line)
        return pairs.get("PRETTY_NAME", "").strip('"')
    except OSError:
        return platform.platform()


def listening_ports():
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A":  # LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return sorted(ports)


def memory_mb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


class Api:
    """The engine's API on its local socket: what the docker CLI would print, in one process
    (each CLI call is a Go program's start, most of a probe's CPU on a small host). Plain
    HTTP/1.0, one connection per question: the engine answers unchunked and closes."""

    def __init__(self, path):
        self.path = path

    def get(self, url):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(20)
            conn.connect(self.path)
            conn.sendall(f"GET {url} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
            chunks = []
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                chunks.append(data)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1] if head.count(b" ") >= 1 else b""
        if status != b"200":
            raise OSError(f"docker API {url}: HTTP {status.decode(errors='replace')}")
        return json.loads(body)


def cli_config_dir():
    return os.environ.get("DOCKER_CONFIG", os.path.expanduser("~/.docker"))


def cli_config():
    """The docker CLI's own configuration (config.json), or {} when it has none."""
    try:
        with open(os.path.join(cli_config_dir(), "config.json")) as f:
            found = json.load(f)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def local_api():
    """The engine's API when the CLI would talk to the local socket too (no DOCKER_HOST
    elsewhere, no docker context chosen), else None: the CLI is asked instead."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://") or os.environ.get("DOCKER_CONTEXT"):
        return None
    if cli_config().get("currentContext", "default") != "default":
        return None
    path = host[len("unix://") :]
    return Api(path) if os.path.exists(path) else None


# Where the docker CLI looks for the compose plugin when its configuration names no other
# folder: the user's, then the system's, in the CLI's order (Linux).
PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def compose_command():
    """The compose plugin the CLI would run, run directly (the CLI's own start is two thirds
    of ``docker compose version``), or ``docker compose`` when the CLI's configuration could
    point elsewhere."""
    if "cliPluginsExtraDirs" in cli_config():
        return ["docker", "compose"]
    for folder in (os.path.join(cli_config_dir(), "cli-plugins"), *PLUGIN_DIRS):
        path = os.path.join(folder, "docker-compose")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return [path]
    return ["docker", "compose"]


def engine(api):
    """(exit code, server version, error, root folder), from the API or else the CLI."""
    if api is not None:
        try:
            version, info = api.get("/version"), api.get("/info")
            return 0, str(version["Version"]), "", str(info["DockerRootDir"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    code, server, error = run(["docker", "version", "--format", "{{.Server.Version}}"])
    _, root, _ = run(["docker", "info", "--format", "{{.DockerRootDir}}"])
    return code, server, error, root


def images(api):
    """Every tagged image on the host and its ID: the deploy sends only what is missing."""
    if api is not None:
        try:
            listed = api.get("/images/json")
            return {ref: i["Id"] for i in listed for ref in i.get("RepoTags") or [] if "<none>" not in ref}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # the CLI says what went wrong, as it always did
    code, out, _ = run(["docker", "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
    found = {}
    for line in out.splitlines() if code == 0 else []:
        ref, _, image_id = line.partition(" ")
        if "<none>" not in ref:
            found[ref] = image_id
    return found


def inspected(region, api):
    """``docker inspect`` of this region's containers (by their label)."""
    label = f"org.spbe-kit.region={region}"
    if api is not None:
        try:
            query = urllib.parse.urlencode({"all": "1", "filters": json.dumps({"label": [label]})})
            listed = api.get(f"/containers/json?{query}")
            return [api.get(f"/containers/{urllib.parse.quote(c['Id'])}/json") for c in listed]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a container removed between the two calls, say: the CLI as before
    code, out, _ = run(["docker", "ps", "-aq", "--filter", f"label={label}"])
    ids = out.split()
    if code != 0 or not ids:
        return []
    code, out, _ = run(["docker", "inspect", *ids])
    return json.loads(out) if code == 0 else []


def containers(region, api):
    found = []
    for c in inspected(region, api):
        state = c.get("State", {})
        found.append(
            {
                "name": c["Name"].lstrip("/"),
                "project": c["Config"]["Labels"].get("com.docker.compose.project", ""),
                "working_dir": c["Config"]["Labels"].get("com.docker.compose.project.working_dir", ""),
                "labels": {k: v for k, v in c["Config"]["Labels"].items() if k.startswith("org.spbe-kit.")},
                "image": c["Config"]["Image"],
                "image_id": c["Image"],
                "status": state.get("Status", ""),
                "health": (state.get("Health") or {}).get("Status", "none"),
                "started_at": state.get("StartedAt", ""),
                "restart_count": c.get("RestartCount", 0),
                "ports": sorted(
                    {
                        int(b["HostPort"])
                        for bindings in (c["NetworkSettings"].get("Ports") or {}).values()
                        for b in (bindings or [])
                        if b.get("HostPort")
                    }
                ),
            }
        )
    return sorted(found, key=lambda c: c["name"])


# Folders the kit fills on the host itself (not from the release tree); acme/ holds what the
# acme service obtains, logs/ the proxy's access logs (never removed by a deploy), switch/ the
# upstream of an app a deploy is switching (reported apart: one left there is undone).
HOST_STATE = ("secrets", "tls", "acme", ".spbe-kit", "backups", "backup-copies", "logs", "switch", "metrics")


def installed_files(root):
    hashes = {}
    if not os.path.isdir(root):
        return hashes
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in HOST_STATE]
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                hashes[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return hashes


def switching(root):
    """The apps whose virtual host a deploy points at a new container now (spbe_switch.py)."""
    folder = os.path.join(root, "switch")
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    return [name[: -len(".conf")] for name in names if name.endswith(".conf")]


def keyed_digests(root, nonce):
    """HMAC-SHA256 under the run's nonce of every file in the secret and certificate folders."""
    found = {}
    for folder in ("secrets", "tls"):
        base = os.path.join(root, folder)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            path = os.path.join(base, name)
            if os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) <= 1 << 20:
                with open(path, "rb") as f:
                    found[f"{folder}/{name}"] = hmac.new(nonce, f.read(), hashlib.sha256).hexdigest()
    return found


def acme_certificates(root):
    """sha256 of the leaf (first) certificate's DER in each file the acme service wrote: what
    nginx should be serving (verify compares). Public data, like the certificates."""
    found = {}
    base = os.path.join(root, "acme", "certs")
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        path = os.path.join(base, name)
        if not name.endswith(".crt") or os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            text = f.read(1 << 20).decode("ascii", "replace")
        begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
        if begin in text and end in text.split(begin, 1)[1]:
            body = text.split(begin, 1)[1].split(end, 1)[0]
            try:
                der = base64.b64decode("".join(body.split()), validate=True)
            except ValueError:
                continue
            if der:
                found[name[: -len(".crt")]] = hashlib.sha256(der).hexdigest()
    return found


def layout(spec):
    """[kind, mode, uid, gid] of each path (symlinks not followed; absent paths left out), and
    the distinct owners below each folder of spec["below"] (at most 17: one too many is enough
    to tell)."""
    found, below = {}, {}
    for path in spec.get("paths", []):
        try:
            status = os.lstat(path)
        except OSError:
            continue
        kind = "dir" if stat.S_ISDIR(status.st_mode) else "file" if stat.S_ISREG(status.st_mode) else "other"
        found[path] = [kind, status.st_mode & 0o7777, status.st_uid, status.st_gid]
    for base in spec.get("below", []):
        owners = set()
        for folder, dirs, files in os.walk(base):
            for name in dirs + files:
                try:
                    status = os.lstat(os.path.join(folder, name))
                except OSError:
                    continue
                owners.add((status.st_uid, status.st_gid))
            if len(owners) > 16:
                break
        below[base] = sorted([list(o) for o in owners])[:17]
    return {"stats": found, "below": below}


def releases(root):
    found = []
    base = os.path.join(root, ".spbe-kit", "releases")
    for name in os.listdir(base) if os.path.isdir(base) else []:
        path = os.path.join(base, name, "release.json")
        if name.isdigit() and os.path.isfile(path):
            with open(path) as f:
                found.append({**json.load(f), "number": int(name)})
    return sorted(found, key=lambda r: r["number"])


def file_sha256(path):
    """The sha256 of the rendered tree's archive as last sent, or None."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def read_text(path):
    """A small file's text, or None when there is none (at most 4 KiB are read)."""
    try:
        with open(path) as f:
            return f.read(4096).strip()
    except OSError:
        return None


def main():
    root, region = sys.argv[1], sys.argv[2]
    nonce = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
    kept = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
    api = local_api()
    docker_code, server, docker_err, docker_root = engine(api)
    if docker_code != 0:
        api = None
    compose_code, compose, _ = run([*compose_command(), "version", "--short"])
    disk_path = docker_root if docker_root and os.path.isdir(docker_root) else "/"
    lock = read_text(os.path.join(root, ".spbe-kit", "deploy.lock"))
    vault = read_text(os.path.join(root, ".spbe-kit", "vault.json"))
    print(
        json.dumps(
            {
                "os": os_release(),
                "kernel": platform.release(),
                "python": platform.python_version(),
                "docker": server if docker_code == 0 else None,
                "docker_error": docker_err if docker_code != 0 else "",
                "compose": compose.lstrip("v") if compose_code == 0 else None,
                "cpus": os.cpu_count() or 0,
                "memory_mb": memory_mb(),
                "disk_free_mb": shutil.disk_usage(disk_path).free // (1024 * 1024),
                "disk_path": disk_path,
                "listening": listening_ports(),
                "epoch": time.time(),
                "containers": containers(region, api),
                "images": images(api),
                "lock": lock,
                "vault": vault,
                "files": installed_files(root),
                "switch": switching(root),
                "releases": releases(root),
                "tree_sha256": file_sha256(os.path.join(root, ".spbe-kit", "tree.tar")),
                "keyed": keyed_digests(root, nonce) if nonce else {},
                "acme_certs": acme_certificates(root),
                "layout": layout(kept) if kept else {"stats": {}, "below": {}},
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
