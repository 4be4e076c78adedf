"""The `/` filter: a case-insensitive substring, or a regular expression after `re:`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ovtui.tui.rows import VmRow

REGEX_PREFIX = "re:"


class FilterError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class VmFilter:
    text: str
    match: Callable[[str], bool]

    def __call__(self, vm: VmRow) -> bool:
        # Field by field, so that anchors work: `re:^web-0[12]$` means names, not whole rows.
        return any(self.match(f) for f in (vm.name, vm.host, vm.cluster, vm.state, vm.role))


def compile_filter(text: str) -> VmFilter | None:
    """None means "show everything"; FilterError carries the regex problem for the user."""
    text = text.strip()
    if not text:
        return None
    if text.startswith(REGEX_PREFIX):
        try:
            pattern = re.compile(text[len(REGEX_PREFIX) :], re.IGNORECASE)
        except re.error as exc:
            raise FilterError(f"bad regex: {exc}") from None
        return VmFilter(text, lambda field: pattern.search(field) is not None)
    needle = text.lower()
    return VmFilter(text, lambda field: needle in field.lower())
