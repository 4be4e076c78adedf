"""A test-driver fleet with storage domains, for the storage API tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ovtui.config import Config
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.conftest import API, fleet_config

SKY = "Skylake-Server"


def storage_spec() -> FleetSpec:
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY),),
        (
            HostSpec("h1", "c1", 8, 16384, SKY, 2400, (VmSpec("app-1", 1, 512, "web"),)),
            HostSpec("h2", "c1", 8, 16384, SKY, 2400, ()),
        ),
    )


def with_domains(
    spec: FleetSpec,
    domains: list[dict[str, Any]],
    prepare: Callable[[Path], None] | None = None,
) -> Config:
    config = fleet_config(spec, prepare=prepare)
    sds = [StorageDomainConfig.model_validate({"datacenter": "dc1", **d}) for d in domains]
    return config.model_copy(update={"storage_domains": sds})


def add_pool(node_file: Path, name: str, path: str) -> None:
    """Puts a pool of someone else's in a test-driver node file (before the engine starts)."""
    text = node_file.read_text()
    pool = f"<pool type='dir'><name>{name}</name><target><path>{path}</path></target></pool>"
    node_file.write_text(text.replace("</node>", pool + "</node>"))


def wait_storage(
    client: httpx.Client, ready: Callable[[list[dict[str, Any]]], bool], timeout: float = 15
) -> list[dict[str, Any]]:
    """GET /storage until ready(domains); the engine realises pools in the background."""
    deadline = time.monotonic() + timeout
    while True:
        domains: list[dict[str, Any]] = client.get(f"{API}/storage").json()
        if ready(domains) or time.monotonic() > deadline:
            return domains
        time.sleep(0.05)


def all_read(domains: list[dict[str, Any]]) -> bool:
    return all(h["state"] != "unknown" for d in domains for h in d["hosts"])
