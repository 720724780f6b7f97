#!/bin/sh
# Start the server's own dockerd, then sshd in the foreground. The controller's public key
# arrives in SPBE_AUTHORIZED_KEY.
set -eu
mkdir -p /run/sshd /root/.ssh
if [ -n "${SPBE_AUTHORIZED_KEY:-}" ]; then
  printf '%s\n' "$SPBE_AUTHORIZED_KEY" > /root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
fi
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
dockerd --host unix:///var/run/docker.sock >/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e -o HostKey=/etc/ssh/ssh_host_ed25519_key
