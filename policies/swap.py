"""Making room for a VM that fits on no kept host, by swapping the targets of two VMs placed
earlier in the same packing (see policies.packing).

Largest-first packing leaves some kept hosts with memory but no vCPUs left (they took many
small VMs) and others with vCPUs but no memory; the last small VMs then fit nowhere although
the totals say they should. A swap turns both leftovers into room: a VM w placed on host P
(which has the memory for the unit but lacks vCPUs) goes to host Q instead, and a VM x placed
on Q, with fewer vCPUs, goes to P instead. P ends with vCPUs free, Q with memory free.

Only targets of VMs this packing placed change: no step has been written for them, they still
move once, kept hosts still only gain load, so every prefix of the plan stays valid. Every
host involved is checked with every filter and limit in the state after the swap.
Bounded: the SEEK hosts with most memory free as P, the SEEK with most vCPUs free as Q.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policies.placement import Placement, Unit, fits_after
from policies.state import HostRoom

if TYPE_CHECKING:
    from policies.packing import Packing

#: Hosts looked at on each side of a swap.
SEEK = 4


def make_room(run: Packing, unit: Unit, source: str) -> Placement | None:
    """One swap of two placed VMs' targets after which `unit` fits on a kept host (applied to
    the state, the placements and the index), or None (nothing changed)."""
    p = run.params
    keep_free, ratio = p.max_free_memory_over_mib, p.max_vcpus_per_cpu
    need_v = unit.vcpus

    def landed(name: str) -> bool:
        return bool(run.landed.get(name))

    for host_p in run.index.most_room(1, unit.memory_mib + keep_free, SEEK, landed):
        short = host_p.vcpus + need_v - ratio * host_p.cpus
        if host_p.name == source or short <= 0 or host_p.cpu_with(unit.cpu) > p.high:
            continue  # not vCPU-bound here: a swap of this kind does not help
        mem_p = host_p.mem_free - keep_free - unit.memory_mib  # may go down by this much
        on_p = sorted(run.landed.get(host_p.name, {}).values(), key=lambda sw: -sw[1].unit.vcpus)
        for src_w, w in on_p:
            vw = w.unit.vcpus
            if vw <= short:
                break  # sorted: no later w frees enough
            for host_q in run.index.most_room(2, 1, SEEK, landed):
                if host_q is host_p:
                    continue
                room_v = ratio * host_q.cpus - host_q.vcpus
                for _, (src_x, x) in run.landed.get(host_q.name, {}).items():
                    dv, dm = vw - x.unit.vcpus, x.unit.memory_mib - w.unit.memory_mib
                    if not (short <= dv <= room_v and dm <= mem_p):
                        continue
                    if -dm > host_q.mem_free - keep_free:
                        continue
                    if _swap(run, unit, source, host_p, host_q, (src_w, w), (src_x, x)):
                        return run.landed[host_p.name][unit.uuids][1]
    return None


def _swap(
    run: Packing,
    unit: Unit,
    source: str,
    host_p: HostRoom,
    host_q: HostRoom,
    w: tuple[str, Placement],
    x: tuple[str, Placement],
) -> bool:
    state, params = run.state, run.params
    (src_w, pw), (src_x, px) = w, x
    moved: list[tuple[Unit, str]] = []  # (unit, where it was) to undo

    def go(u: Unit, to: HostRoom) -> bool:
        if not fits_after(state, params, u, to):
            return False
        moved.append((u, state.where[u.vms[0].uuid]))
        for vm in u.vms:
            state.move(vm, to.name)
        return True

    back = state.where[px.unit.vms[0].uuid]
    for vm in px.unit.vms:  # x off Q for the check of w on Q
        state.move(vm, src_x)
    if go(pw.unit, host_q) and go(px.unit, host_p) and go(unit, host_p):
        p, q, name_w, name_x, name_u = (
            host_p.name,
            host_q.name,
            pw.unit.name,
            px.unit.name,
            unit.name,
        )
        so = f"so that {p} has the vCPUs for {name_u} (swapped targets)"
        run.retarget(
            src_w,
            pw,
            host_q,
            f"{q} takes {name_w} rather than {p}, and {name_x} goes to {p} instead, {so}",
        )
        run.retarget(
            src_x,
            px,
            host_p,
            f"{p} takes {name_x} rather than {q}, and {name_w}, with more vCPUs, goes to {q} "
            f"instead, {so}",
        )
        why_u = (
            f"{name_u} fits on no kept host otherwise: {p} has the memory for it, and the vCPUs "
            f"because {name_w} goes to {q} rather than {p} and {name_x} to {p} rather than {q} "
            "(swapped targets)"
        )
        run.land(source, Placement(unit, host_p, host_p.cpu, host_p.cpu, why_u))
        for room in (host_p, host_q):
            run.index.update(room)
        return True
    for u, was in reversed(moved):
        for vm in u.vms:
            state.move(vm, was)
    for vm in px.unit.vms:
        state.move(vm, back)
    return False
