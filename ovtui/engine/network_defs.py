"""Logical networks defined through the API, next to those of ovtui.toml.

Kept in the store (table `networks`, one document per network, in NetworkConfig's shape plus
who made it and when); the store's writes are atomic, so an engine killed mid-write finds the
table as it was before or after. At start and after each change the fleet is handed the whole
set (ovtui.toml's first), and every host of an attached cluster checks its bridge exactly as
for a configured network: state, grace period, non_operational, scheduler filter, NIC plugging.

A network of ovtui.toml is changed in ovtui.toml: the API refuses to delete or re-attach it
(the next start would bring it back). A network is deleted only when no cluster uses it and no
VM has a NIC on it; a cluster is detached only when none of its VMs has a NIC on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ovtui.config.network_crossrefs import network_errors
from ovtui.config.network_schema import NetworkConfig
from ovtui.config.schema import Config
from ovtui.fleet import mac_pool
from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.model import Snapshot
from ovtui.store import Store

log = logging.getLogger(__name__)
TABLE = "networks"
_META = ("created_by", "created_at")


def nics_on(snap: Snapshot, net: NetworkConfig, clusters: set[str] | None = None) -> list[str]:
    """VMs of the network's data center (of `clusters`, if given) with a NIC on it."""
    users = []
    for vm in snap.vms:
        if vm.datacenter != net.datacenter or (clusters is not None and vm.cluster not in clusters):
            continue
        for nic in vm.devices.nics if vm.devices is not None else ():
            named = nic.type in ("bridge", "network") and nic.source == net.name
            if named or (nic.type == "bridge" and nic.source == net.bridge):
                users.append(vm.name)
                break
    return sorted(set(users))


class NetworkDefinitions:
    def __init__(self, config: Config, store: Store, fleet: Fleet) -> None:
        self.config, self.store, self.fleet = config, store, fleet
        self._made: list[NetworkConfig] = []
        self.meta: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in self.store.table(TABLE).all():
            self._load(dict(doc))
        self.fleet.set_networks(self.all())

    def _load(self, doc: dict[str, Any]) -> None:
        meta = {k: doc.pop(k, None) for k in _META}
        try:
            net = NetworkConfig.model_validate(doc)
        except ValidationError as exc:
            log.error("store: network %r unreadable, not realised: %s", doc.get("name"), exc)
            return
        _, problems = self._problems(net)
        if problems:  # e.g. ovtui.toml gained a network of the same name since
            log.error("store: network %s of %s not realised: %s", net.name, net.datacenter,
                      "; ".join(problems))  # fmt: skip
            return
        self._made.append(net)
        self.meta[(net.datacenter, net.name)] = meta

    def all(self) -> list[NetworkConfig]:
        return [*self.config.networks, *self._made]

    def source(self, datacenter: str, name: str) -> str:
        return "api" if (datacenter, name) in self.meta else "config"

    def find(self, datacenter: str, name: str) -> NetworkConfig:
        for net in self.all():
            if (net.datacenter, net.name) == (datacenter, name):
                return net
        known = ", ".join(n.name for n in self.all() if n.datacenter == datacenter)
        raise FleetError(
            f"{datacenter} has no network {name!r} (networks: {known or 'none defined'})",
            kind="not_found",
        )

    def _problems(self, net: NetworkConfig) -> tuple[str, list[str]]:
        """(kind, what is wrong with `net` next to the other networks): a name or bridge taken
        is a conflict; the rest (data center, clusters, bond) is what ovtui.toml's checks say."""
        others = [n for n in self.all() if (n.datacenter, n.name) != (net.datacenter, net.name)]
        if len(others) < len(self.all()):
            return "conflict", [f"{net.datacenter} already has a network named {net.name!r}"]
        for n in others:
            if (n.datacenter, n.bridge) == (net.datacenter, net.bridge):
                return "conflict", [
                    f"bridge {net.bridge!r} is already network {n.name}'s in {net.datacenter}: "
                    "one bridge carries one network"
                ]
        prefix = f"networks[{len(others)}]"
        candidate = self.config.model_copy(update={"networks": [*others, net]})
        return "invalid", [
            f"{key.removeprefix(prefix).lstrip('.')}: {msg}"
            for key, msg in network_errors(candidate)
            if key.startswith(prefix) and key not in (f"{prefix}.name", f"{prefix}.bridge")
        ]

    def _changed(self) -> None:
        self.fleet.set_networks(self.all())

    def create(self, net: NetworkConfig, actor: str) -> dict[str, Any]:
        kind, problems = self._problems(net)
        if problems:
            raise FleetError("; ".join(problems), kind=kind)
        meta = {"created_by": actor, "created_at": time.time()}
        self.store.table(TABLE).insert({**net.model_dump(mode="json"), **meta})
        self._made.append(net)
        self.meta[(net.datacenter, net.name)] = meta
        self._changed()
        where = ", ".join(f"{c} ({u})" for c, u in net.clusters.items()) or "no cluster yet"
        return {"result": f"network {net.name} defined in {net.datacenter}, on {where}"}

    def _ours(self, datacenter: str, name: str, doing: str) -> NetworkConfig:
        net = self.find(datacenter, name)
        if self.source(datacenter, name) == "config":
            raise FleetError(
                f"network {name} of {datacenter} is defined in ovtui.toml: {doing} it there "
                "and restart the engine (the API changes only networks defined through it)",
                kind="conflict",
            )
        return net

    def _replace(self, net: NetworkConfig | None, datacenter: str, name: str) -> None:
        table = self.store.table(TABLE)
        ids = [d.doc_id for d in table.all() if (d["datacenter"], d["name"]) == (datacenter, name)]
        with self.store.transaction():
            table.remove(doc_ids=ids)
            if net is not None:
                meta = self.meta[(datacenter, name)]
                table.insert({**net.model_dump(mode="json"), **meta})
        self._made = [n for n in self._made if (n.datacenter, n.name) != (datacenter, name)]
        if net is None:
            self.meta.pop((datacenter, name), None)
        else:
            self._made.append(net)
        self._changed()

    def delete(self, datacenter: str, name: str, snap: Snapshot) -> dict[str, Any]:
        net = self._ours(datacenter, name, "delete")
        if net.clusters:
            raise FleetError(
                f"network {name} is attached to clusters {', '.join(sorted(net.clusters))}: "
                f"detach it first (PUT .../networks/{name}/clusters with {{}})",
                kind="conflict",
            )
        _unread_refusal(snap)
        users = nics_on(snap, net)
        if users:
            raise FleetError(
                f"network {name} is in use by NICs of {', '.join(users)}: remove those first",
                kind="conflict",
            )
        self._replace(None, datacenter, name)
        return {"result": f"network {name} deleted from {datacenter}"}

    def attach(
        self, datacenter: str, name: str, clusters: Mapping[str, str], snap: Snapshot
    ) -> dict[str, Any]:
        """Sets the clusters the network is on (required or optional) to exactly `clusters`."""
        net = self._ours(datacenter, name, "attach or detach")
        new = NetworkConfig.model_validate({**net.model_dump(), "clusters": dict(clusters)})
        rest = [n for n in self._made if n is not net]
        self._made = rest  # checked as if it were not there yet
        try:
            kind, problems = self._problems(new)
        finally:
            self._made = [*rest, net]
        if problems:
            raise FleetError("; ".join(problems), kind=kind)
        gone = set(net.clusters) - set(new.clusters)
        if gone:
            _unread_refusal(snap)
            users = nics_on(snap, net, gone)
            if users:
                raise FleetError(
                    f"{', '.join(users)} in {', '.join(sorted(gone))} have NICs on network "
                    f"{name}: remove those NICs before detaching it",
                    kind="conflict",
                )
        self._replace(new, datacenter, name)
        where = ", ".join(f"{c} ({u})" for c, u in new.clusters.items()) or "no cluster"
        return {"result": f"network {name} now on {where}"}


def _unread_refusal(snap: Snapshot) -> None:
    waiting = mac_pool.unread(snap)
    if waiting:
        raise FleetError(
            f"the NICs of {len(waiting)} VMs ({', '.join(waiting[:3])}...) are not read yet, so "
            "whether they use the network cannot be known; retry in a few seconds",
            kind="unavailable",
        )
