"""Exit codes, diagnostics and the one exception type the CLI catches.

Every user-facing problem is a Diagnostic with a stable code (``profile-unknown-key``), a
location (file, line, column, key path) and parameters; its words come from
``spbe_kit.messages`` so each can be said in Bahasa Indonesia or English.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Self


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURE = 1
    INVALID_INPUT = 2
    DIFFERENCES = 3
    HEALTH_GATE = 4
    INTERRUPTED = 130


KeyPath = tuple[str | int, ...]


def format_key_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(document)"


class Said(NamedTuple):
    """One piece of text in both languages: the one way a diagnostic's parameter carries
    words (``messages`` picks the language when it fills the message)."""

    en: str
    id: str


@dataclass(frozen=True)
class Location:
    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    code: str
    location: Location
    key_path: KeyPath = ()
    params: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.code)


class SpbeError(Exception):
    """Base of every error the CLI turns into a diagnostic and an exit code."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__(", ".join(d.code for d in self.diagnostics))

    @classmethod
    def of(cls, code: str, where: str, **params: Any) -> Self:
        """This error for one ``diagnostic``."""
        return cls([diagnostic(code, where, **params)])


class InvalidInput(SpbeError):
    exit_code = ExitCode.INVALID_INPUT


class OperationFailed(SpbeError):
    exit_code = ExitCode.FAILURE


class DifferencesFound(SpbeError):
    """A check found something to report: stale render, drift, a failed restore drill."""

    exit_code = ExitCode.DIFFERENCES


class HealthGateFailed(SpbeError):
    exit_code = ExitCode.HEALTH_GATE


def diagnostic(code: str, where: str, **params: Any) -> Diagnostic:
    """A problem at a file, host or value as a whole (no line or key path). The one way to build
    a diagnostic, with ``Document.diagnostic`` for a problem at a position inside a YAML
    document (``Diagnostic`` itself only where a line and column are known otherwise)."""
    return Diagnostic(code, Location(where), (), params)


def raise_if_any(diagnostics: Iterable[Diagnostic]) -> None:
    found = list(diagnostics)
    if found:
        raise InvalidInput(found)


def confirm_required(where: str, action: str, hint: str, hint_id: str) -> InvalidInput:
    """A command that would replace data or secrets was run without --yes (nothing changed)."""
    return InvalidInput([diagnostic("confirm-required", where, action=action, hint=Said(hint, hint_id))])


def invalid_choice(where: str, found: str, allowed: Sequence[str]) -> InvalidInput:
    """A value outside a fixed set (a command-line option, a report kind)."""
    return InvalidInput(
        [
            Diagnostic(
                "profile-invalid-value",
                Location(where),
                (),
                {
                    "problem": Said(
                        "expected one of: " + ", ".join(allowed),
                        "harus salah satu dari: " + ", ".join(allowed),
                    ),
                    "found": found,
                },
            )
        ]
    )


def unknown_apps(chosen: Sequence[str], available: Sequence[str]) -> None:
    """Raise when ``chosen`` names an app that is not among ``available``."""
    unknown = [a for a in chosen if a not in available]
    if unknown:
        raise InvalidInput(
            [
                Diagnostic("app-unknown", Location(a), (), {"app": a, "available": ", ".join(available)})
                for a in unknown
            ]
        )
