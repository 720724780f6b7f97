#!/usr/bin/python
"""Ansible module: ensure folders and small files (secrets, certificates) in one round trip.

Each file is written atomically (temp file in the same folder, fsync, rename) only when its
content, owner or mode differs; its content is a no_log argument, never returned or logged.
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: spbe_files
short_description: Ensure folders and secret files with owner and mode, idempotently
options:
  directories:
    description: >-
      Folders to create, each with path, mode (octal string) and optionally uid and gid; with
      owner_below true, everything inside gets that owner too (earlier backups handed to the
      scheduler's user).
    type: list
    elements: dict
    default: []
  files:
    description: >-
      Files to write, each with path, content, uid, gid and mode (octal string); with
      create_only true a file that exists is left as it is.
    type: list
    elements: dict
    default: []
"""


def _mode(value):
    """'0400' as written in YAML, or the int Ansible's templating may have made of it."""
    return value if isinstance(value, int) else int(str(value), 8)


def _differs(path, content, uid, gid, mode):
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return True
    if status.st_uid != uid or status.st_gid != gid or (status.st_mode & 0o7777) != mode:
        return True
    with open(path, "rb") as handle:
        return handle.read() != content


def _write(path, content, uid, gid, mode):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".spbe-", dir=folder)
    try:
        os.fchmod(fd, mode)
        os.fchown(fd, uid, gid)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _own_below(root, uid, gid, check_mode):
    """Give everything below ``root`` to uid:gid (symlinks themselves, never their targets)."""
    changed = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            status = os.lstat(path)
            if (status.st_uid, status.st_gid) != (uid, gid):
                changed.append(path)
                if not check_mode:
                    os.lchown(path, uid, gid)
    return changed


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": []},
            # Only each file's content is no_log: a no_log on the whole list made Ansible mask
            # every string of it in the result, the changed paths included, so nothing could
            # react to a changed certificate.
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "str", "required": True},
                    "content": {"type": "raw", "required": True, "no_log": True},
                    "uid": {"type": "int", "required": True},
                    "gid": {"type": "int", "required": True},
                    "mode": {"type": "raw", "required": True},
                    "create_only": {"type": "bool", "default": False},
                    "ref": {"type": "str"},
                    "encode": {"type": "str"},
                },
            },
        },
        supports_check_mode=True,
    )
    changed = []
    for folder in module.params["directories"]:
        path, mode = folder["path"], _mode(folder["mode"])
        if not os.path.isdir(path):
            changed.append(path)
            if not module.check_mode:
                os.makedirs(path, mode=mode, exist_ok=True)
        if os.path.isdir(path) and (os.stat(path).st_mode & 0o7777) != mode:
            changed.append(path)
            if not module.check_mode:
                os.chmod(path, mode)
        if "uid" in folder and os.path.isdir(path):
            uid, gid = int(folder["uid"]), int(folder["gid"])
            status = os.stat(path)
            if (status.st_uid, status.st_gid) != (uid, gid):
                changed.append(path)
                if not module.check_mode:
                    os.chown(path, uid, gid)
        if folder.get("owner_below") and os.path.isdir(path):
            changed += _own_below(path, int(folder["uid"]), int(folder["gid"]), module.check_mode)
    for spec in module.params["files"]:
        path = spec["path"]
        content = spec["content"]
        if not isinstance(content, str):
            # Templating turns a JSON text into data; write it back as JSON.
            content = json.dumps(content, sort_keys=True) + "\n"
        content = content.encode()
        uid, gid, mode = int(spec["uid"]), int(spec["gid"]), _mode(spec["mode"])
        if spec.get("create_only") and os.path.lexists(path):
            continue
        if _differs(path, content, uid, gid, mode):
            changed.append(path)
            if not module.check_mode:
                _write(path, content, uid, gid, mode)
    module.exit_json(changed=bool(changed), paths=sorted(set(changed)))


if __name__ == "__main__":
    main()
