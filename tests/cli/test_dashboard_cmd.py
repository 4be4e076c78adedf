"""`ovtui dashboard`: which socket and which saved session it opens the TUI with."""

from __future__ import annotations

from pathlib import Path

import pytest

import ovtui.tui.app
from ovtui.cli.main import main
from ovtui.client import save_token


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[Path, str | None]]:
    calls: list[tuple[Path, str | None]] = []
    monkeypatch.setattr(
        ovtui.tui.app, "run_dashboard", lambda sock, token, **kw: calls.append((sock, token))
    )
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # a token file of this test's own
    for name in ("OVTUI_SOCKET", "OVTUI_TOKEN", "OVTUI_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_socket_option_and_the_token_saved_for_it(opened: list[tuple[Path, str | None]]) -> None:
    save_token(Path("/run/a.sock"), "tok-a")
    assert main(["dashboard", "--socket", "/run/a.sock"]) == 0
    assert main(["--socket", "/run/b.sock", "dashboard"]) == 0  # no session saved for b
    assert opened == [(Path("/run/a.sock"), "tok-a"), (Path("/run/b.sock"), None)]


def test_environment_then_default_socket(
    opened: list[tuple[Path, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["dashboard"]) == 0
    monkeypatch.setenv("OVTUI_SOCKET", "/srv/ovtui.sock")  # what the sshd snippet sets
    monkeypatch.setenv("OVTUI_TOKEN", "tok-env")
    assert main(["dashboard"]) == 0
    assert opened == [(Path("/run/ovtui/api.sock"), None), (Path("/srv/ovtui.sock"), "tok-env")]
