"""Appends audit records as the engine does (open_audit, then record after record) until killed.

Prints "seq N" after each record. With "die-before-anchor", SIGKILLs itself after its third
record is on disk and before that record's anchor is written: the one window where the trail
is ahead of its anchor.

Run as: python kill_audit_child.py STATE_DIR [die-before-anchor]
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from ovtui.engine.audit_open import open_audit
from ovtui.store import Store
from ovtui.store.audit_anchor import AnchorFile


def main() -> None:
    directory = Path(sys.argv[1])
    kill_at: list[int] = []  # set once the trail is open
    if sys.argv[2:] == ["die-before-anchor"]:
        write = AnchorFile.write

        def write_or_die(self: AnchorFile, seq: int, digest: str) -> None:
            if kill_at and seq == kill_at[0]:
                os.kill(os.getpid(), signal.SIGKILL)
            write(self, seq, digest)

        AnchorFile.write = write_or_die  # type: ignore[method-assign]
    store = Store.open(directory)
    log, trail, problems = open_audit(directory, store)
    if problems:
        print(f"problems {problems}", flush=True)
        sys.exit(3)
    kill_at.append(log.last_seq + 3)
    i = 0
    while True:
        i += 1
        # Every few records a long one, so that some kills land inside a write.
        pad = "x" * (200_000 if i % 5 == 0 else i % 50)
        trail.record(actor="bob", action="tick", params={"i": i, "pad": pad})
        print(f"seq {log.last_seq}", flush=True)


if __name__ == "__main__":
    main()
