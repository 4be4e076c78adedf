"""SIGKILL a busy writer at random instants: every time, the state must open clean and whole.

Each writer is killed only after it has reported whole write cycles (a random number of them),
at a random instant after that: so every kill lands in the middle of writing, however fast or
slow the machine, and every cycle it reported must be found on disk afterwards.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovtui.store import JsonlLog, Store
from ovtui.store.migrations import MIGRATIONS, latest_version

from .kill_writer_child import LOG_NAME, VM, blob

ROUNDS = 60
MAX_CYCLES = 3  # a writer is killed after 1..MAX_CYCLES reported cycles
MAX_DELAY = 0.030  # and then within this many seconds: somewhere inside its next writes
SEED = int(os.environ.get("OVTUI_KILL_SEED", "20240611"))
# Per answer of the helper or report of a writer, so a wedged helper cannot hang CI; generous,
# because a loaded machine may take long over a fork or an fsync.
WAIT = 60.0

pytestmark = pytest.mark.slow


class Zygote:
    """The helper process that forks writers; we kill the writers by PID ourselves."""

    def __init__(self, directory: Path, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        helper = Path(__file__).with_name("kill_writer_child.py")
        # The writers' progress pipe: the helper keeps the write end open (so reading never
        # sees end-of-file between writers), its forked writers inherit it.
        self._progress, progress_w = os.pipe()
        os.set_blocking(self._progress, False)
        self._pending = b""
        self.proc = subprocess.Popen(
            [sys.executable, str(helper), str(directory), str(progress_w)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            pass_fds=(progress_w,),
        )
        os.close(progress_w)

    def ask(self, command: str) -> list[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{command}\n".encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], WAIT)
        assert ready, f"helper silent after {command!r} for {WAIT} s; stderr:\n{self.stderr()}"
        answer = self.proc.stdout.readline().decode().split()
        assert answer, f"helper exited after {command!r}; stderr:\n{self.stderr()}"
        return answer

    def reported(self, wait_for: int = 0) -> list[int]:
        """The cycles writers reported since the last call; waits until at least `wait_for`."""
        cycles: list[int] = []
        deadline = time.monotonic() + WAIT
        while True:
            try:
                chunk = os.read(self._progress, 65536)
            except BlockingIOError:
                chunk = b""
            if chunk:
                *lines, self._pending = (self._pending + chunk).split(b"\n")
                cycles += [int(line) for line in lines]
                continue
            if len(cycles) >= wait_for:
                return cycles
            remaining = deadline - time.monotonic()
            assert remaining > 0, (
                f"the writer reported {len(cycles)} of {wait_for} cycles in {WAIT} s; "
                f"stderr:\n{self.stderr()}"
            )
            select.select([self._progress], [], [], remaining)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()  # by its PID, the only process we own here
                self.proc.wait()
        self._stderr.close()
        os.close(self._progress)


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    helper = Zygote(tmp_path / "state", tmp_path / "helper.stderr")
    yield helper
    helper.stop()


def _check_log(path: Path) -> list[dict[str, object]]:
    with JsonlLog(path) as log:
        records = list(log)
        assert log.last_seq == len(records)
    # After open, the file itself is clean: every line whole and valid, seq 1..N without gaps.
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n")
    assert data.count(b"\n") == len(records), "a line the log reader had to skip"
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    ticks = [r["i"] for r in records]
    assert ticks == sorted(set(ticks)), "log records out of order or repeated"
    return records


def test_state_survives_sigkill_at_random_instants(tmp_path: Path, zygote: Zygote) -> None:
    directory = tmp_path / "state"
    rng = random.Random(SEED)
    latest = latest_version(MIGRATIONS)
    previous_counter = 0
    seen: list[dict[str, object]] = []

    for round_no in range(ROUNDS):
        context = f"round {round_no}, seed {SEED}"
        pid = int(zygote.ask("fork")[1])
        reported = zygote.reported(wait_for=rng.randint(1, MAX_CYCLES))
        time.sleep(rng.uniform(0, MAX_DELAY))
        os.kill(pid, signal.SIGKILL)
        status = int(zygote.ask(f"reap {pid}")[1])
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
            f"{context}: the writer ended by itself (status {status}); stderr:\n{zygote.stderr()}"
        )
        reported += zygote.reported()  # what it reported until the kill (it is reaped now)
        assert reported == list(range(previous_counter + 1, reported[-1] + 1)), context

        with Store.open(directory) as store:
            assert store.schema_version == latest, context
            counter = store.get_setting("counter", 0)
            version = store.get_setting("blob")
            vm = store.vm_settings(VM)
        assert not list(directory.glob("*.tmp-*")), context

        # Writes land in order blob -> VM -> counter: what is on disk is one written version
        # of each, never older than what the writer reported as done (nor than the last round).
        assert counter >= reported[-1] > previous_counter, context
        assert version is not None and vm, context
        assert version == blob(version["i"]), context
        assert counter <= version["i"] <= counter + 1, context
        generation = vm["generation"]
        assert counter <= generation <= version["i"], context
        assert vm == {"uuid": VM, "generation": generation, "tag": f"v{generation}"}, context
        previous_counter = counter

        # A record is appended after its counter, and a writer may die between the two, so
        # the log can lag the counter; but what one round saw in the log stays there.
        records = _check_log(directory / LOG_NAME)
        assert records[: len(seen)] == seen, context
        assert all(r["i"] <= counter for r in records[len(seen) :]), context
        assert records[-1]["i"] >= reported[-1], f"{context}: a reported record is missing"
        seen = records
