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


def spbe_host_images(spbe_apps, spbe_postgres, spbe_proxy, spbe_backup, host):
    images = [app["image"] for app in spbe_apps.values() if app["host"] == host]
    if host in spbe_backup["hosts"]:
        images.append(spbe_backup["image"])
    if spbe_postgres["host"] == host:
        images.append(spbe_postgres["image"])
    if spbe_proxy["host"] == host:
        images.append(spbe_proxy["image"])
    return sorted(set(images))


class FilterModule:
    def filters(self):
        return {
            "spbe_pick": spbe_pick,
            "spbe_with_secrets": spbe_with_secrets,
            "spbe_host_images": spbe_host_images,
        }
