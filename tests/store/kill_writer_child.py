"""Writer processes for test_kill_writer, forked on command by this long-lived helper.

Forking from a process that has already imported ovtui makes each kill round cost a fork, not a
Python start-up, so sixty rounds stay quick on a busy two-core machine. Protocol, one line each:
parent sends "fork", we answer "pid N"; parent SIGKILLs N itself, sends "reap N", we answer
"status S" (the raw waitpid status); "quit" ends us.

Progress: after each whole write cycle a writer writes its cycle number ("7\n") to PROGRESS_FD,
a pipe the parent reads, so the parent kills only writers that are busy writing (a line is one
write of a few bytes: atomic on a pipe, never torn by the kill).

Run as: python kill_writer_child.py STATE_DIR PROGRESS_FD
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from ovtui.store import JsonlLog, Store

LOG_NAME = "events.jsonl"
VM = "5f0c9a7e-0000-4000-8000-000000000001"


def blob(i: int) -> dict[str, Any]:
    """The i-th version of a growing setting; the test recognises every version by its i."""
    return {"i": i, "pad": "x" * (i % 512 * 16)}


def write_until_killed(directory: Path, progress: int) -> NoReturn:
    store = Store.open(directory)
    log = JsonlLog(directory / LOG_NAME, fsync=True)
    i = store.get_setting("counter", 0)
    while True:
        # Order matters for the test: blob, then VM, then counter, then the log record.
        i += 1
        store.set_setting("blob", blob(i))
        store.set_vm_settings(VM, generation=i, tag=f"v{i}")
        store.set_setting("counter", i)
        log.append({"kind": "tick", "i": i, "pad": "y" * (256 * 1024 if i % 4 == 0 else i % 64)})
        os.write(progress, f"{i}\n".encode())  # all of cycle i is written (and fsynced)


def main() -> None:
    directory, progress = Path(sys.argv[1]), int(sys.argv[2])
    while command := sys.stdin.readline().split():
        if command == ["fork"]:
            pid = os.fork()
            if pid == 0:
                try:
                    write_until_killed(directory, progress)
                except BaseException:
                    traceback.print_exc()
                    sys.stderr.flush()
                os._exit(1)
            print(f"pid {pid}", flush=True)
        elif command[0] == "reap":
            _, status = os.waitpid(int(command[1]), 0)
            print(f"status {status}", flush=True)
        elif command == ["quit"]:
            return


if __name__ == "__main__":
    main()
