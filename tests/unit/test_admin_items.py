"""Items of the recipient admin's day that broke where the tests did not look: every problem of
a profile at once, --lang after the subcommand, relative key and known_hosts paths."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES
from spbe_kit.cli import hoist_global_options
from spbe_kit.hosts.apply import Connection

DEMO = (EXAMPLES / "demo.yaml").read_text()


def spbe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spbe_kit", *args], cwd=cwd, capture_output=True, text=True, input=""
    )


def test_validate_reports_every_problem_even_with_a_missing_key(tmp_path: Path) -> None:
    text = (
        DEMO.replace("  agreement: DEMO/PKS/2026/001\n", "")
        .replace("keep: 7", "keep: seven")
        .replace("admin@kuningankab.localhost", "not-an-email")
        .replace('schedule: "30 1 * * *"', 'schedule: "99 1 * * *"')
        .replace('e-simpati:\n    version: "1.0.0"', 'e-simpati:\n    version: "9.9.9"')
    )
    (tmp_path / "garut.yaml").write_text(text)
    done = spbe("--lang", "en", "validate", "garut.yaml", cwd=tmp_path)
    assert done.returncode == 2
    codes = [
        c
        for c in (
            "profile-missing-key",
            "profile-invalid-value",
            "email-invalid",
            "cron-invalid",
            "app-version-unknown",
        )
        if f"[{c}]" in done.stderr
    ]
    assert len(codes) == 5, done.stderr
    assert "5 diagnostic(s) found" in done.stderr


def test_a_missing_section_still_lets_the_other_checks_run(tmp_path: Path) -> None:
    start, end = DEMO.index("contacts:"), DEMO.index("hosting:")
    text = (DEMO[:start] + DEMO[end:]).replace('schedule: "30 1 * * *"', 'schedule: "99 1 * * *"')
    (tmp_path / "p.yaml").write_text(text)
    done = spbe("--lang", "en", "validate", "p.yaml", cwd=tmp_path)
    assert "[profile-missing-key]" in done.stderr and "[cron-invalid]" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "demo.yaml", "--lang", "id"],
        ["validate", "--lang=id", "demo.yaml"],
        ["--lang", "id", "validate", "demo.yaml"],
    ],
)
def test_lang_is_accepted_before_or_after_the_subcommand(argv: list[str], tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(DEMO)
    done = spbe(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "demo.yaml: sah (32.08, 3 aplikasi)" in done.stdout


def test_global_options_move_in_front_and_nothing_else_does() -> None:
    assert hoist_global_options(["deploy", "x.yaml", "--check", "--lang", "id", "--debug"]) == [
        "--lang",
        "id",
        "--debug",
        "deploy",
        "x.yaml",
        "--check",
    ]
    assert hoist_global_options(["render", "--", "--lang"]) == ["render", "--", "--lang"]


def test_relative_key_and_known_hosts_become_absolute(tmp_path: Path, monkeypatch) -> None:
    """ansible-runner runs in each run's own folder: a relative known_hosts there is a new empty
    file every time (no host-key pinning), and a relative key is 'no such identity'."""
    monkeypatch.chdir(tmp_path)
    connection = Connection(Path("garut.known_hosts"), Path("walk_key"))
    values = connection.inventory(["app1"])["all"]["hosts"]["app1"]
    assert f"UserKnownHostsFile={tmp_path / 'garut.known_hosts'}" in values["ansible_ssh_common_args"]
    assert values["ansible_ssh_private_key_file"] == str(tmp_path / "walk_key")


def test_init_for_a_region_with_no_example(tmp_path: Path) -> None:
    done = spbe("init", "81.71", "-o", "ambon.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "ambon.yaml").read_text()
    schema = text.splitlines()[0].split("$schema=", 1)[1]
    assert (tmp_path / schema).resolve().is_file(), schema  # a path an editor can open
    assert "mis. ambonkota.go.id" in text  # not kotaambonkota.go.id
    checked = spbe("--lang", "en", "validate", "ambon.yaml", cwd=tmp_path)
    assert "grant.date: this field still says ISI (fill in) [placeholder-unfilled]" in checked.stderr


def test_init_with_a_bps_code_says_so(tmp_path: Path) -> None:
    done = spbe("--lang", "en", "init", "3205", cwd=tmp_path)
    assert done.returncode == 2
    assert "'3205' looks like a BPS code; Kemendagri codes are written NN.NN (e.g. 32.05" in done.stderr


def test_a_backup_cut_short_on_one_host_is_partial(tmp_path: Path) -> None:
    """The failed upgrade left a pre-upgrade backup with the dump but no volume tar; it was
    listed like a complete one (and a restore would have used it)."""
    from spbe_kit import pipeline
    from spbe_kit.hosts.lifecycle import BackupInfo, expected_files
    from spbe_kit.render.context import build_context

    karawang = EXAMPLES / "karawang.yaml"
    validated = pipeline.validate(karawang)
    ctx = build_context(validated.profile, validated.catalog)
    digest = {"sha256": "0" * 64, "size": 1}
    partial = BackupInfo(
        "20261129T010203Z-pre-upgrade",
        "pre-upgrade",
        "2026-11-29T01:02:03+00:00",
        {"e-simpati": "1.0.0"},
        {f"{ctx.postgres.host}:e-simpati.dump": digest},
    )
    app_host = ctx.apps["e-simpati"].host
    assert expected_files(ctx, partial) == [f"{app_host}:e-simpati.uploads.tar"]
    whole = BackupInfo(*partial.__dict__.values())
    whole.files[f"{app_host}:e-simpati.uploads.tar"] = digest
    assert expected_files(ctx, whole) == []


def test_tables_read_at_80_columns_and_never_break_what_a_user_types() -> None:
    import datetime

    from rich.console import Console

    from spbe_kit.hosts.deploy import ComponentStatus
    from spbe_kit.hosts.lifecycle import BackupInfo
    from spbe_kit.ui import ConsoleUI

    ui = ConsoleUI(lang="id")
    status_table, releases_table, backups_table = ui.status_table, ui.releases_table, ui.backups_table

    def shown(table) -> str:
        console = Console(width=80, record=True, color_system=None)
        console.print(table)
        return console.export_text()

    ident = "20261129T010203Z-pre-upgrade"
    url = "https://simpati.kabupatenkepulauanselayar.go.id:8443/"
    rows = [
        ComponentStatus(
            "app1", "e-simpati", "1.1.0", "spbe-kit/e-simpati:1.1.0", "running", "healthy", "", 600, url, "ok"
        )
    ]
    table, urls = status_table(rows)
    assert url in "\n".join(urls) and max(len(line) for line in shown(table).splitlines()) <= 80
    release = {
        "number": 12,
        "when": "2026-11-29T01:02:03+00:00",
        "who": "admin.diskominfo@controller-kabupaten-kepulauan-selayar",
        "versions": {"e-simpati": "1.1.0", "layanan-publik": "1.1.0", "simpeg": "1.0.0"},
        "backup_before": ident,
        "rollback_of": 3,
    }
    text = shown(releases_table({"app1": [release], "db1": [release]}))
    assert ident in text and "2026-11-29 01:02" in text and "…" not in text
    backup = BackupInfo(
        ident, "pre-upgrade", "2026-11-29T01:02:03+00:00", release["versions"], {}, ["app1:x.tar"]
    )
    now = datetime.datetime(2026, 11, 29, 3, 0, tzinfo=datetime.UTC)
    text = shown(backups_table([backup] * 3, now))
    assert text.count(ident) == 3 and "TIDAK LENGKAP" in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_every_output_sentence_exists_in_both_languages_with_the_same_placeholders() -> None:
    import string

    from spbe_kit.messages import TEXTS

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, (en, id_) in TEXTS.items():
        assert fields(en) == fields(id_), key
        words = [w for w in en.split() if w.isalpha() and len(w) > 3]
        loanwords = {"image", "build", "manual", "host", "disk", "port"}  # the same in Indonesian IT usage
        same = ("phase-proxy", "check-version", "check-task", "app-url")
        if words and key not in same and en not in loanwords:
            assert en != id_, f"{key} is English in both languages"


def test_the_cli_prints_no_english_literal() -> None:
    """Every sentence the commands print goes through the message catalog (the donor's image
    and bundle commands included); only the timing lines of bundle steps are bare."""
    import re

    source = (Path(__file__).resolve().parents[2] / "spbe_kit" / "cli.py").read_text()
    literal = re.findall(r'_(?:out|err)\(\s*f?"([^"]*[a-z]{4,}[^"]*)"', source)
    offenders = [t for t in literal if not t.startswith("  ") and t != "interrupted / dihentikan"]
    assert offenders == []


def test_every_playbook_task_and_play_has_an_indonesian_name() -> None:
    import yaml

    from spbe_kit.messages import TASKS_ID, TEXTS, phase_key

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))

    def names(tasks: list[dict[str, object]]) -> list[str]:
        found = []
        for task in tasks or []:
            found += [str(task["name"])] if "name" in task else []
            for part in ("block", "rescue", "always"):
                found += names(task.get(part))  # type: ignore[arg-type]
        return found

    tasks, plays = set(), set()
    for book in sorted((Path(__file__).resolve().parents[2] / "playbooks").glob("*.yml")):
        entries = yaml.load(book.read_text(), Loader) or []
        if not any("hosts" in e or "import_playbook" in e for e in entries):
            tasks.update(names(entries))  # a task file (include_tasks)
            continue
        for play in entries:
            if "import_playbook" in play:
                continue
            plays.add(play["name"])
            for part in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                tasks.update(names(play.get(part)))
    tasks.discard("{{ spbe_run.action }}")  # backup.yml's one task is named after its action
    assert sorted(t for t in tasks if t not in TASKS_ID) == []
    assert sorted(p for p in plays if phase_key(p) not in TEXTS) == []


def test_each_command_without_hosts_speaks_indonesian_under_lang_id(tmp_path: Path) -> None:
    """validate, render, init, handover, audit, evidence, bundle keygen and the error paths:
    run as an admin would with --lang id, nothing of the English catalog shows."""
    from langcheck import english_leftovers

    (tmp_path / "demo.yaml").write_text(DEMO)
    bad = DEMO.replace("keep: 7", "keep: seven").replace("30 1 * * *", "99 1 * * *")
    (tmp_path / "bad.yaml").write_text(bad)
    quiet = DEMO.replace("monitoring:\n  enabled: true", "monitoring:\n  enabled: false")
    assert quiet != DEMO
    (tmp_path / "quiet.yaml").write_text(quiet)
    commands = [
        ["validate", "demo.yaml"],
        ["validate", "bad.yaml"],
        ["validate", "absent.yaml"],
        ["render", "demo.yaml"],
        ["render", "demo.yaml", "--check"],
        ["init", "32.05", "-o", "garut.yaml"],
        ["init", "3205"],
        ["handover", "demo.yaml", "-o", "bast.html"],
        ["audit", "demo.yaml", "-o", "audit.html"],
        ["evidence", "demo.yaml", "-o", "evidence.tar.gz"],
        ["bundle", "keygen", "-o", "donor"],
        ["secrets", "set", "demo.yaml", "monitoring.smtp_password"],  # nothing on standard input
        ["secrets", "set", "demo.yaml", "apps.simpeg.db_password"],  # generated, not given
        ["alerts", "test", "quiet.yaml"],  # no monitoring
        ["report", "demo.yaml", "--offline", "-o", "reports/kuningan.json"],
        ["fleet", "status", "."],
        ["fleet", "report", ".", "-o", "fleet.html"],
    ]
    seen = 0
    for argv in commands:
        done = spbe(*argv, "--lang", "id", cwd=tmp_path)
        assert done.returncode in (0, 2, 3), (argv, done.stderr[-2000:])
        output = done.stdout + done.stderr
        assert "Traceback" not in output and "internal error" not in output, (argv, output[-2000:])
        assert english_leftovers(output) == [], (argv, english_leftovers(output), output[-2000:])
        seen += bool(output.strip())
    assert seen == len(commands)
    # The detector itself: the same commands in English do show catalog English.
    english = spbe("validate", "bad.yaml", "--lang", "en", cwd=tmp_path)
    assert english_leftovers(english.stderr), english.stderr
    # The reports are bilingual: Indonesian first, English in `<span class="en">`. The audit's
    # evidence quotes what was observed (files, commands) and is not translated.
    for report in ("bast.html", "audit.html", "fleet.html"):
        text = re.sub(r'<span class="en">.*?</span>|<ul>.*?</ul>', "", (tmp_path / report).read_text())
        assert english_leftovers(text) == [], report
