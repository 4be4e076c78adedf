"""The sign-in screen: user and password, checked by the engine (POST /api/v1/sessions).

Each refusal is shown with the engine's own message under a heading that says which kind it is
(signin_errors.explain); the password field is emptied, the user name kept.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from ovtui.client import ApiError, AsyncClient
from ovtui.tui.signin_errors import SignInProblem, explain

CHECK_TIMEOUT = 5.0


class LoginScreen(Screen[dict[str, Any]]):
    """Dismissed with the engine's answer to a successful sign-in (token, user, roles, grants)."""

    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical {
        width: 64; max-width: 100%; height: auto; padding: 0 2;
        border: thick $accent; background: $surface;
    }
    LoginScreen #login-title { text-style: bold; margin: 1 0 0 0; }
    LoginScreen #login-engine { color: $text-muted; margin-bottom: 1; }
    LoginScreen Input { margin-bottom: 1; }
    LoginScreen #login-problem { display: none; color: $error; margin-bottom: 1; }
    LoginScreen #login-problem.-shown { display: block; }
    LoginScreen #login-hint { color: $text-muted; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "app.quit", "quit", tooltip="leave without signing in")]
    HELP_TITLE = "sign in"

    def __init__(self, client: AsyncClient, user: str = "", notice: str = "") -> None:
        super().__init__()
        self.client, self.user, self.notice = client, user, notice
        self.problem: SignInProblem | None = None
        self.attempts = 0  # answered sign-ins; tests wait on it

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("ovtui — sign in", id="login-title")
            yield Static(f"engine {self.client.socket}", id="login-engine", markup=False)
            yield Input(self.user, placeholder="user name", id="login-user")
            yield Input(placeholder="password", password=True, id="login-password")
            yield Static("", id="login-problem", markup=False)
            yield Static("", id="login-hint")

    def on_mount(self) -> None:
        if self.notice:
            self._show(self.notice)
        self.query_one("#login-password" if self.user else "#login-user", Input).focus()
        if not self.notice:
            self.run_worker(self._check_engine(), group="login")

    async def _check_engine(self) -> None:
        # Say at once when the engine is not there, rather than after the password is typed.
        try:
            await self.client.request("GET", "/api/v1/health", timeout=CHECK_TIMEOUT)
        except ApiError as exc:
            self._report(explain(exc))

    def on_descendant_focus(self) -> None:
        self._hint()

    def _hint(self) -> None:
        # Says what Enter will do where the cursor is (and shows a terminal where focus is).
        on_password = self.focused is self.query_one("#login-password", Input)
        what = "sign in" if on_password else "on to the password"
        self.query_one("#login-hint", Static).update(f"Enter: {what} · Esc: quit")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        user = self.query_one("#login-user", Input).value.strip()
        password = self.query_one("#login-password", Input)
        if event.input.id == "login-user" and not password.value:
            password.focus()
            return
        self.query_one("#login-hint", Static).update("signing in…")
        self.run_worker(self._sign_in(user, password.value), exclusive=True, group="login")

    async def _sign_in(self, user: str, password: str) -> None:
        try:
            result: dict[str, Any] = await self.client.login(user, password)
        except ApiError as exc:
            self.attempts += 1
            self._report(explain(exc))
            self.query_one("#login-password", Input).value = ""
            self.query_one("#login-user" if not user else "#login-password", Input).focus()
            return
        self.attempts += 1
        self.dismiss(result)

    def _report(self, problem: SignInProblem) -> None:
        self.problem = problem
        hint = f"\n{problem.hint}" if problem.hint else ""
        self._show(f"{problem.title}: {problem.message}{hint}")

    def _show(self, text: str) -> None:
        box = self.query_one("#login-problem", Static)
        box.update(text)
        box.add_class("-shown")
        self._hint()

    @property
    def problem_text(self) -> str:
        return str(self.query_one("#login-problem", Static).render())
