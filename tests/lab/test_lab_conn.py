"""The lab's bounded libvirt helpers (no lab needed)."""

from __future__ import annotations

import gc
import weakref

import pytest

from ovtui.lab.conn import open_conn, with_timeout


class _Thing:
    pass


def test_a_failure_keeps_no_object_of_the_failed_call_alive() -> None:
    seen: list[weakref.ref[_Thing]] = []

    def fails() -> None:
        thing = _Thing()  # as a domain would be
        seen.append(weakref.ref(thing))
        raise ValueError("no such domain")

    gc.disable()  # only reference counting: what is freed now is not held by the exception
    try:
        with pytest.raises(ValueError) as caught:
            with_timeout(fails, 10)
        assert seen[0]() is None, "the exception still holds the failed call's objects"
        assert caught.value is not None
    finally:
        gc.enable()


def test_a_local_driver_opens_without_a_keepalive() -> None:
    conn = open_conn("test:///default")
    try:
        assert conn.getType() == "TEST"
    finally:
        conn.close()
