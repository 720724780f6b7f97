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
# A first backup and its restore drill, then the region's signed status report for the donor.
spbe-kit backup examples/profiles/demo.yaml
spbe-kit backup verify examples/profiles/demo.yaml
spbe-kit report examples/profiles/demo.yaml -o build/kuningan-report.json
echo
echo "Trust the demo's own CA to open the apps in a browser: examples/profiles/demo.ca.crt"
echo "  curl --cacert examples/profiles/demo.ca.crt --resolve simpati.kuningankab.localhost:8443:127.0.0.1 \\"
echo "       https://simpati.kuningankab.localhost:8443/"
