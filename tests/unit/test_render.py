from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import EXAMPLES
from spbe_kit import pipeline
from spbe_kit.errors import InvalidInput
from spbe_kit.render.tree import render_files
from spbe_kit.render.write import write_tree

ALL = sorted(EXAMPLES.glob("*.yaml"))


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("profile", ALL, ids=lambda p: p.stem)
def test_render_twice_is_byte_identical(profile: Path, tmp_path: Path) -> None:
    validated = pipeline.validate(profile)
    pipeline.render(validated, tmp_path / "a")
    pipeline.render(validated, tmp_path / "b")
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_manifest_hashes_every_file(tmp_path: Path) -> None:
    import hashlib

    validated = pipeline.validate(EXAMPLES / "karawang.yaml")
    pipeline.render(validated, tmp_path / "k")
    manifest = json.loads((tmp_path / "k" / "manifest.json").read_text())
    on_disk = tree_bytes(tmp_path / "k")
    assert set(manifest["files"]) == set(on_disk) - {"manifest.json", "SHA256SUMS"}
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256(on_disk[rel]).hexdigest() == digest
    assert manifest["reference_data"]["sha256"] == (
        "1e58c048bc0e041ecb24d676c62d8a59880a7b6bcb80c19878ec4ad3b7c5acb4"
    )
    assert manifest["profile"]["file"] == "karawang.yaml"
    assert manifest["tool"]["name"] == "spbe-kit"


def test_check_exit_codes(cli, tmp_path: Path) -> None:
    profile = tmp_path / "karawang.yaml"
    profile.write_text((EXAMPLES / "karawang.yaml").read_text())
    assert cli("render", str(profile), cwd=tmp_path).exit_code == 0
    assert (tmp_path / "build" / "karawang" / "manifest.json").is_file()
    fresh = cli("render", str(profile), "--check", cwd=tmp_path)
    assert fresh.exit_code == 0, fresh.output
    profile.write_text(profile.read_text().replace("keep: 14", "keep: 15"))
    stale = cli("render", str(profile), "--check", cwd=tmp_path)
    assert stale.exit_code == 3
    assert "profile changed since the last render [render-stale]" in stale.stderr
    assert "inventory/group_vars/all.yml differs" not in stale.stderr  # keep is not rendered there
    profile.write_text(profile.read_text().replace('version: "1.0.0"', 'version: "1.1.0"', 1))
    stale = cli("render", str(profile), "--check", cwd=tmp_path)
    assert "hosts/app1/simpeg/compose.yaml differs" in stale.stderr


def test_check_notices_a_hand_edit(cli, tmp_path: Path) -> None:
    profile = EXAMPLES / "demo.yaml"
    out = tmp_path / "demo"
    assert cli("render", str(profile), "-o", str(out)).exit_code == 0
    target = out / "hosts/local/proxy/nginx.conf"
    target.write_text(target.read_text() + "# edited\n")
    result = cli("render", str(profile), "-o", str(out), "--check")
    assert result.exit_code == 3
    assert "hosts/local/proxy/nginx.conf differs" in result.stderr


def _high_entropy_tokens(text: str) -> list[str]:
    import math
    from collections import Counter

    found = []
    for token in re.findall(r"[A-Za-z0-9+=_-]{20,}", text):
        if re.fullmatch(r"[0-9a-f]{64}", token):
            continue  # sha256 digests in the manifest
        counts = Counter(token)
        entropy = -sum(c / len(token) * math.log2(c / len(token)) for c in counts.values())
        if entropy > 4.0:
            found.append(token)
    return found


@pytest.mark.parametrize("profile", ALL, ids=lambda p: p.stem)
def test_secrets_are_only_paths(profile: Path) -> None:
    import yaml

    files = render_files(pipeline.validate(profile))
    for rel, data in files.items():
        text = data.decode()
        assert "PRIVATE KEY" not in text
        assert _high_entropy_tokens(text) == [], rel
        if rel.endswith("compose.yaml"):
            compose = yaml.safe_load(text)
            for name, secret in compose.get("secrets", {}).items():
                assert set(secret) == {"file"}, (rel, name)
                assert re.fullmatch(r"/opt/spbe-kit/[a-z-]+/secrets/[a-z-]+[.][a-z_]+", secret["file"])
            for service in compose["services"].values():
                for var in service.get("environment", {}):
                    assert not re.search("PASSWORD|SECRET|KEY", var) or var.endswith("_FILE"), var


def test_failed_render_keeps_previous_tree(tmp_path: Path) -> None:
    validated = pipeline.validate(EXAMPLES / "demo.yaml")
    out = tmp_path / "demo"
    pipeline.render(validated, out)
    (out / "runs").mkdir()
    (out / "runs" / "log.json").write_text("{}")
    before = tree_bytes(out)
    files = render_files(validated)
    files["../escape.txt"] = b"x"
    with pytest.raises(InvalidInput):
        write_tree(files, out)
    assert tree_bytes(out) == before
    assert not (tmp_path / "escape.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_interrupted_render_keeps_previous_tree(tmp_path: Path, monkeypatch) -> None:
    validated = pipeline.validate(EXAMPLES / "demo.yaml")
    out = tmp_path / "demo"
    pipeline.render(validated, out)
    before = tree_bytes(out)
    import spbe_kit.render.write as write

    calls = {"n": 0}
    real = write._write_file

    def interrupt(root: Path, rel: str, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        real(root, rel, data)

    monkeypatch.setattr(write, "_write_file", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_tree(render_files(validated), out)
    assert tree_bytes(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_runs_survive_a_render(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    pipeline.render(pipeline.validate(EXAMPLES / "demo.yaml"), out)
    (out / "runs").mkdir()
    (out / "runs" / "x").write_text("kept")
    pipeline.render(pipeline.validate(EXAMPLES / "karawang.yaml"), out)
    assert (out / "runs" / "x").read_text() == "kept"


def test_symlinked_output_is_refused(tmp_path: Path, cli) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    result = cli("render", str(EXAMPLES / "demo.yaml"), "-o", str(link))
    assert result.exit_code == 2
    assert "[output-symlink]" in result.stderr
    assert list(real.iterdir()) == []


def test_foreign_folder_is_not_overwritten(tmp_path: Path, cli) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "important.txt").write_text("mine")
    result = cli("render", str(EXAMPLES / "demo.yaml"), "-o", str(tmp_path / "docs"))
    assert result.exit_code == 2
    assert "[output-not-rendered]" in result.stderr
    assert (tmp_path / "docs" / "important.txt").read_text() == "mine"


def test_rendered_files_are_private(tmp_path: Path) -> None:
    out = tmp_path / "k"
    pipeline.render(pipeline.validate(EXAMPLES / "karawang.yaml"), out)
    assert (out / "inventory" / "hosts.yml").stat().st_mode & 0o777 == 0o600
    assert (out / "inventory").stat().st_mode & 0o777 == 0o700
    assert out.stat().st_mode & 0o777 == 0o700


def test_two_server_layout_publishes_database_on_internal_address_only() -> None:
    files = render_files(pipeline.validate(EXAMPLES / "siak.yaml"))
    compose = files["hosts/basisdata/postgres/compose.yaml"].decode()
    assert 'host_ip: "192.168.8.6"' in compose
    vhost = files["hosts/gateway/proxy/conf.d/e-simpati.conf"].decode()
    assert "set $spbe_upstream http://e-simpati:8000;" in vhost
    config = json.loads(files["hosts/gateway/e-simpati/config.json"])
    assert config["database"]["host"] == "192.168.8.6"
    assert {"code": "14.08.01", "name": "Siak"} in config["kecamatan"]


def test_demo_keeps_everything_on_loopback() -> None:
    files = render_files(pipeline.validate(EXAMPLES / "demo.yaml"))
    assert "hosts/local/postgres/compose.yaml" in files
    assert "ports:" not in files["hosts/local/postgres/compose.yaml"].decode()
    proxy = files["hosts/local/proxy/compose.yaml"].decode()
    assert 'host_ip: "127.0.0.1"' in proxy and 'published: "8443"' in proxy
    vhost = files["hosts/local/proxy/conf.d/simpeg.conf"].decode()
    assert "return 308 https://$host:8443$request_uri;" in vhost


def test_strings_stay_strings_through_ansibles_loader() -> None:
    """Ansible 2.19 resolves an !unsafe scalar as if it were plain: !unsafe "32.10" loaded as
    the float 32.1 (the probe then filtered region 32.10's containers by "32.1")."""
    from ansible.parsing.utils.yaml import from_yaml

    from spbe_kit.render.environment import to_ansible_yaml

    values = {
        "code": "32.10",
        "user": "33:33",
        "word": "yes",
        "octal": "016",
        "hex": "0x10",
        "null": "~",
        "version": "15",
        "template": "{{ 7 * 7 }}",
        "text": "Kabupaten Majalengka",
    }
    loaded = from_yaml(to_ansible_yaml(values))
    assert loaded == values
    assert all(isinstance(v, str) for v in loaded.values())


@pytest.mark.parametrize("profile", ALL, ids=lambda p: p.stem)
def test_each_host_gets_the_compose_projects_of_its_component_list(profile: Path) -> None:
    """The context's per-host component list is the one answer to "what runs on host H": the
    playbooks read it from the inventory, and the tree has exactly those compose projects."""
    import yaml

    from spbe_kit.render.context import build_context

    validated = pipeline.validate(profile)
    ctx = build_context(validated.profile, validated.catalog)
    files = render_files(validated)
    Loader = type("Loader", (yaml.SafeLoader,), {})
    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    rendered = yaml.load(files["inventory/group_vars/all.yml"], Loader)["spbe_hosts"]
    for name, host in ctx.hosts.items():
        compose = re.compile(rf"hosts/{re.escape(name)}/([^/]+)/compose\.yaml")
        projects = sorted(m[1] for p in files if (m := compose.fullmatch(p)))
        assert sorted(host.components) == projects
        assert rendered[name]["components"] == host.components


def test_a_proxy_only_host_runs_a_scheduler_for_its_logs_without_the_backup_password(tmp_path: Path) -> None:
    text = (EXAMPLES / "karawang.yaml").read_text()
    start, end = text.index("hosts:\n"), text.index("\napps:")
    hosts = (
        "hosts:\n  web1:\n    address: 10.15.20.10\n    user: root\n    roles: [proxy]\n"
        "  app1:\n    address: 10.15.20.11\n    user: root\n    roles: [apps]\n"
        "  db1:\n    address: 10.15.20.12\n    user: root\n    roles: [database]\n"
    )
    profile = tmp_path / "karawang.yaml"
    profile.write_text(text[:start] + hosts + text[end:])
    files = render_files(pipeline.validate(profile))
    schedule = json.loads(files["hosts/web1/backup/schedule.json"])
    assert schedule["local"] is None and schedule["remote"] is None
    assert schedule["logs"] == {"dir": "/srv/spbe/logs/proxy", "keep_days": 180}
    compose = files["hosts/web1/backup/compose.yaml"].decode()
    assert "PGPASSWORD_FILE" not in compose and "target: /srv/spbe/logs" in compose
    # It runs from the proxy's image, which the host has anyway: no PostgreSQL tools there.
    assert 'image: "spbe-kit/proxy:1.22"' in compose
    assert 'image: "spbe-kit/backup:1"' in files["hosts/app1/backup/compose.yaml"].decode()
    from spbe_kit.render.context import build_context
    from spbe_kit.render.tree import host_folders

    validated = pipeline.validate(profile)
    ctx = build_context(validated.profile, validated.catalog)
    logs = [f for f in host_folders(ctx, ctx.hosts["web1"]) if f["path"].endswith("/logs/proxy")]
    assert logs == [{"path": "/opt/spbe-kit/karawang/logs/proxy", "mode": "0770", "uid": 33, "gid": 10001}]
    assert ctx.hosts["web1"].components == ["proxy", "backup", "exporters", "monitoring"]
    assert "target: /var/log/spbe" in files["hosts/web1/proxy/compose.yaml"].decode()
    assert json.loads(files["hosts/app1/backup/schedule.json"])["logs"] is None
