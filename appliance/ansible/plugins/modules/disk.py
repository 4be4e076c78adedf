#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: disk
short_description: Create, grow, attach, detach or delete a disk on an ovtui storage domain
description:
  - A disk is a volume of a storage domain, named. C(present) creates it (with I(size)) unless
    it exists, and grows it when I(size) is larger than it is (ovtui never shrinks a disk, a
    smaller I(size) fails). C(attached) and C(detached) also attach it to, or detach it from,
    I(vm_name). C(absent) deletes it (refused while a VM uses it).
  - Parameter names mirror ovirt.ovirt.ovirt_disk. Idempotent; check mode and diff supported.
options:
  name:
    description: The disk's name.
    type: str
    required: true
  storage_domain:
    description: Its storage domain.
    type: str
    required: true
  size:
    description: Capacity with an IEC unit (C(10GiB)); needed to create it.
    type: str
  format:
    description: C(cow) (qcow2) or C(raw), when it is created.
    type: str
    choices: [cow, raw]
    default: cow
  sparse:
    description: Thin allocation when it is created (false, preallocated).
    type: bool
    default: true
  vm_name:
    description: The VM to attach it to or detach it from (states C(attached), C(detached)).
    type: str
  state:
    description: What to do.
    type: str
    default: present
    choices: [present, absent, attached, detached]
author: ovtui maintainers (@ovtui)
extends_documentation_fragment: [ovtui.ovtui.auth]
"""

EXAMPLES = r"""
- ovtui.ovtui.disk:
    auth: "{{ ovtui_auth }}"
    name: db-01-data
    storage_domain: shared
    size: 20GiB
    vm_name: db-01
    state: attached
"""

RETURN = r"""
disk:
  description: The disk after the run (null once deleted, or in check mode before it is made).
  returned: always
  type: dict
actions:
  description: What was done (or would be, in check mode) in order.
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ovtui.ovtui.plugins.module_utils.ovtui_api import (
    AUTH_SPEC,
    Api,
    ApiError,
    quote,
    size_bytes,
)


def find(api, p):
    rows = api.get("/api/v1/disks?storage=%s" % quote(p["storage_domain"]))
    return next((r for r in rows if p["name"] in (r["name"], r["volume"])), None)


def plan(module, p, disk, size):
    """The actions that bring the disk where p asks, in order."""
    if p["state"] == "absent":
        return ["delete"] if disk else []
    out = []
    if disk is None:
        if size is None:
            module.fail_json(msg="disk %s is not on %s: give size to create it"
                                 % (p["name"], p["storage_domain"]))
        out.append("create")
    elif size is not None and size < disk["capacity_bytes"]:
        module.fail_json(msg="disk %s is %d bytes; ovtui does not shrink disks (size %s)"
                             % (p["name"], disk["capacity_bytes"], p["size"]))
    elif size is not None and size > disk["capacity_bytes"]:
        out.append("grow")
    users = [u["vm"] for u in (disk or {}).get("vms", [])]
    if p["state"] == "attached" and p["vm_name"] not in users:
        out.append("attach")
    if p["state"] == "detached" and p["vm_name"] in users:
        out.append("detach")
    return out


def act(api, p, disk, size, action):
    sd, name = quote(p["storage_domain"]), quote(p["name"])
    if action == "create":
        api.post("/api/v1/storage/%s/disks" % sd, {
            "name": p["name"], "size_bytes": size,
            "format": "qcow2" if p["format"] == "cow" else "raw",
            "allocation": "thin" if p["sparse"] else "preallocated"})
    elif action == "grow":
        api.post("/api/v1/storage/%s/disks/%s/grow" % (sd, name), {"size_bytes": size})
    elif action == "delete":
        api.delete("/api/v1/storage/%s/disks/%s" % (sd, name))
    elif action == "attach":
        api.post("/api/v1/vms/%s/disks" % quote(p["vm_name"]),
                 {"storage": p["storage_domain"], "disk": p["name"]})
    elif action == "detach":
        target = next(u["target"] for u in disk["vms"] if u["vm"] == p["vm_name"])
        api.delete("/api/v1/vms/%s/disks/%s" % (quote(p["vm_name"]), quote(target)))


def shows(disk, p, size, action):
    """Whether the engine's listing shows `action` done."""
    users = [u["vm"] for u in (disk or {}).get("vms", [])]
    return {
        "create": disk is not None,
        "grow": disk is not None and disk["capacity_bytes"] >= (size or 0),
        "delete": disk is None,
        "attach": p["vm_name"] in users,
        "detach": p["vm_name"] not in users,
    }[action]


def settled(module, api, p, size, action):
    """The disk once the listing shows the action: it comes from the storage layer's readings,
    which follow a change within a poll or two (the next run must see what this one did)."""
    for _attempt in range(120):
        disk = find(api, p)
        if shows(disk, p, size, action):
            return disk
        time.sleep(0.5)
    module.fail_json(msg="%s of disk %s was done, but the engine's listing does not show it "
                         "after 60 s" % (action, p["name"]))


def view(disk):
    if disk is None:
        return {"state": "absent"}
    return {"state": "present", "capacity_bytes": disk["capacity_bytes"],
            "vms": sorted(u["vm"] for u in disk["vms"])}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            auth=AUTH_SPEC,
            name=dict(type="str", required=True),
            storage_domain=dict(type="str", required=True),
            size=dict(type="str"),
            format=dict(type="str", choices=["cow", "raw"], default="cow"),
            sparse=dict(type="bool", default=True),
            vm_name=dict(type="str"),
            state=dict(type="str", default="present",
                       choices=["present", "absent", "attached", "detached"]),
        ),
        required_if=[["state", "attached", ["vm_name"]], ["state", "detached", ["vm_name"]]],
        supports_check_mode=True,
    )
    p = module.params
    try:
        size = size_bytes(p["size"]) if p["size"] is not None else None
    except ValueError as exc:
        module.fail_json(msg="size: %s" % exc)
    try:
        api = Api(p["auth"])
        disk = find(api, p)
        before = view(disk)
        actions = plan(module, p, disk, size)
        if not module.check_mode and actions:
            for action in actions:
                act(api, p, disk, size, action)
                disk = settled(module, api, p, size, action)
    except ApiError as exc:
        module.fail_json(msg=str(exc))
    after = view(disk)
    if module.check_mode and actions:
        after = {"state": "absent"} if p["state"] == "absent" else dict(
            before if disk else {"state": "present", "vms": []})
        if "grow" in actions or "create" in actions:
            after["capacity_bytes"] = size
        if "attach" in actions:
            after["vms"] = sorted(after.get("vms", []) + [p["vm_name"]])
        if "detach" in actions:
            after["vms"] = [v for v in after.get("vms", []) if v != p["vm_name"]]
    module.exit_json(changed=bool(actions), disk=disk, actions=actions,
                     diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
