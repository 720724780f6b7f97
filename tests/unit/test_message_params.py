"""Every error the code raises fills every placeholder of its message, in both languages: a
missing parameter would print the raw template (``messages._fill``) to the admin."""

from __future__ import annotations

import ast
import string

from conftest import ROOT
from spbe_kit.messages import MESSAGES

# How the package builds a diagnostic: the code comes first; the parameters are a dict literal
# (Diagnostic's fourth argument) or keywords (errors.diagnostic, SpbeError.of, Document.diagnostic).
BUILDERS = {"Diagnostic": "dict", "diagnostic": "keywords", "of": "keywords"}


def placeholders(code: str) -> set[str]:
    return {
        field.split(".")[0].split("[")[0]
        for template in MESSAGES[code]
        for _, field, _, _ in string.Formatter().parse(template)
        if field
    }


def calls() -> list[tuple[str, str, set[str]]]:
    """(where, code, parameters given) for each call whose parameters can be read from the source."""
    found = []
    for path in sorted((ROOT / "spbe_kit").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            code = node.args[0]
            if name not in BUILDERS or not (isinstance(code, ast.Constant) and code.value in MESSAGES):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if BUILDERS[name] == "keywords":
                if any(k.arg is None for k in node.keywords):
                    continue  # **params: not knowable here
                found.append((where, code.value, {k.arg for k in node.keywords if k.arg}))
            elif len(node.args) >= 4 and isinstance(node.args[3], ast.Dict):
                keys = node.args[3].keys
                if all(isinstance(k, ast.Constant) for k in keys):
                    found.append((where, code.value, {k.value for k in keys if isinstance(k, ast.Constant)}))
    return found


def test_every_diagnostic_fills_its_messages_placeholders() -> None:
    read = calls()
    assert len(read) > 100, "the scan no longer recognises how diagnostics are built"
    missing = [
        f"{where}: {code} lacks {sorted(placeholders(code) - given)}"
        for where, code, given in read
        if placeholders(code) - given
    ]
    assert missing == []


def test_the_scan_sees_a_missing_parameter() -> None:
    assert placeholders("host-undefined") == {"host", "available"}
    assert placeholders("processor-outside-indonesia") == {"processor", "country"}
