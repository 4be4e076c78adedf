"""VM and template names: what libvirt, file systems and shells all accept."""

from __future__ import annotations

import re

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def name_problem(name: str, what: str = "VM") -> str | None:
    """Why `name` cannot name a VM (or template), or None. libvirt itself accepts almost any
    text; a name also becomes volume and file names, so it keeps to a portable set."""
    if _SAFE.fullmatch(name) and not name.endswith("."):
        return None
    return (
        f"{what} name {name!r} is not allowed: use 1-63 letters, digits, '-', '_' or '.', "
        "starting with a letter or digit (it also names the VM's volumes)"
    )
