"""The HA flag of a VM whose domain XML is not read yet (config_pending), as last known.

After an engine start (or a standby's takeover) every VM is listed before its XML is read
(ovtui/fleet: background config fill), so a flag kept only in the XML's metadata is not known
for a while, and for good if its host dies first. Read as False, a host lost in those seconds
would have its HA VMs left down. Until the XML is read, the engine goes by what it kept: the
flags its HA state last recorded for the VM on a host that was up (persisted, so an earlier
engine's count), else the metadata of the definition it stored to restart the VM elsewhere
(`ha_xml`). A VM with neither was never seen running with HA on: no definition to restart it
elsewhere either. The read XML wins as soon as it is there.
"""

from __future__ import annotations

from ovtui.fleet.reading import parse_config
from ovtui.ha.model import HaState


class LastKnown:
    def __init__(self, stored_xml: dict[str, str]) -> None:
        self._xml = dict(stored_xml)  # uuid -> the stored definition (vm_settings.ha_xml)
        self._parsed: dict[str, bool] = {}  # parsed once: asked for at every rebuild

    def remembered(self, uuid: str, xml: str) -> None:
        self._xml[uuid] = xml
        self._parsed.pop(uuid, None)

    def of(self, uuid: str, state: HaState) -> tuple[bool, int] | None:
        for rec in state.hosts.values():
            entry = rec.running.get(uuid)
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
