"""The "new VM" form: template, name, cluster, size, disk, network, cloud-init hostname and SSH
key; dismissed with the request body, or None. Pure form: the screen that opened it posts."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ovtui.cli.storage_cmds import parse_size

FIELDS = (
    ("name", "name", ""),
    ("cluster", "cluster", ""),
    ("template", "template", "Blank"),
    ("vcpus", "vCPUs (empty: the template's)", ""),
    ("memory", "memory MiB (empty: the template's)", ""),
    ("disk", "disk DOMAIN:SIZE (shared:10G)", ""),
    ("network", "network: a bridge", ""),
    ("hostname", "cloud-init hostname", ""),
    ("key", "cloud-init SSH key (user ops)", ""),
)


def body_of(values: dict[str, str]) -> dict[str, Any]:
    """The POST /clusters/{cluster}/vms body; ValueError names the field that is wrong."""
    if not values.get("name"):
        raise ValueError("name: required")
    body: dict[str, Any] = {"name": values["name"], "template": values.get("template") or "Blank"}
    for key, field in (("vcpus", "vcpus"), ("memory", "memory_mib")):
        if values.get(key):
            if not values[key].isdigit():
                raise ValueError(f"{key}: a whole number")
            body[field] = int(values[key])
    if values.get("disk"):
        domain, _, size = values["disk"].partition(":")
        try:
            body["disks"] = [{"storage": domain, "size_bytes": parse_size(size)}]
        except Exception:
            raise ValueError("disk: DOMAIN:SIZE, such as shared:10G") from None
    if values.get("network"):
        body["nics"] = [{"source": values["network"]}]
    if values.get("hostname"):
        ci: dict[str, Any] = {"hostname": values["hostname"]}
        if values.get("key"):
            ci["users"] = [{"name": "ops", "ssh_keys": [values["key"]]}]
        body["cloud_init"] = ci
    return body


class NewVmForm(ModalScreen[dict[str, Any] | None]):
    DEFAULT_CSS = """
    NewVmForm { align: center middle; }
    NewVmForm > Vertical { width: 72; height: auto; padding: 1 2; border: thick $accent;
                           background: $surface; }
    NewVmForm Input { margin-bottom: 0; }
    NewVmForm #form-error { color: $error; height: auto; }
    NewVmForm Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, cluster: str = "", template: str = "Blank") -> None:
        super().__init__()
        self.defaults = {"cluster": cluster, "template": template}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New VM (start it after it is made)")
            for key, label, default in FIELDS:
                yield Input(self.defaults.get(key, default), placeholder=label, id=f"f-{key}")
            yield Static("", id="form-error", markup=False)
            with Horizontal():
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def values(self) -> dict[str, str]:
        return {k: self.query_one(f"#f-{k}", Input).value.strip() for k, _l, _d in FIELDS}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        try:
            body = body_of(self.values())
        except ValueError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        body["cluster"] = self.values()["cluster"]
        self.dismiss(body)

    def action_cancel(self) -> None:
        self.dismiss(None)
