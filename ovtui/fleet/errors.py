"""libvirt failures turned into messages for operators; the raw libvirt text is kept for logs."""

from __future__ import annotations

import libvirt

# libvirt prints every error to stderr by default; we report errors ourselves.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

_CONNECTION_LOST = {
    libvirt.VIR_ERR_SYSTEM_ERROR,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
    libvirt.VIR_ERR_AUTH_FAILED,
}
_UNSUPPORTED = {
    libvirt.VIR_ERR_NO_SUPPORT,
    libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
    libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
}


class FleetError(Exception):
    """An operation on a host or VM failed. `kind` drives the API status code."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "hypervisor",  # hypervisor | conflict | unavailable | timeout | invalid
        host: str | None = None,
        vm: str | None = None,
        raw: str = "",
    ) -> None:
        super().__init__(message)
        self.message, self.kind, self.host, self.vm, self.raw = message, kind, host, vm, raw

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "message": self.message,
            "host": self.host,
            "vm": self.vm,
            "detail": self.raw,
        }


def is_connection_lost(exc: libvirt.libvirtError) -> bool:
    if exc.get_error_code() in _CONNECTION_LOST:
        return True
    text = str(exc)
    return "client socket is closed" in text or "End of file while reading" in text


def is_unsupported(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() in _UNSUPPORTED


def is_no_domain(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN


def from_libvirt(
    exc: libvirt.libvirtError, *, action: str, host: str, vm: str | None = None
) -> FleetError:
    """'start web-01 on kvm-02 failed: domain is already running' plus the raw text."""
    raw = str(exc)
    what = f"{action} {vm} on {host}" if vm else f"{action} on {host}"
    code = exc.get_error_code()
    if code == libvirt.VIR_ERR_OPERATION_INVALID:
        kind = "conflict"
    elif is_connection_lost(exc):
        kind = "unavailable"
    elif code == libvirt.VIR_ERR_NO_DOMAIN:
        kind = "conflict"
    else:
        kind = "hypervisor"
    # libxml2 parse errors span lines (source line, caret diagram): one line for operators,
    # the whole text stays in `raw`.
    text = (exc.get_error_message() or raw).strip()
    reason = text.splitlines()[0] if text else f"libvirt error {code}"
    reason = reason.removeprefix("Requested operation is not valid: ")
    return FleetError(f"{what} failed: {reason}", kind=kind, host=host, vm=vm, raw=raw)
