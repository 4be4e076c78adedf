"""Cell formatting: short, colour-coded, and honest about synthetic figures."""

from __future__ import annotations

from typing import Any

from rich.text import Text

SYNTHETIC_MARK = "*"  # appended to every figure produced by the demo's load model
SYNTHETIC_BADGE = "SYNTHETIC LOAD (demo)"

_HOST_STATE_STYLE = {
    "up": "green",
    "maintenance": "yellow",
    "connecting": "cyan",
    "non_responsive": "bold red",
    "non_operational": "red",
    "down": "dim",
}
_VM_STATE_STYLE = {
    "running": "green",
    "paused": "yellow",
    "pmsuspended": "yellow",
    "shutting_down": "cyan",
    "shutoff": "dim",
    "crashed": "bold red",
    "blocked": "red",
    "unknown": "magenta",
    "migrating": "bold cyan",
}


class SortCell(Text):
    """Text that carries its sort key, so numeric columns sort by value, not by their text."""

    def __init__(self, text: str, sort_key: tuple[Any, ...], style: str = "") -> None:
        super().__init__(text, style=style)
        self.sort_key = sort_key


def sort_key_of(cell: object) -> tuple[Any, ...]:
    if isinstance(cell, SortCell):
        return cell.sort_key
    return (str(cell).lower(),)


# Colour, not a glyph: a mark would widen the name column past 80 columns on the demo fleet.
SELECTED_STYLE = "bold black on yellow"


def selected(name: str) -> SortCell:
    """A selected row's name: highlighted, sorted as the bare name."""
    return SortCell(name, (name.lower(),), SELECTED_STYLE)


# Short labels keep the tables inside 80 columns; detail screens spell states out in full.
_SHORT = {
    "maintenance": "maint",
    "non_responsive": "no-resp",
    "non_operational": "non-oper",
    "connecting": "connect",
    "shutting_down": "stopping",
    "pmsuspended": "pm-susp",
}


def host_state(state: str, maintenance: bool = False) -> SortCell:
    label = "maint" if maintenance and state == "up" else _SHORT.get(state, state)
    return SortCell(label, (state,), _HOST_STATE_STYLE.get(state, ""))


def vm_state_label(state: str, migration_target: str = "") -> str:
    return f"→{migration_target}" if state == "migrating" else _SHORT.get(state, state)


def vm_state(state: str, migration_target: str = "") -> SortCell:
    """A moving VM shows where it goes ("→kvm-a02"; its host column names the source): as
    narrow as the other labels on the demo fleet, so the table still fits in 80 columns."""
    label = vm_state_label(state, migration_target)
    return SortCell(label, (state,), _VM_STATE_STYLE.get(state, ""))


def load_style(fraction: float) -> str:
    return "red" if fraction >= 0.85 else "yellow" if fraction >= 0.6 else "green"


def percent(fraction: float | None, synthetic: bool) -> SortCell:
    """' 43%' (or ' 43%*' when synthetic); '-' for no figure (stopped, or not sampled yet)."""
    if fraction is None:
        return SortCell("  -", (-1.0,), "dim")  # under the digits, not the left edge
    mark = SYNTHETIC_MARK if synthetic else ""
    return SortCell(f"{fraction * 100:3.0f}%{mark}", (fraction,), load_style(fraction))


def bar(fraction: float | None, synthetic: bool, width: int = 5) -> SortCell:
    """A small bar followed by the figure, e.g. '██░░░  43%*'."""
    if fraction is None:
        return SortCell("-", (-1.0,), "dim")
    filled = round(max(0.0, min(1.0, fraction)) * width)
    mark = SYNTHETIC_MARK if synthetic else " "
    text = f"{'█' * filled}{'░' * (width - filled)} {fraction * 100:3.0f}%{mark}"
    return SortCell(text, (fraction,), load_style(fraction))


def vm_count(n: int) -> str:
    return f"{n} VM" if n == 1 else f"{n} VMs"


def gib(mib: int) -> str:
    """Memory in the unit operators read: '512G', '1.5G', '512M'."""
    if mib >= 10 * 1024:
        return f"{mib / 1024:.0f}G"
    if mib >= 1024:
        return f"{mib / 1024:.1f}".rstrip("0").rstrip(".") + "G"
    return f"{mib}M"


def memory(mib: int) -> SortCell:
    return SortCell(gib(mib), (mib,))


def gib_number_text(mib: int) -> str:
    return f"{mib / 1024:.1f}".removesuffix(".0")


def gib_number(mib: int) -> SortCell:
    """Bare GiB ('128', '0.5') for a column labelled GiB: one character narrower than '128G'."""
    return SortCell(gib_number_text(mib), (mib,))


def used_of(used_mib: int, total_mib: int) -> SortCell:
    fraction = used_mib / total_mib if total_mib else 0.0
    style = load_style(fraction) if fraction >= 0.6 else ""
    return SortCell(f"{gib(used_mib)}/{gib(total_mib)}", (fraction, used_mib), style)


def pending() -> SortCell:
    """A figure not known yet (the VM's domain XML is still being read): '…', sorted first."""
    return SortCell("…", (-1,), "dim")


def number(value: int, text: str | None = None) -> SortCell:
    return SortCell(str(value) if text is None else text, (value,))


def flag_words(ha: bool, pinned: bool, migratable: bool) -> list[str]:
    return [w for w, on in (("ha", ha), ("pin", pinned), ("nomig", not migratable)) if on]


def flags(ha: bool, pinned: bool, migratable: bool) -> SortCell:
    words = flag_words(ha, pinned, migratable)
    return SortCell(" ".join(words), (len(words), words))
