"""Writes the documents for auditors (audit report, handover record) as JSON, Markdown or
HTML. Deterministic: the same data gives the same bytes."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2

FORMATS = ("json", "md", "html")


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


@cache
def _environment() -> jinja2.Environment:
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
    return env


def as_json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write(kind: str, data: dict[str, Any], fmt: str) -> bytes:
    """``kind``: audit or handover; ``fmt``: json, md or html."""
    if fmt == "json":
        return as_json(data)
    return _environment().get_template(f"{kind}.{fmt}.j2").render(r=data).encode()
