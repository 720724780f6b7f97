"""Property-based tests over the profile: valid, hostile and malformed inputs.

At least 10,000 generated profiles per run. No uncaught exception; every rejected profile
is an InvalidInput whose diagnostics are located (line, and a key path for model and
semantic problems); every accepted profile renders, and a sample of those passes
`docker compose config -q` and `nginx -t`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, compose_accepts, nginx_accepts
from spbe_kit import wilayah
from spbe_kit.errors import InvalidInput
from spbe_kit.load import parse_yaml
from spbe_kit.messages import MESSAGES
from spbe_kit.render.tree import render_files
from spbe_kit.resources import default_catalog
from spbe_kit.validate import COPY_ROOTS, INSTALL_ROOTS, load_catalog, validate_document

CATALOG, CATALOG_DOC = load_catalog(default_catalog())
BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
REGIONS = sorted(r.code for r in wilayah.dataset().kabupaten_kota())
FILE_LEVEL = {
    "yaml-empty",
    "yaml-not-mapping",
    "yaml-multiple-documents",
    "yaml-tab",
    "yaml-syntax",
    "yaml-too-many-nodes",
    "yaml-complex-key",
    "yaml-nul-byte",
}
STATS = {"accepted": 0, "rejected": 0}
SAMPLES: list[dict[str, bytes]] = []
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "${HOME}",
            "$$",
            "a\nb",
            "x; rm -rf /",
            "'\"",
            "{{ 7*7 }}",
            "{% raw %}",
            "\\\\",
            "\u202eevil",
            "\x00",
            "-" * 3000,
            "../../etc/passwd",
            "*",
            "&a",
            "!!python/object",
            # host paths, names and addresses a careless or hostile profile names
            "/",
            "/etc",
            "/root/.ssh",
            "/var/lib/docker",
            "/var/run/docker.sock",
            "/mnt/../etc",
            "/opt/spbe-kit/x/secrets",
            "fe80::1%eth0",
            "fe80::1%eth0@db1.attacker.example",
            "simpati.example.go.id.evil.example",
            "line\u2028separator",
            "on",
            "016",
        ]
    ),
)
# Built from characters rather than st.from_regex, which costs about as much as a whole
# profile's validation and rendering (the fuzz run's largest share).
LOWER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"
LABEL = st.tuples(
    st.sampled_from(LOWER),
    st.text(LOWER + DIGITS + "-", max_size=8),
    st.sampled_from(LOWER + DIGITS),
    st.booleans(),
).map(lambda t: t[0] + (t[1] + t[2] if t[3] else ""))
DOMAIN = st.lists(LABEL, min_size=2, max_size=3).map(".".join)
PATH_PART = st.tuples(
    st.sampled_from(LOWER + LOWER.upper() + DIGITS + "_"),
    st.text(LOWER + LOWER.upper() + DIGITS + "._-", max_size=11),
).map("".join)
SUBPATH = st.lists(PATH_PART, max_size=3).map(lambda parts: "".join("/" + p for p in parts))
INSTALL_DIR = st.tuples(st.sampled_from(INSTALL_ROOTS), SUBPATH).map("".join)
COPY_DIR = st.tuples(st.sampled_from(COPY_ROOTS), SUBPATH).map("".join)
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).map(str)
ADDRESS = st.one_of(IPV4, IPV6, DOMAIN)


def check(text: str, tmp: Path) -> None:
    try:
        doc = parse_yaml(text, "fuzz.yaml")
        validated = validate_document(doc, tmp / "fuzz.yaml", CATALOG, CATALOG_DOC)
    except InvalidInput as exc:
        STATS["rejected"] += 1
        assert exc.diagnostics
        for diag in exc.diagnostics:
            assert diag.code in MESSAGES, diag.code
            assert diag.location.line >= 1, diag
            assert diag.key_path or diag.code in FILE_LEVEL or diag.code.startswith("yaml-"), diag
        return
    STATS["accepted"] += 1
    _accepted_invariants(validated.profile)
    files = render_files(validated)
    assert "manifest.json" in files
    if len(SAMPLES) < 12 and STATS["accepted"] % 97 == 1:
        SAMPLES.append(files)


def _accepted_invariants(profile: Any) -> None:
    """What no accepted profile may do, whatever the generator produced."""
    roots = {"install_dir": INSTALL_ROOTS, "copy_to": COPY_ROOTS}
    for key, value in (("install_dir", profile.install_dir), ("copy_to", profile.backup.copy_to)):
        if value and value.startswith("/"):
            assert any(value == r or value.startswith(r + "/") for r in roots[key]), value
            assert "/." not in value, value
    for entry in profile.apps.values():
        if entry.hostname:
            assert entry.hostname.endswith("." + profile.region.domain), entry.hostname
    for host in profile.hosts.values():
        for address in (host.address, host.internal_address, profile.proxy.bind):
            assert address is None or ("%" not in address and "@" not in address), address


@st.composite
def valid_profiles(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["region"] = {"code": draw(st.sampled_from(REGIONS)), "domain": draw(DOMAIN)}
    http = draw(st.integers(1024, 65535))
    https = draw(st.integers(1024, 65535).filter(lambda p: p != http))
    data["proxy"] = {
        "bind": draw(st.sampled_from(["127.0.0.1", "0.0.0.0", "10.1.2.3"])),
        "http_port": http,
        "https_port": https,
    }
    chosen = draw(st.lists(st.sampled_from(sorted(CATALOG.apps)), min_size=1, unique=True))
    apps: dict[str, Any] = {}
    for app_id in chosen:
        spec = CATALOG.apps[app_id]
        entry: dict[str, Any] = {"version": draw(st.sampled_from(sorted(spec.versions)))}
        for name, setting in spec.settings.items():
            if draw(st.booleans()):
                continue
            if setting.type == "int":
                entry.setdefault("settings", {})[name] = draw(
                    st.integers(setting.min or 0, setting.max or 1000)
                )
            elif setting.type == "choice" and setting.choices:
                entry.setdefault("settings", {})[name] = draw(st.sampled_from(setting.choices))
            elif setting.type == "string":
                entry.setdefault("settings", {})[name] = draw(
                    st.text(min_size=1, max_size=60).filter(
                        lambda t: (
                            t.strip() != "ISI"
                            and not any(
                                ord(c) < 32
                                or 0x7F <= ord(c) <= 0x9F
                                or 0x202A <= ord(c) <= 0x202E
                                or 0x2066 <= ord(c) <= 0x2069
                                or ord(c) in (0x200E, 0x200F)
                                for c in t
                            )
                        )
                    )
                )
        if draw(st.booleans()):
            entry["hostname"] = f"{draw(LABEL)}.{data['region']['domain']}"
        apps[app_id] = entry
    data["apps"] = apps
    data["install_dir"] = draw(INSTALL_DIR)
    data["backup"]["copy_to"] = draw(st.one_of(st.none(), COPY_DIR))
    if data["backup"]["copy_to"] is None or data["backup"]["copy_to"].startswith(data["install_dir"] + "/"):
        del data["backup"]["copy_to"]
    layout = draw(st.sampled_from(["one", "two"]))
    if layout == "two":
        data["hosts"] = {
            draw(LABEL.filter(lambda n: n[0].isalpha())) + "a": {
                "address": draw(ADDRESS),
                "roles": ["proxy", "apps"],
            },
            "db": {
                "address": draw(ADDRESS),
                "internal_address": draw(st.one_of(IPV4, IPV6)),
                "roles": ["database"],
            },
        }
    return data


@st.composite
def hostile_profiles(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(valid_profiles())
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if action == "replace":
            parent[last] = draw(
                st.one_of(
                    HOSTILE_TEXT,
                    st.integers(),
                    st.booleans(),
                    st.none(),
                    st.lists(st.text(max_size=5), max_size=3),
                )
            )
        elif action == "delete" and isinstance(parent, dict):
            parent.pop(last, None)
        elif isinstance(parent, dict):
            parent[draw(HOSTILE_TEXT)] = draw(HOSTILE_TEXT)
    return data


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def dump(data: dict[str, Any]) -> str:
    """The profile as YAML text, through libyaml (a third of the pure-Python emitter's time)."""
    return yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )


@fuzz(4000)
@given(valid_profiles())
def test_generated_valid_profiles(data: dict[str, Any]) -> None:
    check(dump(data), Path("/nonexistent"))


@fuzz(4500)
@given(hostile_profiles())
def test_hostile_profiles(data: dict[str, Any]) -> None:
    check(dump(data), Path("/nonexistent"))


@fuzz(1500)
@given(st.data())
def test_malformed_yaml_text(data: st.DataObject) -> None:
    text = (EXAMPLES / "demo.yaml").read_text()
    position = data.draw(st.integers(0, len(text)))
    insert = data.draw(
        st.sampled_from(
            ["\t", ": ", "- ", "{", "]", "&a ", "*a", "---\n", "\x00", "\ufeff", "'", "\n  x: 1\n"]
        )
    )
    check(text[:position] + insert + text[position:], Path("/nonexistent"))


def test_zz_fuzz_totals_and_tool_sample(tmp_path: Path) -> None:
    total = STATS["accepted"] + STATS["rejected"]
    print(f"\nfuzz: {total} generated profiles ({STATS['accepted']} accepted, {STATS['rejected']} rejected)")
    (Path(__file__).parent.parent / ".fuzz-count").write_text(
        f"{total} {STATS['accepted']} {STATS['rejected']}\n"
    )
    assert total >= 10_000
    assert STATS["accepted"] >= 1000 and STATS["rejected"] >= 1000
    for index, files in enumerate(SAMPLES):
        root = tmp_path / str(index)
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
        for compose in root.glob("hosts/*/*/compose.yaml"):
            result = compose_accepts(compose)
            assert result.returncode == 0, result.stderr
        result = nginx_accepts(next(root.glob("hosts/*/proxy")), tmp_path / f"nginx-{index}")
        assert result.returncode == 0, result.stderr
    assert SAMPLES
