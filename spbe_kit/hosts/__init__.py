"""Operations on the region's hosts: the session (the one way to them), the plan from their
probes, the playbook runner and its typed variables, and every command built on them
(deploy, backups and rollback, secret rotation, status and drift, HTTPS checks)."""
