"""Scheduling policies: status, plans (stored and previewed), apply, apply one step, modes.

Reading needs inventory.read on the cluster: a grant on one cluster reads that cluster's
policy, plans and previews, and GET /policies lists only the clusters the caller may read.
Anything that changes state needs policy.manage, and is audited (policy.run, policy.apply,
policy.apply_step, policy.mode) under the operator's name. The steps a plan runs are audited
as the policy's system principal (see ovtui/jobs/service.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from ovtui.api.authz import Caller, Require, cluster_ref, engine_of, may_read
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.api.schemas.policies import (
    ApplyOutcome,
    ModeOutcome,
    PlanOut,
    PolicyStatus,
    RunOutcome,
    StoredPlan,
)
from ovtui.jobs.service import PolicyService

router = APIRouter(prefix="/api/v1", tags=["policies"], route_class=RouterRoute)
LIST = [Depends(Require(Permission.INVENTORY_READ, target="list"))]
Lister = Annotated[Caller, LIST[0]]  # the same dependency, evaluated once per request
# A plan and a preview name the cluster's hosts and VMs: reading them is reading the cluster.
READ = [Depends(Require(Permission.INVENTORY_READ, target="cluster"))]
# A ClusterAdmin granted on one cluster manages that cluster's policy, and no other.
Manage = Annotated[Caller, Depends(Require(Permission.POLICY_MANAGE, target="cluster"))]
Kind = Literal["balance", "power_saving"]


class ApplyRequest(BaseModel):
    plan: Annotated[
        str | None, Field(max_length=64, description="plan id; default: the latest stored plan")
    ] = None


class ApplyStepRequest(ApplyRequest):
    step: Annotated[int, Field(ge=0, description="index of the step in the plan, from 0")]


class ModeRequest(BaseModel):
    mode: Literal["off", "recommend", "automatic"]


def _service(request: Request, cluster: str) -> PolicyService:
    service: PolicyService = engine_of(request).policies
    if service.cluster(cluster) is None:
        names = ", ".join(c.name for c in engine_of(request).config.clusters)
        raise HTTPException(404, f"no cluster named {cluster!r} (clusters: {names})")
    return service


@router.get(
    "/policies",
    dependencies=LIST,
    summary="Policy, mode and jobs of every cluster the caller may read",
    **documented(list[PolicyStatus]),
)
async def policies(request: Request, caller: Lister) -> list[dict[str, Any]]:
    """Only the clusters the caller may read: a scoped grant lists its own clusters."""
    engine = engine_of(request)
    mine = [
        c for c in engine.config.clusters
        if may_read(caller.principal, cluster_ref(c.name, c.datacenter))
    ]  # fmt: skip
    return [engine.policies.status(c.name) for c in mine]


@router.get(
    "/policies/{cluster}",
    dependencies=READ,
    summary="One cluster's policy status",
    **documented(PolicyStatus),
)
async def policy_status(request: Request, cluster: str) -> dict[str, Any]:
    return _service(request, cluster).status(cluster)


@router.get(
    "/policies/{cluster}/plan",
    dependencies=READ,
    summary="The latest stored plan with each step's outcome (null when none yet)",
    **documented(StoredPlan | None),
)
async def latest_plan(request: Request, cluster: str) -> dict[str, Any] | None:
    return _service(request, cluster).plans.latest(cluster)


@router.get(
    "/policies/{cluster}/preview",
    dependencies=READ,
    summary="A plan computed now: shown, not stored, not applied",
    **documented(PlanOut),
)
async def preview(request: Request, cluster: str, kind: Kind | None = None) -> dict[str, Any]:
    plan = await _service(request, cluster).preview(cluster, kind)
    return plan.to_dict()


@router.post(
    "/policies/{cluster}/run",
    summary="Run the policy round now (the mode decides)",
    **documented(RunOutcome, *FLEET),
)
async def run_now(
    request: Request, cluster: str, caller: Manage, kind: Kind | None = None
) -> dict[str, Any]:
    service = _service(request, cluster)
    chosen = kind or service.default_kind(cluster)

    async def run() -> dict[str, Any]:
        trigger = f"requested by {caller.principal.name}"
        return await service.run_job(cluster, chosen, trigger=trigger)

    return await engine_of(request).perform(
        caller.principal, "policy.run", f"cluster/{cluster}", {"kind": chosen}, run, caller.source
    )


@router.post(
    "/policies/{cluster}/apply",
    summary="Apply the latest stored plan (re-checked)",
    **documented(ApplyOutcome, *FLEET),
)
async def apply(
    request: Request, cluster: str, body: ApplyRequest, caller: Manage
) -> dict[str, Any]:
    return await _apply(request, cluster, caller, body.plan, None)


@router.post(
    "/policies/{cluster}/apply-step",
    summary="Apply one step of the latest plan",
    **documented(ApplyOutcome, *FLEET),
)
async def apply_step(
    request: Request, cluster: str, body: ApplyStepRequest, caller: Manage
) -> dict[str, Any]:
    return await _apply(request, cluster, caller, body.plan, body.step)


async def _apply(
    request: Request, cluster: str, caller: Caller, plan: str | None, step: int | None
) -> dict[str, Any]:
    """The whole plan (step None) or one step of it, audited as policy.apply / apply_step."""
    service = _service(request, cluster)

    async def run() -> dict[str, Any]:
        try:
            return await service.apply(cluster, caller.principal, plan_id=plan, step=step)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None

    params: dict[str, Any]
    action, params = "policy.apply", {"plan": plan or "latest"}
    if step is not None:
        action, params = "policy.apply_step", {"plan": plan or "latest", "step": step}
    return await engine_of(request).perform(
        caller.principal, action, f"cluster/{cluster}", params, run, caller.source
    )


@router.put(
    "/policies/{cluster}/mode",
    summary="Set the mode at run time (kept in the store)",
    **documented(ModeOutcome),
)
async def set_mode(
    request: Request, cluster: str, body: ModeRequest, caller: Manage
) -> dict[str, Any]:
    service = _service(request, cluster)

    async def run() -> dict[str, Any]:
        return service.set_mode(cluster, body.mode)

    return await engine_of(request).perform(
        caller.principal, "policy.mode", f"cluster/{cluster}", {"mode": body.mode}, run,
        caller.source,
    )  # fmt: skip


@router.delete(
    "/policies/{cluster}/mode",
    summary="Forget the run-time mode: back to the config",
    **documented(ModeOutcome),
)
async def reset_mode(request: Request, cluster: str, caller: Manage) -> dict[str, Any]:
    service = _service(request, cluster)

    async def run() -> dict[str, Any]:
        return service.set_mode(cluster, None)

    return await engine_of(request).perform(
        caller.principal, "policy.mode", f"cluster/{cluster}", {"mode": "config"}, run,
        caller.source,
    )  # fmt: skip
