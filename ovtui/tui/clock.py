"""Times as the policy and audit screens show them: local time, to the second.

One module-level function so that snapshot tests can replace it and keep clocks out of the
frames they compare (`monkeypatch.setattr(clock, "shown", ...)`); callers therefore call
`clock.shown(...)`, never a local alias.
"""

from __future__ import annotations

import time
from datetime import datetime


def _shown(value: float | str | None) -> str:
    """'11-22 08:00:05' for an epoch float or an ISO 8601 string; '-' for nothing."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value[:19]
    else:
        stamp = float(value)
    return time.strftime("%m-%d %H:%M:%S", time.localtime(stamp))


shown = _shown
