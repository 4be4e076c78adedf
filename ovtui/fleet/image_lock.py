"""QEMU's image lock, read from a failed start: the second line of defence against split brain.

QEMU takes an OFD lock on every image file it opens for writing; a second QEMU (on another host
that sees the same shared directory) that opens the same file fails at start with
`Failed to get "write" lock` / `Is another process using the image [PATH]?` (notes/LAB.md).
libvirt passes that text on inside its "internal error"; this finds it there.
"""

from __future__ import annotations

import re

_LOCK = re.compile(r"""Failed to get ["']?(write|shared|read|consistent read)["']? lock""")
_IMAGE = re.compile(r"Is another process using the image \[([^\]]+)\]")


def locked_image(raw: str) -> str | None:
    """The image another process holds, from a libvirt/QEMU error text; None if not a lock
    refusal. "" when QEMU named no path."""
    if not _LOCK.search(raw):
        return None
    found = _IMAGE.search(raw)
    return found.group(1) if found else ""
