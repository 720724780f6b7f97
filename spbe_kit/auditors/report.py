"""Writes the documents for auditors (audit report, handover record) as JSON, Markdown or
HTML. Deterministic: the same data gives the same bytes."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jinja2

FORMATS = ("json", "md", "html")


# Every ASCII character Markdown may read as syntax (CommonMark lets each be backslash-escaped),
# so a grant agreement like "[klik](http://x)" or "<img onerror=...>" stays literal text.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&\-.:])")


def _md(value: Any) -> str:
    """Profile text as literal Markdown inline text (also inside a table cell)."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_code(value: Any) -> str:
    """A code span that no backtick in ``value`` can close early (CommonMark: a longer fence)."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("spbe_kit", "reports"),
        # Profile values reach these pages: every HTML template escapes (names end .html.j2).
        autoescape=lambda name: name is not None and ".html" in name,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md
    env.filters["md_code"] = _md_code
    return env


def as_json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write(kind: str, data: dict[str, Any], fmt: str) -> bytes:
    """``kind``: audit or handover; ``fmt``: json, md or html."""
    if fmt == "json":
        return as_json(data)
    return environment().get_template(f"{kind}.{fmt}.j2").render(r=data).encode()
