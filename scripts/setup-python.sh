#!/usr/bin/env bash
# Creates .venv beside this repository and installs spbe-kit (editable) with its test extras.
# Idempotent: reinstalls only when pyproject.toml changed since the last run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv="$here/.venv"
stamp="$venv/.spbe-kit-installed"
want=$(sha256sum "$here/pyproject.toml" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
  echo "setup-python: creating $venv"
  python3 -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "setup-python: installing spbe-kit and its dependencies into .venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$venv/bin/pip" install -q --disable-pip-version-check -e "$here[test]"
  echo "$want" > "$stamp"
else
  echo "setup-python: .venv is up to date"
fi
