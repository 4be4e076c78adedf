"""oVirt `search=` expressions, the part tooling sends: `name=db-01`, `name="db 01"`, `*`
wildcards, `!=`, terms joined by `and` / `or` (`and` binds tighter, no parentheses).

Each collection names the fields it can search; anything else is a SearchError (a 400 that names
the term), never a silently wider or narrower answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Field = Callable[[T], str | Iterable[str] | None]  # several values: any may match

_TERM = re.compile(r'\s*([A-Za-z_.]+)\s*(!=|=)\s*("([^"]*)"|[^\s"]+)\s*$')
_JOIN = re.compile(r"\s+(and|or)\s+", re.IGNORECASE)


class SearchError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Term:
    field: str
    negate: bool
    pattern: str


def parse(expression: str, fields: Iterable[str]) -> list[list[Term]]:
    """`a=1 and b=2 or c=3` -> [[a, b], [c]] (any group whose terms all match)."""
    known = set(fields)
    parts = _JOIN.split(expression.strip())
    groups: list[list[Term]] = [[]]
    for i, part in enumerate(parts):
        if i % 2:
            if part.lower() == "or":
                groups.append([])
            continue
        m = _TERM.match(part)
        if m is None:
            raise SearchError(
                f"unsupported search term {part!r}: this engine understands FIELD=VALUE "
                "(quotes, * wildcards, !=) joined by 'and'/'or'"
            )
        field = m.group(1).lower()
        if field not in known:
            raise SearchError(
                f"unsupported search field {m.group(1)!r} in {expression!r} "
                f"(searchable here: {', '.join(sorted(known))})"
            )
        value = m.group(4) if m.group(4) is not None else m.group(3)
        groups[-1].append(Term(field, m.group(2) == "!=", value))
    return groups


def matcher(
    expression: str | None, fields: Mapping[str, Field[T]], case_sensitive: bool = True
) -> Callable[[T], bool]:
    if not expression or not expression.strip():
        return lambda _obj: True
    groups = parse(expression, fields)

    def one(term: Term, obj: T) -> bool:
        got = fields[term.field](obj)
        values = [got or ""] if got is None or isinstance(got, str) else list(got)
        flags = 0 if case_sensitive else re.IGNORECASE
        regex = re.compile(".*".join(map(re.escape, term.pattern.split("*"))), flags)
        hit = any(regex.fullmatch(v) for v in values)
        return hit != term.negate

    return lambda obj: any(all(one(t, obj) for t in g) for g in groups)
