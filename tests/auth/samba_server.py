"""A throwaway Samba AD DC for the tests: install (Debian), provision, CA + certs, start, stop.

Samba's LDAP server listens on the standard ports (389, 636) and has no setting to move them,
so each run takes its own loopback address instead (127.x.y.z, all of which is `lo` on Linux)
and binds only there (`interfaces` + `bind interfaces only`): two test runs on one machine, or a
directory on 127.0.0.1, do not collide. Only `ldap` and `cldap` run (no smbd, KDC, DNS or RPC).
Everything lives in one temporary directory: the provisioned domain, smb.conf, the TLS files and
Samba's own log (it runs in the foreground and logs to stdout).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core import exceptions as lex

from tests.auth.slapd_server import _die_with_parent, make_ca, make_server_cert

SAMBA = Path("/usr/sbin/samba")
SAMBA_TOOL = Path("/usr/bin/samba-tool")
APT_PACKAGES = ("samba", "samba-ad-dc", "samba-ad-provision")
DAEMONS = ("samba", "smbd", "nmbd", "winbindd")
REALM = "CORP.EXAMPLE.COM"
UPN_SUFFIX = "corp.example.com"
BASE = "DC=corp,DC=example,DC=com"
ADMIN_DN = f"CN=Administrator,CN=Users,{BASE}"
ADMIN_PW = "Adm1n-Pass!word"
PEOPLE = f"OU=People,{BASE}"
GROUPS = f"OU=Groups,{BASE}"
SVC_DN = f"CN=svc-ovtui,OU=Services,{BASE}"
SVC_PW = "Svc-0vtui-Pass!"
DOMAIN_USERS = f"CN=Domain Users,CN=Users,{BASE}"
# A group and a user whose DNs need escaping: `\,` in the DN, parentheses and `*` in the value.
ODD_GROUP = f"CN=ops\\, east (tier*2),{GROUPS}"
ODD_USER_DN = f"CN=Smith\\, J (ops*),{PEOPLE}"
PASSWORDS = {
    "alice": "Alice-Pw-2026!",  # kvm-admins
    "bob": "Bob-Pw-2026!",  # kvm-ops
    "carol": "Carol-Pw-2026!",  # team-web, which is itself a member of kvm-ops (nested)
    "dave": "Dave-Pw-2026!",  # kvm-admins, but disabled (userAccountControl 514)
    "erin": "Erin-Pw-2026!",  # kvm-admins, but the account expired (accountExpires in 1970)
    "gina": "Gina-Pw-2026!",  # kvm-admins, but must change her password (pwdLastSet 0)
    "frank": "Frank-Pw-2026!",  # only the primary group, Domain Users
    "jsmith": "Jsmith-Pw-2026!",  # CN=Smith\, J (ops*), in ODD_GROUP, which is in kvm-ops
    "admin": "Admin-Pw-2026!",  # a tempting target for filter injection
    "henry": "Henry-Pw-2026!",  # kvm-admins; AD locks him out after 2 wrong passwords (a PSO)
}
NORMAL, DISABLED = 512, 514  # userAccountControl: NORMAL_ACCOUNT (+ ACCOUNTDISABLE)
LONG_AGO = 116444736000000000  # 1970-01-01 as a Windows FILETIME: an expiry in the past
HOUR = -36_000_000_000  # AD intervals: negative, in 100 ns
PSO = f"CN=lock-after-2,CN=Password Settings Container,CN=System,{BASE}"


class SambaUnavailable(Exception):
    pass


def _pids(names: tuple[str, ...]) -> set[int]:
    found: set[int] = set()
    for name in names:
        out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
        found |= {int(p) for p in out.stdout.split()}
    return found


def ensure_installed() -> None:
    """Installs the Samba AD DC packages with apt-get if missing, leaving no daemon running."""
    if SAMBA.exists() and SAMBA_TOOL.exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SambaUnavailable(
            "Samba AD DC is not installed and cannot be installed here (needs root and apt-get):"
            f" run `apt-get install --no-install-recommends {' '.join(APT_PACKAGES)}` as root"
        )
    policy = Path("/usr/sbin/policy-rc.d")
    created_policy = not policy.exists()
    if created_policy:  # tells invoke-rc.d not to start services during the install
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    before = _pids(DAEMONS)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES]
        done = subprocess.run(install, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env)
            done = subprocess.run(install, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SambaUnavailable(f"apt-get install samba failed:\n{done.stdout}{done.stderr}")
    finally:
        if created_policy:
            policy.unlink(missing_ok=True)
        for pid in _pids(DAEMONS) - before:  # whatever the packages started despite all that
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _free_on(address: str) -> bool:
    """True when LDAP (389, 636) and CLDAP (389/udp) are free on this address."""
    tcp, udp = socket.SOCK_STREAM, socket.SOCK_DGRAM
    for kind, port in ((tcp, 389), (tcp, 636), (udp, 389)):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((address, port))
            except OSError:
                return False
    return True


def pick_address() -> str:
    """A loopback address of our own whose LDAP ports nothing uses."""
    rng = random.SystemRandom()
    for _ in range(50):
        address = f"127.{rng.randint(100, 254)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
        if _free_on(address):
            return address
    raise SambaUnavailable("no loopback address with free ports 389 and 636 found")


def _utf16_password(password: str) -> bytes:
    return f'"{password}"'.encode("utf-16-le")  # how AD takes unicodePwd


def user_dn(sam: str) -> str:
    return ODD_USER_DN if sam == "jsmith" else f"CN={sam},{PEOPLE}"


def _user(sam: str) -> tuple[str, dict[str, Any]]:
    attrs: dict[str, Any] = {
        "objectClass": ["top", "person", "organizationalPerson", "user"],
        "sAMAccountName": sam,
        "userPrincipalName": f"{sam}@{UPN_SUFFIX}",
        "unicodePwd": _utf16_password(PASSWORDS[sam]),
        "userAccountControl": str(DISABLED if sam == "dave" else NORMAL),
    }
    if sam == "erin":
        attrs["accountExpires"] = str(LONG_AGO)
    return user_dn(sam), attrs


def group_dn(cn: str) -> str:
    return f"CN={cn},{GROUPS}"


def _groups() -> list[tuple[str, list[str]]]:
    """(group DN, members), in an order where every member exists before its group."""
    user = {sam: user_dn(sam) for sam in PASSWORDS}
    return [
        (
            group_dn("kvm-admins"),
            [user["alice"], user["dave"], user["erin"], user["gina"], user["henry"]],
        ),
        (group_dn("team-web"), [user["carol"]]),
        (ODD_GROUP, [user["jsmith"]]),
        (group_dn("kvm-ops"), [user["bob"], group_dn("team-web"), ODD_GROUP]),
    ]


@dataclass
class SambaDC:
    root: Path
    address: str
    ca_file: Path
    wrong_ca_file: Path
    conf: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ldap_url(self) -> str:
        return f"ldap://{self.address}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{self.address}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def admin(self) -> Any:
        """A connection bound as the domain's Administrator over LDAPS, to change entries."""
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_file))
        server = ldap3.Server(self.ldaps_url, use_ssl=True, tls=tls, get_info=ldap3.NONE)
        return ldap3.Connection(server, ADMIN_DN, ADMIN_PW, auto_bind=True, raise_exceptions=True)

    def populate(self) -> None:
        with self.admin() as conn:
            for ou in ("People", "Groups", "Services"):
                conn.add(f"OU={ou},{BASE}", "organizationalUnit")
            conn.add(SVC_DN, ["top", "person", "organizationalPerson", "user"], {
                "sAMAccountName": "svc-ovtui",
                "unicodePwd": _utf16_password(SVC_PW),
                "userAccountControl": str(NORMAL),
            })  # fmt: skip
            for sam in PASSWORDS:
                dn, attrs = _user(sam)
                conn.add(dn, attributes=attrs)
            # Must change the password at the next sign-in: AD refuses her bind with data 773.
            conn.modify(user_dn("gina"), {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0"])]})
            for dn, members in _groups():
                name = dn.split(",", 1)[0].removeprefix("CN=").replace("\\", "")
                sam = "ops-east" if dn == ODD_GROUP else name
                conn.add(dn, ["top", "group"], {"sAMAccountName": sam, "member": members})
            # The directory's own lockout, for henry only (a fine-grained password policy), so
            # that the throttle tests are not locked out by AD as well.
            conn.add(PSO, "msDS-PasswordSettings", {
                "msDS-PasswordSettingsPrecedence": "1",
                "msDS-PasswordReversibleEncryptionEnabled": "FALSE",
                "msDS-PasswordHistoryLength": "0",
                "msDS-PasswordComplexityEnabled": "FALSE",
                "msDS-MinimumPasswordLength": "0",
                "msDS-MinimumPasswordAge": "0",
                "msDS-MaximumPasswordAge": str(HOUR * 24 * 365),
                "msDS-LockoutThreshold": "2",
                "msDS-LockoutObservationWindow": str(HOUR),
                "msDS-LockoutDuration": str(HOUR),
                "msDS-PSOAppliesTo": user_dn("henry"),
            })  # fmt: skip

    def start(self) -> None:
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                # -i: foreground, log to stdout, and stop when stdin closes (as pytest dies).
                [str(SAMBA), "-i", "-s", str(self.conf), "-d", "1"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 60
        problem = "not listening yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SambaUnavailable(f"samba exited ({self.proc.returncode}):\n{self.log()}")
            try:
                self.admin().unbind()  # listening is not enough: the directory must answer
            except (lex.LDAPException, OSError) as exc:
                problem = str(exc)
                time.sleep(0.1)
                continue
            self.timings["start_seconds"] = round(time.monotonic() - started, 2)
            return
        self.stop()
        raise SambaUnavailable(f"samba did not answer within 60 s ({problem}):\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM to our samba (it stops its own process group), then whatever is left of it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group we started: its workers
        if self.proc.stdin is not None:
            self.proc.stdin.close()


def build(root: Path) -> SambaDC:
    """Provisions a domain under `root`, with its certificates (not yet started)."""
    ensure_installed()
    started = time.monotonic()
    address = pick_address()
    ca = make_ca(root, "test-ca")
    wrong_ca, _ = make_ca(root, "wrong-ca")
    cert, key = make_server_cert(root, ca, ip=address)
    key.chmod(0o600)  # samba refuses a world-readable key
    target = root / "dc"
    empty = root / "empty.conf"  # not /etc/samba/smb.conf: nothing of the host's leaks in
    empty.write_text("")
    options = {
        "interfaces": f"{address}/8",
        "bind interfaces only": "yes",
        "server services": "ldap, cldap",
        "prefork children": "1",
        "pid directory": str(target),
        "ncalrpc dir": str(target / "ncalrpc"),
        "winbindd socket directory": str(target / "winbindd"),
        "ntp signd socket directory": str(target / "ntp_signd"),
        "tls enabled": "yes",
        "tls keyfile": str(key),
        "tls certfile": str(cert),
        "tls cafile": str(ca[0]),
    }
    command = [
        str(SAMBA_TOOL), "domain", "provision", "-s", str(empty), f"--targetdir={target}",
        f"--realm={REALM}", "--domain=CORP", "--server-role=dc", "--dns-backend=NONE",
        "--host-name=dc1", f"--adminpass={ADMIN_PW}", "--quiet",
        *(f"--option={k}={v}" for k, v in options.items()),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SambaUnavailable(f"samba-tool domain provision failed:\n{done.stdout}{done.stderr}")
    dc = SambaDC(root, address, ca[0], wrong_ca, target / "etc" / "smb.conf", root / "samba.log")
    dc.timings["provision_seconds"] = round(time.monotonic() - started, 2)
    return dc
