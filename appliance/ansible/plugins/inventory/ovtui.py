# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ovtui
short_description: VMs of an ovtui engine as inventory
description:
  - One inventory host per VM, grouped by data center (C(dc_NAME)), cluster (C(cluster_NAME)),
    host (C(host_NAME)) and state (C(state_running), ...); each VM's fields are its host vars
    under C(ovtui_). Reads the engine's native API (Unix socket or TLS) with the stdlib only.
  - The source file must end in C(ovtui.yml) or C(ovtui.yaml).
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: [ovtui.ovtui.ovtui]
  socket:
    description: The engine's Unix socket.
    type: path
  url:
    description: The engine's HTTPS URL (its C(api.tcp) listener), instead of I(socket).
    type: str
  ca_file:
    description: The CA that signed the engine's certificate.
    type: path
  token:
    description: A session token (C(ovtui login)); or give I(username) and I(password).
    type: str
  username:
    description: Who signs in.
    type: str
  password:
    description: Their password.
    type: str
extends_documentation_fragment: [constructed]
author: ovtui maintainers (@ovtui)
"""

EXAMPLES = r"""
# fleet.ovtui.yml
plugin: ovtui.ovtui.ovtui
socket: /run/ovtui/api.sock
username: viewer
password: secret
"""

import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible_collections.ovtui.ovtui.plugins.module_utils.ovtui_api import Api, ApiError


def _group(prefix, name):
    return "%s_%s" % (prefix, re.sub(r"[^A-Za-z0-9_]", "_", name))


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "ovtui.ovtui.ovtui"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(
            ("ovtui.yml", "ovtui.yaml")
        )

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        auth = dict((k, self.get_option(k)) for k in
                    ("socket", "url", "ca_file", "token", "username", "password"))
        try:
            vms = Api(auth, timeout=60).get("/api/v1/vms")
        except ApiError as exc:
            raise AnsibleParserError("ovtui inventory: %s" % exc)
        strict = self.get_option("strict")
        for vm in vms:
            name = vm["name"]
            self.inventory.add_host(name)
            for key, value in vm.items():
                self.inventory.set_variable(name, "ovtui_%s" % key, value)
            for prefix, key in (("dc", "datacenter"), ("cluster", "cluster"), ("host", "host"),
                                ("state", "state")):
                if vm.get(key):
                    group = self.inventory.add_group(_group(prefix, vm[key]))
                    self.inventory.add_child(group, name)
            hostvars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict)
