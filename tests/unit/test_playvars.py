"""The contract between Python and the playbooks' ``spbe_run`` variables: each playbook's
variables class has exactly the fields the playbook, with what it imports or includes, reads.
A field the playbook no longer reads, or a ``spbe_run.x`` Python does not pass, fails here."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from spbe_kit.hosts import playvars
from spbe_kit.resources import playbooks_dir

READ = re.compile(r"\bspbe_run\.([a-z_]+)")
PULLED_IN = re.compile(r"(?:import_playbook|include_tasks|import_tasks):\s*(\S+\.yml)")

CLASSES = [
    c
    for c in vars(playvars).values()
    if isinstance(c, type) and issubclass(c, playvars.PlayVars) and c is not playvars.PlayVars
]


def read_by(playbook: str, folder: Path | None = None, seen: set[str] | None = None) -> set[str]:
    """``spbe_run`` names ``playbook`` reads, with those of the files it pulls in."""
    folder = folder or Path(playbooks_dir())
    seen = seen if seen is not None else set()
    if playbook in seen:
        return set()
    seen.add(playbook)
    text = (folder / playbook).read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    names = set(READ.findall(code))
    for pulled in PULLED_IN.findall(code):
        names |= read_by(pulled, folder, seen)
    return names


def test_every_playbook_has_its_variables_class() -> None:
    playbooks = {p.name for p in Path(playbooks_dir()).glob("*.yml")}
    # rotate_one.yml is rotate.yml's per-role task list, read with rotate.yml's variables.
    assert {c.PLAYBOOK for c in CLASSES} == playbooks - {"rotate_one.yml"}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.PLAYBOOK)
def test_fields_are_what_the_playbook_reads(cls: type[playvars.PlayVars]) -> None:
    fields = {f.name for f in dataclasses.fields(cls)}
    read = read_by(cls.PLAYBOOK)
    assert sorted(read - fields) == [], f"{cls.PLAYBOOK} reads spbe_run names {cls.__name__} lacks"
    assert sorted(fields - read) == [], f"{cls.__name__} passes names {cls.PLAYBOOK} never reads"


def test_reads_follow_imports_and_includes_and_skip_comments(tmp_path: Path) -> None:
    (tmp_path / "main.yml").write_text(
        "# spbe_run.commented is not read\n- import_playbook: lock.yml\n"
        "- hosts: all\n  tasks:\n    - ansible.builtin.include_tasks: one.yml\n"
        "      when: spbe_run.apps | length > 0\n"
    )
    (tmp_path / "lock.yml").write_text("- debug: msg={{ spbe_run.lock }}\n- import_playbook: main.yml\n")
    (tmp_path / "one.yml").write_text("- debug: msg={{ spbe_run.per_host[inventory_hostname] }}\n")
    assert read_by("main.yml", tmp_path) == {"apps", "lock", "per_host"}


def test_variables_travel_as_spbe_run() -> None:
    variables = playvars.BackupVars(action="list", per_host={"db1": {"id": "x"}})
    assert variables.extravars() == {"spbe_run": {"action": "list", "per_host": {"db1": {"id": "x"}}}}
    with pytest.raises(TypeError):
        playvars.BackupVars(action="list")  # type: ignore[call-arg]


def test_no_playbook_asks_whether_a_variable_was_passed() -> None:
    """Every field travels, an optional one as null: `spbe_run.x is defined` is always true
    (rotate.yml once wrote a null vault record on every rotation that way)."""
    asked = [
        f"{path.name}: {m[0]}"
        for path in sorted(Path(playbooks_dir()).glob("*.yml"))
        for m in re.finditer(r"spbe_run\.[a-z_]+ is (?:not )?defined", path.read_text())
    ]
    assert asked == []
