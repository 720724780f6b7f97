#!/bin/sh
# Rendered by spbe-kit 0.1.0 from catalog 2026.12.0 for Kabupaten Kuningan (32.08).
# Do not edit on the server: change the profile and run `spbe-kit render` / `spbe-kit deploy`.
# Alertmanager 2.42 reads no secret from a file: alertmanager.yml names the
# receivers' secrets by placeholder, and this script writes the configuration with the values
# from /run/secrets (JSON strings, so any character is safe in YAML) into memory (/tmp is a
# tmpfs) before it starts Alertmanager. No reviewed file and no `docker inspect` shows them.
set -eu
awk '
function secret(name,   value, path) {
  path = "/run/secrets/" name
  value = "\"\""
  if ((getline value < path) > 0) close(path)
  return value
}
BEGIN {
}
{
  # Left to right, the nearest placeholder first: a value is never searched again.
  out = ""; rest = $0
  while (1) {
    best = 0
    for (key in found) {
      at = index(rest, key)
      if (at > 0 && (best == 0 || at < best)) { best = at; chosen = key }
    }
    if (best == 0) break
    out = out substr(rest, 1, best - 1) found[chosen]
    rest = substr(rest, best + length(chosen))
  }
  print out rest
}' /etc/spbe-monitoring/alertmanager.yml > /tmp/alertmanager.yml
exec prometheus-alertmanager --config.file=/tmp/alertmanager.yml --storage.path=/srv/alertmanager \
  --web.listen-address=:9093 --web.route-prefix=/alertmanager/ --cluster.listen-address= \
  "$@"
