#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: template
short_description: Make a template from a VM, or delete one, on an ovtui engine
description:
  - C(present) makes template I(name) from the shut-off VM I(vm) (its disks copied into the
    template's volumes) unless a template of that name exists; C(absent) deletes it (refused
    while VMs' disks are overlays on its volumes). Parameter names mirror
    ovirt.ovirt.ovirt_template. Idempotent; check mode and diff supported.
  - An existing template is not compared with I(vm) or I(description) (ovtui does not change
    templates); delete it and make it again to refresh it.
options:
  name:
    description: The template's name.
    type: str
    required: true
  vm:
    description: The shut-off VM to make it from (needed to make it).
    type: str
  description:
    description: The template's description.
    type: str
    default: ""
  state:
    description: Whether the template should exist.
    type: str
    default: present
    choices: [present, absent]
author: ovtui maintainers (@ovtui)
extends_documentation_fragment: [ovtui.ovtui.auth]
"""

EXAMPLES = r"""
- ovtui.ovtui.template:
    auth: "{{ ovtui_auth }}"
    name: web
    vm: golden
    description: web tier
"""

RETURN = r"""
template:
  description: The template after the run (absent, or in check mode before it is made, null).
  returned: always
  type: dict
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
            name=dict(type="str", required=True),
            vm=dict(type="str"),
            description=dict(type="str", default=""),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        api = Api(p["auth"])
        path = "/api/v1/templates/%s" % quote(p["name"])
        found = api.find(path)
        changed, template = False, found
        if p["state"] == "present" and found is None:
            if not p["vm"]:
                module.fail_json(msg="template %s does not exist: give vm (a shut-off VM) to "
                                     "make it from" % p["name"])
            changed = True
            if not module.check_mode:
                body = {"name": p["name"], "description": p["description"]}
                template = api.post("/api/v1/vms/%s/template" % quote(p["vm"]), body)["template"]
        elif p["state"] == "absent" and found is not None:
            changed, template = True, None
            if not module.check_mode:
                api.delete(path)
    except ApiError as exc:
        module.fail_json(msg=str(exc))
    before = {"state": "present" if found else "absent"}
    module.exit_json(changed=changed, template=template,
                     diff={"before": before, "after": {"state": p["state"]}})


if __name__ == "__main__":
    main()
