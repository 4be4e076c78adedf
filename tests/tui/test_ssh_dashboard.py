"""End to end: ssh into a real OpenSSH server configured with the shipped snippet, land in the
dashboard (ForceCommand), sign in, see the fleet, power a VM off, quit.

Everything runs on 127.0.0.1: sshd on a free loopback port, the engine on a Unix socket whose
group is ovtui-operators (as the snippet's comments ask), and ssh inside a private tmux server.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import PASSWORD, LiveEngine, fleet_config, standard_spec

from .sshd_harness import SSHD, Sshd, Tmux, operators_group, ssh_user, sshd

pytestmark = pytest.mark.slow


@dataclass
class Setup:
    live: LiveEngine
    server: Sshd
    user: str


@pytest.fixture
def setup() -> Iterator[Setup]:
    assert os.geteuid() == 0, "this test creates a user and a group: run it as root"
    assert SSHD.exists(), "OpenSSH server missing: `apt-get install openssh-server` (make venv)"
    with operators_group() as group, ssh_user() as user:
        config = fleet_config(standard_spec())
        root = config.engine.store_dir.parent
        root.chmod(0o711)  # the user's dashboard reaches the socket through this directory
        config = config.model_copy(
            # As in production: the operators' group may open the socket (the fleet file says 0600).
            update={
                "api": config.api.model_copy(update={"socket_group": group, "socket_mode": "0660"})
            }
        )
        live = LiveEngine(config)
        try:
            with sshd(user, live.socket) as server:
                yield Setup(live, server, user)
        finally:
            live.stop()
            shutil.rmtree(root, ignore_errors=True)


def test_operator_lands_in_the_dashboard_over_ssh_and_acts(setup: Setup) -> None:
    s = setup
    term = Tmux(100, 30)
    try:
        term.start(
            f"ssh -F /dev/null -tt -p {s.server.port} -i {s.server.key} -o BatchMode=yes "
            "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
            f"{s.user}@127.0.0.1"
        )
        # The sign-in screen, pre-filled with the SSH account's name; the engine decides.
        screen = term.wait_for("ovtui — sign in")
        assert s.user in screen and str(s.live.socket) in screen
        term.wait_for("Enter: sign in")  # the cursor is in the password field
        term.keys("BTab")  # to the user field, its text selected: typing replaces it
        term.wait_for("Enter: on to the password")
        term.type("poweruser")
        term.keys("Enter")
        term.wait_for("Enter: sign in")
        term.type(PASSWORD)
        term.keys("Enter")
        screen = term.wait_for("poweruser (PowerUser)")
        assert "Overview (0)" in screen and "dc1" in screen and "h3" in screen
        # Keys typed faster than focus moves would land elsewhere (a person reads first): each
        # step waits for the footer to show the keys of where the cursor now is.
        term.type("2")  # the VMs tab: every VM of the fleet
        screen = term.wait_for("nomig-1")
        assert "web-2" in screen and "running" in screen
        _wait_footer(term, "/ filter")
        term.type("/")
        term.wait_for("filter VMs")
        term.type("re:^web-2$")
        term.keys("Enter")
        _wait_rows(term, "web-", 1)
        _wait_footer(term, "x off")
        term.type("x")
        term.wait_for("Power off web-2 on h1?")
        term.type("y")
        term.wait_for("web-2: powered off")
        vm = s.live.as_role("SuperUser").get("/api/v1/vms/web-2").json()
        assert vm["state"] == "shutoff"
        term.type(":")
        term.wait_for("Esc cancels")
        term.type("q")
        term.keys("Enter")
        _wait(term.dead, "the SSH session to end")
    finally:
        term.kill()
    # What the engine saw: this user signed in through the dashboard and out again on quit.
    records = [r for r in s.live.audit_records() if r.get("actor") == "poweruser"]
    actions = [r["action"] for r in records]
    assert actions[0] == "login" and actions[-1] == "logout", actions
    assert "vm.poweroff" in actions
    log = s.server.log.read_text()
    assert f"Accepted publickey for {s.user} from 127.0.0.1" in log


def _wait_footer(term: Tmux, text: str) -> None:
    _wait(lambda: text in term.screen().rstrip().splitlines()[-1], f"{text!r} in the footer",
          screen=term.screen)  # fmt: skip


def _wait_rows(term: Tmux, prefix: str, count: int) -> None:
    def rows() -> bool:
        return sum(line.lstrip().startswith(prefix) for line in term.screen().splitlines()) == count

    _wait(rows, f"{count} rows starting {prefix!r}", screen=term.screen)


def _wait(
    check: Callable[[], bool], what: str, timeout: float = 30.0, screen: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{screen()}"
        time.sleep(0.1)
