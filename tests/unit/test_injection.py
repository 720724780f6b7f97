"""Injection and traversal: every profile string is rejected clearly or rendered inert.

Free text that reaches rendered files (the grant agreement, string settings of every catalog
app) must round-trip as the same literal; fields with a syntax (names, addresses, paths,
domains) must reject metacharacters with a located error; nothing escapes its folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES
from spbe_kit import pipeline
from spbe_kit.errors import InvalidInput
from spbe_kit.render.environment import md
from spbe_kit.render.tree import render_files

PAYLOADS = [
    "${HOME}",
    "$$HOME",
    "$(id)",
    "`id`",
    "line1\nline2",
    "a; rm -rf /",
    'it\'s "quoted"',
    "{{ 7 * 7 }}",
    "{% if true %}x{% endif %}",
    "back\\slash\\n",
    "# not a comment",
    "key: value",
    "- item",
    "&anchor *alias",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 2000,
    "Kabupaten Ñamé 北",
]
UNSAFE = ["nul\x00byte", "rtl\u202emark", "bell\x07", "ltr\u200emark"]
BASE = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())


def render_with(tmp_path: Path, change) -> dict[str, bytes]:
    data = json.loads(json.dumps(BASE, default=str))
    change(data)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return render_files(pipeline.validate(path))


def rejected(tmp_path: Path, change) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        render_with(tmp_path, change)
    return [(d.code, ".".join(map(str, d.key_path))) for d in caught.value.diagnostics]


def string_settings() -> list[tuple[str, str]]:
    from spbe_kit.resources import default_catalog
    from spbe_kit.validate import load_catalog

    catalog, _ = load_catalog(default_catalog())
    return [
        (app, name)
        for app, spec in catalog.apps.items()
        for name, s in spec.settings.items()
        if s.type == "string"
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_free_text_round_trips_as_the_same_literal(payload: str, tmp_path: Path) -> None:
    def change(data):
        data["grant"]["agreement"] = payload
        for app, name in string_settings():
            data["apps"].setdefault(app, {"version": "1.0.0"}).setdefault("settings", {})[name] = payload

    files = render_with(tmp_path, change)
    for rel, content in files.items():
        if rel.endswith("config.json"):
            config = json.loads(content)
            assert config["grant"]["agreement"] == payload
            for app, name in string_settings():
                if f"/{app}/" in rel:
                    assert config["settings"][name] == payload
        elif rel.endswith((".yaml", ".yml")):
            yaml.load(content, Loader=_UnsafeTagLoader)  # every YAML file still parses
        elif rel.endswith(".md"):
            # The documents for people: the agreement (in the record of processing) as text,
            # every Markdown or HTML character escaped: it can neither format the page nor
            # end a table cell.
            assert md(payload) in content.decode() or rel != "docs/catatan-pemrosesan-data-pribadi.md"
            continue
        if payload not in ("# not a comment", "- item", "key: value") and len(payload) > 6:
            assert payload.encode() not in content or rel.endswith("config.json"), rel


class _UnsafeTagLoader(yaml.SafeLoader):
    pass


_UnsafeTagLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


@pytest.mark.parametrize("payload", UNSAFE)
def test_control_and_direction_characters_are_rejected(payload: str, tmp_path: Path) -> None:
    def change(data):
        data["grant"]["agreement"] = payload

    assert rejected(tmp_path, change) == [("unsafe-character", "grant.agreement")]


SYNTAX_FIELDS = {
    "region.domain": ("dns-name-invalid", lambda d, v: d["region"].__setitem__("domain", v)),
    "hosts.local.address": ("address-invalid", lambda d, v: d["hosts"]["local"].__setitem__("address", v)),
    "hosts.local.user": ("name-invalid", lambda d, v: d["hosts"]["local"].__setitem__("user", v)),
    "apps.simpeg.hostname": ("dns-name-invalid", lambda d, v: d["apps"]["simpeg"].__setitem__("hostname", v)),
    "proxy.bind": ("bind-invalid", lambda d, v: d["proxy"].__setitem__("bind", v)),
    "install_dir": ("host-path-refused", lambda d, v: d.__setitem__("install_dir", v)),
    "backup.schedule": ("cron-invalid", lambda d, v: d["backup"].__setitem__("schedule", v)),
}
SYNTAX_PAYLOADS = ["${HOME}", "a;b", "x y", "{{ x }}", "../../etc", "a\nb", "'q'", "back\\slash"]


@pytest.mark.parametrize("field", sorted(SYNTAX_FIELDS))
@pytest.mark.parametrize("payload", SYNTAX_PAYLOADS)
def test_fields_with_a_syntax_reject_metacharacters(field: str, payload: str, tmp_path: Path) -> None:
    code, setter = SYNTAX_FIELDS[field]
    found = rejected(tmp_path, lambda d: setter(d, payload))
    assert found, field
    assert all(path.startswith(field.split(".")[0]) for _, path in found), found
    assert (code, field) in found or any(
        c in ("unsafe-character", "profile-invalid-value") for c, _ in found
    ), found


@pytest.mark.parametrize("name", ["../../etc", "a/b", "..", "UPPER", "-x", "x" * 40])
def test_host_names_cannot_traverse(name: str, tmp_path: Path) -> None:
    def change(data):
        data["hosts"] = {
            name: {"address": "127.0.0.1", "connection": "local", "roles": ["proxy", "apps", "database"]}
        }

    assert ("name-invalid", f"hosts.{name}") in rejected(tmp_path, change)


def test_app_ids_come_only_from_the_catalog(tmp_path: Path) -> None:
    def change(data):
        data["apps"]["../../x"] = {"version": "1.0.0"}

    assert ("app-unknown", "apps.../../x") in rejected(tmp_path, change)


def test_symlinks_in_the_output_folder_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    out = tmp_path / "tree"
    validated = pipeline.validate(EXAMPLES / "demo.yaml")
    pipeline.render(validated, out)
    (out / "runs").symlink_to(outside)
    (out / "hosts" / "local" / "evil").symlink_to(outside)
    (out / "manifest.json").write_text("{}")  # force a re-render
    pipeline.render(validated, out)
    assert (outside / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert not (out / "hosts" / "local" / "evil").exists()


def test_interrupt_exits_130_and_keeps_the_previous_tree(cli, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "demo"
    assert cli("render", str(EXAMPLES / "demo.yaml"), "-o", str(out)).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import spbe_kit.render.write as write

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "_write_file", interrupted)
    (out / "hosts" / "local" / "proxy" / "nginx.conf").write_text("stale")
    before[out / "hosts" / "local" / "proxy" / "nginx.conf"] = b"stale"
    result = cli("render", str(EXAMPLES / "demo.yaml"), "-o", str(out))
    assert result.exit_code == 130
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
