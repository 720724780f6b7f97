#!/usr/bin/env python3
"""Backups on a host, run by spbe-kit's playbooks: backup, list, restore, verify.

Usage: spbe_backup.py ACTION ROOT JSON
A backup is a folder ROOT/backups/ID/ with, per app, a pg_dump in custom format and the
row count of every table (database host), or a tar of each declared volume (apps host), and
backup.json, written last, with the sha256 and size of every file. Restore refuses a backup
whose checksums do not match. Verify restores each dump into a throwaway PostgreSQL
container, compares row counts with the record, and appends the result to
ROOT/backups/verify-log.jsonl. Python 3 stdlib and the docker CLI only.
"""

import datetime
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

ROWS_SQL = (
    "SELECT coalesce(json_object_agg(table_name, n), '{}') FROM (SELECT table_name, "
    "(xpath('/row/c/text()', query_to_xml("
    "format('select count(*) as c from %I.%I', table_schema, table_name), "
    "false, true, '')))[1]::text::bigint AS n FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE') t"
)


def run(argv, stdin=None, stdout=subprocess.PIPE, cwd=None, check=True):
    result = subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])}: {result.stderr.decode(errors='replace')[-800:]}")
    return result


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def in_postgres(root, *argv, **kwargs):
    """Run a PostgreSQL client tool inside the region's postgres container, as the superuser."""
    return run(
        ["docker", "compose", "exec", "-T", "postgres", *argv], cwd=os.path.join(root, "postgres"), **kwargs
    )


def psql(root, sql, db="postgres"):
    return in_postgres(root, "psql", "-At", "-U", "postgres", "-d", db, "-c", sql).stdout.decode().strip()


def backup(root, spec):
    folder = os.path.join(root, "backups", spec["id"])
    os.makedirs(folder, mode=0o700, exist_ok=True)
    files = {}
    for app in spec.get("databases", []):
        dump = os.path.join(folder, f"{app['app']}.dump")
        with open(dump, "wb") as handle:
            in_postgres(root, "pg_dump", "-U", "postgres", "-Fc", "-d", app["db"], stdout=handle)
        rows = json.loads(psql(root, ROWS_SQL, app["db"]))
        with open(os.path.join(folder, f"{app['app']}.rows.json"), "w") as handle:
            json.dump(rows, handle, sort_keys=True)
        files[f"{app['app']}.dump"] = None
        files[f"{app['app']}.rows.json"] = None
    for volume in spec.get("volumes", []):
        name = f"{volume['app']}.{volume['volume']}.tar"
        with open(os.path.join(folder, name), "wb") as handle:
            run(
                [
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "--user",
                    volume["user"],
                    "-v",
                    f"{volume['name']}:/data:ro",
                    "--entrypoint",
                    "tar",
                    volume["image"],
                    "-C",
                    "/data",
                    "-cf",
                    "-",
                    ".",
                ],
                stdout=handle,
            )
        files[name] = None
    record = {
        "id": spec["id"],
        "reason": spec["reason"],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": spec.get("versions", {}),
        "files": {
            n: {"sha256": sha256(os.path.join(folder, n)), "size": os.path.getsize(os.path.join(folder, n))}
            for n in sorted(files)
        },
    }
    tmp = os.path.join(folder, ".backup.json")
    with open(tmp, "w") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
    os.replace(tmp, os.path.join(folder, "backup.json"))
    prune(root, spec.get("keep", 0))
    return record


def prune(root, keep):
    """Keep the newest ``keep`` complete backups."""
    records = listing(root)
    for record in records[: max(0, len(records) - keep)] if keep > 0 else []:
        folder = os.path.join(root, "backups", record["id"])
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


def listing(root):
    base = os.path.join(root, "backups")
    found = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        path = os.path.join(base, name, "backup.json")
        if os.path.isfile(path):
            with open(path) as handle:
                found.append(json.load(handle))
    return found


def checked(root, backup_id, names):
    folder = os.path.join(root, "backups", backup_id)
    with open(os.path.join(folder, "backup.json")) as handle:
        record = json.load(handle)
    for name in names:
        expected = record["files"].get(name)
        if expected is None:
            raise SystemExit(f"backup {backup_id} has no {name}")
        if sha256(os.path.join(folder, name)) != expected["sha256"]:
            raise SystemExit(f"backup {backup_id}: {name} does not match its checksum (corrupted)")
    return folder, record


def restore(root, spec):
    done = []
    for app in spec.get("databases", []):
        # Each database may come from its own backup (apps upgraded at different times).
        folder, _ = checked(root, app.get("id", spec["id"]), [f"{app['app']}.dump"])
        db, owner = app["db"], app["user"]
        psql(root, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
        psql(root, f'DROP DATABASE IF EXISTS "{db}"')
        psql(root, f'CREATE DATABASE "{db}" OWNER "{owner}"')
        with open(os.path.join(folder, f"{app['app']}.dump"), "rb") as handle:
            in_postgres(
                root,
                "pg_restore",
                "-U",
                "postgres",
                "-d",
                db,
                "--no-owner",
                f"--role={owner}",
                "--exit-on-error",
                stdin=handle,
            )
        done.append(app["app"])
    for volume in spec.get("volumes", []):
        name = f"{volume['app']}.{volume['volume']}.tar"
        folder, _ = checked(root, spec["id"], [name])
        with open(os.path.join(folder, name), "rb") as handle:
            run(
                [
                    "docker",
                    "run",
                    "--rm",
                    "-i",
                    "--network",
                    "none",
                    "--user",
                    volume["user"],
                    "-v",
                    f"{volume['name']}:/data",
                    "--entrypoint",
                    "sh",
                    volume["image"],
                    "-c",
                    "find /data -mindepth 1 -delete && tar -C /data -xf -",
                ],
                stdin=handle,
            )
        done.append(name)
    return {"restored": done, "backup": spec["id"]}


def check(root, spec):
    """Checksums of what a restore would use, before anything is stopped."""
    names = [f"{a['app']}.dump" for a in spec.get("databases", [])]
    names += [f"{v['app']}.{v['volume']}.tar" for v in spec.get("volumes", [])]
    checked(root, spec["id"], names)
    return {"checked": names, "backup": spec["id"]}


def verify(root, spec):
    """Restore each dump into a throwaway server and compare row counts with the record."""
    results = []
    name = f"spbe-verify-{secrets.token_hex(4)}"
    workdir = tempfile.mkdtemp(prefix="spbe-verify-")
    password = os.path.join(workdir, "pw")
    with open(password, "w") as handle:
        handle.write(secrets.token_urlsafe(16))
    os.chmod(workdir, 0o755)
    os.chmod(password, 0o444)
    try:
        run(
            [
                "docker",
                "run",
                "-d",
                "--rm",
                "--name",
                name,
                "--network",
                "none",
                "--tmpfs",
                "/var/lib/postgresql/data:uid=999,gid=999",
                "--tmpfs",
                "/run/postgresql:uid=999,gid=999",
                "-v",
                f"{password}:/run/secrets/pw:ro",
                "-e",
                "POSTGRES_PASSWORD_FILE=/run/secrets/pw",
                spec["image"],
            ]
        )
        deadline = time.monotonic() + 90
        while (
            run(
                ["docker", "exec", name, "pg_isready", "-h", "/run/postgresql", "-U", "postgres"], check=False
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise SystemExit("the throwaway PostgreSQL did not start")
            time.sleep(0.5)
        for app in spec["apps"]:
            chosen = spec.get("id") or next(
                (r["id"] for r in reversed(listing(root)) if f"{app}.dump" in r["files"]), None
            )
            if chosen is None:
                results.append(
                    {"app": app, "ok": False, "detail": "no backup of this app yet", "backup": None}
                )
                continue
            results.append({**_verify_one(root, chosen, app, name), "backup": chosen})
    finally:
        run(["docker", "rm", "-f", name], check=False)
        for item in os.listdir(workdir):
            os.unlink(os.path.join(workdir, item))
        os.rmdir(workdir)
    entry = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "ok": bool(results) and all(r["ok"] for r in results),
        "apps": results,
    }
    with open(os.path.join(root, "backups", "verify-log.jsonl"), "a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    return entry


def _verify_one(root, backup_id, app, container):
    try:
        folder, _ = checked(root, backup_id, [f"{app}.dump", f"{app}.rows.json"])
    except SystemExit as exc:
        return {"app": app, "ok": False, "detail": str(exc)}
    with open(os.path.join(folder, f"{app}.rows.json")) as handle:
        expected = json.load(handle)
    run(["docker", "exec", container, "createdb", "-h", "/run/postgresql", "-U", "postgres", "verify"])
    try:
        with open(os.path.join(folder, f"{app}.dump"), "rb") as handle:
            restored = run(
                [
                    "docker",
                    "exec",
                    "-i",
                    container,
                    "pg_restore",
                    "-h",
                    "/run/postgresql",
                    "-U",
                    "postgres",
                    "-d",
                    "verify",
                    "--no-owner",
                    "--exit-on-error",
                ],
                stdin=handle,
                check=False,
            )
        if restored.returncode != 0:
            return {"app": app, "ok": False, "detail": restored.stderr.decode(errors="replace")[-300:]}
        out = run(
            [
                "docker",
                "exec",
                container,
                "psql",
                "-h",
                "/run/postgresql",
                "-At",
                "-U",
                "postgres",
                "-d",
                "verify",
                "-c",
                ROWS_SQL,
            ]
        )
        actual = json.loads(out.stdout.decode().strip())
        ok = actual == expected
        detail = (
            f"{sum(actual.values())} rows in {len(actual)} tables match"
            if ok
            else f"row counts differ: recorded {expected}, restored {actual}"
        )
        return {"app": app, "ok": ok, "detail": detail, "rows": sum(actual.values())}
    finally:
        run(
            ["docker", "exec", container, "dropdb", "-h", "/run/postgresql", "-U", "postgres", "verify"],
            check=False,
        )


def main():
    os.umask(0o077)  # backups hold personal data: owner-only
    action, root, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    handlers = {"backup": backup, "restore": restore, "verify": verify, "check": check}
    if action == "list":
        result = {"backups": listing(root)}
        log = os.path.join(root, "backups", "verify-log.jsonl")
        if os.path.isfile(log):
            with open(log) as handle:
                result["verified"] = [json.loads(line) for line in handle if line.strip()]
        print(json.dumps(result, sort_keys=True))
        return
    print(json.dumps(handlers[action](root, spec), sort_keys=True))


if __name__ == "__main__":
    main()
