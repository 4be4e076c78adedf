"""The config's one error type, importable without the schema (pydantic) behind it: the CLI
names it for every command, and `ovtui dashboard` should not load the schema to start."""

from __future__ import annotations


class ConfigError(Exception):
    """A config that cannot be used. str() is the operator-facing message; exit code 2."""

    exit_code = 2
