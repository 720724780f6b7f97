"""Preflight go/no-go rules and the lock decision, on probe data (no servers)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

from langcheck import english_leftovers

from conftest import EXAMPLES
from spbe_kit import pipeline
from spbe_kit.hosts.plan import file_changes, lock_is_stale, parse_lock, preflight
from spbe_kit.render.context import build_context

NOW = 1_800_000_000.0


def demo_context():
    validated = pipeline.validate(EXAMPLES / "demo.yaml")
    return build_context(validated.profile, validated.catalog)


def healthy_probe(**changes):
    probe = {
        "os": "Debian GNU/Linux 12 (bookworm)",
        "docker": "20.10.24+dfsg1",
        "compose": "2.26.1-4",
        "cpus": 2,
        "memory_mb": 4096,
        "disk_free_mb": 50_000,
        "disk_path": "/var/lib/docker",
        "listening": [22],
        "epoch": NOW,
        "containers": [],
        "lock": None,
        "files": {},
    }
    probe.update(changes)
    return probe


def failed(probe) -> dict[str, str]:
    return {c.name: c.says() for c in preflight(demo_context(), {"local": probe}, NOW) if not c.ok}


def test_a_healthy_host_is_go() -> None:
    assert failed(healthy_probe()) == {}


def test_each_rule_says_no_go() -> None:
    assert set(failed(healthy_probe(docker="19.03.1"))) == {"docker engine"}
    assert set(failed(healthy_probe(compose=None))) == {"compose plugin"}
    assert failed(healthy_probe(memory_mb=1024)) == {
        "memory": "1024 MB; e-simpati, layanan-publik, simpeg, postgres, proxy, backup, exporters, "
        "monitoring need 2752 MB"
    }
    assert set(failed(healthy_probe(disk_free_mb=100))) == {"disk"}
    assert failed(healthy_probe(listening=[22, 8443])) == {
        "ports": "in use by another program: 8443 (proxy (https))"
    }
    assert set(failed(healthy_probe(epoch=NOW + 600))) == {"clock"}


def test_every_check_reads_in_indonesian_with_its_hint() -> None:
    """Labels, details and hints of the preflight table come from the catalog in both languages."""
    bad = healthy_probe(
        docker=None, compose=None, cpus=0, memory_mb=1, disk_free_mb=1, listening=[8443], epoch=NOW + 600
    )
    bad["os"] = ""
    bad["containers"] = [{"name": "p", "ports": [], "working_dir": "/tmp/elsewhere/kuningan/proxy"}]
    checks = preflight(demo_context(), {"local": bad}, NOW) + preflight(demo_context(), {}, NOW)
    assert {c.name for c in checks if not c.ok} == {
        "os",
        "docker engine",
        "compose plugin",
        "cpu",
        "memory",
        "disk",
        "ports",
        "ownership",
        "clock",
        "reachable",
    }
    for check in checks:
        texts = [check.label("id"), check.says("id"), check.advice("id")]
        english = [check.label(), check.says(), check.advice()]
        assert english_leftovers("\n".join(texts)) == [], check.name
        assert all(english), check.name
        assert check.detail == "pf-as-reported" or check.says("id") != check.says(), check.name
        assert check.advice("id") != check.advice(), check.name
    ports = next(c for c in checks if c.name == "ports")
    assert ports.says("id") == "dipakai program lain: 8443 (proxy (https))"


def test_ports_held_by_this_region_are_fine() -> None:
    ours = {"name": "p", "ports": [8080, 8443], "working_dir": "/opt/spbe-kit/kuningan/proxy"}
    assert failed(healthy_probe(listening=[8080, 8443], containers=[ours])) == {}


def test_the_same_region_installed_elsewhere_is_no_go() -> None:
    other = {"name": "p", "ports": [], "working_dir": "/tmp/elsewhere/kuningan/proxy"}
    assert failed(healthy_probe(containers=[other])) == {
        "ownership": "region's containers come from /tmp/elsewhere/kuningan/proxy"
    }


def _lock(pid: int, controller: str) -> str:
    return json.dumps(
        {
            "who": "admin@" + controller,
            "since": "2026-11-29T01:02:03+00:00",
            "pid": pid,
            "controller": controller,
            "run": "20261129T010203.000001Z-deploy",
        }
    )


def test_lock_staleness() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    me = socket.gethostname()
    stale = parse_lock("h", _lock(dead.pid, me), "/opt/x")
    live = parse_lock("h", _lock(os.getpid(), me), "/opt/x")
    elsewhere = parse_lock("h", _lock(dead.pid, "other-host"), "/opt/x")
    assert stale and lock_is_stale(stale)
    assert live and not lock_is_stale(live)
    assert elsewhere and not lock_is_stale(elsewhere)
    assert parse_lock("h", None, "/opt/x") is None


def test_file_changes() -> None:
    wanted = {"h": {"a": "1", "b": "2"}}
    installed = {"h": {"files": {"b": "3", "c": "4"}}}
    assert [(c.path, c.change) for c in file_changes(wanted, installed)] == [
        ("a", "added"),
        ("b", "modified"),
        ("c", "removed"),
    ]


def test_converged_projects_need_same_files_and_a_healthy_container_on_the_right_image() -> None:
    from spbe_kit.hosts.plan import converged_projects

    ctx = demo_context()
    wanted = {"simpeg/compose.yaml": "h1", "simpeg/config.json": "h2", "proxy/compose.yaml": "h3"}
    images = {"spbe-kit/simpeg:1.0.0": "sha256:aa", "spbe-kit/proxy:1.22": "sha256:bb"}

    def container(project: str, image_id: str, health: str = "healthy") -> dict[str, object]:
        return {
            "project": f"spbe-kuningan-{project}",
            "status": "running",
            "health": health,
            "image_id": image_id,
        }

    probe = healthy_probe(
        files={"simpeg/compose.yaml": "h1", "simpeg/config.json": "h2", "proxy/compose.yaml": "old"},
        containers=[container("simpeg", "sha256:aa"), container("proxy", "sha256:bb")],
    )
    assert converged_projects(ctx, "local", probe, wanted, images) == ["simpeg"]
    probe["containers"] = [container("simpeg", "sha256:other"), container("proxy", "sha256:bb")]
    assert converged_projects(ctx, "local", probe, wanted, images) == []
    probe["containers"] = [container("simpeg", "sha256:aa", "unhealthy")]
    assert converged_projects(ctx, "local", probe, wanted, images) == []


def test_a_killed_deploys_surviving_processes_are_found() -> None:
    from spbe_kit.hosts.plan import RUN_ENV, run_processes

    child = subprocess.Popen(["sleep", "30"], env={**os.environ, RUN_ENV: "run-xyz"})
    try:
        # Popen returns when exec closes the child's descriptors, a moment before the kernel
        # sets up the new environment block: wait until /proc shows it.
        deadline = time.monotonic() + 5
        while run_processes("run-xyz") != [child.pid] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert run_processes("run-xyz") == [child.pid]
        assert run_processes("run-other") == []
        assert run_processes("") == []
    finally:
        child.kill()
        child.wait()
    assert run_processes("run-xyz") == []


def test_a_host_receives_only_the_images_it_lacks_or_holds_under_another_id() -> None:
    from spbe_kit.hosts.plan import missing_images

    ctx = demo_context()
    ids = {ref: "sha256:" + f"{n:064x}" for n, ref in enumerate(sorted(
        [a.image for a in ctx.apps.values()] + [s.image for s in ctx.services().values()]
    ))}  # fmt: skip
    assert missing_images(ctx, "local", healthy_probe(images=dict(ids)), ids) == []
    stale = dict(ids) | {ctx.proxy.image: "sha256:" + "f" * 64, "someone/else:1": "not even an id"}
    del stale[ctx.postgres.image]
    assert missing_images(ctx, "local", healthy_probe(images=stale), ids) == sorted(
        [ctx.postgres.image, ctx.proxy.image]
    )
    assert missing_images(ctx, "local", healthy_probe(), ids) == sorted(set(ids))


def test_projects_the_release_no_longer_places_on_a_host_are_taken_down() -> None:
    """An app dropped from the profile (or moved away) leaves its project running; the deploy
    takes it down. Other regions' projects, one-off containers and names compose would refuse
    (the probe's answer is the host's word) are left alone."""
    from spbe_kit.hosts.plan import orphan_projects

    ctx = demo_context()
    running = [
        "spbe-kuningan-simpeg",
        "spbe-kuningan-proxy",
        "spbe-kuningan-old-app",
        "spbe-kuningan-e-simpati",
        "spbe-kuningan-retired",
        "spbe-banjar-simpeg",
        "",
        "spbe-kuningan-$(reboot)",
        "spbe-kuningan-" + "x" * 80,
    ]
    probe = healthy_probe(containers=[{"project": p} for p in running] + ["not a container"])
    assert orphan_projects(ctx, "local", probe) == ["spbe-kuningan-old-app", "spbe-kuningan-retired"]
    assert orphan_projects(ctx, "local", healthy_probe()) == []


def test_a_deploy_runs_its_playbook_unless_every_host_is_exactly_as_the_release_leaves_it() -> None:
    """``settled``: the no-op deploy's shortcut. A probe of a host exactly as the playbook
    leaves it gives no reason; each thing the playbook would fix gives one."""
    import hashlib
    import hmac

    from spbe_kit.hosts.plan import components_on, host_folders, host_steps, kept_paths, secret_files, settled

    ctx = demo_context()
    here = ctx.hosts["local"]
    nonce = b"n" * 16
    projects = [project for project, _ in components_on(ctx, "local")]
    wanted = {"local": {f"{p}/compose.yaml": f"h-{p}" for p in projects}}
    ids = {ref: "sha256:" + f"{n:064x}" for n, ref in enumerate(sorted(
        [a.image for a in ctx.apps.values()] + [s.image for s in ctx.services().values()]
    ))}  # fmt: skip
    image_of = {a.id: a.image for a in ctx.apps.values()} | {n: s.image for n, s in ctx.services().items()}
    secrets: dict[str, object] = {}
    for spec in secret_files(ctx, here):
        node = secrets
        *parents, leaf = spec["ref"].split("/")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = f"value of {spec['ref']}"  # type: ignore[index]
    keyed = {
        spec["path"].removeprefix(ctx.root + "/"): hmac.new(
            nonce, f"value of {spec['ref']}".encode(), hashlib.sha256
        ).hexdigest()
        for spec in secret_files(ctx, here)
    }
    folders = host_folders(ctx, here)
    stats = {f["path"]: ("dir", int(f["mode"], 8), f.get("uid", 0), f.get("gid", 0)) for f in folders}
    stats |= {f["path"]: ("file", int(f["mode"], 8), f["uid"], f["gid"]) for f in secret_files(ctx, here)}
    stats[f"{ctx.root}/.spbe-kit/vault.json"] = ("file", 0o600, 0, 0)
    below = {path: [(10001, 10001)] for path in kept_paths(ctx, "local")["below"]}
    probe = healthy_probe(
        files=dict(wanted["local"]),
        images=dict(ids),
        tree_sha256="t" * 64,
        keyed=keyed,
        layout={"stats": stats, "below": below},
        containers=[
            {"project": f"spbe-kuningan-{p}", "status": "running", "health": "healthy", "image_id": i}
            for p, i in ((p, ids[image_of[p]]) for p in projects)
        ],
    )
    sent = {"local": "t" * 64}

    def reasons(**changes: object) -> list[str]:
        probes = {"local": healthy_probe(**(probe | changes))}
        return settled(ctx, probes, host_steps(ctx, probes, wanted, ids, sent), secrets, nonce)

    assert reasons() == []
    assert below, "the demo's host keeps backups: their owner is checked below the folder"
    secret = secret_files(ctx, here)[0]["path"]
    wrong_mode = stats | {secret: ("file", 0o644, *stats[secret][2:])}
    open_folder = stats | {f"{ctx.root}/secrets": ("dir", 0o755, 0, 0)}
    wrong_owner = stats | {f"{ctx.root}/backups": ("dir", 0o700, 0, 0)}
    a_link = stats | {f"{ctx.root}/tls": ("other", 0o777, 0, 0)}
    no_mark = {k: v for k, v in stats.items() if not k.endswith("vault.json")}
    stray_owner = {path: [(10001, 10001), (0, 0)] for path in below}
    other_secret = keyed | {secret.removeprefix(ctx.root + "/"): "0" * 64}
    unhealthy = [dict(c, health="unhealthy") if "proxy" in c["project"] else c for c in probe["containers"]]
    for changes, why in [
        ({"layout": {"stats": wrong_mode, "below": below}}, f"local: {secret}"),
        ({"layout": {"stats": open_folder, "below": below}}, f"local: {ctx.root}/secrets"),
        ({"layout": {"stats": wrong_owner, "below": below}}, f"local: {ctx.root}/backups"),
        ({"layout": {"stats": a_link, "below": below}}, f"local: {ctx.root}/tls"),
        ({"layout": {"stats": no_mark, "below": below}}, f"local: {ctx.root}/.spbe-kit/vault.json"),
        ({"layout": {"stats": stats, "below": stray_owner}}, f"local: {ctx.root}/backups/*"),
        ({"keyed": other_secret}, f"local: {secret.removeprefix(ctx.root + '/')} differs from the vault"),
        ({"tree_sha256": "u" * 64}, "local: the release tree differs"),
        ({"files": {**wanted["local"], "extra.conf": "x"}}, "local: installed files differ"),
        ({"images": {}}, "local: images missing"),
        ({"containers": unhealthy}, "local: a compose project is not running as rendered"),
        ({"lock": '{"who": "x"}'}, "local: the deploy lock is held"),
    ]:
        assert why in reasons(**changes), (changes, reasons(**changes))


def app_container(app: str, version: str, health: str = "healthy") -> dict[str, object]:
    return {
        "project": f"spbe-kuningan-{app}",
        "status": "running",
        "health": health,
        "image_id": "sha256:" + "0" * 64,
        "labels": {"org.spbe-kit.app": app, "org.spbe-kit.version": version},
    }


def test_an_app_switches_only_when_its_running_release_survives_the_change() -> None:
    from spbe_kit.hosts.plan import switchable

    ctx = demo_context()  # every app at 1.0.0, behind the proxy on the same host
    running = {"containers": [app_container(a, "1.0.0") for a in ("e-simpati", "simpeg", "layanan-publik")]}
    assert switchable(ctx, "local", running, converged=["simpeg"]) == ["e-simpati", "layanan-publik"]
    # Not healthy now, or two containers (a spare an interrupted switch left): restarted.
    sick = {"containers": [app_container("e-simpati", "1.0.0", "unhealthy")]}
    spare = {"containers": [app_container("e-simpati", "1.0.0"), app_container("e-simpati", "1.0.0")]}
    assert switchable(ctx, "local", sick, []) == switchable(ctx, "local", spare, []) == []


def test_a_schema_change_switches_only_if_every_migration_on_the_way_expands() -> None:
    from spbe_kit.hosts.plan import _runs_beside

    versions = demo_context().apps["simpeg"].spec.versions  # 1.1.0: generation 2, expand
    assert _runs_beside(versions, "1.0.0", "1.1.0")
    assert _runs_beside(versions, "1.0.0", "1.0.0")
    assert not _runs_beside(versions, "1.1.0", "1.0.0")  # back to an older schema: a restore
    assert not _runs_beside(versions, "0.9.0", "1.1.0")  # a release the catalog does not know
    exclusive = {**versions, "1.1.0": versions["1.1.0"].model_copy(update={"migration": "exclusive"})}
    assert not _runs_beside(exclusive, "1.0.0", "1.1.0")


def test_check_mode_names_each_changing_apps_path_and_a_proxy_recreate() -> None:
    from spbe_kit.hosts.plan import FileChange, change_paths

    ctx = demo_context()
    probes = {
        "local": {
            "containers": [
                app_container("e-simpati", "1.0.0"),
                app_container("simpeg", "1.0.0", "unhealthy"),
                {"project": "spbe-kuningan-proxy", "labels": {}},
            ]
        }
    }
    steps = {"converged": {"local": []}, "switch": {"local": [{"app": "e-simpati"}]}}
    changed = [FileChange("local", "proxy/compose.yaml", "modified")]
    assert change_paths(ctx, probes, steps, changed) == {
        "e-simpati": "path-switch",
        "simpeg": "path-maintenance",
        "layanan-publik": "path-start",
        "proxy": "path-proxy",
    }
    assert "proxy" not in change_paths(ctx, probes, steps, [])


def test_a_restarted_apps_maintenance_window_is_its_hosts_start_and_health_gate() -> None:
    from spbe_kit.hosts.apply import TaskResult
    from spbe_kit.hosts.deploy import maintenance_windows

    play = "Apps and backup scheduler"
    gate = "Wait until every started app is healthy (together, failing early)"
    tasks = [
        TaskResult("local", play, "Start apps", "changed", {}, 1.25),
        TaskResult("local", play, "Switch apps to their new container", "changed", {}, 30.0),
        TaskResult("local", play, gate, "ok", {}, 4.5),
    ]
    paths = {"simpeg": "path-maintenance", "e-simpati": "path-switch", "layanan-publik": "path-start"}
    assert maintenance_windows(paths, demo_context(), tasks) == {"simpeg": 5.8}
