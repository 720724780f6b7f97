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
      prometheus-blackbox-exporter --config.check --config.file="$m/blackbox.yml" 2>&1 | grep -q "Config file is ok"
    done
    """
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
         "-v", f"{GOLDEN}:/golden:ro", "--entrypoint", "sh", "spbe-kit/prometheus:2.42", "-c", script],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("SUCCESS") >= 3 * len(folders), done.stdout
