#!/usr/bin/env python3
"""Backups on a host: backup, list, restore, verify (run by spbe-kit's playbooks) and
schedule (the scheduler container's main loop; there may be no systemd or cron on the host).

Usage: spbe_backup.py ACTION ROOT JSON   (schedule and health take a JSON file instead)
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
import re
import secrets
import subprocess
import sys
import tempfile
import time

# In the scheduler container the tools run directly, over the network, as the read-only role
# spbe_backup (environment PGHOST, PGPORT, PGUSER, PGPASSWORD_FILE); on the host they run in
# the region's postgres container as the superuser.
DIRECT = bool(os.environ.get("PGPASSWORD_FILE"))
STATUS = "scheduler-status.json"

ROWS_SQL = (
    "SELECT coalesce(json_object_agg(table_name, n), '{}') FROM (SELECT table_name, "
    "(xpath('/row/c/text()', query_to_xml("
    "format('select count(*) as c from %I.%I', table_schema, table_name), "
    "false, true, '')))[1]::text::bigint AS n FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE') t"
)

SCHEDULED_IDENT = re.compile(r"[0-9]{8}T[0-9]{6}Z-scheduled")


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
    """Run a PostgreSQL client tool against the region's database (see DIRECT)."""
    if DIRECT:
        with open(os.environ["PGPASSWORD_FILE"]) as handle:
            env = {**os.environ, "PGPASSWORD": handle.read().strip()}
        options = {"stdout": subprocess.PIPE, **kwargs}
        result = subprocess.run(argv, stderr=subprocess.PIPE, env=env, **options)
        if result.returncode != 0:
            raise SystemExit(f"{argv[0]}: {result.stderr.decode(errors='replace')[-800:]}")
        return result
    return run(
        ["docker", "compose", "exec", "-T", "postgres", argv[0], "-U", "postgres", *argv[1:]],
        cwd=os.path.join(root, "postgres"),
        **kwargs,
    )


def psql(root, sql, db="postgres"):
    return in_postgres(root, "psql", "-At", "-d", db, "-c", sql).stdout.decode().strip()


def backup(root, spec):
    folder = os.path.join(root, "backups", spec["id"])
    record = backup_into(root, folder, spec)
    _same_owner_as_parent(folder)
    prune(root, spec.get("keep", 0))
    return record


def backup_into(root, folder, spec):
    os.makedirs(folder, mode=0o700, exist_ok=True)
    files = {}
    for app in spec.get("databases", []):
        dump = os.path.join(folder, f"{app['app']}.dump")
        with open(dump, "wb") as handle:
            in_postgres(root, "pg_dump", "-Fc", "-d", app["db"], stdout=handle)
        rows = json.loads(psql(root, ROWS_SQL, app["db"]))
        with open(os.path.join(folder, f"{app['app']}.rows.json"), "w") as handle:
            json.dump(rows, handle, sort_keys=True)
        files[f"{app['app']}.dump"] = None
        files[f"{app['app']}.rows.json"] = None
    for volume in spec.get("volumes", []):
        name = f"{volume['app']}.{volume['volume']}.tar"
        with open(os.path.join(folder, name), "wb") as handle:
            if "mount" in volume:  # scheduler: the volume is mounted read-only
                run(["tar", "-C", volume["mount"], "-cf", "-", "."], stdout=handle)
                files[name] = None
                continue
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
    return record


def _same_owner_as_parent(target):
    """What root writes on the host stays readable (and prunable) by the scheduler."""
    parent = os.stat(os.path.dirname(target))
    if os.geteuid() == 0 and parent.st_uid != 0:
        inside = [os.path.join(target, n) for n in os.listdir(target)] if os.path.isdir(target) else []
        for path in [target] + inside:
            os.chown(path, parent.st_uid, parent.st_gid)


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
            started = time.monotonic()
            checked_one = _verify_one(root, chosen, app, name)
            results.append(
                {
                    **checked_one,
                    "backup": chosen,
                    # Recovery figures: how long the restore took, how old the data it brought
                    # back was (what a failure now would lose).
                    "seconds": round(time.monotonic() - started, 1),
                    "backup_age_s": _age_s(chosen),
                }
            )
    finally:
        run(["docker", "rm", "-f", name], check=False)
        for item in os.listdir(workdir):
            os.unlink(os.path.join(workdir, item))
        os.rmdir(workdir)
    timed = [r for r in results if "seconds" in r]
    entry = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "ok": bool(results) and all(r["ok"] for r in results),
        "apps": results,
        # The region's recovery time (every app restored in turn) and point (its oldest data).
        "rto_s": round(sum(r["seconds"] for r in timed), 1) if timed else None,
        "rpo_s": max(r["backup_age_s"] for r in timed) if timed else None,
    }
    with open(os.path.join(root, "backups", "verify-log.jsonl"), "a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    _same_owner_as_parent(os.path.join(root, "backups", "verify-log.jsonl"))
    return entry


def _age_s(backup_id):
    """Seconds since the backup ``backup_id`` (YYYYmmddTHHMMSSZ-reason) was taken."""
    taken = datetime.datetime.strptime(backup_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    return int((datetime.datetime.now(datetime.timezone.utc) - taken).total_seconds())


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


CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def cron_sets(schedule):
    """The five cron fields as sets of allowed values (``*``, lists, ranges, steps)."""
    sets = []
    for text, (low, high) in zip(schedule.split(), CRON_RANGES):
        allowed = set()
        for part in text.split(","):
            base, _, step = part.partition("/")
            first, last = (low, high) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
            if step and base != "*" and "-" not in base:
                last = high
            allowed.update(range(first, last + 1, int(step or 1)))
        sets.append(allowed)
    if 7 in sets[4]:
        sets[4].add(0)
    sets.append((schedule.split()[2] != "*", schedule.split()[4] != "*"))
    return sets


def next_run(schedule, after):
    """The first minute after ``after`` (an aware datetime) that the schedule names."""
    minutes, hours, days, months, weekdays, (day_set, weekday_set) = cron_sets(schedule)
    moment = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    limit = moment + datetime.timedelta(days=5 * 366)  # 29 February comes within five years
    while moment < limit:
        day_ok = moment.day in days
        weekday_ok = (moment.isoweekday() % 7) in weekdays
        # cron: when both day fields are restricted, either may match.
        dated = (day_ok or weekday_ok) if (day_set and weekday_set) else (day_ok and weekday_ok)
        if not (dated and moment.month in months):
            moment = (moment + datetime.timedelta(days=1)).replace(hour=0, minute=0)
        elif moment.minute in minutes and moment.hour in hours:
            return moment
        else:
            moment += datetime.timedelta(minutes=1)
    raise SystemExit(f"schedule '{schedule}' names no minute in the next five years")


def pack(folder, copies, name, recipient, keep):
    """The backup folder as one tar in ``copies`` (age-encrypted when ``recipient``)."""
    target = os.path.join(copies, name + (".tar.age" if recipient else ".tar"))
    tmp = os.path.join(copies, "." + os.path.basename(target) + ".part")
    with open(tmp, "wb") as handle:
        tar = subprocess.Popen(
            ["tar", "-C", os.path.dirname(folder), "-cf", "-", os.path.basename(folder)],
            stdout=subprocess.PIPE if recipient else handle,
        )
        if recipient:
            run(["age", "-r", recipient], stdin=tar.stdout, stdout=handle)
            tar.stdout.close()
        if tar.wait() != 0:
            raise SystemExit(f"tar of {folder} failed")
    os.replace(tmp, target)
    prune_copies(copies, name, keep)
    return {"file": os.path.basename(target), "sha256": sha256(target), "size": os.path.getsize(target)}


def archive_pattern(name):
    """Every archive of the same region, host and kind as ``name``; only the run id varies."""
    match = SCHEDULED_IDENT.search(name)
    before, after = name[: match.start()], name[match.end() :]
    return re.compile(re.escape(before) + SCHEDULED_IDENT.pattern + re.escape(after) + r"\.tar(\.age)?")


def prune_copies(copies, name, keep):
    """Keep the newest ``keep`` of this scheduler's own archives; a file that is not the kit's
    own (another name) is never touched, and the newest archive always stays."""
    pattern = archive_pattern(name)
    archives = sorted(n for n in os.listdir(copies) if pattern.fullmatch(n))
    for old in archives[: max(0, len(archives) - max(keep, 1))]:
        os.unlink(os.path.join(copies, old))


def scheduled_run(root, spec, when):
    """One scheduled run: back up what this host holds (kept ``keep`` times) and/or pull a
    second copy of the databases from the database host; pack either into the copies folder."""
    ident = when.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-scheduled"
    job = {"id": ident, "reason": "scheduled", "keep": spec["keep"], "versions": spec["versions"]}
    result = {"id": ident}
    name = f"{spec['region']}-{ident}-{spec['host']}"
    if spec["local"]:
        record = backup(root, {**job, **spec["local"]})
        result["files"] = sorted(record["files"])
        if spec["copies"]:
            folder = os.path.join(root, "backups", ident)
            result["copy"] = pack(folder, spec["copies"], name, spec["encrypt_to"], spec["keep"])
    if spec["remote"]:
        folder = os.path.join(root, "backups", ".staging", ident)
        try:
            result["remote_files"] = sorted(backup_into(root, folder, {**job, **spec["remote"]})["files"])
            result["copy"] = pack(folder, spec["copies"], name + "-copy", spec["encrypt_to"], spec["keep"])
        finally:
            for item in os.listdir(folder) if os.path.isdir(folder) else []:
                os.unlink(os.path.join(folder, item))
            if os.path.isdir(folder):
                os.rmdir(folder)
    return result


LOG_FILE = re.compile(r"^access-([0-9]{4}-[0-9]{2}-[0-9]{2})\.log$")


def prune_logs(folder, keep_days, today):
    """Delete the proxy's daily access logs older than ``keep_days`` (counted back from
    ``today``, a date); files of any other name are never touched. Returns (deleted, kept)."""
    oldest = today - datetime.timedelta(days=keep_days)
    deleted = kept = 0
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        found = LOG_FILE.match(name)
        if not found:
            continue
        try:
            day = datetime.date.fromisoformat(found.group(1))
        except ValueError:
            continue
        if day < oldest:
            os.unlink(os.path.join(folder, name))
            deleted += 1
        else:
            kept += 1
    return deleted, kept


def write_status(root, status):
    path = os.path.join(root, "backups", STATUS)
    tmp = path + ".part"
    with open(tmp, "w") as handle:
        json.dump(status, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def _epoch(text):
    """An ISO 8601 time (what the records write) in seconds since 1970; None if unreadable."""
    try:
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


# The scheduler's signals, as Prometheus's text format names and explains them.
METRICS_HELP = {
    "spbe_backup_scheduler_heartbeat_timestamp_seconds": "When the scheduler last looked at its schedule.",
    "spbe_backup_rpo_seconds": "The profile's recovery point objective.",
    "spbe_backup_last_run_timestamp_seconds": "When the last scheduled backup started.",
    "spbe_backup_last_run_success": "1 if the last scheduled backup succeeded.",
    "spbe_backup_last_success_timestamp_seconds": "When the newest complete backup of the app was taken.",
    "spbe_restore_drill_last_timestamp_seconds": "When the app's last restore drill ran.",
    "spbe_restore_drill_last_success": "1 if the app's last restore drill passed.",
}


def metrics(root, spec, status):
    """The scheduler's signals in Prometheus's text format (the node exporter's text-file
    collector reads them): its heartbeat, its last run and whether it succeeded, per app the
    time of the newest complete backup and of the last restore drill with its result. An app
    with no backup or drill yet counts from ``since`` (when this scheduler first ran), so the
    alerts fire when none comes in time, not on the first day."""
    since = status.get("since") or status.get("heartbeat") or time.time()
    samples = [
        ("spbe_backup_scheduler_heartbeat_timestamp_seconds", {}, round(status.get("heartbeat", 0), 3)),
        ("spbe_backup_rpo_seconds", {}, spec.get("rpo_s", 93600)),
    ]
    runs = status.get("runs") or []
    if runs:
        samples.append(("spbe_backup_last_run_timestamp_seconds", {}, _epoch(runs[-1].get("started")) or 0))
        samples.append(("spbe_backup_last_run_success", {}, 1 if runs[-1].get("ok") else 0))
    local = spec.get("local") or {}
    newest = {}
    for record in listing(root):
        for name in record.get("files", {}):
            app = name.split(".", 1)[0]
            newest[app] = max(newest.get(app, 0), _epoch(record.get("created")) or 0)
    apps = {d["app"] for d in local.get("databases", [])} | {v["app"] for v in local.get("volumes", [])}
    for app in sorted(apps):
        samples.append(("spbe_backup_last_success_timestamp_seconds", {"app": app}, newest.get(app, since)))
    drills = _drills(root) if local.get("databases") else {}
    for app in sorted(d["app"] for d in local.get("databases", [])):
        when, ok = drills.get(app, (since, 1))
        samples.append(("spbe_restore_drill_last_timestamp_seconds", {"app": app}, when))
        samples.append(("spbe_restore_drill_last_success", {"app": app}, ok))
    lines = []
    for name in METRICS_HELP:  # each metric's samples together, as the format wants
        mine = [(labels, value) for n, labels, value in samples if n == name]
        if mine:
            lines += [f"# HELP {name} {METRICS_HELP[name]}", f"# TYPE {name} gauge"]
        for labels, value in mine:
            shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            lines.append(f"{name}{{{shown}}} {value}" if shown else f"{name} {value}")
    return "\n".join(lines) + "\n"


def _drills(root):
    """Per app, (when, 1 if passed) of its last restore drill in the drill log."""
    found = {}
    log = os.path.join(root, "backups", "verify-log.jsonl")
    if not os.path.isfile(log):
        return found
    with open(log) as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            for result in entry.get("apps", []) if isinstance(entry, dict) else []:
                found[result.get("app")] = (_epoch(entry.get("when")) or 0, 1 if result.get("ok") else 0)
    return found


def write_metrics(root, spec, status):
    folder = spec.get("metrics")
    if not folder or not os.path.isdir(folder):
        return
    path = os.path.join(folder, "spbe_backup.prom")
    tmp = path + ".part"
    with open(tmp, "w") as handle:
        handle.write(metrics(root, spec, status))
    os.chmod(tmp, 0o644)  # read by the node exporter, another user
    os.replace(tmp, path)


def schedule(root, spec_file):
    """The scheduler's main loop: sleep until the next cron minute, back up, record the result."""
    import signal
    import zoneinfo

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(spec_file) as handle:
        spec = json.load(handle)
    zone = zoneinfo.ZoneInfo(spec["timezone"])
    status = {"schedule": spec["schedule"], "timezone": spec["timezone"], "host": spec["host"], "runs": []}
    if os.path.isfile(os.path.join(root, "backups", STATUS)):
        with open(os.path.join(root, "backups", STATUS)) as handle:
            before = json.load(handle)
        status["runs"] = before.get("runs", [])[-20:]
        status["since"] = before.get("since")
    status["since"] = status.get("since") or time.time()
    due = next_run(spec["schedule"], datetime.datetime.now(zone))
    logs, prune_at = spec.get("logs"), 0.0
    while True:
        now = datetime.datetime.now(zone)
        if logs and time.time() >= prune_at:  # at start, then once a day
            pruned = {"when": now.isoformat(timespec="seconds"), "keep_days": logs["keep_days"]}
            try:
                deleted, kept = prune_logs(logs["dir"], logs["keep_days"], now.date())
                pruned.update(ok=True, deleted=deleted, kept=kept)
            except OSError as exc:
                pruned.update(ok=False, error=str(exc)[-300:])
            status["logs"] = pruned
            prune_at = time.time() + 86400
        if now >= due:
            started = time.monotonic()
            entry = {"due": due.isoformat(), "started": now.isoformat(timespec="seconds")}
            try:
                entry.update(scheduled_run(root, spec, due), ok=True)
            except (SystemExit, OSError, subprocess.SubprocessError) as exc:
                entry.update(ok=False, error=str(exc)[-500:])
            entry["seconds"] = round(time.monotonic() - started, 1)
            print(json.dumps(entry, sort_keys=True), flush=True)
            status["runs"] = (status["runs"] + [entry])[-20:]
            due = next_run(spec["schedule"], max(due, datetime.datetime.now(zone)))
        status.update(heartbeat=time.time(), next=due.isoformat())
        write_status(root, status)
        try:
            write_metrics(root, spec, status)
        except OSError as exc:  # the backups matter more than their metrics
            print(json.dumps({"metrics": str(exc)[-300:]}), flush=True)
        time.sleep(max(1.0, min(30.0, (due - datetime.datetime.now(zone)).total_seconds())))


def health(root, _spec_file):
    """Healthy while the scheduler's heartbeat is under two minutes old."""
    with open(os.path.join(root, "backups", STATUS)) as handle:
        beat = json.load(handle)["heartbeat"]
    raise SystemExit(0 if time.time() - beat < 120 else 1)


# What spbe-kit reads from this script's output, under one fixed key (session.BACKUP_REPORT):
# never found by the name of the task that ran it.
REPORT = "spbe_backup"


def main():
    os.umask(0o077)  # backups hold personal data: owner-only
    if sys.argv[1] in ("schedule", "health"):
        return {"schedule": schedule, "health": health}[sys.argv[1]](sys.argv[2], sys.argv[3])
    action, root, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    handlers = {"backup": backup, "restore": restore, "verify": verify, "check": check}
    if action == "list":
        result = {"backups": listing(root)}
        status = os.path.join(root, "backups", STATUS)
        if os.path.isfile(status):
            with open(status) as handle:
                result["scheduler"] = json.load(handle)
        log = os.path.join(root, "backups", "verify-log.jsonl")
        if os.path.isfile(log):
            with open(log) as handle:
                result["verified"] = [json.loads(line) for line in handle if line.strip()]
        print(json.dumps({REPORT: result}, sort_keys=True))
        return
    print(json.dumps({REPORT: handlers[action](root, spec)}, sort_keys=True))


if __name__ == "__main__":
    main()
