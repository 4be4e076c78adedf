"""The Prometheus text format (0.0.4), written faster than prometheus_client's generate_latest.

A 500-host fleet scrape has hundreds of thousands of samples; prometheus_client validates and
escapes every label name of every sample, which dominates the scrape. Here label names are taken
as they are (every collector in the registry builds them from fixed names, which prometheus_client
already validated when the families were declared) and label values are escaped only when they
contain a character that needs it; labels keep the order the collector gave them (generate_latest
sorts them: the format does not ask for it). Otherwise the output is generate_latest's, line for
line (tests/metrics/test_text_format.py parses both and compares them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_TYPES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}
_SUFFIXES = ("_created", "_gsum", "_gcount")


_SEEN: dict[float, str] = {}


def value(v: float) -> str:
    """floatToGoString, remembered: most values repeat (1.0 on every info series, vCPU counts)."""
    text = _SEEN.get(v)
    if text is None:
        f = float(v)
        # Finite and below 1e6, floatToGoString is repr (Go writes exponents sooner only for
        # larger numbers): skip its checks for the values that miss the memo (utilisations).
        text = repr(f) if -1e6 < f < 1e6 else floatToGoString(f)
        if len(_SEEN) < 4096:
            _SEEN[v] = text
    return text


def escape(v: str) -> str:
    if "\\" in v or '"' in v or "\n" in v:
        return v.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return v


def _line(name: str, labels: dict[str, str], v: float, timestamp: Any) -> str:
    if labels:
        inner = ",".join([f'{k}="{escape(x)}"' for k, x in labels.items()])
        head = f"{name}{{{inner}}}"
    else:
        head = name
    tail = "" if timestamp is None else f" {int(float(timestamp) * 1000):d}"
    return f"{head} {value(v)}{tail}\n"


def _metric(metric: Metric) -> Iterator[str]:
    name, kind = metric.name, metric.type
    if kind == "counter":
        name += "_total"
    elif kind == "info":
        name += "_info"
    doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
    yield f"# HELP {name} {doc}\n# TYPE {name} {_TYPES.get(kind, kind)}\n"
    text = getattr(metric, "text", None)  # collectors.host_blocks.TextFamily: already written
    if isinstance(text, str):
        yield text
        return
    extra: dict[str, list[str]] = {}
    for s in metric.samples:
        suffix = next((x for x in _SUFFIXES if s.name == metric.name + x), None)
        line = _line(s.name, s.labels, s.value, s.timestamp)
        if suffix is None:
            yield line
        else:
            extra.setdefault(suffix, []).append(line)
    for suffix, lines in sorted(extra.items()):
        yield f"# HELP {metric.name}{suffix} {doc}\n# TYPE {metric.name}{suffix} gauge\n"
        yield from lines


def render(registry: Collector) -> bytes:
    return "".join([text for _key, text in render_parts(registry)]).encode()


# Smaller families go with their neighbours: compressed alone, each would lose the context that
# makes gzip small (a 3-host lab's scrape doubled on the wire), to save almost no time.
OWN_PART = 4096


def render_parts(registry: Collector) -> list[tuple[str | None, str]]:
    """The text in order, as (key, text): a family already written as text
    (collectors.host_blocks.TextFamily) of OWN_PART characters or more is a part of its own,
    keyed by its name, so that collectors.gzip_text can reuse its compressed form; everything
    between is one part keyed None."""
    parts: list[tuple[str | None, str]] = []
    loose: list[str] = []
    for m in registry.collect():
        text = getattr(m, "text", None)
        if isinstance(text, str) and len(text) >= OWN_PART:
            head, _body = _metric(m)
            loose.append(head)
            parts += [(None, "".join(loose)), (m.name, text)]
            loose = []
        else:
            loose += _metric(m)
    if loose:
        parts.append((None, "".join(loose)))
    return parts
