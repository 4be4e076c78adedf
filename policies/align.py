"""Aligning the free room of the kept hosts before policies.reclaim tries to empty any.

After the packing, free memory sits on hosts with no vCPU left and free vCPUs on hosts with no
memory (at identical 1 000 x 20 000, 1 100 GiB of the one and 5 300 vCPUs of the other, against
440 GiB of room with both). For the hosts with the most memory stranded that way (up to
ALIGN_HOSTS, ALIGN_SWAPS swaps each), a unit they hold and a unit of one of the SEEK hosts with
the most vCPUs stranded change places (policies.room.swapped) when that adds room with both
together, at the VMs' own MiB per vCPU and per CPU of demand, worth two average VMs. The swaps
are taken back when the pass releases nothing.
"""

from __future__ import annotations

from policies.placement import Unit
from policies.repack import Attempt, Repack
from policies.room import SEEK, swapped
from policies.state import HostRoom

ALIGN_HOSTS = 200
ALIGN_SWAPS = 8


def _joint(free: list[float] | tuple[float, float, float], ratio: tuple[float, float]) -> float:
    """Free room (MiB) usable by VMs of `ratio` (MiB per vCPU, MiB per CPU of demand)."""
    return max(0.0, min(free[1], free[2] * ratio[0], free[0] * ratio[1]))


def stranded_ok(free: tuple[float, float, float], ratio: tuple[float, float]) -> bool:
    """No vCPUs free without memory to go with them: not a partner for an alignment."""
    return free[2] * ratio[0] <= free[1]


def joint(run: Repack, room: HostRoom, ratio: tuple[float, float]) -> float:
    """The free room of `room` that VMs of `ratio` can use (MiB)."""
    return _joint(run.free(room), ratio)


def align(run: Repack, ratio: tuple[float, float], limit: int) -> Attempt:
    """Swaps of units between hosts with free memory but no vCPUs and hosts with free
    vCPUs but no memory, while one adds room both together (at `ratio` MiB per vCPU)
    worth an average VM; -> ejections made (at most `limit`)."""
    hosts = [run.state.rooms[n] for n in run.index.names() if n not in run.gone]
    worth = ratio[0] * 2

    def stranded(r: HostRoom) -> float:
        f = run.free(r)
        return f[1] - max(0.0, f[2]) * ratio[0]  # > 0: memory without vCPUs

    rich = sorted((r for r in hosts if stranded(r) > worth), key=lambda r: -stranded(r))
    t = Attempt(limit=limit)

    def partner(name: str) -> bool:
        return name not in run.gone and stranded(run.state.rooms[name]) < -worth

    for host_p in rich[:ALIGN_HOSTS]:
        for _ in range(ALIGN_SWAPS):
            partners = run.index.most_room(2, 1, SEEK, partner)  # the most vCPUs free
            if not _align_one(run, t, host_p, partners, ratio, worth):
                break
    return t


def _align_one(
    run: Repack,
    t: Attempt,
    host_p: HostRoom,
    partners: list[HostRoom],
    ratio: tuple[float, float],
    worth: float,
) -> bool:
    fp = run.free(host_p)
    r_vcpu, r_cpu = ratio
    on_p = run.pick(t, host_p, 2, 1)
    base_p = joint(run, host_p, ratio)
    best: tuple[float, tuple[bool, Unit], tuple[bool, Unit], HostRoom] | None = None
    for host_q in partners:
        if host_q is host_p or stranded_ok(run.free(host_q), ratio):
            continue
        fq = run.free(host_q)
        base = base_p + joint(run, host_q, ratio)
        on_q = [(own_y, y, run.amounts(y)) for own_y, y in run.pick(t, host_q, 1, 2)]
        for own_x, x in on_p:
            # _joint of both hosts after the swap, spelt out: the innermost loop of reclaim
            ax0, ax1, ax2 = run.amounts(x)
            p0, p1, p2 = fp[0] + ax0, fp[1] + ax1, fp[2] + ax2
            q0, q1, q2 = fq[0] - ax0, fq[1] - ax1, fq[2] - ax2
            for own_y, y, (ay0, ay1, ay2) in on_q:
                if own_x and own_y:
                    continue  # two ejections for an alignment: more often worse than not
                np0, np1, np2 = p0 - ay0, p1 - ay1, p2 - ay2
                nq0, nq1, nq2 = q0 + ay0, q1 + ay1, q2 + ay2
                if min(np0, np1, np2) < -1e-9 or min(nq0, nq1, nq2) < -1e-9:
                    continue
                gain = (
                    max(0.0, min(np1, np2 * r_vcpu, np0 * r_cpu))
                    + max(0.0, min(nq1, nq2 * r_vcpu, nq0 * r_cpu))
                    - base
                )
                if gain > worth and (best is None or gain > best[0]):
                    best = (gain, (own_x, x), (own_y, y), host_q)
    if best is None:
        return False
    _, pick_x, pick_y, host_q = best
    return swapped(run, t, None, pick_x, pick_y, host_p, host_q, None)
