"""`ovtui policy ...`: scheduling policies over the API (status, plans, apply, modes)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ovtui.cli.connect import signed_in_client
from ovtui.cli.output import Column, pct, print_json, print_table

KINDS = ("balance", "power_saving")
MODES = ("off", "recommend", "automatic", "reset")


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _step_text(step: dict[str, Any]) -> str:
    if step["kind"] == "migrate":
        return f"migrate {step['vm_name']} {step['host']} -> {step['target']}"
    return f"{step['kind'].replace('_', ' ')} {step['host']}"


def _load(v: dict[str, Any] | None) -> str:
    if v is None:
        return "-"
    state = "" if v["in_service"] else " (out)"
    return f"{pct(v['cpu'])} cpu {pct(v['memory'])} mem {v['vms']} vms{state}"


def print_plan(plan: dict[str, Any], outcomes: list[dict[str, Any] | None] | None = None) -> None:
    head = f"plan {plan['id']} " if plan.get("id") else "preview "
    print(f"{head}({plan['kind']}, computed {_when(plan['created_at'])})")
    print(plan["summary"])
    for i, step in enumerate(plan["steps"]):
        done = outcomes[i] if outcomes and i < len(outcomes) else None
        status = f"  [{done['status']}: {done['detail']}]" if done else ""
        print(f"  {i:>2}. {_step_text(step)}{status}")
        print(f"      why: {step['reason']}")
    for note in plan["notes"]:
        print(f"  note: {note}")
    rows = [
        {"host": h, "before": _load(v), "after": _load(plan["after"].get(h))}
        for h, v in plan["before"].items()
    ]
    changed = [r for r in rows if r["before"] != r["after"]]
    if rows:
        print()
        cols: list[Column] = [
            ("HOST", lambda r: r["host"]),
            ("BEFORE", lambda r: r["before"]),
            ("AFTER", lambda r: r["after"] if r["after"] != r["before"] else "="),
        ]
        print_table(rows if len(rows) <= 40 else changed, cols)


def policy_list(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get("/api/v1/policies")
    if args.json:
        print_json(rows)
        return
    cols: list[Column] = [
        ("CLUSTER", lambda r: r["cluster"]),
        ("POLICY", lambda r: r["policy"]),
        ("MODE", lambda r: r["mode"] + ("*" if r["mode_source"] == "override" else "")),
        ("NEXT RUN", lambda r: _when(min((j["next_run"] or 0 for j in r["jobs"]), default=0))),
        ("LATEST PLAN", lambda r: (r["latest_plan"] or {}).get("summary", "-")),
    ]
    print_table(rows, cols)
    if any(r["mode_source"] == "override" for r in rows):
        print("(* mode set at run time; `ovtui policy mode CLUSTER reset` returns to the config)")


def policy_show(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    status = client.get(f"/api/v1/policies/{args.cluster}")
    latest = client.get(f"/api/v1/policies/{args.cluster}/plan")
    if args.json:
        print_json({"status": status, "plan": latest})
        return
    print(f"{status['cluster']}: policy {status['policy']}, mode {status['mode']} "
          f"({status['mode_source']})")  # fmt: skip
    params = ", ".join(
        f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}"
        for k, v in status["params"].items()
    )
    print(f"parameters: {params}")
    for job in status["jobs"]:
        print(f"job {job['job']}: {job['schedule']}; next {_when(job['next_run'])}; "
              f"last {_when(job['last_start'])}: {job['last_result'] or '-'}")  # fmt: skip
    if status.get("busy"):
        print(f"busy: {status['busy']}")
    print()
    if latest is None:
        print("no plan stored yet (the first round runs after one interval; "
              f"`ovtui policy preview {args.cluster}` computes one now)")  # fmt: skip
        return
    print(f"status: {latest['status']} (mode {latest['mode']}, {latest['trigger']})")
    print_plan(latest["plan"], latest["outcomes"])


def policy_preview(args: argparse.Namespace) -> None:
    plan = signed_in_client(args).get(f"/api/v1/policies/{args.cluster}/preview", kind=args.kind)
    print_json(plan) if args.json else print_plan(plan)


def _print_run(result: dict[str, Any]) -> None:
    print(result["result"])
    for s in result.get("steps", []):
        print(f"  {s['index']:>2}. {s['step']}: {s['status']} ({s['detail']})")


def policy_apply(args: argparse.Namespace) -> None:
    result = signed_in_client(args).post(f"/api/v1/policies/{args.cluster}/apply",
                                         {"plan": args.plan})  # fmt: skip
    print_json(result) if args.json else _print_run(result)


def policy_apply_step(args: argparse.Namespace) -> None:
    body = {"plan": args.plan, "step": args.step}
    result = signed_in_client(args).post(f"/api/v1/policies/{args.cluster}/apply-step", body)
    print_json(result) if args.json else _print_run(result)


def policy_run(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    path = f"/api/v1/policies/{args.cluster}/run"
    result = client.request("POST", path, params={"kind": args.kind} if args.kind else None)
    print_json(result) if args.json else print(result["result"])


def policy_mode(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    path = f"/api/v1/policies/{args.cluster}/mode"
    if args.mode == "reset":
        result = client.request("DELETE", path)
    else:
        result = client.request("PUT", path, json={"mode": args.mode})
    print_json(result) if args.json else print(f"{result['cluster']}: {result['result']}")


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    def cmd(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        p = policy.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)
        if name != "list":
            p.add_argument("cluster")
        return p

    policy = sub.add_parser(
        "policy", help="scheduling policies: balancing and power saving"
    ).add_subparsers(dest="policy_cmd", required=True)
    cmd("list", "policy, mode and next run of every cluster", policy_list)
    cmd("show", "a cluster's policy, jobs and latest plan with its reasons", policy_show)
    p = cmd("preview", "compute a plan now and show it (nothing is stored or done)", policy_preview)
    p.add_argument("--kind", choices=KINDS, help="default: what the schedule would run now")
    p = cmd("run", "run the policy round now (the mode decides what happens)", policy_run)
    p.add_argument("--kind", choices=KINDS)
    p = cmd("apply", "apply the latest stored plan (each step re-checked first)", policy_apply)
    p.add_argument("--plan", help="plan id (default: the latest; refused if superseded)")
    p = cmd("apply-step", "apply one step of the latest plan", policy_apply_step)
    p.add_argument("step", type=int, help="step number as shown by `ovtui policy show`")
    p.add_argument("--plan", help="plan id (default: the latest)")
    p = cmd("mode", "set the mode at run time, or reset it to the config", policy_mode)
    p.add_argument("mode", choices=MODES)
