"""A test-driver fleet with logical networks: bridges in the node files, NICs on them, config."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from ovtui.config import Config, load_config
from ovtui.testdriver_fleet import FleetSpec, write_fleet


def bridge_xml(name: str, mtu: int = 1500) -> str:
    return (
        f"  <interface type='bridge' name='{name}'><start mode='onboot'/><mtu size='{mtu}'/>"
        "<bridge stp='off'/></interface>\n"
    )


def add_networks(
    bridges: dict[str, list[str]],  # host -> bridges present on it
    nics: dict[str, list[str]],  # VM name -> bridges its NICs plug into
    networks_toml: str,
) -> Callable[[Path], None]:
    """A `prepare(root)` for a fleet written in root (tests.conftest.fleet_config)."""

    def prepare(root: Path) -> None:
        for node in root.glob("*.xml"):
            text = node.read_text()
            names = bridges.get(node.stem, [])
            text = text.replace("</node>", "".join(bridge_xml(b) for b in names) + "</node>")
            for vm, on in nics.items():
                block = re.search(rf"<name>{re.escape(vm)}</name>.*?</devices>", text, re.S)
                if block is None:
                    continue
                ifaces = "".join(
                    f'<interface type="bridge"><mac address="56:6f:00:00:{i:02x}:{len(vm):02x}"/>'
                    f'<source bridge="{b}"/><model type="virtio"/></interface>'
                    for i, b in enumerate(on)
                )
                new = re.sub(r'<interface type="network">.*?</interface>', ifaces, block.group(0))
                text = text.replace(block.group(0), new)
            node.write_text(text)
        with (root / "ovtui.toml").open("a") as f:
            f.write("\n" + networks_toml)

    return prepare


def write_networked_fleet(
    spec: FleetSpec,
    *,
    bridges: dict[str, list[str]],
    nics: dict[str, list[str]],
    networks_toml: str,
    **engine: object,
) -> Config:
    path = write_fleet(spec, Path(tempfile.mkdtemp(prefix="ovt-net-")))
    add_networks(bridges, nics, networks_toml)(path.parent)
    config = load_config(path)
    return config.model_copy(update={"engine": config.engine.model_copy(update=engine)})
