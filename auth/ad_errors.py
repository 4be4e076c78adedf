"""Why Active Directory refused a bind: the `data` code in its invalidCredentials diagnostic.

AD (and Samba's AD DC) answers every refused simple bind with result 49 and a message like
`80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 533, v1db1`.
The code after `data` is the Windows error behind it: a wrong password, or an account that may
not sign in for another reason. AD gives the other reasons only with the right password, so an
audit that names them says no more than the directory already told the caller.
"""

from __future__ import annotations

import re

_DATA = re.compile(r"AcceptSecurityContext error, data ([0-9a-fA-F]+)")

REASONS = {
    "525": "no such user",
    "52e": "wrong password",
    "530": "not permitted to sign in at this time (logon hours)",
    "531": "not permitted to sign in from this workstation",
    "532": "password expired",
    "533": "account disabled",
    "568": "too many security IDs (token size)",
    "701": "account expired",
    "773": "password must be changed before signing in",
    "775": "account locked out by the directory",
}
BAD_CREDENTIALS = frozenset({"525", "52e"})  # the rest: right password, account may not sign in


def ad_bind_code(message: str | None) -> str | None:
    """The `data` code of an AD bind diagnostic (lower case), or None for other servers."""
    found = _DATA.search(message or "")
    return found.group(1).lower() if found else None


def ad_bind_reason(message: str | None) -> str | None:
    """'account disabled (AD data 533)' and the like; None when there is no AD diagnostic."""
    code = ad_bind_code(message)
    if code is None:
        return None
    return f"{REASONS.get(code, 'refused')} (AD data {code})"
