"""The register of the ICT assets a deployment adds to the region (PermenPANRB 59/2020,
indicator 24, Manajemen Aset TIK): servers, software with the exact image each runs and its
package list, and the data they hold. Rendered to ``docs/`` in the tree (and so into the
evidence pack); the audit checks that it lists every image the compose files run."""

from __future__ import annotations

from dataclasses import dataclass

from spbe_kit.render.context import Context, image_of

ASSET_FILE = "docs/daftar-aset-tik.md"


@dataclass(frozen=True)
class Software:
    component: str
    host: str
    version: str
    image: str  # as the compose file names it (tag, or tag@digest when the catalog pins one)
    maintainer: str
    package_list: str  # the file `spbe-kit images build` writes beside the lock (build/images)


@dataclass(frozen=True)
class DataAsset:
    what: str
    host: str
    app: str
    classes: list[str]
    backed_up: bool


def package_list(image: str) -> str:
    """The file name of an image's package list (``spbe-kit images build`` writes it)."""
    tag = image.split("@")[0]
    return tag.replace("/", "_").replace(":", "_") + ".packages.txt"


def software(ctx: Context) -> list[Software]:
    """Every component on every host, in the hosts' order."""
    services = ctx.services()
    found = []
    for name, host in sorted(ctx.hosts.items()):
        for component in host.components:
            if component in services:
                service = services[component]
                spec, version, image = service.spec, service.version, image_of(ctx, name, component)
            else:
                app = ctx.apps[component]
                spec, version, image = app.spec, app.version, app.image
            found.append(Software(component, name, version, image, spec.maintainer, package_list(image)))
    return found


def data(ctx: Context) -> list[DataAsset]:
    """Each app's database and volumes, where they lie and whether the scheduler backs them up."""
    found = []
    for app in sorted(ctx.apps.values(), key=lambda a: a.id):
        classes = [str(c) for c in app.spec.data_classes]
        database = f"basis data {app.database['name']}"
        found.append(DataAsset(database, ctx.postgres.host, app.id, classes, True))
        for volume, spec in sorted(app.spec.volumes.items()):
            found.append(DataAsset(f"volume {volume}", app.host, app.id, classes, spec.backup))
    return found
