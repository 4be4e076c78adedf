"""The `:` command table: parsing, completion, refusals that name what is valid."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import ovtui.tui.builtin_commands  # noqa: F401  (registers the commands)
from ovtui.tui.commands import CommandError, complete, parse
from ovtui.tui.rows import FleetData

FLEET = FleetData.from_json(
    [
        {"name": "kvm-a01", "cluster": "prod-a"},
        {"name": "kvm-a02", "cluster": "prod-a"},
        {"name": "kvm-b01", "cluster": "prod-b"},
    ],
    [{"uuid": "u1", "name": "web-1", "host": "kvm-a01", "cluster": "prod-a"}],
    [],
)


class FakeApp(SimpleNamespace):
    """Records what a command asked the app to do."""

    def __init__(self) -> None:
        super().__init__(fleet=FLEET, calls=[])

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return lambda *args, **kw: self.calls.append((name, args, kw))


def run(text: str) -> list[tuple[str, tuple[object, ...], dict[str, object]]]:
    app = FakeApp()
    cmd, args = parse(text)
    cmd.run(app, args)
    return app.calls  # type: ignore[no-any-return]


def test_commands_call_the_app() -> None:
    assert run(":vms prod-a") == [("show_tab", ("vms",), {"cluster": "prod-a"})]
    assert run("hosts") == [("show_tab", ("hosts",), {"cluster": None})]
    assert run(":host kvm-b01") == [("open_host", ("kvm-b01",), {})]
    assert run(":vm web-1")[0][0] == "open_vm"
    assert run(":theme light") == [("set_theme", ("light",), {})]
    assert run(":q") == [("exit", (), {})]
    assert run(":overview") == [("show_tab", ("overview",), {})]
    assert run(":events") == [("show_tab", ("events",), {})]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            ":bogus",
            "unknown command :bogus — valid: audit, events, ha, help, host, hosts, networks, "
            "overview",
        ),
        (":vms prod-z", "no cluster 'prod-z' (clusters: prod-a, prod-b)"),
        (":host nope", "no host 'nope'"),
        (":vm", "usage: :vm NAME"),
        (":theme pink", "no theme 'pink' (themes: dark, light)"),
        (":hosts a b", "too many arguments"),
        ("", "type a command:"),
    ],
)
def test_refusals_say_what_is_valid(text: str, message: str) -> None:
    with pytest.raises(CommandError) as err:
        run(text)
    assert str(err.value).startswith(message)


def test_tab_completion() -> None:
    app = FakeApp()
    assert complete(":ove", app) == "overview "
    assert complete("ho", app) == "host"  # host and hosts: the common part
    assert complete("vms pr", app) == "vms prod-"
    assert complete("vms prod-b", app) == "vms prod-b"
    assert complete("host kvm-b", app) == "host kvm-b01"
    assert complete("theme l", app) == "theme light"
    assert complete("zzz", app) is None
    assert complete("q x", app) is None  # takes no argument
