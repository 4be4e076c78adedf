"""A test-driver fleet with logical networks: bridges in the node files, NICs on them, config."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ovtui.config import Config, load_config
from ovtui.testdriver_fleet import FleetSpec, write_fleet


def bridge_xml(name: str, mtu: int = 1500) -> str:
    return (
        f"  <interface type='bridge' name='{name}'><start mode='onboot'/><mtu size='{mtu}'/>"
        "<bridge stp='off'/></interface>\n"
    )


def write_networked_fleet(
    spec: FleetSpec,
    *,
    bridges: dict[str, list[str]],  # host -> bridges present on it
    nics: dict[str, list[str]],  # VM name -> bridges its NICs plug into
    networks_toml: str,
    **engine: object,
) -> Config:
    path = write_fleet(spec, Path(tempfile.mkdtemp(prefix="ovt-net-")))
    for host, names in bridges.items():
        node = path.parent / f"{host}.xml"
        text = node.read_text()
        text = text.replace("</node>", "".join(bridge_xml(b) for b in names) + "</node>")
        node.write_text(text)
    for host in spec.hosts:
        node = path.parent / f"{host.name}.xml"
        text = node.read_text()
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
    with path.open("a") as f:
        f.write("\n" + networks_toml)
    config = load_config(path)
    return config.model_copy(update={"engine": config.engine.model_copy(update=engine)})
