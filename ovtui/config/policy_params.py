"""Checks of each cluster's scheduling section that pydantic cannot express on its own.

- params: known names only (policies/params.py is the table), numbers in range, Low < High,
  ConsolidationMode one of its words, and no parameter of the other consolidation mode (e.g.
  LowUtilization with the default "demand" mode: refused, naming the fix, not ignored);
- power_saving_window: "HH:MM-HH:MM" in the engine's local time (may cross midnight), or
  "always".

Findings come back as (key, problem) pairs, like config/crossrefs.py, so a bad value stops the
engine with exit code 2 and a line naming e.g. clusters[1].scheduling.params.HighUtilization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ovtui.config.schema import Config
from policies.params import param_errors

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Minutes of the day [start, end); end < start crosses midnight; start == end is all day."""

    start: int
    end: int

    @property
    def always(self) -> bool:
        return self.start == self.end

    def contains(self, when: datetime) -> bool:
        return self._inside(when.hour * 60 + when.minute)

    def hours(self) -> list[int]:
        """Every hour of the day that has at least one minute inside the window (for cron)."""
        return [h for h in range(24) if any(self._inside(h * 60 + m) for m in range(60))]

    def _inside(self, minute: int) -> bool:
        if self.always:
            return True
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        if self.always:
            return "always"
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def parse_window(text: str) -> TimeWindow:
    """'22:00-06:00' -> TimeWindow; raises ValueError with an example of what is valid."""
    if text.strip().lower() == "always":
        return TimeWindow(0, 0)
    start, sep, end = text.partition("-")
    a, b = _HHMM.match(start.strip()), _HHMM.match(end.strip())
    if not sep or a is None or b is None:
        raise ValueError(
            f'{text!r} is not a window such as "22:00-06:00" (HH:MM-HH:MM, local time) or "always"'
        )
    first = int(a.group(1)) * 60 + int(a.group(2))
    last = int(b.group(1)) * 60 + int(b.group(2))
    if first == last:
        raise ValueError(f'{text!r} starts where it ends: write "always" for all day')
    return TimeWindow(first, last)


def policy_errors(config: Config) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for i, cluster in enumerate(config.clusters):
        key = f"clusters[{i}].scheduling"
        sched = cluster.scheduling
        for name, problem in param_errors(sched.params):
            errors.append((f"{key}.params.{name}", problem))
        try:
            parse_window(sched.power_saving_window)
        except ValueError as exc:
            errors.append((f"{key}.power_saving_window", str(exc)))
    return errors
