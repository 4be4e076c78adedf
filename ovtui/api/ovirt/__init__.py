"""A subset of the oVirt v4 REST API, so that the oVirt SDK and ovirt.ovirt playbooks work.

Mounted at /ovirt-engine by ovtui.api.app when `[api.ovirt] enabled`; every route goes through
ovtui.api.authz.Require (RBAC, refusals audited) and the engine's audited actions, exactly as the
native API. What is served and how it maps is in the README ("oVirt tooling").
"""
