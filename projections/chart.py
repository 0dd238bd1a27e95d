"""The execution chart: for each project (and each budget line) what became of its
money — executed, clawed back by the finance bureau, carried over, lapsed, still
available — as one bar whose length is the money the line was given, labelled with the
Chinese project names. Classified (涉密) projects are one bar without clearance.

Drawn with matplotlib in the CJK font Debian's ``fonts-noto-cjk`` installs ("Noto Sans
CJK SC"); ``scripts/test`` and ``scripts/demo`` install it when it is missing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ledger.money import wanyuan_str
from projections.books import Books, LineView
from projections.redaction import CLASSIFIED_NAME, Redaction

#: The font the chart names first (then other CJK fonts, should that one be missing).
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK", "WenQuanYi Zen Hei"]
#: Each part of a bar: (field, legend, colour).
PARTS = [
    ("executed", "执行数", "#2e7d32"),
    ("clawed_back", "财政收回", "#c62828"),
    ("carried_over", "结转", "#1565c0"),
    ("lapsed", "结余", "#9e9e9e"),
    ("available", "可用余额", "#ffb300"),
]


@dataclass(frozen=True)
class Bar:
    """One project or line of the chart, in fen."""

    label: str
    budget: int
    """全年预算数 (after reductions and clawbacks)."""
    executed: int
    clawed_back: int
    carried_over: int
    lapsed: int
    available: int

    @classmethod
    def of(cls, label: str, lines: list[LineView]) -> Bar:
        return cls(
            label,
            sum(ln.totals.full_year_budget for ln in lines),
            sum(ln.totals.spent for ln in lines),
            sum(ln.totals.clawed_back for ln in lines),
            sum(ln.totals.carried_out for ln in lines),
            sum(ln.totals.lapsed for ln in lines),
            sum(ln.totals.available for ln in lines),
        )


def chart_bars(
    books: Books, unit: str, year: int, *, clearance: bool = False
) -> tuple[list[Bar], list[Bar]]:
    """(per project, per line) of a unit's year, as the caller may see them."""
    code = books.unit(unit).code
    shown, hidden = Redaction.of(books, clearance, code).split(books.lines_of(code, year))
    by_project: dict[str, list[LineView]] = {}
    for line in shown:
        if line.project_code is not None:
            by_project.setdefault(line.project_code, []).append(line)
    projects = []
    for project_code, lines in by_project.items():
        project = books.projects.get((code, project_code))
        projects.append(Bar.of(project.name if project else project_code, lines))
    per_line = [Bar.of(f"{ln.code} {ln.title}", [ln]) for ln in shown]
    if hidden:
        projects.append(Bar.of(CLASSIFIED_NAME, hidden))
        per_line.append(Bar.of(CLASSIFIED_NAME, hidden))
    return projects, per_line


def _share(part: int, whole: int) -> float:
    """A part's share of a bar in percent, as a drawing coordinate (never used as money)."""
    return 0.0 if whole <= 0 else float(Decimal(part) * 100 / Decimal(whole))


def _short(label: str, width: int = 26) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def write_chart(projects: list[Bar], lines: list[Bar], path: Path, *, title: str) -> None:
    """A PNG: a panel per project and a panel per line; each bar is the money the line was
    given (全年预算数 + 财政收回, printed beside it in 万元), split by what became of it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [*CJK_FONTS, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    panels = [(f"{title} 各项目资金去向", projects), ("各预算指标资金去向", lines)]
    panels = [(t, bars) for t, bars in panels if bars]
    heights = [max(1.5, 0.32 * len(bars) + 1.2) for _, bars in panels] or [1.5]
    figure, axes_list = plt.subplots(
        len(heights),
        1,
        figsize=(12, sum(heights) + 0.6),
        dpi=100,
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for (panel_title, bars), axes in zip(panels, axes_list[:, 0], strict=False):
        names = [_short(b.label) for b in bars][::-1]
        left = [0.0] * len(bars)
        for field, legend, colour in PARTS:
            values = [_share(getattr(b, field), b.budget + b.clawed_back) for b in bars][::-1]
            axes.barh(names, values, left=left, color=colour, label=legend, height=0.7)
            left = [a + b for a, b in zip(left, values, strict=True)]
        for y, bar in enumerate(bars[::-1]):
            given = f"{wanyuan_str(bar.budget + bar.clawed_back)}万元"
            axes.text(101, y, given, va="center", fontsize=7)
        axes.set_xlim(0, 118)
        axes.set_xticks(range(0, 101, 20))
        axes.set_title(panel_title, loc="left")
        axes.tick_params(axis="y", labelsize=8)
        axes.set_xlabel("占下达资金的百分比（右侧：全年预算数 + 财政收回，万元）")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8, ncols=len(PARTS))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
