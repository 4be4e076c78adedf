"""Checks that span sections: names unique, references resolve. Each finding names its key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ovtui.config.network_crossrefs import network_errors
from ovtui.config.policy_params import policy_errors
from ovtui.config.schema import Config
from ovtui.config.storage_crossrefs import storage_errors


def _duplicates(kind: str, names: Iterable[str]) -> Iterator[tuple[str, str]]:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            yield (f"{kind}[{i}].name", f"{name!r} is already used by {kind}[{seen[name]}]")
        seen.setdefault(name, i)


def _unknown(kind: str, name: str, known: list[str]) -> str:
    valid = ", ".join(known) if known else f"none defined; add a [[{kind}]] section"
    return f"{name!r} is not a defined {kind[:-1]} (valid: {valid})"


def cross_reference_errors(config: Config) -> list[tuple[str, str]]:
    """Returns (key, problem) pairs; empty when the config hangs together."""
    errors: list[tuple[str, str]] = []
    errors += _duplicates("datacenters", (d.name for d in config.datacenters))
    errors += _duplicates("clusters", (c.name for c in config.clusters))
    errors += _duplicates("hosts", (h.name for h in config.hosts))
    dcs = [d.name for d in config.datacenters]
    clusters = [c.name for c in config.clusters]
    for i, c in enumerate(config.clusters):
        if c.datacenter not in dcs:
            errors.append((f"clusters[{i}].datacenter", _unknown("datacenters", c.datacenter, dcs)))
    uris: dict[str, int] = {}
    for i, h in enumerate(config.hosts):
        if h.cluster not in clusters:
            errors.append((f"hosts[{i}].cluster", _unknown("clusters", h.cluster, clusters)))
        if h.uri in uris:
            errors.append((f"hosts[{i}].uri", f"{h.uri!r} is already hosts[{uris[h.uri]}]"))
        uris.setdefault(h.uri, i)
        if h.uri.startswith("test:///default"):
            errors.append(
                (
                    f"hosts[{i}].uri",
                    "test:///default is shared by every connection in the process; "
                    "give each test-driver host its own node file (test:///abs/path/host.xml)",
                )
            )
    errors += _grant_errors(config)
    errors += policy_errors(config)
    errors += network_errors(config)
    errors += storage_errors(config)
    return errors


def _grant_errors(config: Config) -> list[tuple[str, str]]:
    """A grant on an object the config does not define would never apply: a typo, refused.

    VMs are not in the config (they come and go), so grants on a VM are not checked here.
    """
    known = {
        "datacenter": [d.name for d in config.datacenters],
        "cluster": [c.name for c in config.clusters],
        "host": [h.name for h in config.hosts],
    }
    errors = []
    for i, g in enumerate(config.auth.grants):
        names = known.get(g.scope)
        if names is not None and g.object not in names:
            errors.append((f"auth.grants[{i}].object", _unknown(f"{g.scope}s", g.object, names)))
    return errors
