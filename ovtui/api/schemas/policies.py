"""Scheduling policy bodies: status, plans (stored and previewed) and what applying did."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ovtui.api.schemas.derive import Strict, model_of
from ovtui.config.schema import SchedulingConfig
from policies.plan import Plan

Mode = SchedulingConfig.model_fields["mode"].annotation
PolicyName = SchedulingConfig.model_fields["policy"].annotation
Kind = Literal["balance", "power_saving"]
PlanStatus = Literal[
    "recommended", "running", "applied", "partial", "stopped", "failed", "superseded"
]

PlanOut = model_of(Plan, "Plan", types={"kind": Kind}, doc="A plan: steps, each with its reason")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class JobStatus(_Open):
    """A scheduled policy job and how its last runs went."""

    job: str
    cluster: str
    kind: Kind
    schedule: str
    running: bool
    skipped: int = Field(ge=0)
    next_run: float | None = None
    last_start: float | None = None
    last_end: float | None = None
    last_result: Any = None
    last_plan: str | None = None
    last_skip: dict[str, Any] | None = None


class PlanSummary(Strict):
    id: str
    kind: Kind
    created_at: float
    mode: Mode  # type: ignore[valid-type]
    status: PlanStatus
    trigger: str
    summary: str
    steps: int = Field(ge=0)


class PolicyStatus(Strict):
    cluster: str
    policy: PolicyName  # type: ignore[valid-type]
    mode: Mode  # type: ignore[valid-type]
    mode_source: Literal["override", "config"]
    config_mode: Mode  # type: ignore[valid-type]
    params: dict[str, float | str] = Field(
        description="the policy's parameters; numbers, and words such as ConsolidationMode"
    )
    power_saving_window: str
    jobs: list[JobStatus]
    busy: str | None = Field(description="what is running on the cluster now")
    latest_plan: PlanSummary | None
    last_round: dict[str, Any] | None = Field(description="the last planning round's figures")


class StepOutcome(_Open):
    status: str = Field(description="done, failed, stopped, not_run, ...")
    detail: str
    at: float
    by: str


class StoredPlan(Strict):
    """A stored plan with each step's outcome (null: not run yet)."""

    id: str
    cluster: str
    kind: Kind
    created_at: float
    mode: Mode  # type: ignore[valid-type]
    trigger: str
    status: PlanStatus
    plan: PlanOut  # type: ignore[valid-type]
    outcomes: list[StepOutcome | None]


class StepResult(StepOutcome):
    index: int = Field(ge=0)
    step: str


class ApplyOutcome(Strict):
    """What applying did; `steps` is empty when there was nothing to apply."""

    result: str
    steps: list[StepResult]
    plan: str | None = None
    cluster: str | None = None
    status: PlanStatus | None = None
    stopped: str | None = Field(None, description="the step the plan stopped at, and why")


class RunOutcome(Strict):
    result: str
    plan: str | None = Field(description="the stored plan's id; null when nothing was planned")
    run: ApplyOutcome | None = Field(None, description="automatic mode: what applying did")


class ModeOutcome(Strict):
    cluster: str
    mode: Mode  # type: ignore[valid-type]
    result: str
