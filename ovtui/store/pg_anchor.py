"""The audit trail's anchor as a row of ovtui_anchor: AnchorFile's interface.

Written in the same fenced way as the trail's rows; the trail's own end check (auth.audit_anchor)
is the same as for the file: it tells a trail cut short or rewritten in the database.
"""

from __future__ import annotations

from pathlib import Path

from auth.audit_anchor import Anchor
from ovtui.store.pg_database import PgDatabase


class PgAnchor:
    def __init__(self, database: PgDatabase, trail: str) -> None:
        self.database, self.trail = database, trail
        self.path = Path(f"{database.where}#anchor:{trail}")

    def read(self) -> Anchor | None:
        with self.database.read() as conn:
            row = conn.execute(
                "SELECT seq, hash FROM ovtui_anchor WHERE trail = %s", (self.trail,)
            ).fetchone()
        return None if row is None else Anchor(int(row[0]), str(row[1]))

    def write(self, seq: int, digest: str) -> None:
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO ovtui_anchor (trail, seq, hash) VALUES (%s, %s, %s) "
                "ON CONFLICT (trail) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
                (self.trail, seq, digest),
            )
