"""The 工作台's session cookie: signed, expiring, and naming no secret."""

from __future__ import annotations

from commands.web.session import SESSION_SECONDS, SessionSigner, same_token


def test_a_session_reads_back_until_it_expires() -> None:
    signer = SessionSigner("key")
    session = signer.new("tok1", now=1000.0)
    cookie = signer.dump(session)
    assert signer.load(cookie, now=1000.0 + SESSION_SECONDS - 1) == session
    assert signer.load(cookie, now=1000.0 + SESSION_SECONDS) is None


def test_a_forged_or_foreign_cookie_is_no_session() -> None:
    signer = SessionSigner("key")
    cookie = signer.dump(signer.new("tok1", now=1000.0))
    payload, mac = cookie.rsplit(".", 1)
    assert signer.load(f"{payload}.{'0' * len(mac)}", now=1000.0) is None
    assert SessionSigner("other key").load(cookie, now=1000.0) is None
    for junk in ("", "x", "a.b", "é.é", "a.é", None):
        assert signer.load(junk, now=1000.0) is None


def test_csrf_tokens_must_be_present_and_equal() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd")
    assert not same_token(None, None)
    assert not same_token("", "")
