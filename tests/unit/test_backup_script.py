"""The host-side backup tool's scheduler pieces (cron arithmetic, packing and pruning)."""

from __future__ import annotations

import datetime
import importlib.util
import subprocess
import tarfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "playbooks" / "files" / "spbe_backup.py"
_spec = importlib.util.spec_from_file_location("spbe_backup", SCRIPT)
assert _spec and _spec.loader
spbe_backup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(spbe_backup)

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime.datetime(2026, 11, 29, 14, 40, 30, tzinfo=WIB)  # a Sunday


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("* * * * *", datetime.datetime(2026, 11, 29, 14, 41, tzinfo=WIB)),
        ("30 1 * * *", datetime.datetime(2026, 11, 30, 1, 30, tzinfo=WIB)),
        ("*/15 * * * *", datetime.datetime(2026, 11, 29, 14, 45, tzinfo=WIB)),
        ("0 2 * * 0", datetime.datetime(2026, 12, 6, 2, 0, tzinfo=WIB)),
        ("0 2 * * 7", datetime.datetime(2026, 12, 6, 2, 0, tzinfo=WIB)),
        ("0 0 1 * 1", datetime.datetime(2026, 11, 30, 0, 0, tzinfo=WIB)),  # day OR weekday
        ("5 4 29 2 *", datetime.datetime(2028, 2, 29, 4, 5, tzinfo=WIB)),
        ("0 22-23/1 * * 1-5", datetime.datetime(2026, 11, 30, 22, 0, tzinfo=WIB)),
        ("10,50 14 * * *", datetime.datetime(2026, 11, 29, 14, 50, tzinfo=WIB)),
    ],
)
def test_next_run_follows_cron(schedule: str, expected: datetime.datetime) -> None:
    assert spbe_backup.next_run(schedule, NOW) == expected


def test_a_schedule_naming_no_date_is_an_error() -> None:
    with pytest.raises(SystemExit, match="names no minute"):
        spbe_backup.next_run("0 0 31 2 *", NOW)


@pytest.mark.tools
def test_pack_encrypts_to_the_recipient_and_keeps_the_newest(tmp_path: Path) -> None:
    key = tmp_path / "key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = next(ln.split(": ")[1] for ln in key.read_text().splitlines() if "public key" in ln)
    copies = tmp_path / "copies"
    copies.mkdir()
    for n in range(4):
        folder = tmp_path / f"2026112{n}T000000Z-scheduled"
        folder.mkdir()
        (folder / "backup.json").write_text(f'{{"n": {n}}}')
        packed = spbe_backup.pack(str(folder), str(copies), f"r-{folder.name}", recipient, 2)
        assert packed["file"].endswith(".tar.age")
    kept = sorted(p.name for p in copies.iterdir())
    assert kept == ["r-20261122T000000Z-scheduled.tar.age", "r-20261123T000000Z-scheduled.tar.age"]
    plain = subprocess.run(
        ["age", "-d", "-i", str(key), str(copies / kept[-1])], check=True, capture_output=True
    ).stdout
    (tmp_path / "out.tar").write_bytes(plain)
    with tarfile.open(tmp_path / "out.tar") as archive:
        assert archive.getnames() == ["20261123T000000Z-scheduled", "20261123T000000Z-scheduled/backup.json"]


def test_pruning_touches_only_the_schedulers_own_archives(tmp_path: Path) -> None:
    """Other files in the copy folder (someone's tar, another region's or host's archives) stay,
    and with keep 1 the fresh archive is kept (it was deleted, then the kit crashed)."""
    copies = tmp_path / "copies"
    copies.mkdir()
    foreign = [
        "zz-not-ours.tar",
        "notes.tar",
        "other-20261101T000000Z-scheduled-db.tar",
        "r-20261101T000000Z-scheduled-app.tar",
        "r-20261101T000000Z-scheduled-db-copy.tar",
    ]
    for name in foreign:
        (copies / name).write_text("keep me")
    for n in range(3):
        folder = tmp_path / f"2026112{n}T000000Z-scheduled"
        folder.mkdir()
        (folder / "backup.json").write_text("{}")
        packed = spbe_backup.pack(str(folder), str(copies), f"r-{folder.name}-db", None, 1)
        assert (copies / packed["file"]).is_file()
    assert sorted(p.name for p in copies.iterdir()) == sorted(
        [*foreign, "r-20261122T000000Z-scheduled-db.tar"]
    )


def test_access_logs_older_than_the_retention_are_deleted_and_nothing_else(tmp_path: Path) -> None:
    today = datetime.date(2026, 12, 7)
    names = [f"access-{today - datetime.timedelta(days=n)}.log" for n in (0, 1, 90, 91, 400)]
    foreign = ["access-undated.log", "notes.txt", "access-2026-13-40.log", "error-2020-01-01.log"]
    for name in names + foreign:
        (tmp_path / name).write_text("x\n")
    assert spbe_backup.prune_logs(str(tmp_path), 90, today) == (2, 3)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(names[:3] + foreign)
    assert spbe_backup.prune_logs(str(tmp_path / "absent"), 90, today) == (0, 0)
