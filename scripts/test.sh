#!/usr/bin/env bash
# The test command: sets up what the tests need (engine, .venv), then runs the whole suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not e2e"`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup-engine.sh
bash scripts/setup-python.sh
export PATH="$here/.venv/bin:$PATH"
.venv/bin/ruff check spbe_kit tests benchmarks images/app playbooks/files/spbe_acme.py playbooks/files/spbe_probe.py \
  playbooks/files/spbe_release.py playbooks/files/spbe_send_images.py playbooks/files/spbe_switch.py \
  playbooks/files/spbe_wait.py playbooks/files/spbe_alerts.py
.venv/bin/mypy
# The playbooks against ansible-lint's production profile (settings in .ansible-lint).
.venv/bin/ansible-lint --nocolor playbooks/
# The catalog's images and the test-server image, from Debian packages (skips unchanged ones).
spbe-kit images build --tests
exec .venv/bin/python -m pytest "$@"
