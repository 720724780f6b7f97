"""The sandboxed Jinja2 environment and the filters that escape values for each target syntax.

Profile values are data: they reach templates only through these filters, never as template
source. A value that cannot be written safely into a syntax raises UnsafeValue.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

_NGINX_TOKEN = re.compile(r"^[A-Za-z0-9._:/\[\]-]+$")


class UnsafeValue(ValueError):
    def __init__(self, value: str, target: str) -> None:
        self.value = value
        self.target = target
        super().__init__(f"{value!r} cannot be written safely into {target}")


def yaml_str(value: Any) -> str:
    """A double-quoted YAML scalar; JSON string escapes are a subset of YAML's."""
    return json.dumps(str(value), ensure_ascii=False)


def compose_str(value: Any) -> str:
    """A YAML string that compose will not interpolate (``$`` doubled)."""
    return yaml_str(str(value).replace("$", "$$"))


def nginx_token(value: Any) -> str:
    """A bare nginx token: only characters that cannot end a directive or start a variable."""
    text = str(value)
    if not _NGINX_TOKEN.match(text):
        raise UnsafeValue(text, "nginx configuration")
    return text


def nginx_html(value: Any) -> str:
    """HTML text inside a double-quoted nginx string (a ``return`` body): markup escaped, and
    the characters nginx would read as a variable or an escape written as entities."""
    text = html.escape(" ".join(str(value).split()), quote=True)
    return text.replace("\\", "&#92;").replace("$", "&#36;")


_MARKDOWN = re.compile(r"([\\`*_\[\]<>|#!~{}])")


def md(value: Any) -> str:
    """Inline Markdown text: every character Markdown or HTML would act on is escaped, line
    breaks become spaces, so a profile value can neither format the document nor end a
    table cell."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(value).split()))


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


class _PlainDumper(yaml.SafeDumper):
    """Writes a value met twice twice: no anchors and aliases for a reviewer to follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(value: Any) -> str:
    """Block YAML, keys sorted, every string quoted where YAML would read it otherwise."""
    text = yaml.dump(
        value, Dumper=_PlainDumper, sort_keys=True, allow_unicode=True, default_flow_style=False, width=1000
    )
    return str(text)


_RESOLVER = yaml.resolver.Resolver()


def to_ansible_yaml(value: Any, indent: int = 0) -> str:
    """Block YAML where every string is ``!unsafe``: Ansible never templates profile values."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for key in sorted(value):
            item = value[key]
            rendered = to_ansible_yaml(item, indent + 1)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{yaml_str(key)}:\n{rendered}")
            else:
                lines.append(f"{pad}{yaml_str(key)}: {rendered}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for item in value:
            rendered = to_ansible_yaml(item, indent + 1)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}-\n{rendered}")
            else:
                lines.append(f"{pad}- {rendered}")
        return "\n".join(lines)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if value is None:
        return "null"
    plain = _RESOLVER.resolve(yaml.ScalarNode, str(value), (True, False))  # type: ignore[no-untyped-call]
    if value and plain != "tag:yaml.org,2002:str":
        # Ansible (2.19) resolves an !unsafe scalar as if it were plain, quotes or not:
        # !unsafe "32.10" loads as the float 32.1 and "33:33" as 1993. Such a value holds no
        # template delimiter, so it goes in as a plain quoted string. (The empty string stays
        # !unsafe: the playbooks read it as null, as they always have.)
        return yaml_str(value)
    return f"!unsafe {yaml_str(value)}"


@cache
def make_environment(templates: Path) -> SandboxedEnvironment:
    """One environment per template folder, so each template compiles once per process."""
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        yaml_str=yaml_str,
        compose_str=compose_str,
        nginx_token=nginx_token,
        nginx_html=nginx_html,
        md=md,
        to_json=to_json,
        to_yaml=to_yaml,
        ansible_yaml=to_ansible_yaml,
    )
    return env
