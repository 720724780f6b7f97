#!/usr/bin/env python3
"""Record a numbered release on a target host, run by spbe-kit after a deploy, a rollback or a
rotation (one SSH round trip per host instead of an Ansible play).

Usage: spbe_release.py ROOT NUMBER KEEP RECORD_JSON [INSTALLED_FILE...]
Keeps the host's rendered tree as installed (the archive the deploy sent, or, given
INSTALLED_FILE paths relative to ROOT after a rollback, those files as they are installed), then
writes release.json atomically (what was deployed: manifest hash, versions, image IDs, who,
when) and forgets releases older than the KEEP newest. A release folder with no release.json
(a run killed half way) is not a release: readers skip it and the next record replaces it.
Python 3 stdlib only.
"""

import json
import os
import shutil
import sys
import tarfile
import tempfile


def write_private(path, data):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".spbe-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def keep_tree(root, folder, installed):
    target = os.path.join(folder, "tree.tar")
    fd, tmp = tempfile.mkstemp(prefix=".spbe-", dir=folder)
    os.close(fd)
    try:
        if installed:
            with tarfile.open(tmp, "w") as archive:
                for relative in sorted(installed):
                    archive.add(os.path.join(root, relative), arcname=relative, recursive=False)
        else:
            shutil.copyfile(os.path.join(root, ".spbe-kit", "tree.tar"), tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def write_metrics(root, number, record):
    """With monitoring (the folder ``metrics`` exists), the release for Prometheus: its number,
    when it was made, and each app's version as an info metric (node exporter text file)."""
    import datetime

    folder = os.path.join(root, "metrics")
    if not os.path.isdir(folder):
        return
    when = datetime.datetime.fromisoformat(str(record["when"]).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    lines = [
        "# HELP spbe_release_number The number of the region's release on this host.",
        "# TYPE spbe_release_number gauge",
        f"spbe_release_number {number}",
        "# HELP spbe_release_timestamp_seconds When the release was made (deploy, rollback, rotation).",
        "# TYPE spbe_release_timestamp_seconds gauge",
        f"spbe_release_timestamp_seconds {when.timestamp()}",
        "# HELP spbe_app_info The version of each app in the release (always 1).",
        "# TYPE spbe_app_info gauge",
    ]
    for app, version in sorted(record.get("versions", {}).items()):
        lines.append(f'spbe_app_info{{app="{app}",version="{version}"}} 1')
    path = os.path.join(folder, "spbe_release.prom")
    fd, tmp = tempfile.mkstemp(prefix=".spbe-", dir=folder)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv):
    root, number, keep, record = argv[0], int(argv[1]), int(argv[2]), json.loads(argv[3])
    releases = os.path.join(root, ".spbe-kit", "releases")
    folder = os.path.join(releases, str(number))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    keep_tree(root, folder, argv[4:])
    text = json.dumps(record, indent=4, sort_keys=True) + "\n"
    write_private(os.path.join(folder, "release.json"), text.encode())
    write_metrics(root, number, record)
    for old in range(1, max(number - keep + 1, 1)):
        shutil.rmtree(os.path.join(releases, str(old)), ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
