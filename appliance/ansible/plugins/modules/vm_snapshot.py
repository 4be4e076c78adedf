#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_snapshot
short_description: Take, revert to or delete a VM's snapshot on an ovtui engine
description:
  - ovtui names snapshots (oVirt identifies them by ID and shows a description); otherwise the
    parameters mirror ovirt.ovirt.ovirt_snapshot (I(vm_name), I(description), I(use_memory),
    I(state) C(present), C(absent), C(restore)).
  - C(present) takes it unless the VM has a snapshot of that name; C(absent) deletes it if
    there. C(restore) reverts the VM to it on every run (a revert throws away what changed
    since, which ovtui cannot see), like C(rebooted) in the vm module.
  - Check mode and diff supported.
options:
  vm_name:
    description: The VM.
    type: str
    required: true
  name:
    description: The snapshot's name.
    type: str
    required: true
  description:
    description: The snapshot's description (when it is taken).
    type: str
    default: ""
  use_memory:
    description: Also save a running VM's memory (reverting to it resumes the VM).
    type: bool
    default: false
  state:
    description: What to do.
    type: str
    default: present
    choices: [present, absent, restore]
author: ovtui maintainers (@ovtui)
extends_documentation_fragment: [ovtui.ovtui.auth]
"""

EXAMPLES = r"""
- ovtui.ovtui.vm_snapshot:
    auth: "{{ ovtui_auth }}"
    vm_name: db-01
    name: before-upgrade
    description: taken by the upgrade playbook
"""

RETURN = r"""
snapshot:
  description: The snapshot after the run (null once deleted, or in check mode before it is taken).
  returned: always
  type: dict
snapshots:
  description: The VM's snapshots after the run, oldest first.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ovtui.ovtui.plugins.module_utils.ovtui_api import (
    AUTH_SPEC,
    Api,
    ApiError,
    quote,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            auth=AUTH_SPEC,
            vm_name=dict(type="str", required=True),
            name=dict(type="str", required=True),
            description=dict(type="str", default=""),
            use_memory=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent", "restore"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    base = "/api/v1/vms/%s/snapshots" % quote(p["vm_name"])
    one = "%s/%s" % (base, quote(p["name"]))
    try:
        api = Api(p["auth"])
        snaps = api.get(base)
        found = next((s for s in snaps if s["name"] == p["name"]), None)
        changed = False
        if p["state"] == "present" and found is None:
            changed = True
            if not module.check_mode:
                api.post(base, {"name": p["name"], "description": p["description"],
                                "memory": p["use_memory"]})
        elif p["state"] == "absent" and found is not None:
            changed = True
            if not module.check_mode:
                api.delete(one)
        elif p["state"] == "restore":
            if found is None:
                module.fail_json(msg="VM %s has no snapshot %s to restore (it has: %s)"
                                     % (p["vm_name"], p["name"],
                                        ", ".join(s["name"] for s in snaps) or "none"))
            changed = True
            if not module.check_mode:
                api.post(one + "/revert")
        if changed and not module.check_mode:
            snaps = api.get(base)
    except ApiError as exc:
        module.fail_json(msg=str(exc))
    snapshot = next((s for s in snaps if s["name"] == p["name"]), None)
    before = {"state": "present" if found else "absent"}
    after = {"state": "absent" if p["state"] == "absent" else "present"}
    module.exit_json(changed=changed, snapshot=snapshot, snapshots=snaps,
                     diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
