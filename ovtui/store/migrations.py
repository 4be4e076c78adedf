"""Schema upgrades of state.json, one step each: MIGRATIONS[n] turns schema n-1 into schema n.

Schema 1 is the initial layout: tables `settings` ({"key", "value"}), `hosts` (operator state
per host, {"name", ...}) and `vm_settings` (operator flags per VM, {"uuid", ...}), plus `_meta`
holding {"schema_version": n}. TinyDB creates tables on first write, so schema 1 needs no step.

To change the layout: add MIGRATIONS[2] = a function that rewrites a schema-1 database in place.
Each step runs inside one atomic write together with its version bump, so a crash leaves the
file at either the old or the new schema, never half-migrated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tinydb import TinyDB

Migration = Callable[[TinyDB], None]

INITIAL_VERSION = 1

MIGRATIONS: Mapping[int, Migration] = {}


def latest_version(migrations: Mapping[int, Migration]) -> int:
    expected = list(range(INITIAL_VERSION + 1, INITIAL_VERSION + 1 + len(migrations)))
    if sorted(migrations) != expected:
        raise ValueError(f"migrations must be numbered {expected}, got {sorted(migrations)}")
    return INITIAL_VERSION + len(migrations)
