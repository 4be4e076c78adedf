"""ovtui: a management appliance for KVM fleets.

Kept import-free on purpose: policies/ imports ovtui.model, and must not pull in libvirt,
tinydb or any other I/O library through this package.
"""

__version__ = "0.1.0"
