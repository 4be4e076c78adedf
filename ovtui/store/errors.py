"""The one error the state layer raises for state it cannot use as it is."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """State on disk cannot be used; the message says which file, what is wrong and what to do."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.message, self.path = message, path
