"""`ovtui`: the engine daemon, the demo, and API commands for people and scripts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from ovtui import __version__
from ovtui.cli import (
    audit_cmds,
    backup_cmds,
    ha_cmds,
    inventory_cmds,
    network_cmds,
    policy_cmds,
    provision_cmds,
    session_cmds,
    snapshot_cmds,
    storage_cmds,
)
from ovtui.cli.connect import CliError
from ovtui.client import ApiError
from ovtui.config.errors import ConfigError


def engine_cmd(args: argparse.Namespace) -> None:
    from auth.local_users import LocalUsersError
    from collectors.exporter_server import ExporterError
    from ovtui.config.load import load_config
    from ovtui.engine.run import run_engine
    from ovtui.store.errors import StoreError

    config = load_config(args.config)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(run_engine(config))
    # Problems the operator fixes on disk: their messages say what and where; no traceback.
    except LocalUsersError as exc:
        raise CliError(f"engine not started: {exc}", code=2) from None
    except (StoreError, ExporterError) as exc:
        raise CliError(f"engine not started: {exc}", code=1) from None


def demo_cmd(args: argparse.Namespace) -> None:
    from ovtui.demo import run_demo

    run_demo(headless=args.no_tui, directory=args.dir)


def dashboard_cmd(args: argparse.Namespace) -> None:
    """The terminal dashboard; a saved `ovtui login` session is reused, else it asks."""
    from ovtui.cli.connect import socket_path
    from ovtui.client import load_token
    from ovtui.tui.app import run_dashboard

    sock = socket_path(args)
    run_dashboard(sock, os.environ.get("OVTUI_TOKEN") or load_token(sock))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ovtui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"ovtui {__version__}")
    parser.add_argument(
        "--config", help="engine config (default: $OVTUI_CONFIG, else /etc/ovtui/ovtui.toml)"
    )
    parser.add_argument("--socket", help="engine API socket (default: from the config)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("engine", help="run the engine daemon")
    p.add_argument("--verbose", "-v", action="store_true")
    p.set_defaults(func=engine_cmd)
    p = sub.add_parser("demo", help="engine + dashboard on the embedded demo fleet")
    p.add_argument("--no-tui", action="store_true", help="run only the engine, print how to use it")
    p.add_argument("--dir", help="keep the demo's files here (default: a temporary directory)")
    p.set_defaults(func=demo_cmd)
    p = sub.add_parser("dashboard", help="the terminal dashboard (signs in if needed)")
    p.set_defaults(func=dashboard_cmd)
    session_cmds.add_parsers(sub)
    inventory_cmds.add_parsers(sub)
    audit_cmds.add_parsers(sub)
    policy_cmds.add_parsers(sub)
    ha_cmds.add_parsers(sub)
    network_cmds.add_parsers(sub)
    storage_cmds.add_parsers(sub)
    provision_cmds.add_parsers(sub)  # after inventory_cmds: adds to the `vm` group
    snapshot_cmds.add_parsers(sub)
    backup_cmds.add_parsers(sub)
    try:
        from ovtui.lab.cli import add_lab_subparser
    except ImportError:
        pass
    else:
        add_lab_subparser(sub)
    _accept_common_options_everywhere(parser)
    return parser


def _accept_common_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """`ovtui engine --config F` and `ovtui vm list --socket S` work as well as the global form.

    SUPPRESS as default: a subcommand that does not get the option leaves the global value alone.
    """
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in set(action.choices.values()):
            known = {s for a in sub._actions for s in a.option_strings}
            if "--config" not in known:
                sub.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
            if "--socket" not in known:
                sub.add_argument("--socket", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
            _accept_common_options_everywhere(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ConfigError as exc:
        print(f"ovtui: configuration error:\n{exc}", file=sys.stderr)
        return exc.exit_code
    except CliError as exc:
        print(f"ovtui: {exc}", file=sys.stderr)
        return exc.code
    except ApiError as exc:
        where = f" (HTTP {exc.status})" if exc.status else ""
        print(f"ovtui: {exc.message}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
