"""One entry point for the engine: which planner a cluster's policy and the job kind call for."""

from __future__ import annotations

from ovtui.model import Snapshot
from policies.balance import plan_balance
from policies.history import Observations
from policies.params import Params, parse_params
from policies.plan import Plan
from policies.power_saving import plan_power_saving

#: Job kinds: "balance" runs all day, "power_saving" inside the cluster's power-saving window.
KINDS = ("balance", "power_saving")


def params_of(snap: Snapshot, cluster: str) -> Params:
    found = snap.cluster(cluster)
    return parse_params(found.scheduling_params if found else {})


def make_plan(snap: Snapshot, cluster: str, kind: str, obs: Observations) -> Plan:
    """evenly_distributed: balancing whatever the kind. power_saving: "balance" wakes and relieves
    (outside the window), "power_saving" also drains and releases hosts."""
    if kind not in KINDS:
        raise ValueError(f"unknown plan kind {kind!r} (valid: {', '.join(KINDS)})")
    found = snap.cluster(cluster)
    if found is None:
        raise ValueError(f"no cluster named {cluster!r}")
    params = parse_params(found.scheduling_params)
    if found.scheduling_policy == "power_saving":
        return plan_power_saving(snap, cluster, params, obs, consolidate_now=kind == "power_saving")
    return plan_balance(snap, cluster, params, obs)
