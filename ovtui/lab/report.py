"""What `lab status` shows: the lab as its processes and daemons are now, not as last recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GuestInfo:
    name: str
    host: str
    state: str  # running | paused | shutoff | ... as libvirt says
    load: int | None  # busy loops the guest last said it runs (its serial log)


@dataclass(frozen=True)
class HostInfo:
    name: str
    status: str  # running | hung | failed | stopped | dead
    uri: str
    migration_uri: str
    pids: list[int] = field(default_factory=list)  # every process of the host, QEMU included
    note: str = ""


@dataclass(frozen=True)
class LabReport:
    root: Path
    config: Path | None
    hosts: list[HostInfo]
    guests: list[GuestInfo]

    @property
    def uris(self) -> dict[str, str]:
        return {h.name: h.uri for h in self.hosts}

    def host(self, name: str) -> HostInfo:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(f"no lab host {name!r}")

    def render(self) -> str:
        if not self.hosts:
            return f"no lab in {self.root}"
        out = [f"lab in {self.root}" + (f", config {self.config}" if self.config else "")]
        out.append(f"{'HOST':6} {'STATUS':8} {'PROCS':>5}  URI")
        for h in self.hosts:
            note = f"  ({h.note})" if h.note else ""
            out.append(f"{h.name:6} {h.status:8} {len(h.pids):5}  {h.uri}{note}")
        if self.guests:
            out.append(f"{'GUEST':6} {'HOST':8} {'STATE':8} LOAD")
            for g in self.guests:
                load = "-" if g.load is None else str(g.load)
                out.append(f"{g.name:6} {g.host:8} {g.state:8} {load}")
        return "\n".join(out)
