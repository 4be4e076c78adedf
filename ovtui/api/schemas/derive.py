"""Response models derived from the model's dataclasses, so a new field is documented at once."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

# Exactly the fields the engine writes, no more: a stray field fails the conformance test.
STRICT = ConfigDict(extra="forbid")


class Strict(BaseModel):
    model_config = STRICT


def _json_type(hint: Any) -> Any:
    if hint is MappingProxyType or get_origin(hint) is MappingProxyType:
        args = get_args(hint)
        return dict[args[0], args[1]] if args else dict[str, Any]  # type: ignore[valid-type]
    return hint


def model_of(
    cls: type,
    name: str,
    *,
    exclude: tuple[str, ...] = (),
    add: dict[str, Any] | None = None,
    types: dict[str, Any] | None = None,
    doc: str | None = None,
) -> type[BaseModel]:
    """A pydantic model with one required field per dataclass field (to_dict writes them all).

    `types` narrows a field's type (a str the config restricts to fixed values); `add` appends
    fields the serialiser adds.
    """
    hints = {**get_type_hints(cls), **(types or {})}
    fields: dict[str, Any] = {
        f.name: (_json_type(hints[f.name]), ...)
        for f in dataclasses.fields(cls)
        if f.name not in exclude
    }
    fields.update({k: (v, ...) for k, v in (add or {}).items()})
    model: type[BaseModel] = create_model(name, __config__=STRICT, **fields)
    own = cls.__doc__ or ""
    # A dataclass without a docstring gets its signature as __doc__: not a description.
    model.__doc__ = doc or (None if own.startswith(f"{cls.__name__}(") else own)
    return model


def list_of(model: Any) -> Any:
    """list[model] for models built at run time (a static type checker cannot see them)."""
    return list[model]
