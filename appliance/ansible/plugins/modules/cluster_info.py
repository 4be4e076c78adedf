#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_info
short_description: List clusters of an ovtui engine
description: Lists clusters through the engine's native API, filtered as ovirt.ovirt.ovirt_cluster_info's C(pattern) would by name.
options:
  pattern:
    description: Only clusters whose name matches this shell-style pattern (C(name=web-*) or C(web-*)).
    type: str
author: ovtui maintainers (@ovtui)
extends_documentation_fragment: [ovtui.ovtui.auth]
"""

EXAMPLES = r"""
- ovtui.ovtui.cluster_info:
    auth: {socket: /run/ovtui/api.sock, username: admin, password: secret}
    pattern: name=web-*
  register: found
"""

RETURN = r"""
ovtui_clusters:
  description: The clusters, as the native API returns them.
  returned: always
  type: list
  elements: dict
"""

import fnmatch

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ovtui.ovtui.plugins.module_utils.ovtui_api import AUTH_SPEC, Api, ApiError


def main():
    module = AnsibleModule(
        argument_spec=dict(auth=AUTH_SPEC, pattern=dict(type="str")), supports_check_mode=True
    )
    pattern = module.params["pattern"] or "*"
    if pattern.startswith("name="):
        pattern = pattern[len("name="):].strip('"')
    try:
        items = Api(module.params["auth"]).get("/api/v1/clusters")
    except ApiError as exc:
        module.fail_json(msg=str(exc))
    found = [i for i in items if fnmatch.fnmatchcase(i["name"], pattern)]
    module.exit_json(changed=False, ovtui_clusters=found)


if __name__ == "__main__":
    main()
