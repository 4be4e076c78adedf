"""NIC changes on a VM through the engine: the network resolved on the VM's host, the MAC from
its data center's pool (never one the fleet has), the change made, the VM read again, audited.

One lock: two NICs added at once must not both get the lowest free address.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from auth.principal import Principal
from ovtui.config.network_schema import parse_mac_range
from ovtui.fleet import mac_pool, nic_ops
from ovtui.fleet.errors import FleetError
from ovtui.model import VM

if TYPE_CHECKING:
    from ovtui.engine.core import Engine

_LOCK = asyncio.Lock()


def _spec(engine: Engine, vm: VM, network: str, model: str, mac: str | None) -> nic_ops.NicSpec:
    snap = engine.snapshot()
    net = next(
        (n for n in snap.networks if n.name == network and n.datacenter == vm.datacenter), None
    )
    if net is None:
        known = ", ".join(n.name for n in snap.networks if n.datacenter == vm.datacenter)
        raise FleetError(
            f"{vm.datacenter} has no network {network!r} (networks: {known or 'none defined'})",
            kind="invalid",
            vm=vm.name,
        )
    host = snap.host(vm.host)
    have = next((n for n in host.networks if n.name == network), None) if host else None
    if have is None:
        raise FleetError(
            f"network {network} is not attached to cluster {vm.cluster}: add "
            f'{vm.cluster} = "required" or "optional" to its clusters',
            kind="invalid",
            vm=vm.name,
        )
    if not have.ok:
        raise FleetError(
            f"{vm.host} lacks network {network} (bridge {have.bridge} {have.state.value}): "
            "bring the bridge up, or move the VM first",
            kind="conflict",
            host=vm.host,
            vm=vm.name,
        )
    if model not in nic_ops.MODELS:
        raise FleetError(f"model {model!r}: use one of {', '.join(nic_ops.MODELS)}", kind="invalid")
    waiting = mac_pool.unread(snap)
    if waiting:
        raise FleetError(
            f"the NICs of {len(waiting)} VMs ({', '.join(waiting[:3])}...) are not read yet, so "
            "a free address cannot be known; retry in a few seconds",
            kind="unavailable",
        )
    used = mac_pool.macs_in_use(snap)
    ranges = mac_pool.pool_ranges(engine.config, vm.datacenter)
    if mac is not None:
        mac = mac.lower()
        try:
            parse_mac_range(f"{mac}-{mac}")
        except ValueError as exc:
            raise FleetError(
                str(exc).replace(f"'{mac}-{mac}'", repr(mac)), kind="invalid"
            ) from None
        if mac in used:
            raise FleetError(
                f"{mac} is already the address of {', '.join(used[mac])}", kind="conflict"
            )
    else:
        mac = mac_pool.allocate(ranges, used)
        if mac is None:
            pools = ", ".join(mac_pool.pool_texts(engine.config, vm.datacenter))
            raise FleetError(
                f"the MAC pool of {vm.datacenter} ({pools}) is exhausted: add a range to its "
                "[[mac_pools]]",
                kind="conflict",
            )
    return nic_ops.NicSpec(
        mac=mac,
        network=net.name,
        bridge=have.bridge,
        libvirt_network=have.libvirt_network,
        model=model,
        mtu=net.mtu,
        vlan=net.vlan,
    )


async def _run(engine: Engine, vm: VM, op: nic_ops.Op, what: str, mac: str) -> str:
    try:
        result = await engine.fleet.links[vm.host].call(op, action=what, vm=vm.name)
    except LookupError:
        raise FleetError(f"{vm.name} has no NIC {mac}", kind="invalid", vm=vm.name) from None
    finally:
        engine.fleet.forget_config(vm.host, vm.uuid)
        await engine.fleet.refresh_now(vm.host)
    return result


async def change(
    engine: Engine,
    principal: Principal,
    vm: VM,
    action: str,
    params: dict[str, Any],
    source: str = "",
) -> dict[str, Any]:
    """action: add (network, model, mac?) | remove (mac) | link (mac, state)."""

    async def run() -> dict[str, Any]:
        began = time.monotonic()
        async with _LOCK:
            if action == "add":
                spec = _spec(engine, vm, params["network"], params["model"], params.get("mac"))
                mac = spec.mac
                result = await _run(engine, vm, nic_ops.add(vm.uuid, spec), "plug NIC", mac)
            elif action == "remove":
                mac = params["mac"].lower()
                result = await _run(engine, vm, nic_ops.remove(vm.uuid, mac), "unplug NIC", mac)
            else:
                mac = params["mac"].lower()
                op = nic_ops.set_link(vm.uuid, mac, params["state"])
                result = await _run(engine, vm, op, "set NIC link", mac)
        return {
            "vm": vm.name,
            "uuid": vm.uuid,
            "host": vm.host,
            "action": f"nic.{action}",
            "mac": mac,
            "result": result,
            "seconds": round(time.monotonic() - began, 3),
        }

    target = f"vm/{vm.name}@{vm.host}"
    return await engine.perform(
        principal, f"vm.nic.{action}", target, {"uuid": vm.uuid, **params}, run, source
    )
