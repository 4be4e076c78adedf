#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm
short_description: Create, remove, size, power and place a VM on an ovtui engine
description:
  - Brings a VM to a power state and, with I(host), onto a host (a migration), through the
    engine's native API. Parameter names mirror ovirt.ovirt.ovirt_vm. Idempotent; check mode
    and diff supported.
  - A VM that does not exist is created in I(cluster), blank or from I(template) (thin
    overlays on its disks, or full copies with I(clone)), or as a full copy of the shut-off VM
    I(clone_from); then brought to I(state). C(absent) deletes it (it must be shut off).
  - On an existing VM, I(memory), I(cpu_cores) x I(cpu_sockets), I(description) and
    I(highly_available) are changed where they differ (live where libvirt can, else at the
    next start; see C(edited) in the result). I(template), I(clone), I(clone_from), I(disks)
    and I(nics) only apply when the VM is made.
options:
  name:
    description: The VM's name (or use I(id)).
    type: str
  id:
    description: The VM's UUID.
    type: str
  state:
    description: The power state wanted. C(stopped) is C(shutdown), as in ovirt_vm.
    type: str
    default: running
    choices: [present, absent, running, shutdown, stopped, poweroff, rebooted, suspended]
  host:
    description:
      - The host the VM should run on; a running VM elsewhere is migrated there. When the VM
        is created, the host it is defined on (default, the scheduler chooses).
    type: str
  cluster:
    description: The cluster a new VM is created in (needed to create one, unless I(clone_from)).
    type: str
  template:
    description: The template a new VM is made from.
    type: str
    default: Blank
  clone:
    description: From a template, full copies of its disks (default, qcow2 overlays on them).
    type: bool
    default: false
  clone_from:
    description: Create the VM as a full copy of this shut-off VM (ovtui's clone).
    type: str
  memory:
    description: Memory, with an IEC unit as in ovirt_vm (C(1GiB), C(512MiB)).
    type: str
  cpu_cores:
    description: vCPUs per socket (the VM gets I(cpu_cores) x I(cpu_sockets) vCPUs).
    type: int
  cpu_sockets:
    description: Sockets.
    type: int
    default: 1
  description:
    description: The VM's description.
    type: str
  highly_available:
    description: Restart the VM elsewhere when its host fails.
    type: bool
  disks:
    description: Disks of a new VM (after the template's).
    type: list
    elements: dict
    suboptions:
      storage_domain:
        description: The storage domain.
        type: str
        required: true
      size:
        description: Capacity with an IEC unit (C(10GiB)).
        type: str
        required: true
      format:
        description: C(cow) (qcow2) or C(raw), as in ovirt_disk.
        type: str
        choices: [cow, raw]
        default: cow
      sparse:
        description: Thin allocation (false, preallocated).
        type: bool
        default: true
  nics:
    description: NICs of a new VM.
    type: list
    elements: dict
    suboptions:
      network:
        description: The bridge (or libvirt network, with I(type) C(network)).
        type: str
        required: true
      type:
        description: What I(network) names.
        type: str
        choices: [bridge, network]
        default: bridge
  delete_disks:
    description: With C(absent), delete the VM's disks too (as ovirt_vm does).
    type: bool
    default: true
  wait:
    description: Wait for each action's outcome. The native API always does, so only C(true) is accepted.
    type: bool
    default: true
author: ovtui maintainers (@ovtui)
extends_documentation_fragment: [ovtui.ovtui.auth]
"""

EXAMPLES = r"""
- ovtui.ovtui.vm:
    auth: {socket: /run/ovtui/api.sock, username: admin, password: secret}
    name: web-01
    state: running
    host: kvm-a02

- ovtui.ovtui.vm:
    auth: "{{ ovtui_auth }}"
    name: web-02
    cluster: prod
    template: web
    memory: 2GiB
    cpu_cores: 2
    state: running
"""

RETURN = r"""
vm:
  description: The VM after the run, as the native API returns it.
  returned: always
  type: dict
actions:
  description: The actions taken (or that would be, in check mode), C(create), C(clone), C(edit) and C(delete) included.
  returned: always
  type: list
  elements: str
edited:
  description: Per field changed, when it applies (C(live), C(next start), C(defined)).
  returned: when an existing VM was edited
  type: dict
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

ACTIVE = ("running", "paused", "shutting_down", "blocked", "pmsuspended")


def plan(vm, state, host):
    """The actions that bring `vm` to `state` (and `host`), in order."""
    out = []
    now = vm["state"]
    if state == "running":
        if now in ("paused", "pmsuspended"):
            out.append("resume")
        elif now not in ACTIVE:
            out.append("start")
    elif state in ("shutdown", "stopped"):
        if now in ACTIVE:
            out.append("shutdown")
    elif state == "poweroff":
        if now in ACTIVE:
            out.append("poweroff")
    elif state == "rebooted":
        out.append("reboot" if now in ACTIVE else "start")
    elif state == "suspended":
        if now == "running":
            out.append("suspend")
        elif now not in ACTIVE:
            out.extend(["start", "suspend"])
    if host and host != vm["host"] and state in ("running", "rebooted", "suspended"):
        out.append("migrate")
    return out


def wanted_fields(p):
    """The definition fields asked for, in the native API's names."""
    out = {}
    if p["memory"] is not None:
        out["memory_mib"] = size_bytes(p["memory"]) // (1 << 20)
    if p["cpu_cores"] is not None:
        out["vcpus"] = p["cpu_cores"] * p["cpu_sockets"]
    if p["description"] is not None:
        out["description"] = p["description"]
    if p["highly_available"] is not None:
        out["highly_available"] = p["highly_available"]
    return out


def create_body(p, fields):
    body = dict(fields, name=p["name"], template=p["template"], thin=not p["clone"])
    if p["host"]:
        body["host"] = p["host"]
    body["disks"] = [
        {"storage": d["storage_domain"], "size_bytes": size_bytes(d["size"]),
         "format": "qcow2" if d["format"] == "cow" else "raw",
         "allocation": "thin" if d["sparse"] else "preallocated"}
        for d in p["disks"] or []
    ]
    body["nics"] = [{"source": n["network"], "type": n["type"]} for n in p["nics"] or []]
    return body


def make(module, api, p, fields):
    """Creates the VM (not in check mode); returns (vm or a stand-in, the action)."""
    if p["clone_from"]:
        action, path = "clone", "/api/v1/vms/%s/clone" % quote(p["clone_from"])
        body = {"name": p["name"]}
    elif p["cluster"]:
        action, path = "create", "/api/v1/clusters/%s/vms" % quote(p["cluster"])
        body = create_body(p, fields)
    else:
        module.fail_json(msg="VM %s does not exist: give cluster (and template) to create it, "
                             "or clone_from" % p["name"])
    if module.check_mode:
        return {"name": p["name"], "state": "shutoff", "host": p["host"] or ""}, action
    out = api.post(path, body)
    where = "/api/v1/vms/%s" % quote(out["uuid"])
    for _attempt in range(60):  # the fleet's view shows a new VM once its host was read again
        vm = api.find(where)
        if vm is not None:
            return vm, action
        time.sleep(0.5)
    module.fail_json(msg="VM %s was made (%s) but the engine does not show it after 30 s"
                         % (p["name"], out.get("result")))


def differing(vm, fields):
    return dict((k, v) for k, v in fields.items() if vm.get(k) != v)


def absent(module, api, p, path):
    vm = api.find(path)
    if vm is None:
        module.exit_json(changed=False, vm=None, actions=[],
                         diff={"before": {"state": "absent"}, "after": {"state": "absent"}})
    if not module.check_mode:
        api.delete(path + "?disks=%s" % ("true" if p["delete_disks"] else "false"))
    module.exit_json(changed=True, vm=vm, actions=["delete"],
                     diff={"before": {"state": vm["state"], "host": vm["host"]},
                           "after": {"state": "absent"}})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            auth=AUTH_SPEC,
            name=dict(type="str"),
            id=dict(type="str"),
            state=dict(type="str", default="running",
                       choices=["present", "absent", "running", "shutdown", "stopped",
                                "poweroff", "rebooted", "suspended"]),
            host=dict(type="str"),
            wait=dict(type="bool", default=True),
            cluster=dict(type="str"),
            template=dict(type="str", default="Blank"),
            clone=dict(type="bool", default=False),
            clone_from=dict(type="str"),
            memory=dict(type="str"),
            cpu_cores=dict(type="int"),
            cpu_sockets=dict(type="int", default=1),
            description=dict(type="str"),
            highly_available=dict(type="bool"),
            disks=dict(type="list", elements="dict", options=dict(
                storage_domain=dict(type="str", required=True),
                size=dict(type="str", required=True),
                format=dict(type="str", choices=["cow", "raw"], default="cow"),
                sparse=dict(type="bool", default=True),
            )),
            nics=dict(type="list", elements="dict", options=dict(
                network=dict(type="str", required=True),
                type=dict(type="str", choices=["bridge", "network"], default="bridge"),
            )),
            delete_disks=dict(type="bool", default=True),
        ),
        required_one_of=[["name", "id"]],
        mutually_exclusive=[["clone_from", "cluster"]],
        supports_check_mode=True,
    )
    p = module.params
    if not p["wait"]:
        module.fail_json(msg="wait: false is not supported: the native API waits for each outcome")
    try:
        fields = wanted_fields(p)
    except ValueError as exc:
        module.fail_json(msg="memory: %s" % exc)
    for i, disk in enumerate(p["disks"] or []):
        try:
            size_bytes(disk["size"])
        except ValueError as exc:
            module.fail_json(msg="disks[%d].size: %s" % (i, exc))
    edited = None
    try:
        api = Api(p["auth"])
        path = "/api/v1/vms/%s" % quote(p["id"] or p["name"])
        if p["state"] == "absent":
            absent(module, api, p, path)
        vm = api.find(path)
        made = []
        if vm is None:
            if not p["name"]:
                module.fail_json(msg="no VM with id %s (give name to create one)" % p["id"])
            before = {"state": "absent"}
            vm, action = make(module, api, p, fields)
            made = [action]
            path = "/api/v1/vms/%s" % quote(vm.get("uuid") or p["name"])
            if action == "clone" and not module.check_mode and differing(vm, fields):
                edited = api.patch(path, differing(vm, fields))["applied"]
                vm = api.get(path)
        else:
            before = {"state": vm["state"], "host": vm["host"]}
            before.update((k, vm.get(k)) for k in fields)
            change = differing(vm, fields)
            if change:
                made = ["edit"]
                if not module.check_mode:
                    edited = api.patch(path, change)["applied"]
                    vm = api.get(path)
        actions = made + ([] if p["state"] == "present" else plan(vm, p["state"], p["host"]))
        if not module.check_mode:
            for action in actions[len(made):]:
                if action == "migrate":
                    api.post(path + "/migrate", {"target": p["host"]})
                else:
                    api.post(path + "/" + action)
            vm = api.get(path) if actions else vm
    except ApiError as exc:
        module.fail_json(msg=str(exc))
    after = {"state": vm["state"], "host": vm["host"]}
    after.update((k, vm.get(k)) for k in fields)
    if module.check_mode and actions:
        if p["state"] != "present":
            after["state"] = p["state"]
        after["host"] = p["host"] or vm["host"]
        after.update(fields)
    result = dict(changed=bool(actions), vm=vm, actions=actions,
                  diff={"before": before, "after": after})
    if edited is not None:
        result["edited"] = edited
    module.exit_json(**result)


if __name__ == "__main__":
    main()
