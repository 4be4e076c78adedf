"""Policy status and plans (the API's JSON) as the text and cells the policy screens show.

Pure functions: every field is read with a default, so a field the engine adds or drops costs a
'-' on screen, never a crash.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from ovtui.tui import clock
from ovtui.tui.fmt import load_style

_OUTCOME_STYLE = {"done": "green", "failed": "bold red", "stopped": "red", "not_run": "yellow"}
_PLAN_STATUS_STYLE = {
    "recommended": "cyan",
    "running": "bold yellow",
    "applied": "green",
    "partial": "yellow",
    "stopped": "red",
    "failed": "bold red",
    "superseded": "dim",
}


_SERVICE = {
    (True, True): Text("in service"),
    (False, False): Text("out", style="dim"),
    (True, False): Text("released", style="bold cyan"),  # power saving parks it
    (False, True): Text("back in service", style="bold green"),
}


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def mode_cell(status: dict[str, Any]) -> Text:
    mode = str(status.get("mode", "?"))
    override = status.get("mode_source") == "override"
    style = {"automatic": "bold yellow", "off": "dim"}.get(mode, "")
    return Text(mode + ("*" if override else ""), style=style)


def latest_cell(status: dict[str, Any]) -> Text:
    latest = status.get("latest_plan")
    if not latest:
        return Text("none yet", style="dim")
    state = str(latest.get("status", "?"))
    steps = int(latest.get("steps") or 0)
    what = f"{state}, {steps} step{'s' if steps != 1 else ''}" if steps else f"{state}, no steps"
    return Text(what, style=_PLAN_STATUS_STYLE.get(state, ""))


def cluster_cells(status: dict[str, Any]) -> tuple[str | Text, ...]:
    busy = Text("busy", style="bold yellow") if status.get("busy") else Text("")
    return (
        str(status.get("cluster", "?")),
        str(status.get("policy", "-")),
        mode_cell(status),
        latest_cell(status),
        busy,
    )


def status_text(status: dict[str, Any]) -> str:
    """The selected cluster: policy, mode and where it comes from, jobs and their last runs."""
    mode = str(status.get("mode", "?"))
    source = (
        f"set at run time; the config says {status.get('config_mode', '?')}"
        if status.get("mode_source") == "override"
        else "from the config"
    )
    lines = [f"policy {status.get('policy', '-')} · mode {mode} ({source})"]
    window = status.get("power_saving_window")
    if status.get("policy") == "power_saving" and window:
        lines.append(f"power-saving window {window} (local time)")
    if status.get("policy") == "power_saving":
        lines.append(consolidation_text(status.get("params") or {}))
    for job in status.get("jobs") or ():
        lines.append(job_line(job))
    if not status.get("jobs"):
        lines.append("no scheduled jobs (policy none)")
    latest = status.get("latest_plan")
    if latest:
        lines.append(
            f"latest plan {latest.get('id', '?')}: {latest.get('status', '?')} "
            f"({latest.get('kind', '?')}, {clock.shown(latest.get('created_at'))}, "
            f"{latest.get('trigger', '?')})"
        )
        lines.append(f"  {latest.get('summary', '')}")
    if status.get("busy"):
        lines.append(f"busy: {status['busy']}")
    return "\n".join(lines)


def consolidation_text(params: dict[str, Any]) -> str:
    """How power saving chooses hosts to release (ConsolidationMode and its parameters)."""
    mode = params.get("ConsolidationMode", "?")
    high = params.get("HighUtilization", "?")
    if mode == "demand":
        return (
            f"consolidation demand: CPU demand kept at {params.get('DemandCapacityRatioTarget')}% "
            f"± {params.get('DemandCapacityRatioTolerance')}% of the CPUs in service, "
            f"no host above {high}%"
        )
    if mode == "low_utilization":
        return (
            f"consolidation low_utilization (oVirt): hosts under {params.get('LowUtilization')}% "
            f"are drained, no host above {high}%"
        )
    return f"consolidation {mode}"


def job_line(job: dict[str, Any]) -> str:
    kind = str(job.get("kind", "?"))
    when = f"next {clock.shown(job.get('next_run'))}"
    if job.get("running"):
        last = "running now"
    elif job.get("last_start") is None:
        last = "not run yet"
    else:
        last = f"last {clock.shown(job.get('last_start'))}: {job.get('last_result') or '-'}"
    skipped = f" · skipped {job['skipped']}x" if job.get("skipped") else ""
    return f"{kind}: {job.get('schedule', '?')} · {when} · {last}{skipped}"


def plan_header(doc: dict[str, Any] | None, plan: dict[str, Any] | None, preview: bool) -> str:
    """What is shown and whether it can be applied: a stored plan, a preview, or nothing."""
    if plan is None:
        return "No plan stored for this cluster yet: r runs the policy now, v previews one."
    when = clock.shown(plan.get("created_at"))
    if preview:
        head = f"PREVIEW ({plan.get('kind', '?')}, computed {when}): shown only, not stored"
    else:
        assert doc is not None
        head = (
            f"plan {doc.get('id', '?')} · {doc.get('kind', '?')} · {doc.get('status', '?')} · "
            f"computed {when} ({doc.get('trigger', '?')}, mode {doc.get('mode', '?')})"
        )
    lines = [head, str(plan.get("summary", ""))]
    lines += [f"note: {n}" for n in plan.get("notes") or ()]
    lines += [
        f"stuck: {s.get('vm_name', '?')}: {s.get('reason', '')}" for s in plan.get("stuck") or ()
    ]
    return "\n".join(lines)


def pending_steps(doc: dict[str, Any]) -> list[int]:
    """What an apply runs, as the engine decides: every step not done (a failed or stopped
    step is tried again)."""
    steps = (doc.get("plan") or {}).get("steps") or []
    outcomes = list(doc.get("outcomes") or [])
    return [
        i
        for i in range(len(steps))
        if i >= len(outcomes) or not outcomes[i] or outcomes[i].get("status") != "done"
    ]


def step_text(step: dict[str, Any]) -> str:
    if step.get("kind") == "migrate":
        return f"migrate {step.get('vm_name', '?')} {step.get('host', '?')} → {step.get('target')}"
    return f"{str(step.get('kind', '?')).replace('_', ' ')} {step.get('host', '?')}"


def outcome_cell(outcome: dict[str, Any] | None, running: bool) -> Text:
    if not outcome:
        return Text("running…" if running else "pending", style="yellow" if running else "dim")
    status = str(outcome.get("status", "?"))
    return Text(status.replace("_", " "), style=_OUTCOME_STYLE.get(status, ""))


def step_rows(
    plan: dict[str, Any], outcomes: list[dict[str, Any] | None], running: bool
) -> dict[str, tuple[str | Text, ...]]:
    """{step index: (#, step, outcome, why)}; steps are numbered from 1 as people count."""
    rows: dict[str, tuple[str | Text, ...]] = {}
    for i, step in enumerate(plan.get("steps") or ()):
        outcome = outcomes[i] if i < len(outcomes) else None
        rows[str(i)] = (
            str(i + 1),
            step_text(step),
            outcome_cell(outcome, running),
            str(step.get("reason", "")),
        )
    return rows


def step_detail(step: dict[str, Any], outcome: dict[str, Any] | None) -> str:
    text = f"why: {step.get('reason', '-')}"
    if outcome:
        text += (
            f"\n{outcome.get('status', '?')}: {outcome.get('detail', '')} "
            f"({outcome.get('by', '?')}, {clock.shown(outcome.get('at'))})"
        )
    return text


def _change(before: float | int | None, after: float | int | None, as_pct: bool) -> Text:
    show = pct if as_pct else (lambda v: "-" if v is None else str(v))
    if before == after:
        style = load_style(after) if as_pct and isinstance(after, float) else ""
        return Text(show(after), style=style)
    text = Text(f"{show(before)} → ")
    style = load_style(after) if as_pct and isinstance(after, float) else "bold"
    text.append(show(after), style=style)
    return text


def load_rows(plan: dict[str, Any]) -> dict[str, tuple[str | Text, ...]]:
    """{host: (host, CPU, memory, VMs, service)} predicted before → after the plan."""
    before: dict[str, dict[str, Any]] = plan.get("before") or {}
    after: dict[str, dict[str, Any]] = plan.get("after") or {}
    rows: dict[str, tuple[str | Text, ...]] = {}
    for host in sorted(set(before) | set(after)):
        b, a = before.get(host, {}), after.get(host, {})
        on_b, on_a = bool(b.get("in_service", True)), bool(a.get("in_service", True))
        rows[host] = (
            host,
            _change(b.get("cpu"), a.get("cpu"), True),
            _change(b.get("memory"), a.get("memory"), True),
            _change(b.get("vms"), a.get("vms"), False),
            _SERVICE[on_b, on_a],
        )
    return rows
