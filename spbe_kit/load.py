"""Load: YAML files into plain data plus the line and column of every key path.

Owns the first boundary: bytes on disk become a ``Document``. It reports every duplicate key
(PyYAML would silently keep the last), refuses oversized files, alias bombs, several
documents, non-UTF-8 bytes and tabs with a located diagnostic. It must not interpret the
data: models and semantic checks live in ``spbe_kit.models`` and ``spbe_kit.validate``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spbe_kit.errors import Diagnostic, InvalidInput, KeyPath, Location

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"


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

    def walk(self, node: yaml.Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InvalidInput([self.doc.diagnostic("yaml-too-many-nodes", path, limit=MAX_NODES)])
        self.doc.positions.setdefault(path, _position(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

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

    def _scalar(self, node: yaml.Node) -> Any:
        # A plain 1.10 or 32.10 would become the float 1.1 or 32.1 and silently lose a digit
        # of a version or a region code; keep the text, models coerce where a number is due.
        if node.tag == _FLOAT_TAG and _looks_numeric(node.value):
            return str(node.value)
        if node.tag == _STR_TAG:
            return str(node.value)
        return self.constructor.construct_object(node, deep=True)


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
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InvalidInput(
                [Diagnostic("yaml-too-large", Location(display), (), {"size": size, "limit": MAX_BYTES})]
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput([Diagnostic("file-not-found", Location(display))]) from None
    except IsADirectoryError:
        raise InvalidInput([Diagnostic("file-is-directory", Location(display))]) from None
    except PermissionError:
        raise InvalidInput([Diagnostic("file-unreadable", Location(display))]) from None
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
