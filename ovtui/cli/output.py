"""Printing results: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> None:
    cells = [[str(get(r)) for _, get in columns] for r in rows]
    heads = [h for h, _ in columns]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip())
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())


def print_record(record: dict[str, Any]) -> None:
    width = max((len(k) for k in record), default=0)
    for key, value in record.items():
        if isinstance(value, list):
            value = f"{len(value)} items"
        print(f"{key.ljust(width)}  {value}")


def synthetic_note(rows: Sequence[dict[str, Any]]) -> None:
    if any(r.get("load_source") == "synthetic" for r in rows):
        print("(CPU figures marked * come from the demo's SYNTHETIC load model, not measurements)")
