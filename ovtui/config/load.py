"""Reading ovtui.toml: --config, else $OVTUI_CONFIG, else /etc/ovtui/ovtui.toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ovtui.config.crossrefs import cross_reference_errors
from ovtui.config.errors import ConfigError
from ovtui.config.schema import Config

SYSTEM_CONFIG = Path("/etc/ovtui/ovtui.toml")


def default_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("OVTUI_CONFIG")
    return Path(env) if env else SYSTEM_CONFIG


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "function-after" in part or part.startswith(("constrained", "function-")):
            continue  # pydantic's internal validator names are no use to an operator
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _valid_keys(model: type, loc: tuple[int | str, ...]) -> str:
    """Names the keys a section accepts, for 'unknown key' messages."""
    from pydantic import BaseModel

    current: type = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return ""
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return ""
        current = nxt
    names = [n for n, f in getattr(current, "model_fields", {}).items() if not f.exclude]
    return ", ".join(names)


def _under_secret(model: type, loc: tuple[int | str, ...]) -> bool:
    """True when loc is a SecretRef field or inside one: its input may be a clear-text secret."""
    from pydantic import BaseModel

    from ovtui.config.secrets import SecretRef

    current: type = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return False
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        if SecretRef in candidates:
            return True
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return False
        current = nxt
    return False


def _format_validation(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        key = _key_path(loc)
        if err["type"] == "extra_forbidden":
            valid = _valid_keys(Config, loc)
            lines.append(
                f"{path}: {key}: unknown key" + (f" (valid keys: {valid})" if valid else "")
            )
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if _under_secret(Config, loc):
            lines.append(f"{path}: {key}: {msg} (value not shown: it may be a secret)")
            continue
        got = err.get("input")
        # A whole section (a check across its keys) is not echoed: the message names the keys.
        lines.append(f"{path}: {key}: {msg}" + ("" if isinstance(got, dict) else f" (got {got!r})"))
    return "\n".join(lines)


def decode_utf8(path: Path, data: bytes) -> str:
    """TOML is UTF-8: a stray Latin-1 byte is named by line and column, not a UnicodeDecodeError."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{path}: line {line}, column {column}: byte 0x{data[exc.start]:02x} is not UTF-8; "
            "save the file as UTF-8 (TOML files are UTF-8)"
        ) from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Loads and validates completely; raises ConfigError with every problem found."""
    cfg_path = default_config_path(path)
    try:
        raw = tomllib.loads(decode_utf8(cfg_path, cfg_path.read_bytes()))
    except FileNotFoundError:
        raise ConfigError(
            f"{cfg_path}: no such file; pass --config PATH or set OVTUI_CONFIG "
            f"(an annotated example is appliance/ovtui.example.toml)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{cfg_path}: is a directory; pass --config PATH of the file") from None
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from None
    return parse_config(raw, source=str(cfg_path))


def parse_config(raw: dict[str, object], source: str = "<memory>") -> Config:
    if "source" in raw:
        raise ConfigError(f"{source}: source: unknown key")
    try:
        config = Config.model_validate({**raw, "source": source})
    except ValidationError as exc:
        raise ConfigError(_format_validation(Path(source), exc)) from None
    problems = cross_reference_errors(config)
    if problems:
        raise ConfigError("\n".join(f"{source}: {key}: {msg}" for key, msg in problems))
    return config
