"""The engine: the one process that owns the fleet, the state and every credential."""

from ovtui.engine.core import Engine

__all__ = ["Engine"]
