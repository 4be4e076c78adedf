"""Secrets in the config: never in clear text, always a reference to a file or a variable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import model_validator

from ovtui.config.base import Strict


class SecretRef(Strict):
    """`{ file = "/path" }` or `{ env = "VAR" }`; resolved when used, not when loaded.

    `problem()` is checked once at engine start, so that a secret that cannot be read stops the
    engine there rather than failing the first sign-in or power action hours later.
    """

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
            return self.file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise LookupError(f"cannot read secret file {self.file}: {exc.strerror}") from exc
        except UnicodeDecodeError:
            raise LookupError(f"secret file {self.file} is not UTF-8 text") from None

    def problem(self) -> str | None:
        """What stops this secret from being used today, with the fix; None when it can be."""
        if self.env is not None:
            if not os.environ.get(self.env):
                return (
                    f"environment variable {self.env} is not set (or empty) in the engine's "
                    'environment; set it, or use file = "/path"'
                )
            return None
        assert self.file is not None
        try:
            st = self.file.stat()
        except OSError as exc:
            return f"secret file {self.file}: {exc.strerror}; create it (mode 0600) or fix the path"
        if not stat.S_ISREG(st.st_mode):
            return f"secret file {self.file} is not a regular file; point file at the secret"
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return (
                f"secret file {self.file} is readable by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {self.file}"
            )
        try:
            value = self.resolve()
        except LookupError as exc:
            return str(exc)
        if not value:
            return f"secret file {self.file} is empty; write the secret into it"
        return None
