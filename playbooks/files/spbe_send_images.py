#!/usr/bin/env python3
"""Stream images from the controller's engine into a host's: ``docker save`` piped through
SSH into ``docker load``, so saving, sending and loading overlap and nothing is written to
either disk. Runs on the controller.

Usage: spbe_send_images.py CONNECTION_JSON IMAGE...
CONNECTION_JSON: {"host", "port", "user", "key" (or null), "common_args"} as the inventory
gives them to Ansible; the same known_hosts file and options, so the host key is checked the
same way. Prints what ``docker load`` printed; exits 1 with both sides' errors on a failure.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile


def ssh_command(connection: dict[str, object]) -> list[str]:
    command = ["ssh", "-o", "BatchMode=yes", "-o", "Compression=no", "-p", str(connection["port"])]
    command += ["-l", str(connection["user"])]
    if connection.get("key"):
        command += ["-i", str(connection["key"])]
    command += shlex.split(str(connection.get("common_args") or ""))
    return [*command, "--", str(connection["host"]), "docker load -q"]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    connection, images = json.loads(argv[0]), argv[1:]
    # docker save's errors go to a file, not a pipe: nobody reads them while we wait.
    with tempfile.TemporaryFile() as save_log:
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE, stderr=save_log)
        assert save.stdout is not None
        load = subprocess.Popen(
            ssh_command(connection), stdin=save.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        save.stdout.close()  # the load side alone holds the pipe: a dead ssh stops docker save
        loaded, load_errors = load.communicate()
        save.wait()
        save_log.seek(0)
        save_errors = save_log.read().decode(errors="replace")
    sys.stdout.write(loaded.decode(errors="replace"))
    if save.returncode or load.returncode:
        sys.stderr.write(f"docker save exited {save.returncode}: {save_errors}\n")
        loading = load_errors.decode(errors="replace")
        sys.stderr.write(f"ssh ... docker load exited {load.returncode}: {loading}\n")
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
