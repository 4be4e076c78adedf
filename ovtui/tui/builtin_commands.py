"""The dashboard's own `:` commands. Importing this module registers them."""

from __future__ import annotations

from typing import Any

from ovtui.tui.commands import CommandError, register
from ovtui.tui.themes import THEMES
from ovtui.tui.views import VIEWS, View, screen_class


def _clusters(app: Any) -> list[str]:
    return sorted({h.cluster for h in app.fleet.hosts})


def _hosts(app: Any) -> list[str]:
    return [h.name for h in app.fleet.hosts]


def _vms(app: Any) -> list[str]:
    return [v.name for v in app.fleet.vms]


def _at_most_one(args: list[str], usage: str) -> str | None:
    if len(args) > 1:
        raise CommandError(f"too many arguments: {usage}")
    return args[0] if args else None


def _cluster(app: Any, args: list[str], usage: str) -> str | None:
    name = _at_most_one(args, usage)
    known = _clusters(app)
    if name is not None and name not in known:
        raise CommandError(f"no cluster {name!r} (clusters: {', '.join(known) or 'none yet'})")
    return name


def _one(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise CommandError(f"usage: {usage}")
    return args[0]


@register("overview", "data centers, clusters, hosts and alerts", aliases=("o",))
def overview(app: Any, args: list[str]) -> None:
    _at_most_one(args, ":overview")
    app.show_tab("overview")


@register("hosts", "the hosts table, of one cluster or all", "[cluster]", _clusters)
def hosts(app: Any, args: list[str]) -> None:
    app.show_tab("hosts", cluster=_cluster(app, args, ":hosts [cluster]"))


@register("vms", "the VMs table, of one cluster or all", "[cluster]", _clusters)
def vms(app: Any, args: list[str]) -> None:
    app.show_tab("vms", cluster=_cluster(app, args, ":vms [cluster]"))


@register("events", "the engine's event stream")
def events(app: Any, args: list[str]) -> None:
    _at_most_one(args, ":events")
    app.show_tab("events")


@register("host", "open a host's detail", "NAME", _hosts)
def host(app: Any, args: list[str]) -> None:
    name = _one(args, ":host NAME")
    if app.fleet.host(name) is None:
        raise CommandError(f"no host {name!r} (press Tab to complete a name)")
    app.open_host(name)


@register("vm", "open a VM's detail", "NAME", _vms)
def vm(app: Any, args: list[str]) -> None:
    name = _one(args, ":vm NAME")
    found = next((v for v in app.fleet.vms if v.name == name), None)
    if found is None:
        raise CommandError(f"no VM {name!r} (press Tab to complete a name)")
    app.open_vm(found)


@register("theme", "light or dark colours", "light|dark", lambda app: list(THEMES))
def theme(app: Any, args: list[str]) -> None:
    name = _one(args, f":theme {'|'.join(THEMES)}")
    if name not in THEMES:
        raise CommandError(f"no theme {name!r} (themes: {', '.join(THEMES)})")
    app.set_theme(name)


@register("quit", "leave the dashboard", aliases=("q", "q!"))
def quit_(app: Any, args: list[str]) -> None:
    app.exit()


@register("help", "the list of commands", aliases=("?",))
def help_(app: Any, args: list[str]) -> None:
    app.show_command_help()


def _view_command(view: View) -> None:
    def open_view(app: Any, args: list[str]) -> None:
        _at_most_one(args, f":{view.name}")
        if view.needs and view.needs not in app.rights.system:
            raise CommandError(f":{view.name} needs {view.needs} (system-wide); {app.user} has not")
        app.open_view(screen_class(view.name))

    register(view.name, view.help)(open_view)


for _view in VIEWS.values():
    _view_command(_view)
