"""`[api.ovirt]`: the oVirt-compatible REST subset (ovtui.api.ovirt) and how its user names map."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Profile = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]


class OvirtApiSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Served under /ovirt-engine/ on the API's listeners; the oVirt SDK needs api.tcp (TLS).
    enabled: bool = False
    # oVirt names users NAME@PROFILE. NAME@P signs in to ovtui as NAME for each P listed here
    # ("internal": oVirt's built-in profile, so `admin@internal` is ovtui's `admin`).
    profiles: list[Profile] = Field(default_factory=lambda: ["internal"])
    # Exceptions, looked up first: oVirt user name -> ovtui sign-in name.
    users: dict[str, Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=dict
    )

    @field_validator("users")
    @classmethod
    def _qualified(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if "@" not in name:
                raise ValueError(f"{name!r}: an oVirt user name is NAME@PROFILE (e.g. alice@corp)")
        return value

    def signin_name(self, ovirt_name: str) -> str | None:
        """The ovtui sign-in name for an oVirt user name; None when its profile is not mapped."""
        if ovirt_name in self.users:
            return self.users[ovirt_name]
        name, at, profile = ovirt_name.rpartition("@")
        if not at:
            return ovirt_name  # no profile: the ovtui name itself
        return name if name and profile in self.profiles else None
