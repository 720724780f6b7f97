"""The one place where spbe-kit runs other programs (docker, debootstrap, ssh-keygen, ...).

Every command is logged with secrets redacted, and a failure becomes an OperationFailed
naming the command and the end of its error output. Tests may substitute a recording runner.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spbe_kit.errors import Diagnostic, Location, OperationFailed

log = logging.getLogger("spbe_kit.runner")


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    return text


@dataclass
class Runner:
    secrets: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)

    def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        cwd: Path | None = None,
        check: bool = True,
        timeout: float | None = None,
        stdout: int | None = subprocess.PIPE,
    ) -> subprocess.CompletedProcess[bytes]:
        shown = redact(shlex.join(argv), self.secrets)
        self.history.append(shown)
        log.debug("run: %s", shown)
        result = subprocess.run(
            list(argv), input=input, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout
        )
        if check and result.returncode != 0:
            tail = redact(result.stderr.decode(errors="replace").strip()[-1500:], self.secrets)
            raise OperationFailed(
                [
                    Diagnostic(
                        "command-failed",
                        Location(argv[0]),
                        (),
                        {"command": shown, "code": result.returncode, "stderr": tail},
                    )
                ]
            )
        return result
