"""The fleet: one libvirt connection per host, off the event loop, with a timeout per call."""
