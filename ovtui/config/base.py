"""The base of every config section: unknown keys refused, TOML types taken at their word.

TOML has real integers, floats, booleans and strings, so a quoted number (`cpus = "4"`), a
boolean for a count (`max_failures = true`) or a fraction for an integer is a mistake to report,
not something to coerce quietly: the model is strict. Paths are the one exception (TOML has no
path type): a string becomes a Path, and it must be absolute, because the engine runs with the
working directory of whatever started it (`/` under systemd).
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _is_path(annotation: Any) -> bool:
    return annotation is Path or Path in typing.get_args(annotation)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _path_from_string(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or not _is_path(field.annotation):
            return value
        if isinstance(value, str):
            if not value.startswith("/"):
                raise ValueError(f"{value!r} is not an absolute path (write it from /)")
            return Path(value)
        if not isinstance(value, Path) and value is not None:
            raise ValueError('must be a path in quotes, such as "/var/lib/ovtui"')
        return value
