"""The importable core the CLI calls: validate, render, check. Never imports Typer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spbe_kit.errors import InvalidInput, SpbeError
from spbe_kit.render.tree import render_files
from spbe_kit.render.write import Staleness, compare_tree, write_tree
from spbe_kit.resources import default_catalog
from spbe_kit.validate import Validated, load_catalog, load_profile


def validate(profile: Path, catalog: Path | None = None) -> Validated:
    model, doc = load_catalog(catalog or default_catalog())
    return load_profile(profile, model, doc)


def validate_many(profiles: list[Path], catalog: Path | None = None) -> list[Validated]:
    """Every profile is checked; all problems from all files are raised together."""
    model, doc = load_catalog(catalog or default_catalog())
    good: list[Validated] = []
    problems = []
    for path in profiles:
        try:
            good.append(load_profile(path, model, doc))
        except SpbeError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise InvalidInput(problems)
    return good


def default_output(validated: Validated) -> Path:
    from spbe_kit.wilayah import dataset

    region = dataset().get(validated.profile.region.code)
    slug = region.slug if region else validated.profile.region.code
    return Path("build") / slug


@dataclass(frozen=True)
class RenderResult:
    out: Path
    files: int
    changed: bool


def render(validated: Validated, out: Path | None = None) -> RenderResult:
    target = out or default_output(validated)
    files = render_files(validated)
    changed = compare_tree(files, target).stale
    if changed:
        write_tree(files, target)
    return RenderResult(target, len(files), changed)


def check(validated: Validated, out: Path | None = None) -> Staleness:
    return compare_tree(render_files(validated), out or default_output(validated))
