"""The HA flag of a VM whose domain XML is not read yet (config_pending), as last known.

After an engine start (or a standby's takeover) every VM is listed before its XML is read
(ovtui/fleet: background config fill), so a flag kept only in the XML's metadata is not known
for a while, and for good if its host dies first. Read as False, a host lost in those seconds
would have its HA VMs left down. Until the XML is read, the engine goes by what it kept: the
flags its HA state last recorded for the VM on a host that was up (persisted, so an earlier
engine's count), else the metadata of the definition it stored to restart the VM elsewhere
(`ha_xml`). A VM with neither was never seen running with HA on: no definition to restart it
elsewhere either. The read XML wins as soon as it is there.

The fleet asks for every pending VM at every rebuild of its host; looking through every host's
record for each (hosts x pending VMs per rebuild, ~8% of a 500-host start-up) grew with the
square of the fleet. The records are indexed by VM once per change of the HA state instead
(`changed`, called when the state written to the store differs).
"""

from __future__ import annotations

from typing import Any

from ovtui.fleet.reading import parse_config
from ovtui.ha.model import HaState

_Entry = list[Any]  # HostRecord.running's [name, ha, priority]


class LastKnown:
    def __init__(self, stored_xml: dict[str, str]) -> None:
        self._xml = dict(stored_xml)  # uuid -> the stored definition (vm_settings.ha_xml)
        self._parsed: dict[str, bool] = {}  # parsed once: asked for at every rebuild
        self._index: dict[str, _Entry] | None = None  # uuid -> first host record's entry
        self._indexed: HaState | None = None

    def changed(self) -> None:
        """The HA state changed (a host's record of what it runs): index it again."""
        self._index = None

    def remembered(self, uuid: str, xml: str) -> None:
        self._xml[uuid] = xml
        self._parsed.pop(uuid, None)

    def of(self, uuid: str, state: HaState) -> tuple[bool, int] | None:
        entry = self._running(state).get(uuid)
        if entry is not None:
            return bool(entry[1]), int(entry[2])
        xml = self._xml.get(uuid)
        if xml is None:
            return None
        if uuid not in self._parsed:
            try:
                self._parsed[uuid] = parse_config(xml, active=False).meta.highly_available
            except Exception:  # a damaged record says nothing
                self._parsed[uuid] = False
        return self._parsed[uuid], 0

    def _running(self, state: HaState) -> dict[str, _Entry]:
        index = self._index
        if index is None or self._indexed is not state:
            index = {}
            for rec in state.hosts.values():  # the first host's entry wins, as in a scan
                for uuid, entry in rec.running.items():
                    index.setdefault(uuid, entry)
            self._index, self._indexed = index, state
        return index
