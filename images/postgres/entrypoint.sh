#!/bin/sh
# First start: initialise PGDATA with the superuser password read from a file, never from
# the environment. Later starts: run the server as is.
set -eu
: "${PGDATA:?}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE must name the secret file}"
  [ -r "$pwfile" ] || { echo "spbe-postgres: cannot read $pwfile" >&2; exit 1; }
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  initdb --username=postgres --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 \
         --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  cat >> "$PGDATA/postgresql.conf" <<CONF
# spbe-kit
listen_addresses = '*'
unix_socket_directories = '/run/postgresql'
password_encryption = scram-sha-256
log_connections = on
log_disconnections = on
CONF
  cat > "$PGDATA/pg_hba.conf" <<HBA
# spbe-kit: the superuser only over the local socket; apps with passwords over TCP.
local all postgres peer
local all all scram-sha-256
host  all postgres 0.0.0.0/0 reject
host  all postgres ::/0 reject
host  all all 0.0.0.0/0 scram-sha-256
host  all all ::/0 scram-sha-256
HBA
  echo "spbe-postgres: initialised $PGDATA" >&2
fi
exec "$@"
