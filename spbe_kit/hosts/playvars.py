"""What each playbook reads under ``spbe_run``: one frozen dataclass per playbook, named for it.
``session.play`` passes one as the run's extra variables; ``tests/unit/test_playvars.py`` holds
each class's fields to exactly the ``spbe_run.<name>`` its playbook (with what it imports)
reads, so a variable Python forgets or a playbook stops reading fails a test, not a deploy."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

# host -> value, for the per-host parts of a run
PerHost = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class PlayVars:
    PLAYBOOK: ClassVar[str]

    def extravars(self) -> dict[str, Any]:
        return {"spbe_run": dataclasses.asdict(self)}


@dataclass(frozen=True, kw_only=True)
class LockVars(PlayVars):
    """lock.yml, imported by the playbooks that change a release: the line written into the
    lock file, and the sha256 of a lock this run takes over ("" for none)."""

    PLAYBOOK = "lock.yml"
    lock: str
    takeover: str


@dataclass(frozen=True, kw_only=True)
class DeployVars(LockVars):
    """deploy.yml: what ``plan.host_steps`` found each host needs, and how images travel."""

    PLAYBOOK = "deploy.yml"
    vault_mark: dict[str, str | None]
    host_archives: str
    registry: str | None
    local_hosts: list[str]
    missing_images: PerHost
    converged: PerHost
    unpack: PerHost
    remove_files: PerHost
    remove_projects: PerHost
    send_tree: PerHost
    switch: PerHost
    undo_switch: PerHost


@dataclass(frozen=True, kw_only=True)
class RotateVars(LockVars):
    """rotate.yml and rotate_one.yml: the roles whose passwords change, what restarts after."""

    PLAYBOOK = "rotate.yml"
    vault_mark: dict[str, str | None] | None = None
    roles: list[dict[str, Any]]
    restart: PerHost
    restart_postgres: bool
    reload_proxy: bool
    timeout: int


@dataclass(frozen=True, kw_only=True)
class UnlockVars(PlayVars):
    PLAYBOOK = "unlock.yml"
    lock: str


@dataclass(frozen=True, kw_only=True)
class BackupVars(PlayVars):
    """backup.yml: ``backup``, ``list`` or ``verify`` with each host's part of the work."""

    PLAYBOOK = "backup.yml"
    action: str
    per_host: PerHost


@dataclass(frozen=True, kw_only=True)
class RestoreVars(PlayVars):
    PLAYBOOK = "restore.yml"
    id: str
    apps: list[str]
    per_host: PerHost
    volumes: PerHost


@dataclass(frozen=True, kw_only=True)
class RollbackVars(PlayVars):
    """rollback.yml: the apps put back on ``release`` (per host), with the data ``per_host`` and
    ``volumes`` name restored; the ``serving`` ones keep running."""

    PLAYBOOK = "rollback.yml"
    apps: list[str]
    release: PerHost
    per_host: PerHost
    volumes: PerHost
    # Apps whose running container is already that release's (a failed switch): not stopped.
    serving: list[str] = dataclasses.field(default_factory=list)
    # Apps switched to the release's container beside the running one (``plan.spares``).
    switch: PerHost = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DestroyVars(PlayVars):
    PLAYBOOK = "destroy.yml"
    delete_data: bool
    every_project: list[str]
