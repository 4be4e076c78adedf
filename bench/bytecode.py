"""Start engines as installed: with their bytecode compiled beforehand.

pip compiles the .pyc files of what it installs (the appliance's /opt/ovtui/venv), so a
production engine imports compiled code. A source checkout run with PYTHONDONTWRITEBYTECODE=1
(this machine's environment) compiles every module of ovtui, auth, collectors and policies again
at each start: ~0.3 s of CPU on a quiet machine, a third of the engine's Python start-up, and
much more on a loaded one. The benchmarks give the engines a bytecode cache of their own
(PYTHONPYCACHEPREFIX, so nothing is written into the source tree), filled by one start that is
not measured; `uncompiled()` is the environment as it came, for the figure without it.
"""

from __future__ import annotations

import os
from pathlib import Path


def compiled(root: Path) -> dict[str, str]:
    """The environment of an engine whose bytecode is cached under root/pycache (written by the
    first start: Python writes it there whatever PYTHONDONTWRITEBYTECODE said)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    return env


def uncompiled() -> dict[str, str]:
    """This process's environment, but never writing bytecode (as PYTHONDONTWRITEBYTECODE=1)."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def loadavg() -> str:
    """The 1, 5 and 15 min load averages, saved next to each figure (a shared 2-core machine)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
