"""The nine statutory tables of the 部门决算 (公开01表 … 09表) and the project performance
funds table, as data: a title, column headers and rows, amounts in 万元 rounded half-up
one figure at a time. ``exports`` writes them as a workbook, CSV files and JSON."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.amount_units import amount_str
from ledger.classifications import (
    OTHER_NATURES,
    PERSONNEL_CLASSES,
    PUBLIC_OPERATING_CLASSES,
    FundSource,
    Nature,
    ThreePublic,
)
from ledger.classifications.catalogue import CatalogueKind
from projections.books import Books, LineView
from projections.execution import project_rows

Cell = str | Decimal | int | None
FISCAL = (FundSource.GENERAL_PUBLIC_BUDGET, FundSource.GOVERNMENT_FUND, FundSource.STATE_CAPITAL)


def W(fen: int) -> Decimal:
    """An amount in the report's unit (万元 unless told; ledger/amount_units.py), two
    decimals, rounded half-up on its own."""
    return Decimal(amount_str(fen))


@dataclass
class Table:
    code: str
    """公开01表 …"""
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def cell(self, row_label: str, header: str) -> Cell:
        """The value in the row whose first cells contain ``row_label``, under ``header``."""
        column = self.headers.index(header)
        for row in self.rows:
            if row_label in [str(c) for c in row[:2]]:
                return row[column]
        raise KeyError(row_label)


def _sum(lines: Iterable[LineView], value: Callable[[LineView], int]) -> int:
    return sum((value(ln) for ln in lines), 0)


def _function_rows(
    lines: list[LineView],
    columns: list[Callable[[list[LineView]], Cell]],
    name: Callable[[str], str],
) -> list[list[Cell]]:
    """One row per function class, section and item that has lines, then 合计."""
    codes: set[str] = set()
    for ln in lines:
        codes |= {ln.function_code[:3], ln.function_code[:5], ln.function_code}
    rows: list[list[Cell]] = []
    for code in sorted(codes):
        group = [ln for ln in lines if ln.function_code.startswith(code)]
        rows.append([code, name(code), *(column(group) for column in columns)])
    rows.append(["", "合计", *(column(lines) for column in columns)])
    return rows


def statutory_tables(books: Books, unit: str, year: int, *, clearance: bool = False) -> list[Table]:
    """The ten tables of a unit's year; classified projects as one row without
    ``clearance`` (see :mod:`projections.redaction`)."""
    code = books.unit(unit).code
    lines = books.lines_of(code, year)

    def fname(c: str) -> str:
        return books.label(CatalogueKind.FUNCTION, year, c)

    def ename(c: str) -> str:
        return books.label(CatalogueKind.ECONOMIC_DEPARTMENT, year, c)

    by_source = {s: [ln for ln in lines if ln.fund_source is s] for s in FundSource}
    fiscal = [ln for ln in lines if ln.fund_source in FISCAL]
    gpb = by_source[FundSource.GENERAL_PUBLIC_BUDGET]
    income: Callable[[LineView], int] = lambda ln: ln.totals.income  # noqa: E731
    spent: Callable[[LineView], int] = lambda ln: ln.totals.spent  # noqa: E731
    opening: Callable[[LineView], int] = lambda ln: ln.totals.opening  # noqa: E731
    closing: Callable[[LineView], int] = lambda ln: ln.totals.closing  # noqa: E731

    def basic(group: list[LineView]) -> int:
        return _sum((ln for ln in group if ln.nature.is_basic), spent)

    def project(group: list[LineView]) -> int:
        return _sum((ln for ln in group if ln.nature is Nature.PROJECT), spent)

    def of_nature(nature: Nature) -> Callable[[list[LineView]], int]:
        return lambda group: _sum((ln for ln in group if ln.nature is nature), spent)

    tables = []

    # 公开01表 收入支出决算总表
    t1 = Table("公开01表", "收入支出决算总表", ["收入项目", "收入决算数", "支出项目", "支出决算数"])
    income_rows = [
        ("一、一般公共预算财政拨款收入", _sum(gpb, income)),
        ("二、政府性基金预算财政拨款收入", _sum(by_source[FundSource.GOVERNMENT_FUND], income)),
        ("三、国有资本经营预算财政拨款收入", _sum(by_source[FundSource.STATE_CAPITAL], income)),
        ("四、上级补助收入", _sum(by_source[FundSource.HIGHER_LEVEL_SUBSIDY], income)),
        ("五、事业收入", _sum(by_source[FundSource.BUSINESS_INCOME], income)),
        ("六、经营收入", _sum(by_source[FundSource.OPERATING_INCOME], income)),
        ("七、附属单位上缴收入", _sum(by_source[FundSource.AFFILIATED_REMITTANCE], income)),
        ("八、其他收入", _sum(by_source[FundSource.OTHER], income)),
    ]
    classes = sorted({ln.function_code[:3] for ln in lines})
    spend_rows = [
        (fname(c), _sum((ln for ln in lines if ln.function_code[:3] == c), spent)) for c in classes
    ]
    for i in range(max(len(income_rows), len(spend_rows))):
        left = income_rows[i] if i < len(income_rows) else ("", None)
        right = spend_rows[i] if i < len(spend_rows) else ("", None)
        t1.rows.append(
            [
                left[0],
                None if left[1] is None else W(left[1]),
                right[0],
                None if right[1] is None else W(right[1]),
            ]
        )
    total_in, total_out = _sum(lines, income), _sum(lines, spent)
    used = _sum(lines, lambda ln: ln.totals.balance_used)
    distributed = _sum(lines, lambda ln: ln.totals.distributed)
    t1.rows += [
        ["本年收入合计", W(total_in), "本年支出合计", W(total_out)],
        ["使用非财政拨款结余", W(used), "结余分配", W(distributed)],
        ["年初结转和结余", W(_sum(lines, opening)), "年末结转和结余", W(_sum(lines, closing))],
        [
            "总计",
            W(total_in + used + _sum(lines, opening)),
            "总计",
            W(total_out + distributed + _sum(lines, closing)),
        ],
    ]
    tables.append(t1)

    # 公开02表 收入决算表
    sources = [
        FundSource.HIGHER_LEVEL_SUBSIDY,
        FundSource.BUSINESS_INCOME,
        FundSource.OPERATING_INCOME,
        FundSource.AFFILIATED_REMITTANCE,
        FundSource.OTHER,
    ]
    tables.append(
        Table(
            "公开02表",
            "收入决算表",
            [
                "科目编码",
                "科目名称",
                "本年收入合计",
                "财政拨款收入",
                "上级补助收入",
                "事业收入",
                "经营收入",
                "附属单位上缴收入",
                "其他收入",
            ],
            _function_rows(
                lines,
                [
                    lambda g: W(_sum(g, income)),
                    lambda g: W(_sum((ln for ln in g if ln.fund_source in FISCAL), income)),
                    *(
                        lambda g, s=s: W(_sum((ln for ln in g if ln.fund_source is s), income))
                        for s in sources
                    ),
                ],
                fname,
            ),
        )
    )

    # 公开03表 支出决算表
    tables.append(
        Table(
            "公开03表",
            "支出决算表",
            [
                "科目编码",
                "科目名称",
                "本年支出合计",
                "基本支出",
                "项目支出",
                "上缴上级支出",
                "经营支出",
                "对附属单位补助支出",
            ],
            _function_rows(
                lines,
                [
                    lambda g: W(_sum(g, spent)),
                    lambda g: W(basic(g)),
                    lambda g: W(project(g)),
                    *(lambda g, n=n: W(of_nature(n)(g)) for n in OTHER_NATURES),
                ],
                fname,
            ),
        )
    )

    # 公开04表 财政拨款收入支出决算总表
    t4 = Table(
        "公开04表",
        "财政拨款收入支出决算总表",
        [
            "项目",
            "合计",
            "一般公共预算财政拨款",
            "政府性基金预算财政拨款",
            "国有资本经营预算财政拨款",
        ],
    )

    def fiscal_row(
        label: str,
        value: Callable[[LineView], int],
        group: Callable[[LineView], bool] = lambda ln: True,
    ) -> list[Cell]:
        return [
            label,
            W(_sum((ln for ln in fiscal if group(ln)), value)),
            *(W(_sum((ln for ln in by_source[s] if group(ln)), value)) for s in FISCAL),
        ]

    t4.rows += [
        fiscal_row("年初财政拨款结转和结余", opening),
        fiscal_row("本年财政拨款收入", income),
        fiscal_row("收入总计", lambda ln: ln.totals.opening + ln.totals.income),
    ]
    for c in classes:

        def in_class(ln: LineView, c: str = c) -> bool:
            return ln.function_code[:3] == c

        t4.rows.append(fiscal_row(f"支出：{fname(c)}", spent, in_class))
    t4.rows += [
        fiscal_row("本年财政拨款支出", spent),
        fiscal_row("年末财政拨款结转和结余", closing),
        fiscal_row("支出总计", lambda ln: ln.totals.spent + ln.totals.closing),
    ]
    tables.append(t4)

    # 公开05表 一般公共预算财政拨款支出决算表
    def economic(group: list[LineView], classes_: frozenset[str]) -> int:
        return sum(
            a
            for ln in group
            if ln.nature.is_basic
            for e, a in ln.totals.spent_by_economic.items()
            if e[:3] in classes_
        )

    tables.append(
        Table(
            "公开05表",
            "一般公共预算财政拨款支出决算表",
            ["科目编码", "科目名称", "合计", "基本支出小计", "人员经费", "公用经费", "项目支出"],
            _function_rows(
                gpb,
                [
                    lambda g: W(_sum(g, spent)),
                    lambda g: W(basic(g)),
                    lambda g: W(economic(g, PERSONNEL_CLASSES)),
                    lambda g: W(economic(g, PUBLIC_OPERATING_CLASSES)),
                    lambda g: W(project(g)),
                ],
                fname,
            ),
        )
    )

    # 公开06表 一般公共预算财政拨款基本支出决算表
    t6 = Table(
        "公开06表", "一般公共预算财政拨款基本支出决算表", ["经济分类科目编码", "科目名称", "决算数"]
    )
    spent_by_item: dict[str, int] = defaultdict(int)
    for ln in gpb:
        if ln.nature.is_basic:
            for e, a in ln.totals.spent_by_economic.items():
                spent_by_item[e] += a
    for label, classes_ in (
        ("人员经费", PERSONNEL_CLASSES),
        ("公用经费", PUBLIC_OPERATING_CLASSES),
    ):
        items = sorted(e for e in spent_by_item if e[:3] in classes_)
        t6.rows.append(["", label, W(sum(spent_by_item[e] for e in items))])
        for klass in sorted({e[:3] for e in items}):
            t6.rows.append(
                [
                    klass,
                    ename(klass),
                    W(sum(spent_by_item[e] for e in items if e[:3] == klass)),
                ]
            )
            t6.rows += [[e, ename(e), W(spent_by_item[e])] for e in items if e[:3] == klass]
    t6.rows.append(["", "合计", W(sum(spent_by_item.values()))])
    tables.append(t6)

    # 公开07表 财政拨款“三公”经费支出决算表
    three: dict[str, int] = defaultdict(int)
    for ln in fiscal:
        for k, a in ln.three_public.items():
            three[k] += a
    budget = books.year(code, year).three_public_budget
    t7 = Table("公开07表", "财政拨款“三公”经费支出决算表", ["项目", "预算数", "决算数"])

    def tp(*categories: ThreePublic) -> tuple[Decimal, Decimal]:
        return (
            W(sum(budget.get(c.value, 0) for c in categories)),
            W(sum(three.get(c.value, 0) for c in categories)),
        )

    vehicles = (ThreePublic.VEHICLE_PURCHASE, ThreePublic.VEHICLE_OPERATION)
    for label, cats in (
        ("合计", tuple(ThreePublic)),
        ("1.因公出国（境）费", (ThreePublic.OVERSEAS_TRAVEL,)),
        ("2.公务用车购置及运行维护费", vehicles),
        ("（1）公务用车购置费", (ThreePublic.VEHICLE_PURCHASE,)),
        ("（2）公务用车运行维护费", (ThreePublic.VEHICLE_OPERATION,)),
        ("3.公务接待费", (ThreePublic.OFFICIAL_RECEPTION,)),
    ):
        t7.rows.append([label, *tp(*cats)])
    tables.append(t7)

    # 公开08表 / 公开09表
    for table_code, title, source in (
        ("公开08表", "政府性基金预算财政拨款收入支出决算表", FundSource.GOVERNMENT_FUND),
        ("公开09表", "国有资本经营预算财政拨款收入支出决算表", FundSource.STATE_CAPITAL),
    ):
        group = by_source[source]
        table = Table(
            table_code,
            title,
            [
                "科目编码",
                "科目名称",
                "年初结转和结余",
                "本年收入",
                "本年支出",
                "基本支出",
                "项目支出",
                "年末结转和结余",
            ],
        )
        if any(ln.totals.opening or ln.totals.income or ln.totals.spent for ln in group):
            table.rows = _function_rows(
                group,
                [
                    lambda g: W(_sum(g, opening)),
                    lambda g: W(_sum(g, income)),
                    lambda g: W(_sum(g, spent)),
                    lambda g: W(basic(g)),
                    lambda g: W(project(g)),
                    lambda g: W(_sum(g, closing)),
                ],
                fname,
            )
        else:
            table.note = "本单位本年度无此项收入、支出及结转和结余，本表为空表。"
        tables.append(table)

    # 项目支出绩效自评表（资金）
    perf = Table(
        "绩效自评",
        "项目支出绩效自评表（项目资金）",
        ["项目名称", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率(%)", "得分"],
    )
    for row in project_rows(books, code, year, clearance=clearance):
        total = row["funds"]["total"]
        perf.rows.append(
            [
                row["name"],
                None if total["initial_budget"] is None else Decimal(total["initial_budget"]),
                Decimal(total["full_year_budget"]),
                Decimal(total["executed"]),
                10,
                None if row["execution_rate_pct"] is None else Decimal(row["execution_rate_pct"]),
                None if row["funds_score"] is None else Decimal(row["funds_score"]),
            ]
        )
    tables.append(perf)
    return tables
