from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictInt


def _date_not_number(value: Any) -> Any:
    # pydantic would read 1700000000 as a Unix time and 0 as 1970-01-01.
    if isinstance(value, int | float):
        raise ValueError("a date is written YYYY-MM-DD, not a number")
    return value


# true is not 1 and 1700000000 is not a date: profiles and catalogs say what they mean.
Int = StrictInt
Date = Annotated[datetime.date, BeforeValidator(_date_not_number)]


class Strict(BaseModel):
    """Unknown keys are errors; a number given where text is expected is kept as text."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, populate_by_name=True)


class Text(Strict):
    """A phrase in Bahasa Indonesia (``id``) and English (``en``)."""

    id: str
    en: str
