# -*- coding: utf-8 -*-
# Apache-2.0
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  auth:
    description:
      - How to reach the engine and sign in. Give I(socket), or I(url) (with I(ca_file)); and
        I(token), or I(username) and I(password).
    type: dict
    required: true
    suboptions:
      socket:
        description: The engine's Unix socket (C(api.socket), default C(/run/ovtui/api.sock)).
        type: path
      url:
        description: The engine's HTTPS listener (C(api.tcp)), for example C(https://engine:8443).
        type: str
      ca_file:
        description: The CA that signed the engine's certificate (with I(url)).
        type: path
      token:
        description: A session token (from C(ovtui login) or C(POST /api/v1/sessions)).
        type: str
      username:
        description: Who signs in (an LDAP or local ovtui user).
        type: str
      password:
        description: Their password.
        type: str
"""
