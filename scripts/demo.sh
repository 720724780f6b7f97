#!/usr/bin/env bash
# One command on a fresh Debian 12 machine (as root): set up everything and deploy the local
# demo profile — the three granted apps, PostgreSQL and the nginx proxy on this machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup-engine.sh
bash scripts/setup-python.sh
export PATH="$here/.venv/bin:$PATH"
spbe-kit images build
spbe-kit validate examples/profiles/demo.yaml
spbe-kit deploy examples/profiles/demo.yaml
echo
echo "Trust the demo's own CA to open the apps in a browser: examples/profiles/demo.ca.crt"
echo "  curl --cacert examples/profiles/demo.ca.crt --resolve simpati.kuningankab.localhost:8443:127.0.0.1 \\"
echo "       https://simpati.kuningankab.localhost:8443/"
