"""`ovtui`: the engine daemon, the demo, and API commands for people and scripts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from ovtui import __version__
from ovtui.cli import inventory_cmds, session_cmds
from ovtui.cli.connect import CliError
from ovtui.client import ApiError
from ovtui.config import ConfigError, load_config


def engine_cmd(args: argparse.Namespace) -> None:
    from ovtui.engine.run import run_engine

    config = load_config(args.config)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(run_engine(config))


def demo_cmd(args: argparse.Namespace) -> None:
    from ovtui.demo import run_demo

    run_demo(headless=args.no_tui, directory=args.dir)


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
    session_cmds.add_parsers(sub)
    inventory_cmds.add_parsers(sub)
    try:
        from ovtui.lab.cli import add_lab_subparser
    except ImportError:
        pass
    else:
        add_lab_subparser(sub)
    return parser


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
