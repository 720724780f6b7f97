"""Golden files: each example's rendered tree, byte for byte.

After an intended change to templates, catalog or examples, rewrite them with
``pytest tests/test_golden.py --update-golden`` and review the diff in git.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES
from spbe_kit import pipeline
from spbe_kit.render.tree import backup_script, render_files

GOLDEN = Path(__file__).parent / "golden"
# Copied verbatim from playbooks/files into every host that runs a backup scheduler: checked
# against its source here instead of being stored again per example and host.
VERBATIM = "/backup/spbe_backup.py"


@pytest.mark.parametrize("profile", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_tree(profile: Path, request: pytest.FixtureRequest) -> None:
    files = render_files(pipeline.validate(profile))
    for rel in [r for r in files if r.endswith(VERBATIM)]:
        assert files.pop(rel) == backup_script()
    folder = GOLDEN / profile.stem
    if request.config.getoption("--update-golden"):
        shutil.rmtree(folder, ignore_errors=True)
        for rel, data in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        return
    expected = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(expected), "file list differs; run with --update-golden if intended"
    diffs = []
    for rel in sorted(files):
        if files[rel] != expected[rel]:
            diffs.extend(
                difflib.unified_diff(
                    expected[rel].decode().splitlines(),
                    files[rel].decode().splitlines(),
                    f"golden/{profile.stem}/{rel}",
                    f"rendered/{rel}",
                    lineterm="",
                )
            )
    assert not diffs, "\n".join(diffs) + "\n(run pytest --update-golden if this change is intended)"


@pytest.mark.docker
def test_the_rendered_monitoring_passes_promtool_amtool_and_the_blackbox_check(images: Path) -> None:
    """Each example's monitoring files as Prometheus 2.42, Alertmanager 0.25 and the blackbox
    exporter 0.23 of the kit's own image read them: promtool check config and rules, amtool
    check-config, blackbox --config.check."""
    import subprocess

    folders = sorted(GOLDEN.glob("*/hosts/*/monitoring"))
    assert {f.parts[-4] for f in folders} >= {"demo", "karawang"}
    script = """
    set -e
    for m in /golden/*/hosts/*/monitoring; do
      echo "== $m"
      sed "s#/etc/spbe-monitoring/rules.yml#$m/rules.yml#" "$m/prometheus.yml" > /tmp/prometheus.yml
      promtool check config --syntax-only /tmp/prometheus.yml
      promtool check rules "$m/rules.yml"
      sed "s#/etc/spbe-monitoring/spbe.tmpl#$m/spbe.tmpl#" "$m/alertmanager.yml" > /tmp/alertmanager.yml
      amtool check-config /tmp/alertmanager.yml
      prometheus-blackbox-exporter --config.check --config.file="$m/blackbox.yml" 2>&1 \
        | grep -q "Config file is ok"
    done
    """
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
         "-v", f"{GOLDEN}:/golden:ro", "--entrypoint", "sh", "spbe-kit/prometheus:2.42", "-c", script],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("SUCCESS") >= 3 * len(folders), done.stdout


@pytest.mark.docker
def test_alertmanager_starts_with_the_vaults_values_whatever_they_hold(images: Path, tmp_path: Path) -> None:
    """start-alertmanager.sh puts the receivers' secrets (JSON strings, as the deploy writes
    them) into Alertmanager's configuration in memory: quotes, backslashes, YAML and template
    syntax, and the other secret's placeholder come through exactly as they are."""
    import json
    import subprocess

    import yaml

    files = render_files(pipeline.validate(EXAMPLES / "karawang.yaml"))
    folder = tmp_path / "monitoring"
    for rel, data in files.items():
        if rel.startswith("hosts/app1/monitoring/"):
            (folder / rel.rsplit("/", 1)[1]).parent.mkdir(exist_ok=True)
            (folder / rel.rsplit("/", 1)[1]).write_bytes(data)
    values = {
        "smtp_password": 'p"a\\ss: {{ .x }} SPBE_SECRET_TELEGRAM_TOKEN & $(id) #\n',
        "telegram_token": "123456:AA-bb_cc'dd",
    }
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in values.items():
        (secrets / name).write_text(json.dumps(value))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "prometheus-alertmanager").write_text(
        "#!/bin/sh\namtool check-config /tmp/alertmanager.yml >&2 && cat /tmp/alertmanager.yml\n"
    )
    (fake / "prometheus-alertmanager").chmod(0o755)
    for path in [tmp_path, folder, secrets, fake, *folder.iterdir(), *secrets.iterdir()]:
        path.chmod(path.stat().st_mode | 0o555)
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
         "-v", f"{folder}:/etc/spbe-monitoring:ro", "-v", f"{secrets}:/run/secrets:ro",
         "-v", f"{fake}:/opt/fake:ro", "-e", "PATH=/opt/fake:/usr/bin:/bin",
         "-v", f"{folder / 'start-alertmanager.sh'}:/opt/spbe/start-alertmanager.sh:ro",
         "--entrypoint", "sh", "spbe-kit/prometheus:2.42", "/opt/spbe/start-alertmanager.sh"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    config = yaml.safe_load(done.stdout)
    receiver = config["receivers"][0]
    assert receiver["email_configs"][0]["auth_password"] == values["smtp_password"]
    assert receiver["telegram_configs"][0]["bot_token"] == values["telegram_token"]
