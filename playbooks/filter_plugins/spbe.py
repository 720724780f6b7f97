"""Filters for spbe-kit's playbooks."""

import json


def spbe_pick(data, ref):
    """Follow a dotted reference ('apps.e-simpati.db_password') into nested dicts."""
    node = data
    for part in ref.split("/"):
        node = node[part]
    return node


def spbe_with_secrets(files, secrets):
    """Secret file specs (path, uid, gid, mode, ref) with their content from the vault; with
    ``encode: json`` written as a JSON string (a value another file's YAML takes as it is)."""

    def content(spec):
        value = spbe_pick(secrets, spec["ref"])
        return json.dumps(value) if spec.get("encode") == "json" else value

    return [{**spec, "content": content(spec)} for spec in files]


class FilterModule:
    def filters(self):
        return {
            "spbe_pick": spbe_pick,
            "spbe_with_secrets": spbe_with_secrets,
        }
