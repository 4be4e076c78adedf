"""Free text that goes into libvirt XML is refused at the API when XML cannot carry it (422),
instead of failing in libvirt as a 502 (schemathesis found a snapshot description with \\x06)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ovtui.api.routes.provision import CreateVm, EditVm, NewNic
from ovtui.api.routes.snapshots import TakeSnapshot
from ovtui.api.routes.templates import MakeTemplate


@pytest.mark.parametrize("bad", ["\x06", "a\x00b", "\x1f", "x\x7f", "\ufffe"])
def test_control_characters_are_refused_where_they_would_reach_xml(bad: str) -> None:
    with pytest.raises(ValidationError, match="description"):
        TakeSnapshot(name="s1", description=bad)
    with pytest.raises(ValidationError, match="name"):
        TakeSnapshot(name=f"s{bad}")
    with pytest.raises(ValidationError, match="description"):
        MakeTemplate(name="t1", description=bad)
    with pytest.raises(ValidationError, match="description"):
        EditVm(description=bad)
    # Affinity groups are written into the VM's metadata XML (schemathesis found \x02 here).
    with pytest.raises(ValidationError, match="anti_affinity_group"):
        EditVm(anti_affinity_group=f"WS &{bad}")
    with pytest.raises(ValidationError, match="affinity_group"):
        CreateVm(name="v1", affinity_group=bad)
    with pytest.raises(ValidationError, match="source"):
        NewNic(source=f"br{bad}")


def test_ordinary_text_passes() -> None:
    text = "web tier\nline two\t(tab) — é ü 漢字"
    assert TakeSnapshot(name="before upgrade", description=text).description == text


def test_group_names_and_nic_sources_may_carry_ordinary_text() -> None:
    assert EditVm(affinity_group="web & db — é").affinity_group == "web & db — é"
    assert CreateVm(name="v1", anti_affinity_group="").anti_affinity_group == ""
    assert NewNic(source="ovirtmgmt").source == "ovirtmgmt"
