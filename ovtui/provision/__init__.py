"""Provisioning: VM definitions kept by the engine, domain XML, templates, seeds, import, hooks."""
