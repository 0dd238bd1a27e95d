"""The execution chart: what became of each project's money, with Chinese names drawn in
the CJK font the setup installs, and classified projects as one bar without clearance."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from projections.books import books_of
from projections.chart import CJK_FONTS, chart_bars, write_chart
from projections.redaction import CLASSIFIED_NAME


@pytest.fixture
def seeded(memory_ledger: Ledger) -> Ledger:
    assert import_file(CommandHandler(memory_ledger), seed_path()).ok
    return memory_ledger


def test_each_bar_is_what_the_line_was_given_and_what_became_of_it(seeded: Ledger) -> None:
    projects, lines = chart_bars(books_of(seeded), "CJ-SWGXJ", 2022)
    names = [b.label for b in projects]
    assert "招商引资工作经费" in names and names[-1] == CLASSIFIED_NAME
    assert not any("P20" in b.label for b in [*projects, *lines])
    for bar in [*projects, *lines]:
        assert bar.executed + bar.carried_over + bar.lapsed + bar.available == bar.budget
    assert any(b.clawed_back for b in projects)  # the seed's two clawbacks show
    cleared, _ = chart_bars(books_of(seeded), "CJ-SWGXJ", 2022, clearance=True)
    assert CLASSIFIED_NAME not in [b.label for b in cleared]


def test_the_chart_names_an_installed_cjk_font(seeded: Ledger, tmp_path: Path) -> None:
    from matplotlib import font_manager

    found = font_manager.findfont(CJK_FONTS[0], fallback_to_default=False)
    assert "NotoSansCJK" in Path(found).name, "apt-get install fonts-noto-cjk"
    projects, lines = chart_bars(books_of(seeded), "CJ-SWGXJ", 2022)
    path = tmp_path / "chart.png"
    write_chart(projects, lines, path, title="昌吉市商务和工业信息化局 2022年度")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
