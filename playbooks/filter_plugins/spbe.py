"""Filters for spbe-kit's playbooks."""

from spbe_kit.secretfiles import content, pick


def spbe_pick(data, ref):
    """Follow a dotted reference ('apps.e-simpati.db_password') into nested dicts."""
    node = pick(data, ref)
    if node is None:
        raise KeyError(ref)
    return node


def spbe_with_secrets(files, secrets):
    """Secret file specs (path, uid, gid, mode, ref, encode) with their content from the vault,
    as ``spbe_kit.secretfiles.content`` writes it (the probe compares with the same)."""
    found = []
    for spec in files:
        value = content(spec, secrets)
        if value is None:
            raise KeyError(spec["ref"])
        found.append({**spec, "content": value})
    return found


class FilterModule:
    def filters(self):
        return {
            "spbe_pick": spbe_pick,
            "spbe_with_secrets": spbe_with_secrets,
        }
