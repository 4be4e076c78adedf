"""A throwaway OpenLDAP slapd for the tests: install (Debian), CA + certs, directory, start, stop.

Everything lives in one temporary directory: slapd.conf, the mdb database, the TLS files and
slapd's own log (it runs in the foreground with `-d stats`, so the tests can read what it saw).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import ldap3

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
APT_PACKAGES = ("slapd", "ldap-utils")
BASE = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "root-secret"
SVC_DN = f"cn=svc-ovtui,ou=services,{BASE}"
SVC_PW = "svc-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
PASSWORDS = {
    "alice": "alice-pw",  # kvm-admins (groupOfNames)
    "bob": "bob-pw",  # kvm-ops (groupOfNames)
    "carol": "carol-pw",  # team-web, which is itself a member of kvm-ops (nested)
    "dave": "dave-pw",  # employeeType: disabled -> the config's disabled_filter refuses him
    "erin": "erin-pw",  # kvm-auditors (posixGroup, memberUid)
    "frank": "frank-pw",  # in no group at all
    "admin": "admin-pw",  # a tempting target for filter injection
}


PR_SET_PDEATHSIG = 1


class SlapdUnavailable(Exception):
    pass


def _slapd_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-x", "slapd"], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def ensure_installed() -> None:
    """Installs slapd + ldap-utils with apt-get if missing, leaving no slapd running."""
    if SLAPD.exists() and SLAPADD.exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SlapdUnavailable(
            "OpenLDAP slapd is not installed and cannot be installed here (needs root and "
            "apt-get): run `apt-get install slapd ldap-utils` or `make test` as root"
        )
    policy = Path("/usr/sbin/policy-rc.d")
    created_policy = not policy.exists()
    if created_policy:  # tells invoke-rc.d not to start services during the install
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    before = _slapd_pids()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        # No default configuration or database: the package then has nothing to start.
        subprocess.run(
            ["debconf-set-selections"],
            input="slapd slapd/no_configuration boolean true\n",
            text=True,
            check=True,
            env=env,
        )
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES]
        done = subprocess.run(install, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env)
            done = subprocess.run(install, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SlapdUnavailable(f"apt-get install slapd failed:\n{done.stdout}{done.stderr}")
    finally:
        if created_policy:
            policy.unlink(missing_ok=True)
        for pid in _slapd_pids() - before:  # whatever the package started despite all that
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _die_with_parent() -> None:
    """In the child: a pytest killed before its teardown must not leave slapd running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    return cert, key


def make_server_cert(
    directory: Path, ca: tuple[Path, Path], ip: str = "127.0.0.1"
) -> tuple[Path, Path]:
    """A server certificate signed by `ca` that names `ip` (and localhost) in subjectAltName."""
    cert, key, csr = directory / "server.crt", directory / "server.key", directory / "server.csr"
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName=IP:{ip},DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", str(key), "-out", str(csr))  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
             "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    return cert, key


def _person(uid: str, extra: str = "") -> str:
    return (
        f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid.title()}\n"
        f"sn: {uid.title()}\nuserPassword: {PASSWORDS[uid]}\n{extra}\n"
    )


def _group_entries() -> list[tuple[str, dict[str, object]]]:
    def names(cn: str, *members: str) -> tuple[str, dict[str, object]]:
        return f"cn={cn},{GROUPS}", {"objectClass": "groupOfNames", "member": list(members)}

    return [
        names("kvm-admins", f"uid=alice,{PEOPLE}"),
        names("team-web", f"uid=carol,{PEOPLE}"),
        names("kvm-ops", f"uid=bob,{PEOPLE}", f"cn=team-web,{GROUPS}"),  # nested: team-web
        names("kvm-changing", f"cn=nobody,{BASE}"),  # groupOfNames needs one member
        (
            f"cn=kvm-auditors,{GROUPS}",
            {"objectClass": "posixGroup", "gidNumber": "5001", "memberUid": ["erin"]},
        ),
    ]


def directory_ldif() -> str:
    people = "".join(
        _person(uid, "employeeType: disabled\n" if uid == "dave" else "") for uid in PASSWORDS
    )
    return (
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n"
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services\n\n"
        f"dn: {SVC_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: svc-ovtui\nuserPassword: {SVC_PW}\n\n" + people
    )


def slapd_conf(root: Path, ca: Path, cert: Path, key: Path) -> str:
    return f"""\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {root}/db
overlay memberof
access to attrs=userPassword by anonymous auth by self write by * none
access to * by users read by * none
"""


@dataclass
class Slapd:
    root: Path
    ldap_port: int
    ldaps_port: int
    ca_file: Path
    wrong_ca_file: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _groups_added: bool = False

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ldap_port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def admin(self) -> ldap3.Connection:
        """A connection bound as the directory's root, to change entries during a test."""
        return ldap3.Connection(ldap3.Server(self.ldap_url), ROOT_DN, ROOT_PW, auto_bind=True)

    def set_members(self, group_cn: str, members: list[str]) -> None:
        with self.admin() as conn:
            change = {"member": [(ldap3.MODIFY_REPLACE, members)]}
            if not conn.modify(f"cn={group_cn},{GROUPS}", change):
                raise SlapdUnavailable(f"cannot change {group_cn}: {conn.result}")

    def _add_groups(self) -> None:
        # Over LDAP (not slapadd) so that the memberof overlay fills in users' memberOf.
        with self.admin() as conn:
            for dn, attrs in _group_entries():
                if not conn.add(dn, attributes=attrs):
                    raise SlapdUnavailable(f"cannot add {dn}: {conn.result}")

    def start(self) -> None:
        urls = f"{self.ldap_url}/ {self.ldaps_url}/"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(SLAPD), "-f", str(self.root / "slapd.conf"), "-h", urls, "-d", "stats"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SlapdUnavailable(f"slapd exited ({self.proc.returncode}):\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.ldap_port), 0.2).close()
                socket.create_connection(("127.0.0.1", self.ldaps_port), 0.2).close()
            except OSError:
                time.sleep(0.05)
                continue
            if not self._groups_added:
                self._add_groups()
                self._groups_added = True
            return
        self.stop()
        raise SlapdUnavailable(f"slapd did not listen within 20 s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def build(root: Path) -> Slapd:
    """Writes certificates, slapd.conf and the database under `root` (not yet started)."""
    ensure_installed()
    ca = make_ca(root, "test-ca")
    wrong_ca, _ = make_ca(root, "wrong-ca")
    cert, key = make_server_cert(root, ca)
    (root / "db").mkdir()
    conf = root / "slapd.conf"
    conf.write_text(slapd_conf(root, ca[0], cert, key))
    ldif = root / "directory.ldif"
    ldif.write_text(directory_ldif())
    done = subprocess.run(
        [str(SLAPADD), "-f", str(conf), "-l", str(ldif)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SlapdUnavailable(f"slapadd failed:\n{done.stderr}")
    return Slapd(root, free_port(), free_port(), ca[0], wrong_ca, root / "slapd.log")
