"""An engine serving the oVirt-compatible API on a loopback TLS port, with a CA made here.

The fleet is the standard test fleet (tests/conftest.py) plus the users of every role; the oVirt
user name of each is NAME@internal. `ovirt_engine` is module-scoped: starting an engine costs
about a second, and tests that change the fleet put it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ovtui.config import Config
from ovtui.demo import make_ca
from tests.conftest import PASSWORD, LiveEngine, fleet_config, short_tempdir, standard_spec


@dataclass
class OvirtEngine:
    live: LiveEngine
    url: str
    ca: Path

    def connection(self, user: str = "admin@internal", password: str = PASSWORD) -> Any:
        import ovirtsdk4 as sdk

        return sdk.Connection(url=self.url, username=user, password=password, ca_file=str(self.ca))


def ovirt_config(root: Path | None = None, **ovirt: object) -> tuple[Config, Path]:
    root = root or short_tempdir()
    ca, cert, key = make_ca(root)
    config = fleet_config(standard_spec(), root, poll_interval_seconds=0.5)
    section = config.api.ovirt.model_copy(update={"enabled": True, **ovirt})
    api = config.api.model_copy(
        update={"tcp": "127.0.0.1:0", "tls_cert": cert, "tls_key": key, "ovirt": section}
    )
    return config.model_copy(update={"api": api}), ca


def start(config: Config, ca: Path) -> OvirtEngine:
    live = LiveEngine(config)
    port = live.engine.api_tcp_port
    assert port
    return OvirtEngine(live, f"https://127.0.0.1:{port}/ovirt-engine/api", ca)


@pytest.fixture(scope="module")
def ovirt_engine() -> Iterator[OvirtEngine]:
    config, ca = ovirt_config(users={"alice@corp": "operator"})
    engine = start(config, ca)
    yield engine
    engine.live.stop()
