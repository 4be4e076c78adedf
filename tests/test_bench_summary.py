"""bench.summary: one table from the results files, written between the README's markers only."""
# ruff: noqa: RUF001  (the multiplication sign is what the table prints)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import summary


def _results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {"hosts": 10, "refresh_ms": 8.0, "libvirt_floor_ms": 4.0, "engine_rss_mib": 80.0},
        {"hosts": 100, "refresh_ms": 120.0, "libvirt_floor_ms": 60.0, "engine_rss_mib": 100.0},
    ]
    (tmp_path / "core.json").write_text(json.dumps({"when": "2026-12-01T00:00", "rows": rows}))
    monkeypatch.setattr(summary, "RESULTS", tmp_path)


def test_each_figure_at_each_size_with_floor_ratio_and_growth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _results(tmp_path, monkeypatch)
    lines = summary.table()
    refresh = next(line for line in lines if line.startswith("| full inventory refresh"))
    assert "8 ms (floor 4 ms, 2.0×)" in refresh and "120 ms (floor 60 ms, 2.0×)" in refresh
    assert "15.0× for 10×" in refresh
    assert any(line.startswith("| engine RSS | 80 MiB | 100 MiB") for line in lines)


def test_the_readme_is_rewritten_between_its_markers_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _results(tmp_path, monkeypatch)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{summary.BEGIN}\nold table\n{summary.END}\noutro\n")
    summary.write_readme(readme, summary.table())
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n")
    assert "old table" not in text and "full inventory refresh" in text
    readme.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="markers"):
        summary.write_readme(readme, ["| x |"])
