"""End-to-end fixtures: the service as a process on 127.0.0.1 against PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import postgres_schema_url
from tests.e2e.service import Service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    for url in postgres_schema_url():
        running = Service(url, tmp_path)
        running.token("bootstrap", "admin")  # creates the tables before the service starts
        running.start()
        try:
            yield running
        finally:
            running.stop()
