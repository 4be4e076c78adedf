"""[clusters.ha]: fencing guards and HA restarts, per cluster, with oVirt's defaults.

Each guard is configurable so that lab tests can use short values; the defaults are oVirt's
(engine-config names in the comments).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ovtui.config.base import Strict

Secs = Annotated[float, Field(ge=0, le=86400)]


class HaConfig(Strict):
    # Cluster fencing policy "fencing enabled": off, a non-responsive host is only reported.
    fencing_enabled: bool = True
    # "Skip fencing if connectivity broken": with this share of the cluster's hosts (or more)
    # non-responsive, the engine's own network is the likely fault, and nobody is fenced.
    skip_fencing_unreachable_percent: Annotated[int, Field(ge=1, le=100)] = 50
    # DisableFenceAtStartupInSec: hosts have not been reached yet right after an engine start.
    disable_fence_at_startup_seconds: Secs = 300.0
    # FenceQuietTimeBetweenOperationsInSec: between two power operations on one host.
    fence_quiet_time_seconds: Secs = 180.0
    # TimeoutToResetVdsInSeconds: how long a host stays non-responsive before it is fenced.
    non_responsive_grace_seconds: Secs = 60.0
    # How long a soft fence may take to bring the host back before the hard fence.
    soft_fence_wait_seconds: Secs = 60.0
    # After "off": how long the BMC may take to report the host off.
    power_off_confirm_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # HA restarts: every 30 s up to 10 times, then every 30 min (oVirt's
    # RetryToRunAutoStartVmIntervalInSeconds, MaxNumOfTriesToRunFailedAutoStartVm,
    # DelayToRunAutoStartVmIntervalInSeconds).
    restart_retry_seconds: Annotated[float, Field(gt=0, le=86400)] = 30.0
    restart_retries: Annotated[int, Field(ge=0, le=1000)] = 10
    restart_retry_long_seconds: Annotated[float, Field(gt=0, le=86400)] = 1800.0
    # A lower-priority HA VM waits at most this long for higher-priority ones to be running.
    priority_wait_seconds: Secs = 600.0
