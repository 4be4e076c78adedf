"""The anchor: a trail cut short, emptied or rewritten at its end is reported, by `audit verify`
and at engine start; a complete line is never cut; a crash between append and anchor is fine."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from auth.audit import AuditTrail, _digest
from auth.audit_anchor import Anchor
from auth.syslog_sink import SyslogSink
from ovtui.cli.main import main
from ovtui.engine.audit_open import AUDIT_FILE, open_audit
from ovtui.store import Store
from ovtui.store.audit_anchor import SLOT, AnchorFile, anchor_path

N = 12


def _anchored(trail: Path) -> Anchor:
    found = AnchorFile(anchor_path(trail)).read()
    assert found is not None
    return found


def _make_trail(directory: Path, n: int = N) -> Path:
    with Store.open(directory) as store:
        log, trail, problems = open_audit(directory, store)
        assert problems == []
        for i in range(n):
            trail.record(actor="alice", action=f"vm.x{i}", target=f"vm/web-{i}")
        log.close()
    return directory / AUDIT_FILE


def _reopen(directory: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Opens the trail as the engine does at start: the problems, and the file's last 2 lines."""
    with Store.open(directory) as store:
        log, _trail, problems = open_audit(directory, store)
        log.close()
    lines = (directory / AUDIT_FILE).read_text().splitlines()[-2:]
    return problems, [json.loads(x) if x.startswith('{"') else {} for x in lines]


def _verify(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["audit", "verify", "--file", str(path), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _rewrite_last(lines: list[str]) -> list[str]:
    """The last record changed and its hash recomputed: the chain alone still looks intact."""
    rec = json.loads(lines[-1])
    rec["result"] = "denied"
    rec["hash"] = _digest(rec)
    return [*lines[:-1], json.dumps(rec, separators=(",", ":")) + "\n"]


def _forge_two_more(lines: list[str]) -> list[str]:
    """Two records appended with a valid chain, as anyone who can write the file could."""
    out, last = list(lines), json.loads(lines[-1])
    for _ in range(2):
        rec = {**last, "seq": last["seq"] + 1, "prev": last["hash"], "action": "forged"}
        rec["hash"] = _digest(rec)
        out.append(json.dumps(rec) + "\n")
        last = rec
    return out


def test_verify_reports_a_trail_cut_short_emptied_or_rewritten_at_its_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = _make_trail(tmp_path)
    original = _lines(trail)
    anchor = anchor_path(trail)
    assert _anchored(trail).seq == N
    assert _verify(trail, capsys)[0] == 0

    damages: dict[str, tuple[list[str], str]] = {
        "last line removed": (original[:-1], f"ends at seq {N - 1}, but its anchor says seq {N}"),
        "first 10 kept": (original[:10], f"seq 11..{N} cut off its end (truncated)"),
        "emptied": ([], f"the trail is empty, but its anchor says it ended at seq {N}"),
        "end rewritten": (_rewrite_last(original), f"record seq {N} is not the one anchored"),
        "records added": (_forge_two_more(original), f"seq {N + 2} follow the anchor"),
    }
    for name, (lines, expected) in damages.items():
        trail.write_text("".join(lines))
        code, out = _verify(trail, capsys)
        assert code == 1 and expected in out and "NOT intact" in out, f"{name}: {out}"

    # The engine stopped between an append and its anchor: one record ahead is intact.
    trail.write_text("".join(original))
    rec = json.loads(original[-2])
    AnchorFile(anchor).write(rec["seq"], rec["hash"])
    assert _verify(trail, capsys)[0] == 0

    # Without its anchor a trail cannot be vouched for, unless asked to check the chain only.
    anchor.unlink()
    code, out = _verify(trail, capsys)
    assert code == 1 and "no anchor" in out and "--no-anchor" in out
    trail.write_text("".join(original[:-1]))
    code, out = _verify(trail, capsys, "--no-anchor")
    assert code == 0 and "not checked against an anchor" in out
    anchor.write_text("garbage")
    code, out = _verify(trail, capsys)
    assert code == 1 and "not an audit anchor" in out
    # --anchor names it (a copy elsewhere)
    copy = tmp_path / "elsewhere.anchor"
    AnchorFile(copy).write(N, json.loads(original[-1])["hash"])
    trail.write_text("".join(original))
    assert _verify(trail, capsys, "--anchor", str(copy))[0] == 0


def _damage_last_line(lines: list[str]) -> list[str]:
    return [*lines[:-1], lines[-1].replace('"alice"', '"mallory"')]


DAMAGE = {
    "last line removed": (lambda x: x[:-1], "cut off its end", N + 1),
    "first 10 kept": (lambda x: x[:10], f"seq 11..{N} cut off", N + 1),
    "emptied": (lambda x: [], "it was emptied", N + 1),
    "last line edited": (_damage_last_line, "content does not match its hash", N + 1),
    "last line unreadable": (lambda x: [*x, "{edited\n"], "are not audit records", N + 1),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_the_engine_starts_with_a_loud_alert_on_a_damaged_trail(
    tmp_path: Path,
    damage: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trail = _make_trail(tmp_path)
    change, expected, next_seq = DAMAGE[damage]
    damaged = "".join(change(_lines(trail)))
    trail.write_text(damaged)

    with caplog.at_level(logging.ERROR):
        problems, _ = _reopen(tmp_path)
    assert any(expected in p for p in problems), problems
    assert "AUDIT TRAIL DAMAGED" in caplog.text
    # Nothing was repaired or cut: the damage is kept, and the alert follows it.
    assert trail.read_text().startswith(damaged)
    alert = json.loads(_lines(trail)[-1])
    assert (alert["actor"], alert["action"], alert["result"]) == (
        "engine",
        "audit.damaged",
        "alert",
    )
    assert expected in alert["detail"] and alert["seq"] == next_seq
    # Numbering resumed after the anchor, so a cut stays visible for good...
    code, out = _verify(trail, capsys)
    assert code == 1, out
    # ... and the next start finds the end sound again (the alert is on record, once).
    problems, _ = _reopen(tmp_path)
    assert problems == []


def test_a_missing_anchor_is_damage_once_the_trail_was_anchored(tmp_path: Path) -> None:
    trail = _make_trail(tmp_path)
    anchor_path(trail).unlink()
    problems, [_, alert] = _reopen(tmp_path)
    assert problems == [f"{anchor_path(trail)} is missing, so truncation cannot be checked"]
    assert alert["action"] == "audit.damaged"
    assert _anchored(trail).seq == alert["seq"]


def test_a_trail_from_before_anchoring_is_anchored_without_alarm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records: list[dict[str, Any]] = []
    old = AuditTrail(records.append)  # what earlier versions wrote: no anchor
    for i in range(3):
        old.record(actor="a", action=f"x{i}")
    trail = tmp_path / AUDIT_FILE
    lines = [json.dumps({"seq": i, **r}) + "\n" for i, r in enumerate(records, 1)]
    trail.write_text("".join(lines))
    problems, _ = _reopen(tmp_path)
    assert problems == [] and trail.read_text() == "".join(lines)
    assert _anchored(trail) == Anchor(3, records[-1]["hash"])
    assert _verify(trail, capsys)[0] == 0


def test_a_torn_last_line_is_cut_and_the_cut_is_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = _make_trail(tmp_path)
    good = trail.read_text()
    with trail.open("a") as f:
        f.write('{"seq":13,"ts":"2026-01-01T00:00:00Z","actor":"bob","act')  # killed mid-write
    problems, [_, cut] = _reopen(tmp_path)
    assert problems == []
    assert trail.read_text().startswith(good)
    assert (cut["actor"], cut["action"], cut["result"], cut["seq"]) == (
        "engine", "audit.torn_line_cut", "ok", 13
    )  # fmt: skip
    assert cut["params"]["bytes"] == 56 and '"actor":"bob"' in cut["params"]["text"]
    assert _verify(trail, capsys)[0] == 0


def test_a_restart_after_a_kill_between_append_and_anchor_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = _make_trail(tmp_path)
    before = json.loads(_lines(trail)[-2])
    AnchorFile(anchor_path(trail)).write(before["seq"], before["hash"])  # one behind
    problems, _ = _reopen(tmp_path)
    assert problems == [] and _anchored(trail).seq == N
    assert trail.read_text().count("\n") == N  # caught up without a record
    assert _verify(trail, capsys)[0] == 0


def test_a_failed_anchor_write_never_costs_a_record(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    anchored: list[tuple[int, str]] = []
    failing = [False]

    def append(rec: dict[str, Any]) -> dict[str, Any]:
        stored = {**rec, "seq": len(records) + 1}
        records.append(stored)
        return stored

    def anchor(seq: int, digest: str) -> None:
        if failing[0]:
            raise OSError(28, "No space left on device")
        anchored.append((seq, digest))

    trail = AuditTrail(append, anchor=anchor)
    trail.record(actor="a", action="one")
    assert anchored == [(1, records[0]["hash"])]
    failing[0] = True
    trail.record(actor="a", action="two")  # the action happened: its record is kept
    trail.record(actor="a", action="three")
    assert [r["action"] for r in records] == ["one", "two", "three"] and len(anchored) == 1
    failing[0] = False
    trail.record(actor="a", action="four")  # anchors itself: caught up
    assert anchored[-1] == (4, records[-1]["hash"])


def test_a_trail_ahead_of_its_anchor_by_more_than_one_is_reported_at_start(
    tmp_path: Path,
) -> None:
    trail = _make_trail(tmp_path)
    for line in _lines(trail)[-4:-2]:  # the writes for the last two records failed
        rec = json.loads(line)
        AnchorFile(anchor_path(trail)).write(rec["seq"], rec["hash"])
    problems, _ = _reopen(tmp_path)
    [problem] = problems
    assert problem.startswith(f"seq {N} follow the anchor (seq {N - 2})")


def test_the_alert_at_start_is_forwarded_to_syslog_with_its_seq(tmp_path: Path) -> None:
    trail = _make_trail(tmp_path)
    trail.write_text("".join(_lines(trail)[:-3]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(10)
        sink = SyslogSink(f"udp://127.0.0.1:{listener.getsockname()[1]}")
        with Store.open(tmp_path) as store:
            log, _trail, problems = open_audit(tmp_path, store, [sink])
            log.close()
        sink.close()
        message = listener.recvfrom(65535)[0].decode()
    assert problems and message.startswith("<84>ovtui-audit: ")  # authpriv.warning
    alert = json.loads(message.split(": ", 1)[1])
    assert (alert["action"], alert["seq"]) == ("audit.damaged", N + 1)
    assert f"seq {N - 2}..{N} cut off its end" in alert["detail"]


def test_a_torn_anchor_write_falls_back_to_the_record_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = _make_trail(tmp_path)
    anchor = anchor_path(trail)
    raw = bytearray(anchor.read_bytes())
    newest = (N % 2) * SLOT
    raw[newest + 20 : newest + 40] = b"\0" * 20  # a crash tore the write of seq N's slot
    anchor.write_bytes(bytes(raw))
    before = json.loads(_lines(trail)[-2])
    assert AnchorFile(anchor).read() == Anchor(N - 1, before["hash"])
    assert _verify(trail, capsys)[0] == 0  # one behind: what a kill leaves, no alarm
    problems, _ = _reopen(tmp_path)
    assert problems == [] and _anchored(trail).seq == N
