"""The web page's session: a signed cookie naming the token a person signed in with (its
id, never its secret), when the session expires, and the CSRF token every form carries.

The cookie is HttpOnly and SameSite=Strict, and Secure when the page is served over
TLS. It is signed with HMAC-SHA-256 under ``FUNDFLOW_WEB_SESSION_SECRET`` (set it when
several workers serve; without it each process makes its own key, so a restart signs
everyone out). The token is looked up again on every request: a revoked token ends its
sessions at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "fundflow_session"
#: The CSRF token of the sign-in form, before there is a session to hold one.
SIGNIN_COOKIE = "fundflow_signin"
#: How long a session lasts after sign-in.
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Session:
    """A signed-in person's session."""

    token_id: str
    expires: int
    csrf: str


class SessionSigner:
    """Signs and reads session cookies with one key."""

    def __init__(self, secret: str | None) -> None:
        self._key = (secret or secrets.token_hex(32)).encode("utf-8")

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).hexdigest()

    def dump(self, session: Session) -> str:
        data = {"t": session.token_id, "e": session.expires, "c": session.csrf}
        payload = base64.urlsafe_b64encode(json.dumps(data).encode("utf-8")).decode("ascii")
        return f"{payload}.{self._mac(payload)}"

    def load(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie, or ``None`` if it is missing, forged or expired."""
        if not cookie or "." not in cookie:
            return None
        payload, mac = cookie.rsplit(".", 1)
        if not (payload.isascii() and mac.isascii()):
            return None
        if not hmac.compare_digest(self._mac(payload), mac):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload))
            session = Session(str(data["t"]), int(data["e"]), str(data["c"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= (time.time() if now is None else now):
            return None
        return session

    def new(self, token_id: str, now: float | None = None) -> Session:
        started = time.time() if now is None else now
        return Session(token_id, int(started) + SESSION_SECONDS, secrets.token_urlsafe(24))


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """A cookie scripts cannot read and other sites cannot send (Secure over TLS)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
