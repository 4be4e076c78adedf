#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm
short_description: Power state and placement of a VM on an ovtui engine
description:
  - Brings a VM to a power state and, with I(host), onto a host (a migration), through the
    engine's native API. Parameter names mirror ovirt.ovirt.ovirt_vm. Idempotent; check mode
    and diff supported.
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
    choices: [running, shutdown, stopped, poweroff, rebooted, suspended]
  host:
    description: The host the VM should run on; a running VM elsewhere is migrated there.
    type: str
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
"""

RETURN = r"""
vm:
  description: The VM after the run, as the native API returns it.
  returned: always
  type: dict
actions:
  description: The actions taken (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ovtui.ovtui.plugins.module_utils.ovtui_api import (
    AUTH_SPEC,
    Api,
    ApiError,
    quote,
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            auth=AUTH_SPEC,
            name=dict(type="str"),
            id=dict(type="str"),
            state=dict(type="str", default="running",
                       choices=["running", "shutdown", "stopped", "poweroff", "rebooted",
                                "suspended"]),
            host=dict(type="str"),
            wait=dict(type="bool", default=True),
        ),
        required_one_of=[["name", "id"]],
        supports_check_mode=True,
    )
    p = module.params
    if not p["wait"]:
        module.fail_json(msg="wait: false is not supported: the native API waits for each outcome")
    try:
        api = Api(p["auth"])
        path = "/api/v1/vms/%s" % quote(p["id"] or p["name"])
        vm = api.get(path)
        actions = plan(vm, p["state"], p["host"])
        before = {"state": vm["state"], "host": vm["host"]}
        if not module.check_mode:
            for action in actions:
                if action == "migrate":
                    api.post(path + "/migrate", {"target": p["host"]})
                else:
                    api.post(path + "/" + action)
            vm = api.get(path) if actions else vm
    except ApiError as exc:
        module.fail_json(msg=str(exc))
    after = {"state": vm["state"], "host": vm["host"]}
    if module.check_mode and actions:
        after = {"state": p["state"], "host": p["host"] or vm["host"]}
    module.exit_json(changed=bool(actions), vm=vm, actions=actions,
                     diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
