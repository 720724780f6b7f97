#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: set up everything and run the main job on the
# local demo profile (all apps on this machine, nothing to configure).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup-engine.sh
bash scripts/setup-python.sh
export PATH="$here/.venv/bin:$PATH"
spbe-kit validate examples/profiles/demo.yaml
spbe-kit render examples/profiles/demo.yaml
