"""Which keys the dashboard offers: system-wide permissions and scoped grants, as the engine."""

from __future__ import annotations

from ovtui.tui.host_actions import host_action_allowed
from ovtui.tui.rights import Rights
from ovtui.tui.rows import HostRow, VmRow
from ovtui.tui.vm_actions import action_allowed

VM_A = VmRow.from_json(
    {"uuid": "u1", "name": "web-1", "host": "h1", "cluster": "c1", "datacenter": "dc1"}
)
VM_B = VmRow.from_json(
    {"uuid": "u2", "name": "db-1", "host": "h3", "cluster": "c2", "datacenter": "dc2"}
)
H1 = HostRow.from_json({"name": "h1", "cluster": "c1", "datacenter": "dc1"})
H3 = HostRow.from_json({"name": "h3", "cluster": "c2", "datacenter": "dc2", "maintenance": True})


def rights(*grants: tuple[str, str, str], system: tuple[str, ...] = ()) -> Rights:
    return Rights.from_whoami(
        {
            "permissions": list(system),
            "grants": [{"role": r, "scope": s, "object": o} for r, s, o in grants],
        }
    )


def test_system_wide_permissions_cover_every_object() -> None:
    r = rights(system=("vm.power",))
    assert r.on_vm("vm.power", VM_A) and r.on_vm("vm.power", VM_B)
    assert not r.on_vm("vm.migrate", VM_A)


def test_a_grant_covers_its_object_and_what_is_inside_it() -> None:
    for scope, obj in (("datacenter", "dc1"), ("cluster", "c1"), ("host", "h1"), ("vm", "web-1")):
        r = rights(("Operator", scope, obj))
        assert r.on_vm("vm.power", VM_A), scope
        assert not r.on_vm("vm.power", VM_B), scope
        assert not r.on_vm("vm.migrate", VM_A), "Operator may not migrate"
    cluster_admin = rights(("ClusterAdmin", "cluster", "c2"))
    assert cluster_admin.on_host("host.manage", H3) and not cluster_admin.on_host("host.manage", H1)
    # A grant on a VM says nothing about its host.
    assert not rights(("ClusterAdmin", "vm", "web-1")).on_host("host.manage", H1)


def test_keys_follow_the_targets_rights() -> None:
    r = rights(("PowerUser", "cluster", "c2"), system=("inventory.read",))
    assert action_allowed("vm", ("poweroff",), r, [VM_B])
    assert not action_allowed("vm", ("poweroff",), r, [VM_A])
    assert action_allowed("vm", ("pause",), r, [VM_A, VM_B])  # a selection: one is enough
    assert action_allowed("vm", ("migrate",), r, [])  # no row: somewhere is enough to show it
    assert not action_allowed("vm", ("migrate",), rights(), [])
    assert action_allowed("filter", (), rights(), [VM_A])  # not a VM action: always


def test_host_keys_offer_only_what_applies_to_the_host() -> None:
    admin = rights(system=("host.manage",))
    assert host_action_allowed("host", ("maintenance",), admin, H1)
    assert not host_action_allowed("host", ("activate",), admin, H1)  # H1 is not in maintenance
    assert host_action_allowed("host", ("activate",), admin, H3)
    assert not host_action_allowed("host", ("maintenance",), rights(), H1)
    assert not host_action_allowed("host", ("maintenance",), admin, None)
