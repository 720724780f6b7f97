"""Load: YAML files into plain data plus the line and column of every key path.

Owns the first boundary: bytes on disk become a ``Document``. It reports every duplicate key
(PyYAML would silently keep the last), refuses oversized files, alias bombs, several
documents, non-UTF-8 bytes and tabs with a located diagnostic. It must not interpret the
data: models and semantic checks live in ``spbe_kit.models`` and ``spbe_kit.validate``.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spbe_kit.errors import Diagnostic, InvalidInput, KeyPath, Location, diagnostic

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64
MAX_DIGITS = 18
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_FLOAT_TAG = _TAG + "float"
_STR_TAG = _TAG + "str"
# Plain YAML data only: text, whole numbers, true/false, null and dates. Every other tag
# (!!binary, !!set, !!omap, !!python/..., local tags) can smuggle bytes or types past the
# checks, so it is refused rather than interpreted.
_ALLOWED_TAGS = {_TAG + t for t in ("str", "int", "bool", "null", "timestamp", "float", "map", "seq")}
# YAML 1.1 reads these as numbers, booleans and dates that nobody meant: 016 is 14, 1:30 is
# 90, `on` is true. Only the YAML 1.2 forms below are taken as typed values.
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_BOOL = {"true", "false", "True", "False", "TRUE", "FALSE"}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass
class Document:
    """A parsed YAML mapping with the position of each key path, for located errors."""

    file: str
    data: Any
    sha256: str
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    # Problems that do not stop parsing (duplicate keys): reported with the model's own.
    problems: list[Diagnostic] = field(default_factory=list)

    def locate(self, path: KeyPath) -> Location:
        """The position of ``path``, or of its nearest ancestor that exists in the file."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found:
                return Location(self.file, *found)
        return Location(self.file, 1, 1)

    def diagnostic(self, code: str, path: KeyPath, /, **params: Any) -> Diagnostic:
        return Diagnostic(code, self.locate(path), path, params)


class _Walker:
    """Turns a composed node graph into Python data, bounded in size, noting positions."""

    def __init__(self, doc: Document, constructor: yaml.SafeLoader) -> None:
        self.doc = doc
        self.constructor = constructor
        self.nodes = 0
        self.problems: list[Diagnostic] = []
        # Collections being walked: an alias back to one of them would recurse for ever.
        self.open: set[int] = set()

    def walk(self, node: yaml.Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InvalidInput([self.doc.diagnostic("yaml-too-many-nodes", path, limit=MAX_NODES)])
        self.doc.positions.setdefault(path, _position(node))
        if node.tag not in _ALLOWED_TAGS:
            raise InvalidInput([self._at(node, "yaml-tag-refused", path, tag=_short_tag(node.tag))])
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.open or len(self.open) >= MAX_DEPTH:
            code = "yaml-recursive-alias" if id(node) in self.open else "yaml-too-deep"
            raise InvalidInput([self._at(node, code, path, limit=MAX_DEPTH)])
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def _at(self, node: yaml.Node, code: str, path: KeyPath, **params: Any) -> Diagnostic:
        return Diagnostic(code, Location(self.doc.file, *_position(node)), path, params)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Diagnostic("yaml-complex-key", Location(self.doc.file, *_position(key_node)), path)
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                line, column = _position(key_node)
                self.problems.append(
                    Diagnostic(
                        "yaml-duplicate-key",
                        Location(self.doc.file, line, column),
                        child,
                        {"key": key, "first_line": first_seen[key][0]},
                    )
                )
                continue
            first_seen[key] = _position(key_node)
            self.doc.positions[child] = _position(key_node)
            result[key] = self.walk(value_node, child)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        # A plain 1.10 or 32.10 would become the float 1.1 or 32.1 and silently lose a digit
        # of a version or a region code; keep the text, models coerce where a number is due.
        text = str(node.value)
        if node.tag == _STR_TAG or (node.tag == _FLOAT_TAG and _looks_numeric(text)):
            return text
        problem = _ambiguous(node.tag, text)
        if problem:
            raise InvalidInput([self._at(node, problem, path, value=text[:40], limit=MAX_DIGITS)])
        try:
            return self.constructor.construct_object(node, deep=True)
        except ValueError:  # 2026-02-30
            raise InvalidInput([self._at(node, "yaml-date-invalid", path, value=text[:40])]) from None


def _ambiguous(tag: str, text: str) -> str | None:
    """The diagnostic code for a plain scalar YAML 1.1 would read as something unintended."""
    kind = tag.removeprefix(_TAG)
    if kind == "int":
        if not _DECIMAL.fullmatch(text):
            return "yaml-ambiguous-number"
        return "yaml-number-too-long" if len(text.lstrip("+-")) > MAX_DIGITS else None
    if kind == "bool":
        return None if text in _BOOL else "yaml-ambiguous-bool"
    if kind == "timestamp":
        return None if _DATE.fullmatch(text) else "yaml-datetime"
    if kind == "float":  # 1e3, .inf, .nan: no field of a profile or catalog wants them
        return "yaml-ambiguous-number"
    return None


def _short_tag(tag: str) -> str:
    return ("!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag)[:40]


MISSING = object()


def step(container: Any, part: str | int) -> Any:
    """``container[part]`` for loaded data (dicts and lists), or MISSING."""
    if isinstance(container, dict) and part in container:
        return container[part]
    if isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container):
        return container[part]
    return MISSING


def _looks_numeric(text: str) -> bool:
    return re.fullmatch(r"[-+]?[0-9][0-9_]*\.[0-9_]*", text) is not None


def _position(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def read_text(path: Path, display: str) -> tuple[str, str]:
    """Read a UTF-8 file (a BOM is allowed) into text and its sha256, within MAX_BYTES."""
    try:
        raw = _read_regular(path, display)
    except FileNotFoundError:
        raise InvalidInput([diagnostic("file-not-found", display)]) from None
    except IsADirectoryError:
        raise InvalidInput([diagnostic("file-is-directory", display)]) from None
    except PermissionError:
        raise InvalidInput([diagnostic("file-unreadable", display)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            [Diagnostic("yaml-not-utf8", Location(display, line, 1), (), {"offset": exc.start})]
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InvalidInput([Diagnostic("yaml-nul-byte", Location(display, line, 1))])
    return text, hashlib.sha256(raw).hexdigest()


def _read_regular(path: Path, display: str) -> bytes:
    """The bytes of a regular file. A FIFO would block, a device (/dev/zero behind a symlink)
    never ends: both are refused after a non-blocking open, before any byte is read."""
    if path.is_dir():
        raise IsADirectoryError(display)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(display)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput([diagnostic("file-not-regular", display)])
        if info.st_size > MAX_BYTES:
            raise InvalidInput(
                [
                    diagnostic("yaml-too-large", display, size=info.st_size, limit=MAX_BYTES)
                ]
            )
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:  # grew after fstat
        raise InvalidInput(
            [diagnostic("yaml-too-large", display, size=len(raw), limit=MAX_BYTES)]
        )
    return raw


def load_yaml(path: Path, display: str | None = None) -> Document:
    """Parse one YAML mapping; raises InvalidInput naming every problem found."""
    shown = display or str(path)
    text, digest = read_text(path, shown)
    return parse_yaml(text, shown, digest)


def parse_yaml(text: str, display: str, digest: str | None = None) -> Document:
    doc = Document(display, None, digest or hashlib.sha256(text.encode()).hexdigest())
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise InvalidInput([_syntax_diagnostic(exc, display, text)]) from None
    except yaml.YAMLError as exc:
        raise InvalidInput(
            [Diagnostic("yaml-syntax", Location(display, 1, 1), (), {"problem": str(exc)})]
        ) from None
    finally:
        loader.dispose()
    if node is None:
        raise InvalidInput([Diagnostic("yaml-empty", Location(display, 1, 1))])
    walker = _Walker(doc, _Loader(""))
    try:
        doc.data = walker.walk(node, ())
    except yaml.constructor.ConstructorError as exc:
        raise InvalidInput([_syntax_diagnostic(exc, display, text)]) from None
    doc.problems = walker.problems
    if not isinstance(doc.data, dict):
        raise InvalidInput(
            [Diagnostic("yaml-not-mapping", Location(display, 1, 1), (), {"found": type(doc.data).__name__})]
        )
    return doc


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, display: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    if "expected a single document" in str(exc.context or ""):
        return Diagnostic("yaml-multiple-documents", Location(display, line, column))
    lines = text.splitlines()
    if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
        return Diagnostic("yaml-tab", Location(display, line, column))
    return Diagnostic("yaml-syntax", Location(display, line, column), (), {"problem": problem})
