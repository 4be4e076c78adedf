"""Secrets in the config: never in clear text, always a reference to a file or a variable."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator


class SecretRef(BaseModel):
    """`{ file = "/path" }` or `{ env = "VAR" }`; resolved when used, not when loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: Path | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError('give exactly one of file = "/path" or env = "VARIABLE"')
        return self

    def resolve(self) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise LookupError(f"environment variable {self.env} is not set")
            return value
        assert self.file is not None
        try:
            return self.file.read_text().rstrip("\n")
        except OSError as exc:
            raise LookupError(f"cannot read secret file {self.file}: {exc.strerror}") from exc
