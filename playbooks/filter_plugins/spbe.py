"""Filters for spbe-kit's playbooks."""


def spbe_pick(data, ref):
    """Follow a dotted reference ('apps.e-simpati.db_password') into nested dicts."""
    node = data
    for part in ref.split("/"):
        node = node[part]
    return node


def spbe_with_secrets(files, secrets):
    """Secret file specs (path, uid, gid, mode, ref) with their content from the vault."""
    return [{**spec, "content": spbe_pick(secrets, spec["ref"])} for spec in files]


class FilterModule:
    def filters(self):
        return {
            "spbe_pick": spbe_pick,
            "spbe_with_secrets": spbe_with_secrets,
        }
