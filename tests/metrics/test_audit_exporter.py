"""The audit metrics on a running engine's /metrics: refusals dropped by the rate limit, and
damage found in the trail at start (the engine starts, and says so loudly)."""

from __future__ import annotations

from auth.refusal_limit import RefusalLimit
from tests.conftest import API, LiveEngine, fleet_config, standard_spec
from tests.metrics.test_exporter_engine import scrape, value

DROPPED = "ovtui_audit_unauthenticated_dropped_total"
PROBLEMS = "ovtui_audit_trail_problems"


def _with_exporter(start_engine) -> LiveEngine:
    config = fleet_config(standard_spec(), poll_interval_seconds=3600)
    config = config.model_copy(
        update={"exporter": config.exporter.model_copy(update={"listen": "127.0.0.1:0"})}
    )
    live: LiveEngine = start_engine(config=config)
    return live


def test_dropped_401_records_are_counted_on_metrics(start_engine) -> None:
    live = _with_exporter(start_engine)
    assert value(scrape(live), DROPPED) == 0 and value(scrape(live), PROBLEMS) == 0
    # A clock that never moves: the bucket never refills, whatever the machine's speed.
    live.engine.refusal_limit = RefusalLimit(lambda: 0.0, source_burst=2)
    before = live.engine.audit_log.last_seq
    flood = live.client("stolen-or-guessed")
    for _ in range(6):
        assert flood.get(f"{API}/vms").status_code == 401
    written = live.engine.audit_log.read(since_seq=before)
    assert [(r["result"], r["source"]) for r in written] == [("denied", "unix-socket")] * 2
    assert value(scrape(live), DROPPED) == 4


def test_a_trail_cut_short_while_stopped_is_an_alert_at_start(start_engine) -> None:
    live = _with_exporter(start_engine)
    operator = live.as_role("Operator")
    assert operator.post(f"{API}/vms/web-1/suspend").status_code == 200
    live.stop()
    lines = live.audit_path.read_text().splitlines(keepends=True)
    live.audit_path.write_text("".join(lines[:-1]))  # the suspend removed

    again = start_engine(config=live.config)
    assert value(scrape(again), PROBLEMS) == 1
    rows = again.as_role("Auditor").get(f"{API}/audit", params={"action": "audit.damaged"})
    [alert] = rows.json()
    assert alert["result"] == "alert" and "cut off its end" in alert["detail"]
    assert alert["seq"] == len(lines) + 1  # numbering resumed after the anchor: the gap shows
    assert again.client().get(f"{API}/health").status_code == 200  # and it serves
