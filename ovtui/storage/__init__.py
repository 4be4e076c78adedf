"""Storage: domains as libvirt pools on each host, volumes, block jobs and live disk moves."""
