"""Stable oVirt IDs for objects that ovtui keys by name.

VMs keep their libvirt UUID. Hosts, clusters and data centers get a UUID derived from their name
(uuid5), so it is the same across engine restarts and engines; renaming one in the config gives
it a new ID (to oVirt tooling it is a new object, as after a remove and add).
"""

from __future__ import annotations

import functools
import uuid

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ovtui/ovirt-api")
BLANK_TEMPLATE_ID = "00000000-0000-0000-0000-000000000000"  # oVirt's own ID for Blank


@functools.lru_cache(maxsize=65536)
def stable_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}/{name}"))
