from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictInt, StringConstraints


def _date_not_number(value: Any) -> Any:
    # pydantic would read 1700000000 as a Unix time and 0 as 1970-01-01.
    if isinstance(value, int | float):
        raise ValueError("a date is written YYYY-MM-DD, not a number")
    return value


# true is not 1 and 1700000000 is not a date: profiles and catalogs say what they mean.
Int = StrictInt
Date = Annotated[datetime.date, BeforeValidator(_date_not_number)]


# A length of time as people write it in a profile: 30s, 30m, 1h, 26h, 7d.
DURATION_PATTERN = r"^[1-9][0-9]{0,4}[smhd]$"
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration: str) -> int:
    """A ``Duration`` in seconds."""
    return int(duration[:-1]) * _UNIT_S[duration[-1]]


def span(value: float) -> str:
    """A number of seconds as people read it: 3.1 s, 14 min, 2 h 5 min, 26 h, 3 d 2 h."""
    if value < 60:
        return f"{value:.1f} s"
    minutes = int(value // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:  # 26 h reads better than 1 d 2 h
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


class Strict(BaseModel):
    """Unknown keys are errors; a number given where text is expected is kept as text."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, populate_by_name=True)


class Text(Strict):
    """A phrase in Bahasa Indonesia (``id``) and English (``en``)."""

    id: str
    en: str
