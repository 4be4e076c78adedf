"""Reading why Active Directory refused a bind from its diagnostic message."""

from __future__ import annotations

import pytest

from auth.ad_errors import ad_bind_code, ad_bind_reason

SAMBA = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data {}, v1db1"
WINDOWS = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data {}, v4563"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("52e", "wrong password"),
        ("525", "no such user"),
        ("530", "not permitted to sign in at this time (logon hours)"),
        ("531", "not permitted to sign in from this workstation"),
        ("532", "password expired"),
        ("533", "account disabled"),
        ("701", "account expired"),
        ("773", "password must be changed before signing in"),
        ("775", "account locked out by the directory"),
        ("9ff", "refused"),
    ],
)
@pytest.mark.parametrize("template", [SAMBA, WINDOWS])
def test_each_code_has_its_reason(template: str, code: str, reason: str) -> None:
    assert ad_bind_reason(template.format(code)) == f"{reason} (AD data {code})"
    assert ad_bind_reason(template.format(code.upper())) == f"{reason} (AD data {code})"


@pytest.mark.parametrize("message", ["", None, "Invalid credentials", "data 533"])
def test_other_servers_have_no_ad_reason(message: str | None) -> None:
    assert ad_bind_code(message) is None and ad_bind_reason(message) is None
