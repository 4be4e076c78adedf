"""The API client used by the CLI and the TUI: HTTP+JSON over the engine's Unix socket."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:  # httpx is imported by the clients themselves: the engine process, which
    import httpx  # imports ApiError through the CLI, never opens one (~65 ms of its start-up)

from ovtui.uds_get import UnixGet

DEFAULT_SOCKET = Path("/run/ovtui/api.sock")


class ApiError(Exception):
    def __init__(self, status: int, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail or {}


def token_file() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/ovtui-{os.getuid()}"
    return Path(runtime) / "ovtui" / "session.json"


def save_token(socket: Path, token: str) -> Path:
    path = token_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"socket": str(socket), "token": token}, fh)
    return path


def load_token(socket: Path) -> str | None:
    try:
        saved = json.loads(token_file().read_text())
    except (OSError, ValueError):
        return None
    return saved.get("token") if saved.get("socket") == str(socket) else None


def forget_token() -> None:
    token_file().unlink(missing_ok=True)


def _raise_for(resp: httpx.Response) -> Any:
    if resp.status_code < 400:
        return resp.json()
    try:
        err = resp.json().get("error", {})
    except ValueError:
        err = {"message": resp.text}
    raise ApiError(resp.status_code, err.get("message", resp.reason_phrase), err)


def _unreachable(socket: Path, exc: Exception) -> ApiError:
    return ApiError(
        0,
        f"cannot reach the engine at {socket}: {exc.__class__.__name__}; is `ovtui engine` "
        "running, and may you open its socket (group of the socket)?",
    )


class Client:
    """Synchronous client (CLI, scripts)."""

    def __init__(self, socket: Path, token: str | None = None, timeout: float = 900.0) -> None:
        self.socket = socket
        self.token = token
        import httpx

        self._transport_error = httpx.TransportError
        transport = httpx.HTTPTransport(uds=str(socket))
        self._http = httpx.Client(transport=transport, base_url="http://ovtui", timeout=timeout)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self._http.request(method, path, headers=self._headers(), **kwargs)
        except self._transport_error as exc:
            raise _unreachable(self.socket, exc) from None
        return _raise_for(resp)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=body or {})

    def login(self, username: str, password: str) -> dict[str, Any]:
        result: dict[str, Any] = self.post(
            "/api/v1/sessions", {"username": username, "password": password}
        )
        self.token = result["token"]
        return result

    def close(self) -> None:
        self._http.close()


class AsyncClient:
    """Asynchronous client (the TUI): same calls, never blocks the interface."""

    def __init__(self, socket: Path, token: str | None = None, timeout: float = 900.0) -> None:
        self.socket = socket
        self.token = token
        self.timeout = timeout
        import httpx

        self._transport_error = httpx.TransportError
        transport = httpx.AsyncHTTPTransport(uds=str(socket))
        self._http = httpx.AsyncClient(
            transport=transport, base_url="http://ovtui", timeout=timeout
        )
        self._get = UnixGet(socket)  # the polls' GETs (see ovtui/uds_get.py)

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            resp = await self._http.request(method, path, headers=headers, **kwargs)
        except self._transport_error as exc:
            raise _unreachable(self.socket, exc) from None
        return _raise_for(resp)

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.request("GET", path, params=clean)

    async def get_bytes(
        self, path: str, params: dict[str, Any] | None = None, timeout: float | None = None
    ) -> bytes:
        """A GET's body unparsed (the dashboard compares it with the last one before parsing),
        over a kept-alive connection of its own (ovtui/uds_get.py: a poll's GETs cost a tenth
        of httpx's CPU); errors raise ApiError as request() does."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        target = f"{path}?{urlencode(query)}" if query else path
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            status, body = await self._get.get(target, headers, timeout or self.timeout)
        except (OSError, TimeoutError) as exc:  # ConnectionError is an OSError
            raise _unreachable(self.socket, exc) from None
        if status >= 400:
            import httpx

            _raise_for(httpx.Response(status, content=body))
        return body

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.request("POST", path, json=body or {})

    async def login(self, username: str, password: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.post(
            "/api/v1/sessions", {"username": username, "password": password}
        )
        self.token = result["token"]
        return result

    async def aclose(self) -> None:
        await self._get.aclose()
        await self._http.aclose()
