"""Reading the Grafana dashboards' PromQL: every panel target and every variable query."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

GRAFANA = Path(__file__).resolve().parents[2] / "appliance" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
#: What Grafana would substitute; ".*" selects everything for the =~ matchers the panels use.
VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$cluster": ".*",
    "$host": ".*",
    "$vm": ".*",
}
_LABEL_VALUES = re.compile(r"^label_values\((?:(.+),\s*)?(\w+)\)$", re.S)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: load(p) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(dash: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])  # panels inside collapsed rows


def panel_exprs(dash: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (p["title"], t["expr"]) for p in panels(dash) for t in p.get("targets", []) if "expr" in t
    ]


def variable_queries(dash: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (v["name"], v["query"] if isinstance(v["query"], str) else v["query"]["query"])
        for v in dash["templating"]["list"]
        if v["type"] == "query"
    ]


def concrete(expr: str) -> str:
    """The PromQL Grafana would send, with every variable replaced."""
    for name, value in sorted(VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("${" + name[1:] + "}", value).replace(name, value)
    match = _LABEL_VALUES.match(expr.strip())
    if match:  # label_values(selector, label) -> the equivalent PromQL query
        selector, label = match.group(1), match.group(2)
        selector = selector or '{__name__=~"ovtui_.+"}'
        return f"group by ({label}) ({selector})"
    return expr
