#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host
short_description: Maintenance of a host on an ovtui engine
description:
  - Puts a host into maintenance (the engine moves its VMs first, or moves none and says why)
    or returns it to service. Parameter names mirror ovirt.ovirt.ovirt_host. Idempotent; check
    mode and diff supported.
options:
  name:
    description: The host's name.
    type: str
    required: true
  state:
    description: C(maintenance), or C(active) (C(present) as in ovirt_host).
    type: str
    default: active
    choices: [maintenance, active, present]
  reason:
    description: Why the host goes into maintenance (kept with the maintenance flag and audited).
    type: str
    default: ""
author: ovtui maintainers (@ovtui)
extends_documentation_fragment: [ovtui.ovtui.auth]
"""

EXAMPLES = r"""
- ovtui.ovtui.host:
    auth: {socket: /run/ovtui/api.sock, username: admin, password: secret}
    name: kvm-a04
    state: maintenance
"""

RETURN = r"""
host:
  description: The host after the run, as the native API returns it.
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
            state=dict(type="str", default="active", choices=["maintenance", "active", "present"]),
            reason=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params
    want = p["state"] == "maintenance"
    try:
        api = Api(p["auth"])
        path = "/api/v1/hosts/%s" % quote(p["name"])
        host = api.get(path)
        changed = bool(host["maintenance"]) != want
        if changed and not module.check_mode:
            if want:
                api.post(path + "/maintenance", {"reason": p["reason"]})
            else:
                api.post(path + "/activate")
            host = api.get(path)
    except ApiError as exc:
        module.fail_json(msg=str(exc))
    before = {"maintenance": not want if changed else want}
    module.exit_json(changed=changed, host=host,
                     diff={"before": before, "after": {"maintenance": want}})


if __name__ == "__main__":
    main()
