#!/usr/bin/env bash
# Idempotent engine setup for a Debian 12 machine (developer, CI or demo controller):
# Docker engine from Debian, the compose v2 plugin from Debian 13 (pinned by version and
# sha256), the tools the tests use, and a running dockerd even where there is no systemd.
# Safe to run twice; says what it did.
set -euo pipefail

COMPOSE_VERSION="2.26.1-4"
COMPOSE_SHA256="47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea"
COMPOSE_URL="http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_${COMPOSE_VERSION}_amd64.deb"
# pebble: the ACME test server the tests obtain certificates from (Debian's package).
PACKAGES=(docker.io debootstrap nginx-light openssl openssh-client curl ca-certificates python3-venv age chromium fonts-dejavu-core pebble)

say() { printf 'setup-engine: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  say "must run as root (installs packages and starts dockerd)"; exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing from Debian: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present: ${PACKAGES[*]}"
fi

installed_compose=$(dpkg-query -W -f='${Version}' docker-compose 2>/dev/null || true)
if [ "$installed_compose" != "$COMPOSE_VERSION" ]; then
  say "installing the compose v2 plugin ${COMPOSE_VERSION} (Debian 13 package, sha256 pinned)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -fsSL -o "$tmp/compose.deb" "$COMPOSE_URL"
  echo "${COMPOSE_SHA256}  $tmp/compose.deb" | sha256sum -c --quiet -
  dpkg -i "$tmp/compose.deb" >/dev/null
else
  say "compose plugin ${COMPOSE_VERSION} present"
fi

# The docker.io client lives in /usr/bin; an older client earlier on PATH would shadow it.
if ! docker compose version >/dev/null 2>&1; then
  say "'docker compose' does not work with the docker on PATH ($(command -v docker))"; exit 1
fi

if docker info >/dev/null 2>&1; then
  say "dockerd is running"
else
  if [ -d /run/systemd/system ]; then
    say "starting docker with systemd"
    systemctl start docker
  else
    say "no systemd: starting dockerd in the background (log: /var/log/spbe-kit-dockerd.log)"
    nohup dockerd >/var/log/spbe-kit-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { say "dockerd did not start; see /var/log/spbe-kit-dockerd.log"; exit 1; }
  say "dockerd is running"
fi
say "engine $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null || docker compose version)"
