"""The libvirt pool XML for a storage domain, per type. Pure: no libvirt, no I/O.

A domain has the same pool name on every host that sees it, so a VM disk given as
`<source pool=... volume=.../>` means the same thing on every host (and survives migration).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ovtui.config.storage_schema import StorageDomainConfig

POOL_PREFIX = "ovtui-"
# What libvirt calls each type; shared_dir and local are both plain directories to libvirt.
LIBVIRT_TYPE = {"shared_dir": "dir", "local": "dir", "fs": "fs", "iscsi": "iscsi-direct"}


def pool_name(domain: str) -> str:
    return POOL_PREFIX + domain


def domain_of_pool(pool: str) -> str | None:
    """The storage domain a pool name stands for; None for pools ovtui did not make."""
    return pool[len(POOL_PREFIX) :] if pool.startswith(POOL_PREFIX) else None


def pool_xml(sd: StorageDomainConfig) -> str:
    name = f"<name>{_text(pool_name(sd.name))}</name>"
    kind = LIBVIRT_TYPE[sd.type]
    if sd.type in ("shared_dir", "local"):
        body = f"<target><path>{_text(str(sd.path))}</path></target>"
    elif sd.type == "fs":
        fmt = f"<format type={quoteattr(sd.filesystem or 'ext4')}/>"
        body = (
            f"<source><device path={quoteattr(str(sd.device))}/>{fmt}</source>"
            f"<target><path>{_text(str(sd.path))}</path></target>"
        )
    else:
        assert sd.portal and sd.target and sd.initiator  # the schema requires them
        host, _, port = sd.portal.rpartition(":")
        body = (
            f"<source><host name={quoteattr(host.strip('[]'))} port={quoteattr(port)}/>"
            f"<device path={quoteattr(sd.target)}/>"
            f"<initiator><iqn name={quoteattr(sd.initiator)}/></initiator></source>"
        )
    return f"<pool type={quoteattr(kind)}>{name}{body}</pool>"


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
