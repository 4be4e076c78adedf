"""The terminal dashboard: a Textual client of the engine's API (never of libvirt or LDAP)."""
