"""What Python reads from a playbook run is found by content the playbooks are known to produce,
never by task name: renaming a task cannot silently turn a health-gate or lock report into a
bare "task failed"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spbe_kit.errors import HealthGateFailed, OperationFailed
from spbe_kit.hosts.apply import RunResult, TaskResult
from spbe_kit.hosts.session import (
    BACKUP_REPORT,
    HEALTH_GATE_KEY,
    LOCK_HELD,
    health_gate,
    raise_failure,
    reported,
)
from spbe_kit.resources import playbooks_dir


def _tasks(playbook: str) -> list[dict]:
    found: list[dict] = []

    def walk(items: list[dict]) -> None:
        for item in items:
            found.append(item)
            for key in ("tasks", "block", "rescue", "always"):
                walk(item.get(key) or [])

    walk(yaml.safe_load((playbooks_dir() / playbook).read_text()))
    return found


def test_the_playbooks_produce_the_reports_python_reads() -> None:
    gates = [t for t in _tasks("deploy.yml") if "ansible.builtin.fail" in t]
    assert any(f"'{HEALTH_GATE_KEY}'" in str(t["ansible.builtin.fail"]["msg"]) for t in gates)
    locks = [t for t in _tasks("lock.yml") if "ansible.builtin.raw" in t]
    assert any(f'echo "{LOCK_HELD}' in t["ansible.builtin.raw"] for t in locks)


def _failed(task: str, result: dict) -> RunResult:
    return RunResult(2, "failed", Path("/tmp/run"), [TaskResult("app1", "apps", task, "failed", result)])


def test_a_health_gate_or_a_held_lock_is_recognised_whatever_the_task_is_called() -> None:
    gate = {"msg": json.dumps({HEALTH_GATE_KEY: ["simpeg"], "logs": [["booting", "database refused"]]})}
    logs = "booting\n      database refused"
    assert health_gate(_failed("renamed gate", gate)) == [("simpeg", "app1", logs)]
    with pytest.raises(HealthGateFailed):
        raise_failure(_failed("renamed gate", gate))
    lock = {"who": "ani@laptop", "since": "2026-12-06T10:00:00Z", "pid": 4242, "controller": "laptop",
            "run": "20261206T100000.000000Z-deploy"}  # fmt: skip
    with pytest.raises(OperationFailed) as held:
        raise_failure(_failed("renamed lock", {"stdout": LOCK_HELD + json.dumps(lock, sort_keys=True)}))
    assert held.value.diagnostics[0].code == "deploy-locked"
    with pytest.raises(OperationFailed) as other:
        raise_failure(_failed("any task", {"msg": "not json", "stdout": "something else"}))
    assert other.value.diagnostics[0].code == "task-failed"


def test_backup_results_are_read_by_their_key_whatever_the_task_is_called(tmp_path: Path) -> None:
    """backup.yml runs spbe_backup.py; what the script prints (here: its real ``list`` output on
    an empty backup folder) is found under BACKUP_REPORT, whichever task ran it."""
    script = playbooks_dir() / "files" / "spbe_backup.py"
    (tmp_path / "backups").mkdir()
    printed = subprocess.run(
        [sys.executable, str(script), "list", str(tmp_path), "{}"], capture_output=True, text=True, check=True
    ).stdout
    result = RunResult(
        0,
        "successful",
        tmp_path,
        [
            TaskResult("db1", "backups", "any name at all", "ok", {"stdout": printed}),
            TaskResult("app1", "backups", "any name at all", "ok", {"stdout": "not json"}),
            TaskResult("app2", "backups", "skipped one", "skipped", {"stdout": printed}),
        ],
    )
    assert reported(result, BACKUP_REPORT) == {"db1": {"backups": []}}
    assert [t for t in _tasks("backup.yml") if "files/spbe_backup.py" in str(t.get("ansible.builtin.script"))]


def test_a_no_log_failure_says_why_its_details_are_hidden_in_both_languages() -> None:
    from spbe_kit.messages import render_diagnostic

    with pytest.raises(OperationFailed) as failed:
        raise_failure(_failed("install secret files", {"censored": "the output has been hidden", "msg": "x"}))
    diag = failed.value.diagnostics[0]
    assert "details hidden because the task handles secrets" in render_diagnostic(diag, "en")
    assert "rincian disembunyikan karena tugas ini menangani rahasia" in render_diagnostic(diag, "id")
