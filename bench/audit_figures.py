"""What anchoring costs an audit record, at an empty and a long trail (the anchor must keep
appends O(1)), next to the floor: the same fsync'd append without an anchor (before it).

Run: PYTHONPATH=. python -m bench.audit_figures [--records 200] [--long 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from auth.audit import AuditTrail
from auth.refusal_limit import RefusalLimit
from bench.common import med_ms, print_table, save, timed
from ovtui.store import JsonlLog
from ovtui.store.audit_anchor import AnchorFile, anchor_path


def _prefill(path: Path, count: int) -> None:
    with path.open("w") as f:
        for seq in range(1, count + 1):
            f.write(json.dumps({"seq": seq, "actor": "a", "hash": "0" * 64, "pad": "x" * 300}))
            f.write("\n")


def _row(records: int, length: int, anchored: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ovt-bench-") as tmp:
        path = Path(tmp) / "audit.jsonl"
        _prefill(path, length)
        log = JsonlLog(path, fsync=True)
        anchor = AnchorFile(anchor_path(path)).write if anchored else None
        trail = AuditTrail(log.append, anchor=anchor)
        samples = timed(lambda: trail.record(actor="alice", action="vm.start"), records)
        log.close()
    return {
        "trail_records": length,
        "anchor": anchored,
        "record_ms_median": med_ms(samples),
        "records_per_s": round(records / sum(samples)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--long", type=int, default=100_000)
    args = parser.parse_args()
    rows = [_row(args.records, n, a) for n in (0, args.long) for a in (False, True)]
    limit = RefusalLimit(lambda: 0.0)
    drops = timed(lambda: limit.admit("10.0.0.7:4242"), 10_000)
    rows.append(
        {
            "trail_records": "-",
            "anchor": "401 over the limit",
            "record_ms_median": med_ms(drops),
            "records_per_s": round(len(drops) / sum(drops)),
        }
    )
    print_table(rows)
    notes = (
        "AuditTrail.record on a fsync'd JsonlLog; anchor=True adds audit.anchor (temp, fsync, "
        "rename, fsync dir) per record. anchor=False is the floor (the code before). The last "
        "row is a refusal over the 401 rate limit: no write at all."
    )
    print(f"\nsaved {save('audit', rows, notes)}")


if __name__ == "__main__":
    main()
