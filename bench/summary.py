"""One table of every benchmark figure, with its floor and ratio, from bench/results/*.json.

    python -m bench.summary                  # print the table (the end of `make bench`)
    python -m bench.summary --readme README.md   # and rewrite the README's table from it

Each figure is shown at every fleet size its benchmark ran (10, 100, 500, 1 000 hosts x 40 VMs)
with the growth from one size to the next, so a step that grows faster than the fleet shows. The
README's table sits between two markers and is never edited by hand.
"""

# ruff: noqa: RUF001  (the multiplication sign and the dash are meant: the table is for people)
from __future__ import annotations

import argparse
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import RESULTS

BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"


@dataclass(frozen=True)
class Figure:
    source: str  # results file without .json
    label: str
    key: str
    unit: str  # ms | s | MiB | % | x
    floor: str | None = None  # key of the floor in the same row
    goal: str = ""


SIZED = (
    Figure("core", "full inventory refresh", "refresh_ms", "ms", "libvirt_floor_ms", "≤ 3× floor"),
    Figure("core", "old poll's calls (dom.info per VM)", "per_vm_floor_ms", "ms"),
    Figure(
        "core",
        "start-up to a first full view",
        "startup_first_view_s",
        "s",
        "startup_floor_s",
        "≤ 3 s at 500",
    ),
    Figure(
        "core",
        "fleet alone: start-up to a first full view",
        "fleet_first_view_s",
        "s",
        "startup_floor_s",
        "≤ 3 s at 500",
    ),
    Figure(
        "core",
        "fleet alone: until no config pending",
        "fleet_complete_s",
        "s",
        "startup_complete_floor_s",
    ),
    Figure("core", "start-up: until the API answers", "startup_api_s", "s"),
    Figure(
        "core",
        "start-up: until the API answers, bytecode not compiled",
        "startup_api_uncompiled_s",
        "s",
    ),
    Figure(
        "core",
        "start-up: fleet's share (first view − API up)",
        "startup_fleet_s",
        "s",
        "startup_floor_s",
    ),
    Figure(
        "core",
        "start-up until no config pending",
        "startup_complete_s",
        "s",
        "startup_complete_floor_s",
    ),
    Figure("core", "start-up: engine CPU", "startup_engine_cpu_s", "s"),
    Figure("core", "start-up: test-driver daemons' CPU, summed", "startup_daemon_cpu_s", "s"),
    Figure("core", "snapshot build", "snapshot_build_ms", "ms"),
    Figure("core", "GET /api/v1/vms (all)", "api_vms_all_ms", "ms"),
    Figure("core", "GET /api/v1/vms/NAME", "api_vm_one_ms", "ms"),
    Figure("core", "engine RSS", "engine_rss_mib", "MiB", goal="≤ 300 MiB at 500"),
    Figure(
        "exporter", "cold /metrics scrape", "scrape_cold_ms", "ms", "libvirt_floor_ms", "≤ 3× floor"
    ),
    Figure("exporter", "warm /metrics scrape", "scrape_warm_ms", "ms", goal="≤ 300 ms at 500"),
    Figure("exporter", "cold scrape: engine CPU", "cold_cpu_s", "s"),
    Figure("exporter", "warm scrape: engine CPU", "warm_cpu_s", "s"),
    Figure("exporter", "engine CPU between scrapes", "idle_cpu_%", "%"),
    Figure("exporter", "engine CPU while the config fill runs (no scrape)", "fill_cpu_%", "%"),
    Figure("exporter", "two scrapers at once", "two_scrapers_ms", "ms"),
    Figure("exporter", "samples per scrape", "samples", ""),
    Figure("exporter", "engine RSS peak", "rss_peak_mib", "MiB"),
    Figure("policies", "balance plan", "balance_ms", "ms"),
    Figure("policies", "power-saving plan", "saving_ms", "ms"),
)


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _newest_tui() -> tuple[str, dict[str, Any] | None]:
    runs = []
    for path in RESULTS.glob("tui*.json"):
        data = json.loads(path.read_text())
        rows = data.get("rows") if isinstance(data, dict) else None
        if isinstance(rows, list) and any(r.get("app") == "ovtui dashboard" for r in rows):
            runs.append((str(data.get("when", "")), path.stem, data))
    if not runs:
        return "tui", None
    _when, stem, data = max(runs, key=lambda r: r[0])
    return stem, data


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not math.isnan(float(v)) else None


def _fmt(v: float, unit: str) -> str:
    text = f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}".replace(",", " ")
    return f"{text} {unit}".strip() if unit not in ("%", "x") else f"{text}{unit}"


def _cell(row: dict[str, Any], fig: Figure) -> str:
    v = _num(row.get(fig.key))
    if v is None:
        return "–"
    text = _fmt(v, fig.unit)
    floor = _num(row.get(fig.floor)) if fig.floor else None
    if floor:
        text += f" (floor {_fmt(floor, fig.unit)}, {v / floor:.1f}×)"
    return text


def _growth(rows: dict[int, dict[str, Any]], fig: Figure) -> str:
    steps = []
    sizes = sorted(rows)
    for a, b in itertools.pairwise(sizes):
        va, vb = _num(rows[a].get(fig.key)), _num(rows[b].get(fig.key))
        if va and vb:
            steps.append(f"{vb / va:.1f}× for {b // a}×")
    return ", ".join(steps) or "–"


def table() -> list[str]:
    runs = {name: _load(name) for name in {f.source for f in SIZED}}
    sizes = sorted({r["hosts"] for d in runs.values() if d for r in d["rows"]})
    head = ["figure (hosts × 40 VMs)", *[f"{s} hosts" for s in sizes], "growth", "goal", "run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fig in SIZED:
        data = runs.get(fig.source)
        if not data:
            continue
        rows = {r["hosts"]: r for r in data["rows"] if fig.key in r}
        if not rows:
            continue
        cells = [_cell(rows[s], fig) if s in rows else "" for s in sizes]
        when = f"`{fig.source}.json` {data['when'][:10]}"
        lines.append(
            "| " + " | ".join([fig.label, *cells, _growth(rows, fig), fig.goal, when]) + " |"
        )
    lines += _single()
    return lines


def _single() -> list[str]:
    """Figures of benchmarks that run at one size: the dashboard, the lab."""
    out = []
    # The newest dashboard run (`--save` names them: tui, tui_final, ...), at 1 000 VMs.
    name, tui = _newest_tui()
    if tui:
        empty = next((r for r in tui["rows"] if r["app"] == "empty Textual app (floor)"), None)
        app = next(
            (r for r in tui["rows"] if r["app"] == "ovtui dashboard" and r.get("vms") == 1000),
            None,
        )
        if app and empty:
            for key, label, unit in (
                ("first_frame_s", "dashboard first frame, 1 000 VMs", "s"),
                ("rss_mib", "dashboard RSS, 1 000 VMs", "MiB"),
                ("idle_cpu_pct", "dashboard idle CPU, 1 000 VMs", "%"),
            ):
                if key not in app or key not in empty:
                    continue  # a run that did not measure it
                row = {key: app[key], "floor": empty[key]}
                cell = _cell(row, Figure("tui", label, key, unit, "floor"))
                out.append(_one_size(label, cell, f"`{name}.json` {tui['when'][:10]}"))
    lab = _load("exporter_lab")
    if lab and lab["rows"]:
        r = lab["rows"][0]
        fig = Figure("exporter_lab", "", "scrape_cold_ms", "ms", "libvirt_floor_ms")
        label = f"cold scrape on the lab ({r['hosts']} hosts, {r['vms']} guests)"
        out.append(_one_size(label, _cell(r, fig), f"`exporter_lab.json` {lab['when'][:10]}"))
    polls = _load("poll_lab") or {"rows": [], "when": ""}
    for r in polls["rows"]:
        text = (
            f"{r['round_trips_per_host']} round trips, {r['wall_ms_per_host']} ms, "
            f"libvirtd CPU {r['libvirtd_cpu_ms_per_host']} ms per host "
            f"({r['hosts']} hosts, {r['vms']} guests)"
        )
        out.append(_one_size(f"lab: {r['way']}", text, f"`poll_lab.json` {polls['when'][:10]}"))
    runs = _load("lab") or {"rows": [], "when": ""}
    for r in runs["rows"]:
        if isinstance(r.get("wall_s"), int | float):
            text = f"{r['wall_s']} s"
            if isinstance(r.get("downtime_ms"), int | float):
                text += f", downtime {r['downtime_ms']} ms (max {r['downtime_max_ms']})"
            out.append(_one_size(f"lab: {r['what']}", text, f"`lab.json` {runs['when'][:10]}"))
    return out


def _one_size(label: str, cell: str, when: str) -> str:
    sizes = len({r["hosts"] for f in SIZED if (d := _load(f.source)) for r in d["rows"]})
    return _row([label, cell, *[""] * (sizes - 1), "", "", when])


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def write_readme(readme: Path, lines: list[str]) -> None:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: no {BEGIN} … {END} markers around the benchmark table")
    before, rest = text.split(BEGIN, 1)
    _old, after = rest.split(END, 1)
    readme.write_text(before + BEGIN + "\n" + "\n".join(lines) + "\n" + END + after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", type=Path, help="rewrite this README's benchmark table")
    args = parser.parse_args()
    lines = table()
    print("\n".join(lines))
    if args.readme:
        write_readme(args.readme, lines)
        print(f"\nrewrote the benchmark table in {args.readme}")


if __name__ == "__main__":
    main()
