"""The controls the audit cites (``spbe_kit/data/controls.yaml``): each with its framework,
version, reference, heading and the source it was read in."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from spbe_kit.models.base import Strict


class Source(Strict):
    title: str
    document: str
    url: str | None = None
    kind: Literal["primary", "secondary"]


class ControlEntry(Strict):
    framework: str
    version: str
    ref: str
    heading: str
    wording: Literal["quoted", "paraphrase"]
    description: str
    basis: Literal["regulation", "benchmark", "kit-policy"]
    source: str


class ControlsFile(Strict):
    schema_: Literal["spbe-kit/controls/v1"] = Field(alias="schema")
    sources: dict[str, Source]
    controls: dict[str, ControlEntry]

    @model_validator(mode="after")
    def _every_source_known(self) -> ControlsFile:
        unknown = sorted(f"{c}: {e.source}" for c, e in self.controls.items() if e.source not in self.sources)
        if unknown:
            raise ValueError(f"controls citing an unknown source: {', '.join(unknown)}")
        return self
