"""Apply: run spbe-kit's playbooks against a rendered inventory through ansible-runner.

Owns the Ansible side effects: the run folder under ``build/<region>/runs/``, the runtime
inventory (interpreter, SSH host-key checking), the vault on the command line, the event
stream turned into phase progress, and redaction of every artifact afterwards. Knows nothing
about what a phase means; ``spbe_kit.hosts.deploy`` does.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import datetime
import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spbe_kit.models.profile import Host
from spbe_kit.render.environment import to_ansible_yaml
from spbe_kit.resources import playbooks_dir
from spbe_kit.runner import Runner, redact

EventSink = Callable[[dict[str, Any]], None]


@dataclass
class TaskResult:
    host: str
    play: str
    task: str
    status: str  # ok, changed, failed, skipped, unreachable
    result: dict[str, Any]
    seconds: float = 0.0  # how long the task took on the host (a loop: every item)


@dataclass
class RunResult:
    rc: int
    status: str
    run_dir: Path
    tasks: list[TaskResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def changed(self) -> list[TaskResult]:
        return [t for t in self.tasks if t.status == "changed"]

    def failed(self) -> list[TaskResult]:
        return [t for t in self.tasks if t.status in ("failed", "unreachable")]

    def error_text(self) -> str:
        """Ansible's own error when no task failed (a playbook that does not parse, say)."""
        for stdout in sorted(self.run_dir.glob("artifacts/*/stdout")):
            lines = stdout.read_text(errors="replace").splitlines()
            starts = [i for i, line in enumerate(lines) if line.startswith("[ERROR]")]
            if starts:
                return " ".join(line.strip() for line in lines[starts[-1] : starts[-1] + 4] if line.strip())
        return ""


@dataclass
class Connection:
    """How the controller reaches the hosts: key, known_hosts file, local interpreter."""

    known_hosts: Path
    private_key: Path | None = None
    local_hosts: list[str] = field(default_factory=list)

    def inventory(self, hosts: list[str]) -> dict[str, Any]:
        ssh_args = (
            # Absolute: ansible-runner runs from each run's own folder, where a relative
            # known_hosts would be a new, empty file every time (no pinning at all).
            f"-o UserKnownHostsFile={shlex.quote(str(self.known_hosts.resolve()))}"
            " -o StrictHostKeyChecking=accept-new"
        )
        values: dict[str, Any] = {}
        for host in hosts:
            if host in self.local_hosts:
                values[host] = {"ansible_python_interpreter": sys.executable}
            else:
                values[host] = {
                    "ansible_python_interpreter": "/usr/bin/python3",
                    "ansible_ssh_common_args": ssh_args,
                }
                if self.private_key:
                    values[host]["ansible_ssh_private_key_file"] = str(self.private_key.resolve())
        return {"all": {"hosts": values}}


@dataclass(frozen=True)
class ScriptResult:
    host: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def unreachable(self) -> bool:
        """ssh's own failure (connection, host key), not the script's: ssh exits 255."""
        return self.returncode == 255


def run_script(
    connection: Connection,
    hosts: dict[str, Host],
    script: Path,
    args: list[str],
    timeout: float = 120,
    host_args: dict[str, list[str]] | None = None,
    carries_secrets: bool = True,
) -> dict[str, ScriptResult]:
    """Run a Python script on each host at once, over one plain SSH connection each (or a local
    process): a second or two less than an Ansible play per command. The same known_hosts
    file, key and pinning as the playbooks (``Connection.inventory``). ``host_args`` follow
    ``args`` on the host they name.

    A script that ``carries_secrets`` opens (or joins) the master connection the command's
    playbooks share, under OpenSSH's default key exchange. One that does not (the probe: names,
    states, digests and keyed HMACs) joins a master if there is one and otherwise connects on
    its own with the cheapest key exchange both ends offer (``_fast_kex``)."""
    source = script.read_bytes()

    def one(name: str) -> ScriptResult:
        spec = hosts[name]
        args_here = [*args, *(host_args or {}).get(name, [])]
        if name in connection.local_hosts:
            argv = [sys.executable, "-", *args_here]
        else:
            argv = [
                "ssh",
                "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=15",
                "-o", f"UserKnownHostsFile={connection.known_hosts.resolve()}",
                "-o", "StrictHostKeyChecking=accept-new",
                "-o", "Compression=no",
                # The playbooks that follow in this command reuse this connection.
                "-o", f"ControlPath={_control_path(spec)}",
                *(
                    ["-o", "ControlMaster=auto", "-o", "ControlPersist=60s"]
                    if carries_secrets
                    else ["-o", "ControlMaster=no", "-o", f"KexAlgorithms={_fast_kex()}"]
                ),
                "-p", str(spec.port),
                "-l", spec.user,
                *(["-i", str(connection.private_key.resolve())] if connection.private_key else []),
                "--", spec.address,
                shlex.join(["/usr/bin/python3", "-", *args_here]),
            ]  # fmt: skip
        try:
            done = Runner().run(argv, input=source, check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            return ScriptResult(name, 255, "", f"no answer within {timeout:.0f} s")
        return ScriptResult(
            name, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, max(1, len(hosts)))) as pool:
        return {r.host: r for r in pool.map(one, sorted(hosts))}


def changed(event: dict[str, Any]) -> bool:
    """Whether a task's result event says it changed something. ansible-runner replaces a
    no_log task's result with ``{"censored": ...}``, ``changed`` included, so for those only
    the line Ansible printed says so."""
    data = event.get("event_data", {})
    result = data.get("res", {}) if isinstance(data, dict) and isinstance(data.get("res"), dict) else {}
    if result.get("changed"):
        return True
    stdout = event.get("stdout", "")
    return "censored" in result and isinstance(stdout, str) and "\nchanged: [" in f"\n{stdout}"


def _control_path(spec: Host) -> str:
    """The control socket Ansible's ssh connection uses for this host in this command."""
    with warnings.catch_warnings():
        # ansible-core 2.19 imports cryptography's DSA, which cryptography 51 deprecates: a
        # warning on every command's stderr that says nothing to the admin.
        warnings.simplefilter("ignore")
        from ansible.plugins.connection.ssh import Connection as AnsibleSsh

    template = str(AnsibleSsh._create_control_path(spec.address, spec.port, spec.user))
    return template % {"directory": _ssh_control_dir()}


#: Key exchanges as strong as OpenSSH's default against today's attacks at a fraction of the CPU:
#: OpenSSH 9.2's default, sntrup761x25519, costs about 0.19 CPU-seconds per connection
#: (client and server) on a 2-core controller, curve25519 about 0.02. ML-KEM (OpenSSH 9.9)
#: is post-quantum and cheap, so it stays first where both ends have it.
FAST_KEX = ("mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org")


@functools.cache
def _fast_kex() -> str:
    """The client's own key exchange list (``ssh -G``, which honours ~/.ssh/config) with
    ``FAST_KEX`` moved to the front: nothing the client would not offer anyway, nothing it
    would offer left out, so a server that takes only the others still connects."""
    try:
        done = Runner().run(["ssh", "-G", "-p", "22", "spbe-kit.invalid"], check=False, timeout=10)
        lines = done.stdout.decode(errors="replace").splitlines()
    except (OSError, subprocess.TimeoutExpired):
        lines = []
    offered = next((line.split()[1].split(",") for line in lines if line.startswith("kexalgorithms ")), [])
    return ",".join(fast_first(offered) or FAST_KEX[1:])


def fast_first(offered: list[str]) -> list[str]:
    """``offered`` with ``FAST_KEX`` in front, in that order; the rest as they were."""
    return sorted(offered, key=lambda name: FAST_KEX.index(name) if name in FAST_KEX else len(FAST_KEX))


@functools.cache
def _ssh_control_dir() -> str:
    """One SSH control folder per kit command, shared by its playbook runs and removed when it
    exits. Never shared across commands: a master kept from an earlier command would skip
    host-key verification, so a changed key could go unnoticed."""
    folder = tempfile.mkdtemp(prefix="spbe-ssh-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def new_run_dir(tree: Path, action: str) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    run_dir = (tree / "runs" / f"{stamp}-{action}").resolve()
    run_dir.mkdir(parents=True, mode=0o700)
    os.chmod(tree / "runs", 0o700)
    return run_dir


def _cmdline(
    run_dir: Path,
    extravars: dict[str, Any],
    vault: tuple[Path, Path] | None,
    check: bool,
    limit: str | None,
) -> list[str]:
    """ansible-playbook's arguments. Extra vars are templates to Ansible; values that came from
    hosts or profiles must stay data, so every string goes in as !unsafe through a file of our
    own (never -e k=v)."""
    variables = run_dir / "spbe-extravars.yml"
    variables.write_text(to_ansible_yaml(extravars) + "\n" if extravars else "{}\n")
    os.chmod(variables, 0o600)
    cmdline: list[str] = ["-e", f"@{variables}"]
    if vault:
        vault_file, password_file = vault
        cmdline += ["--vault-password-file", str(password_file.resolve()), "-e", f"@{vault_file.resolve()}"]
    if check:
        cmdline.append("--check")
    if limit:
        cmdline += ["--limit", limit]
    return cmdline


def _environment(control_dir: str, run_id: str) -> dict[str, str]:
    return {
        # ansible-playbook and its modules come from the kit's own environment.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_FORKS": "10",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir,
        # One master connection per host for the whole command, uncompressed: on a LAN
        # compression costs more CPU than it saves (541 MB of images: 20.1 s with -C,
        # 1.8 s without).
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s -o Compression=no",
        # Lets a later deploy find this run's Ansible if the kit itself was killed.
        "SPBE_KIT_RUN": run_id,
    }


def run_playbook(
    playbook: str,
    tree: Path,
    run_dir: Path,
    connection: Connection,
    hosts: list[str],
    extravars: dict[str, Any],
    *,
    vault: tuple[Path, Path] | None = None,
    check: bool = False,
    limit: str | None = None,
    secrets: list[str] | None = None,
    on_event: EventSink | None = None,
    run_id: str = "",
) -> RunResult:
    import ansible_runner

    # ansible-runner runs from the private data folder: every path it gets must be absolute.
    tree, run_dir = tree.resolve(), run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    runtime = run_dir / "runtime-inventory.yml"
    runtime.write_text(yaml.safe_dump(connection.inventory(hosts), sort_keys=True))
    os.chmod(runtime, 0o600)
    cmdline = _cmdline(run_dir, extravars, vault, check, limit)
    tasks: list[TaskResult] = []
    play = {"name": ""}
    control_dir = _ssh_control_dir()

    def handle(event: dict[str, Any]) -> bool:
        data = event.get("event_data", {})
        kind = event.get("event", "")
        if kind == "playbook_on_play_start":
            play["name"] = data.get("play", "")
        status = _STATUS.get(kind)
        if status:
            result = data.get("res", {}) if isinstance(data.get("res"), dict) else {}
            if status == "ok" and changed(event):
                status = "changed"
            took = data.get("duration")
            seconds = float(took) if isinstance(took, int | float) else 0.0
            host, task = data.get("host", ""), data.get("task", "")
            tasks.append(TaskResult(host, play["name"], task, status, result, seconds))
        if on_event:
            on_event(event)
        return True

    runner = ansible_runner.run(
        private_data_dir=str(run_dir),
        playbook=str(playbooks_dir() / playbook),
        inventory=[str(tree / "inventory" / "hosts.yml"), str(runtime)],
        cmdline=shlex.join(cmdline),
        envvars=_environment(control_dir, run_id),
        quiet=True,
        event_handler=handle,
        suppress_env_files=True,
    )
    redact_tree(run_dir, secrets or [])
    _private(run_dir)
    return RunResult(runner.rc, runner.status, run_dir, tasks)


_STATUS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
    "runner_item_on_failed": "",
}
_STATUS = {k: v for k, v in _STATUS.items() if v}


def _private(folder: Path) -> None:
    """Run records hold inventories and (redacted) logs: owner-only, like the vault."""
    for path in folder.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)


def redact_tree(folder: Path, secrets: list[str]) -> None:
    """Replace every known secret value in every file under ``folder`` (defence in depth)."""
    if not secrets:
        return
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        cleaned = redact(text, secrets)
        escaped = redact(cleaned, [json.dumps(s)[1:-1] for s in secrets])
        if escaped != text:
            path.write_text(escaped)
