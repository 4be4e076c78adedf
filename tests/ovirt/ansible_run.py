"""Running ansible-playbook / ansible-inventory from the venv, with modules on this Python."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def ansible_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,  # the SDK is installed here
            **(extra or {}),
        }
    )
    return env


def run(tool: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [str(BIN / tool), *args], capture_output=True, text=True, env=ansible_env(env),
        cwd=cwd, timeout=timeout,
    )  # fmt: skip
