"""The `:` command line (k9s style): a table of named commands, so views can plug theirs in.

A command is a name, a one-line help, how its argument is completed, and a function of the app
and the arguments. Handlers raise CommandError with a message for the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Candidates = Callable[[Any], Iterable[str]]  # app -> values the first argument may take


class CommandError(ValueError):
    """Shown to the operator as is."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    run: Callable[[Any, list[str]], None]
    args: str = ""  # shown in help, e.g. "[cluster]"
    candidates: Candidates | None = None
    aliases: tuple[str, ...] = ()


COMMANDS: dict[str, Command] = {}


def register(
    name: str,
    help: str,
    args: str = "",
    candidates: Candidates | None = None,
    aliases: tuple[str, ...] = (),
) -> Callable[[Callable[[Any, list[str]], None]], Callable[[Any, list[str]], None]]:
    def add(run: Callable[[Any, list[str]], None]) -> Callable[[Any, list[str]], None]:
        cmd = Command(name, help, run, args, candidates, aliases)
        for key in (name, *aliases):
            COMMANDS[key] = cmd
        return run

    return add


def names() -> list[str]:
    return sorted({c.name for c in COMMANDS.values()})


def parse(text: str) -> tuple[Command, list[str]]:
    words = text.strip().removeprefix(":").split()
    if not words:
        raise CommandError(f"type a command: {', '.join(names())}")
    cmd = COMMANDS.get(words[0].lower())
    if cmd is None:
        raise CommandError(f"unknown command :{words[0]} — valid: {', '.join(names())}")
    return cmd, words[1:]


def complete(text: str, app: Any) -> str | None:
    """The whole line completed, when exactly one way (or a longer common prefix) fits."""
    stripped = text.lstrip().removeprefix(":")
    head, space, rest = stripped.partition(" ")
    if not space:
        options: Iterable[str] = COMMANDS
        word, prefix = head, ""
    else:
        cmd = COMMANDS.get(head.lower())
        if cmd is None or cmd.candidates is None or " " in rest:
            return None
        options, word, prefix = cmd.candidates(app), rest, f"{head} "
    fits = sorted({o for o in options if o.lower().startswith(word.lower())})
    if not fits:
        return None
    common = fits[0]
    for other in fits[1:]:
        while not other.lower().startswith(common.lower()):
            common = common[:-1]
    if len(fits) == 1:
        return prefix + fits[0] + ("" if space else " ")
    return prefix + common if len(common) > len(word) else None


def help_lines() -> list[tuple[str, str]]:
    seen: dict[str, Command] = {c.name: c for c in COMMANDS.values()}
    return [(f":{c.name} {c.args}".rstrip(), c.help) for _, c in sorted(seen.items())]
