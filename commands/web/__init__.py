"""The 工作台: server-rendered pages for clerks, closers and auditors, served beside the
HTTP API at ``/``. An adapter like the API: the token's caller, the same command handler
(``commands.callers.submit``), the same scopes and the same redaction — no second path
to the books."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from commands.web.context import HERE
from commands.web.session import SessionSigner
from ledger.settings import Settings


def mount_web(app: FastAPI, settings: Settings) -> None:
    """Add the pages and their static files (vendored: no CDN) to the service."""
    from commands.web import pages_audit, pages_clerk, pages_close, pages_reports

    app.state.web_signer = SessionSigner(settings.web_session_secret)
    app.state.web_settings = settings
    app.mount("/static/web", StaticFiles(directory=str(HERE / "static")), name="web-static")
    for pages in (pages_clerk, pages_audit, pages_reports, pages_close):
        app.include_router(pages.router, include_in_schema=False)
