"""`ovtui login`, `ovtui logout`, `ovtui whoami`, `ovtui hash-password`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from auth.passwords import hash_password
from ovtui.cli.connect import CliError, signed_in_client, socket_path
from ovtui.client import Client, forget_token, save_token


def _password(args: argparse.Namespace, prompt: str = "Password: ") -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("OVTUI_PASSWORD"):
        return os.environ["OVTUI_PASSWORD"]
    if not sys.stdin.isatty():
        raise CliError("no terminal to ask for a password: use --password-stdin", code=2)
    return getpass.getpass(prompt)


def login(args: argparse.Namespace) -> None:
    sock = socket_path(args)
    user = args.user or getpass.getuser()
    client = Client(sock)
    result = client.login(user, _password(args))
    path = save_token(sock, result["token"])
    print(f"signed in as {result['user']} ({_roles(result)}); session in {path}")


def logout(args: argparse.Namespace) -> None:
    try:
        client = signed_in_client(args)
        client.request("DELETE", "/api/v1/sessions/current")
    finally:
        forget_token()
    print("signed out")


def whoami(args: argparse.Namespace) -> None:
    me = signed_in_client(args).get("/api/v1/sessions/current")
    may = ", ".join(me["permissions"]) or "nothing system-wide"
    print(f"{me['user']}: roles {_roles(me)}; may {may}")


def _roles(me: dict[str, Any]) -> str:
    """'Operator, ClusterAdmin on cluster prod-a': system roles, then scoped grants."""
    scoped = [f"{g['role']} on {g['scope']} {g['object']}" for g in me.get("grants", ())]
    return ", ".join([*me["roles"], *scoped]) or "none"


def hash_pw(args: argparse.Namespace) -> None:
    first = _password(args, "New password: ")
    if not args.password_stdin and sys.stdin.isatty() and getpass.getpass("Again: ") != first:
        raise CliError("the two passwords differ", code=2)
    try:
        print(hash_password(first))
    except ValueError as exc:
        raise CliError(str(exc), code=2) from None


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("login", help="sign in; the session is kept 0600 in your runtime dir")
    p.add_argument("--user", "-u")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=login)
    sub.add_parser("logout", help="end the session").set_defaults(func=logout)
    sub.add_parser("whoami", help="who is signed in").set_defaults(func=whoami)
    p = sub.add_parser("hash-password", help="print a scrypt hash for local-users.toml")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=hash_pw)
