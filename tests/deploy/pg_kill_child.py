"""A writer for test_pg_kill: leads the database, then writes until it is SIGKILLed.

Each cycle i: one transaction with the counter setting and a VM's generation, then an event,
then an audit record (hash-chained, anchored). Run as: python pg_kill_child.py DSN
"""

from __future__ import annotations

import sys
import time

from ovtui.engine.audit_open import open_audit_on
from ovtui.store.pg_database import PgDatabase
from ovtui.store.state import open_postgres

VM = "5f0c9a7e-0000-4000-8000-000000000002"


def main(dsn: str) -> None:
    db = PgDatabase(dsn, holder="writer")
    deadline = time.monotonic() + 20
    while not db.try_lead():  # the killed writer's session may take a moment to end
        if time.monotonic() > deadline:
            sys.exit("never became the active writer")
        time.sleep(0.02)
    state = open_postgres(db)
    trail, problems = open_audit_on(state.audit, state.anchor, state.store)
    if problems:
        sys.exit(f"audit problems at start: {problems}")
    i = int(state.store.get_setting("counter", 0))
    print("ready", flush=True)
    while True:
        i += 1
        with state.store.transaction():
            state.store.set_setting("counter", i)
            state.store.set_vm_settings(VM, generation=i)
        state.events.append({"i": i})
        trail.record(actor="writer", action="count", target=str(i))


if __name__ == "__main__":
    main(sys.argv[1])
