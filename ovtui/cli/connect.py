"""Where the engine's socket is, and a signed-in client for commands that need one."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ovtui.client import DEFAULT_SOCKET, Client, load_token
from ovtui.config.errors import ConfigError


class CliError(Exception):
    """Printed as 'ovtui: MESSAGE'; exit code in .code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def socket_path(args: argparse.Namespace) -> Path:
    from ovtui.config.load import load_config

    if getattr(args, "socket", None):
        return Path(args.socket)
    if os.environ.get("OVTUI_SOCKET"):
        return Path(os.environ["OVTUI_SOCKET"])
    if getattr(args, "config", None) or os.environ.get("OVTUI_CONFIG"):
        try:
            return load_config(args.config).api.socket
        except ConfigError as exc:
            raise CliError(str(exc), code=2) from None
    return DEFAULT_SOCKET


def signed_in_client(args: argparse.Namespace) -> Client:
    sock = socket_path(args)
    token = os.environ.get("OVTUI_TOKEN") or load_token(sock)
    if not token:
        raise CliError(f"not signed in to the engine at {sock}: run `ovtui login` first")
    return Client(sock, token)
