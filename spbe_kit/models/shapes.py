"""Closed shapes of the values a host or a region writes about itself (release records, backup
records, status reports): what the controller accepts before it shows or uses one."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
Version = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,39}$")]
Who = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}@[A-Za-z0-9.-]{1,253}$")]
Moment = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\+00:00|Z)$")
]
ImageRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9./_:@-]{0,200}$")]
ImageId = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
