"""Engine configuration: one TOML file, validated completely before anything starts.

The names are loaded when first asked for: the schema (pydantic) costs ~0.1 s to import, and
commands that never read a config (`ovtui dashboard --socket ...`) should not pay for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ovtui.config.errors import ConfigError

if TYPE_CHECKING:
    from ovtui.config.load import default_config_path, load_config
    from ovtui.config.schema import Config

__all__ = ["Config", "ConfigError", "default_config_path", "load_config"]
_WHERE = {"Config": "schema", "default_config_path": "load", "load_config": "load"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'ovtui.config' has no attribute {name!r}")
    return getattr(import_module(f"ovtui.config.{_WHERE[name]}"), name)
