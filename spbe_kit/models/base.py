from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors; a number given where text is expected is kept as text."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, populate_by_name=True)


class Text(Strict):
    """A phrase in Bahasa Indonesia (``id``) and English (``en``)."""

    id: str
    en: str
