"""Engine configuration: one TOML file, validated completely before anything starts."""

from ovtui.config.load import ConfigError, default_config_path, load_config
from ovtui.config.schema import Config

__all__ = ["Config", "ConfigError", "default_config_path", "load_config"]
