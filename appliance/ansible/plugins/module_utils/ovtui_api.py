"""A stdlib client for the ovtui engine API: Unix socket or HTTPS, token or user/password."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl

try:
    import http.client as http_client
except ImportError:  # pragma: no cover
    import httplib as http_client  # type: ignore

AUTH_SPEC = dict(
    type="dict",
    required=True,
    options=dict(
        socket=dict(type="path"),
        url=dict(type="str"),
        ca_file=dict(type="path"),
        token=dict(type="str", no_log=True),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
    ),
)


class ApiError(Exception):
    def __init__(self, status, message):
        super(ApiError, self).__init__("%s: %s" % (status, message))
        self.status = status


class _UnixConnection(http_client.HTTPConnection):
    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, "ovtui", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class Api(object):
    def __init__(self, auth, timeout=900):
        self.auth = auth
        self.timeout = timeout
        self.token = auth.get("token")
        if not auth.get("socket") and not auth.get("url"):
            raise ApiError(0, "auth needs socket (the engine's Unix socket) or url (https://...)")
        if not self.token:
            if not auth.get("username"):
                raise ApiError(0, "auth needs token, or username and password")
            body = {"username": auth["username"], "password": auth.get("password") or ""}
            self.token = self.request("POST", "/api/v1/sessions", body)["token"]

    def _connection(self):
        if self.auth.get("socket"):
            return _UnixConnection(self.auth["socket"], self.timeout)
        url = self.auth["url"].rstrip("/")
        if not url.startswith("https://"):
            raise ApiError(0, "url must be https:// (the engine's TCP listener speaks only TLS)")
        ctx = ssl.create_default_context(cafile=self.auth.get("ca_file"))
        return http_client.HTTPSConnection(url[len("https://"):], timeout=self.timeout, context=ctx)

    def request(self, method, path, body=None):
        conn = self._connection()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer %s" % self.token
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        payload = json.loads(data) if data else None
        if resp.status >= 400:
            error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
            raise ApiError(resp.status, error.get("message") or data[:300])
        return payload

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None):
        return self.request("POST", path, body or {})

    def patch(self, path, body):
        return self.request("PATCH", path, body)

    def delete(self, path):
        return self.request("DELETE", path)

    def find(self, path):
        """GET path, or None when the engine answers 404 (no such object)."""
        try:
            return self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise


UNITS = {"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def size_bytes(text):
    """'1GiB', '512MiB', '1048576' (bytes): IEC units, as ovirt.ovirt's memory and size take."""
    value = str(text).strip()
    digits = len(value) - len(value.lstrip("0123456789"))
    number, unit = value[:digits], value[digits:].strip()
    if unit not in UNITS or not number:
        raise ValueError("%r is not a size: a whole number with B, KiB, MiB, GiB or TiB (1GiB)"
                         % (text,))
    return int(number) * UNITS[unit]


def quote(name):
    try:
        from urllib.parse import quote as q
    except ImportError:  # pragma: no cover
        from urllib import quote as q  # type: ignore
    return q(name, safe="")
