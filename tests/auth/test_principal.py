"""authorize() honours scope (vm < host < cluster < datacenter < system); visible() filters."""

from __future__ import annotations

import pytest

from auth.grants import Grant, GrantBook, GrantError, normalize_dn
from auth.permissions import Permission as P
from auth.principal import SYSTEM_REF, ObjectRef, Principal, ScopedRole, authorize, visible

VM_A = ObjectRef("vm", "web-a1", "dc1", "prod-a", "a1")
VM_A2 = ObjectRef("vm", "web-a2", "dc1", "prod-a", "a2")
VM_B = ObjectRef("vm", "web-b1", "dc2", "prod-b", "b1")
HOST_A = ObjectRef("host", "a1", "dc1", "prod-a", "a1")
CLUSTER_A = ObjectRef("cluster", "prod-a", "dc1", "prod-a")
DC1 = ObjectRef("datacenter", "dc1", "dc1")


def scoped(role: str, scope: str, obj: str) -> Principal:
    return Principal("u", frozenset(), "ldap", grants=frozenset({ScopedRole(role, scope, obj)}))


@pytest.mark.parametrize(
    ("scope", "obj", "covered"),
    [
        ("datacenter", "dc1", {VM_A, VM_A2, HOST_A, CLUSTER_A, DC1}),
        ("cluster", "prod-a", {VM_A, VM_A2, HOST_A, CLUSTER_A}),
        ("host", "a1", {VM_A, HOST_A}),
        ("vm", "web-a1", {VM_A}),
    ],
)
def test_a_grant_covers_its_object_and_what_is_inside(
    scope: str, obj: str, covered: set[ObjectRef]
) -> None:
    who = scoped("ClusterAdmin", scope, obj)
    for ref in (VM_A, VM_A2, VM_B, HOST_A, CLUSTER_A, DC1, SYSTEM_REF):
        assert authorize(who, P.VM_POWER, ref) is (ref in covered), (scope, ref)


def test_the_role_still_decides_within_the_scope() -> None:
    who = scoped("Operator", "cluster", "prod-a")
    assert authorize(who, P.VM_POWER, VM_A)
    assert not authorize(who, P.VM_MIGRATE, VM_A)
    assert not authorize(who, P.HOST_MANAGE, HOST_A)


def test_system_targets_need_a_system_role_except_filtered_lists() -> None:
    who = scoped("SuperUser", "cluster", "prod-a")
    assert authorize(who, P.INVENTORY_READ, SYSTEM_REF)  # the list route filters
    for perm in (P.EVENTS_READ, P.AUDIT_READ, P.PERMISSIONS_MANAGE, P.POLICY_MANAGE):
        assert not authorize(who, perm, SYSTEM_REF)
    assert not authorize(Principal("n", frozenset()), P.INVENTORY_READ, SYSTEM_REF)


def test_system_wide_roles_work_as_before() -> None:
    admin = Principal("alice", frozenset({"ClusterAdmin"}))
    assert authorize(admin, P.VM_MIGRATE, VM_B) and authorize(admin, P.VM_MIGRATE, None)
    assert not authorize(admin, P.AUDIT_READ, SYSTEM_REF)


def test_visible_filters_by_scope() -> None:
    refs = [VM_A, VM_A2, VM_B]
    assert list(visible(scoped("ReadOnly", "host", "a1"), refs, lambda r: r)) == [VM_A]
    everyone = Principal("r", frozenset({"ReadOnly"}))
    assert list(visible(everyone, refs, lambda r: r)) == refs


def test_grant_book_resolves_users_and_groups_case_insensitively() -> None:
    book = GrantBook(
        [
            Grant("ClusterAdmin", "cluster", "prod-a", group="CN=KVM Admins, OU=Groups,DC=Example"),
            Grant("Auditor", user="Erin"),
            Grant("ReadOnly", "vm", "web-a1", user="someone-else"),
        ],
        stored=lambda: [Grant("Operator", "host", "a1", user="erin", origin="api", id="x")],
    )
    groups = frozenset({normalize_dn("cn=kvm admins,ou=groups,dc=example")})
    got = book.resolve("erin", groups)
    assert got.roles == {"Auditor"}
    assert got.scoped == {ScopedRole("ClusterAdmin", "cluster", "prod-a"),
                          ScopedRole("Operator", "host", "a1")}  # fmt: skip
    assert not book.resolve("nobody", frozenset())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "ReadOnly"}, "exactly one of group or user"),
        ({"role": "ReadOnly", "user": "a", "group": "cn=g"}, "exactly one of group or user"),
        ({"role": "ReadOnly", "user": " "}, "must not be empty"),
        ({"role": "Root", "user": "a"}, "role: unknown"),
        ({"role": "ReadOnly", "user": "a", "scope": "planet", "object": "x"}, "scope: unknown"),
        ({"role": "ReadOnly", "user": "a", "scope": "host"}, "needs object"),
        ({"role": "ReadOnly", "user": "a", "object": "x"}, "takes no object"),
    ],
)
def test_invalid_grants(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(GrantError, match=message):
        Grant(**kwargs)  # type: ignore[arg-type]
