"""Browser fixtures: Debian's Chromium driven by Playwright (browsers cannot be downloaded
here, so it is launched by its path), a real ``fundflow serve`` on PostgreSQL loaded with
the seed, and a screenshot of every page the journeys visit.

A missing browser fails the tests: they never skip (``scripts/test`` installs it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from commands.cli import seed_path
from tests.conftest import postgres_schema_url
from tests.e2e.service import FUNDFLOW, Service

CHROMIUM = os.environ.get("FUNDFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Where the journeys' screenshots go (FUNDFLOW_SCREENSHOTS moves it); the README's few
#: are copies in docs/screenshots/.
SCREENSHOTS = Path(
    os.environ.get("FUNDFLOW_SCREENSHOTS")
    or Path(__file__).resolve().parents[3] / "build" / "screenshots"
)
UNIT = "CJ-SWGXJ"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is required for the browser tests and is not at {CHROMIUM}: "
            "apt-get install chromium (bash scripts/test does)"
        )
    # Root in a container: Chromium's sandbox needs user namespaces it may not have.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "viewport": {"width": 1280, "height": 900},
        "accept_downloads": True,
    }


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Service]:
    """The service on a fresh PostgreSQL schema holding the bureau's 2022 (the seed, with
    its classified project) and a second unit."""
    for url in postgres_schema_url():
        service = Service(url, tmp_path)
        other = tmp_path / "other.jsonl"
        other.write_text(
            json.dumps(
                {
                    "type": "register_unit",
                    "command_id": "u-other",
                    "posted_by": "管理员",
                    "business_date": "2022-01-01",
                    "code": "CJ-OTHER",
                    "name": "昌吉市另一个局",
                },
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
        for path in (seed_path(), other):
            subprocess.run(
                [FUNDFLOW, "import", str(path), "--quiet"],
                env=service.env,
                capture_output=True,
                check=True,
            )
        service.start()
        try:
            yield service
        finally:
            service.stop()


#: The names of the visible form fields that have no label (every input must have one).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => !['hidden', 'submit', 'button'].includes(e.type))
  .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map(e => e.name)"""


class Journey:
    """A person's visit: sign in, go to pages, and a screenshot of each page seen."""

    def __init__(self, page: Page, service: Service, name: str) -> None:
        self.page = page
        self.service = service
        self.name = name
        self.shots = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, what: str) -> None:
        """Save the page, after checking that every field on it has a label."""
        unlabelled = self.page.evaluate(UNLABELLED)
        assert not unlabelled, f"fields without a label on {self.page.url}: {unlabelled}"
        self.shots += 1
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def go(self, path: str, what: str) -> None:
        self.page.goto(self.service.base + path)
        self.shot(what)

    def sign_in(self, token: str) -> None:
        self.page.goto(self.service.base + "/")
        assert self.page.url.endswith("/signin")
        self.page.get_by_label("令牌").fill(token)
        self.shot("signin")
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(self.service.base + "/")
        self.shot("home")


@pytest.fixture
def journey(page: Page, seeded: Service, request: pytest.FixtureRequest) -> Journey:
    return Journey(page, seeded, request.node.originalname.removeprefix("test_"))
