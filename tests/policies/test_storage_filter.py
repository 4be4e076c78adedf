"""The storage filter: a VM goes only where every domain holding its disks is active."""

from __future__ import annotations

from dataclasses import replace

from policies.filters import FILTERS, refusal
from policies.filters.storage import StorageFilter
from tests.policies.helpers import host, vm
from tests.policies.test_filters import _ctx


def test_a_host_that_cannot_see_a_vms_domains_is_refused() -> None:
    v = vm("v", "a", storage_domains=("block", "shared"))
    plain = vm("p", "a")
    sees_all = replace(host("a"), storage_domains=frozenset({"shared", "block", "san"}))
    shared_only = replace(host("b"), storage_domains=frozenset({"shared"}))
    none = host("c")
    ctx, st = _ctx([sees_all, shared_only, none], [v, plain])
    f = StorageFilter()
    assert f.refuse(ctx, v, st.rooms["a"]) is None
    assert f.refuse(ctx, v, st.rooms["b"]) == (
        "b cannot reach storage domain block that holds v's disks"
    )
    assert f.refuse(ctx, v, st.rooms["c"]) == (
        "c cannot reach storage domain block, shared that holds v's disks"
    )
    assert f.refuse(ctx, plain, st.rooms["c"]) is None  # no disk on a domain: no constraint
    assert any(isinstance(x, StorageFilter) for x in FILTERS)
    assert refusal(ctx, v, st.rooms["b"]) == f.refuse(ctx, v, st.rooms["b"])
