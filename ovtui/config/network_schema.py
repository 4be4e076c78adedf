"""Logical networks in ovtui.toml: `[[networks]]`, `[[mac_pools]]` and `[networking]`.

A logical network belongs to one data center and is realised on every host of the clusters it
is attached to as a Linux bridge of the same name (the bridge is what the engine checks and what
a VM's NIC plugs into). Attached as "required", a host without it becomes non_operational after
the grace period; "optional" is shown but never takes a host out of service.

VLAN tags and bonds are modelled and validated, but UNTESTED: the lab kernel has neither 802.1Q
nor bonding, so nothing here has been exercised on a real tagged or bonded link.
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from ovtui.config.base import Strict

NetName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
# Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', no whitespace, not '.'/'..'.
BridgeName = Annotated[
    str, Field(min_length=1, max_length=15, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def mac_to_int(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


def int_to_mac(value: int) -> str:
    raw = f"{value:012x}"
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def parse_mac_range(text: str) -> tuple[int, int]:
    """'56:6f:00:00:00:00-56:6f:00:00:ff:ff' -> (first, last) as integers, both included."""
    first, sep, last = text.lower().partition("-")
    if not sep or not _MAC.match(first) or not _MAC.match(last):
        raise ValueError(
            f"{text!r} is not FIRST-LAST, two MAC addresses such as "
            "56:6f:00:00:00:00-56:6f:00:00:ff:ff"
        )
    lo, hi = mac_to_int(first), mac_to_int(last)
    if lo > hi:
        raise ValueError(f"{text!r}: the first address is above the last")
    if (lo >> 40) & 1 or (hi >> 40) & 1:
        raise ValueError(f"{text!r}: a multicast address (first octet odd) cannot be a NIC's")
    if (lo >> 40) != (hi >> 40):
        raise ValueError(f"{text!r}: keep a range within one first octet (one prefix)")
    return lo, hi


class BondConfig(Strict):
    """UNTESTED (no bonding driver in the lab kernel): the bond the bridge sits on."""

    name: BridgeName
    slaves: Annotated[list[BridgeName], Field(min_length=2)]
    mode: Literal["active-backup", "balance-xor", "802.3ad", "balance-tlb", "balance-alb"] = (
        "active-backup"
    )

    @field_validator("slaves")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a slave interface is listed twice")
        return value


class NetworkConfig(Strict):
    name: NetName
    datacenter: NetName
    bridge: BridgeName  # the Linux bridge on every host of the attached clusters
    mtu: Annotated[int, Field(ge=68, le=65535)] = 1500
    vlan: Annotated[int, Field(ge=1, le=4094)] | None = None  # UNTESTED: no 802.1Q here
    bond: BondConfig | None = None  # UNTESTED: no bonding here
    description: str = ""
    # cluster name -> "required" | "optional"
    clusters: dict[NetName, Literal["required", "optional"]] = Field(default_factory=dict)


class MacPoolConfig(Strict):
    datacenter: NetName
    ranges: Annotated[list[str], Field(min_length=1)]

    @field_validator("ranges")
    @classmethod
    def _ranges(cls, value: list[str]) -> list[str]:
        spans = sorted((parse_mac_range(r), r) for r in value)
        for (a, ra), (b, rb) in itertools.pairwise(spans):
            if b[0] <= a[1]:
                raise ValueError(f"{ra!r} and {rb!r} overlap")
        return [r.lower() for r in value]


class NetworkingSection(Strict):
    # oVirt waits 60 s before a host missing a required network turns non-operational: a bridge
    # restarted by an administrator (or a flapping link) should not evacuate a host.
    missing_network_grace_seconds: Annotated[float, Field(ge=0, le=86400)] = 60.0


DEFAULT_MAC_RANGE = "56:6f:00:00:00:00-56:6f:00:ff:ff:ff"  # oVirt's default prefix
