"""Authentication, roles and permissions, sessions and the audit trail. No libvirt, no TinyDB."""
