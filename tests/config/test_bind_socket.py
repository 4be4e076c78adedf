"""The API's Unix socket replaces only a socket nobody serves: never a file or a live socket."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from ovtui.api.server import ListenError, bind_unix_socket


def test_a_socket_left_by_a_killed_engine_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "api.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(str(path))  # closed without unlinking, as after kill -9
    with bind_unix_socket(path, 0o600, None) as sock:
        assert sock.getsockname() == str(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_regular_file_is_never_removed(tmp_path: Path) -> None:
    path = tmp_path / "api.sock"
    path.write_text("someone's notes\n")
    with pytest.raises(ListenError) as info:
        bind_unix_socket(path, 0o600, None)
    assert info.value.key == "api.socket"
    assert info.value.message == (
        f"{path} exists and is not a socket; remove it or choose another path"
    )
    assert path.read_text() == "someone's notes\n"


def test_a_served_socket_is_never_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "api.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
        other.bind(str(path))
        other.listen()
        with pytest.raises(ListenError, match="is served by a running process"):
            bind_unix_socket(path, 0o600, None)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))  # the other process still has its socket
