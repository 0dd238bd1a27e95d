"""Reports printed for a person: sections with Chinese headings, tables aligned."""

from __future__ import annotations

import unicodedata
from typing import Any

from ledger.classifications import FUND_SOURCE_NAMES, NATURE_NAMES, THREE_PUBLIC_NAMES
from projections.final_accounts import EMPTY_BUDGET

LABELS: dict[str, str] = {
    "staff": "人员情况",
    "overview": "一、收入支出决算总体情况（万元）",
    "income_by_source": "二、收入决算情况",
    "expenditure_by_nature": "三、支出决算情况",
    "fiscal_appropriation": "四、财政拨款收入支出决算总体情况",
    "general_public_budget_expenditure": "五、一般公共预算财政拨款支出决算",
    "by_function_class": "五（二）、按功能分类（类）",
    "by_function_item": "五（三）、按功能分类（项）",
    "basic_expenditure": "六、一般公共预算财政拨款基本支出",
    "three_public_expenses": "七、财政拨款“三公”经费支出",
    "three_public_expenses_detail": "七（二）、“三公”经费分项（预算、决算、完成率、增减、占比）",
    "prior_year_comparison": "上年数来源",
    "government_fund_budget": "八、政府性基金预算财政拨款",
    "state_capital_budget": "九、国有资本经营预算财政拨款",
    "office_operating_expenses": "十（一）、机关运行经费",
    "government_procurement": "十（二）、政府采购",
    "state_assets": "十（三）、国有资产占用",
    "performance_evaluation": "十一、预算绩效",
    "projects": "项目支出绩效自评（资金）",
    "lines": "预算指标",
    "income_total": "收入总计",
    "current_year_income": "本年收入合计",
    "non_fiscal_balance_used": "使用非财政拨款结余",
    "opening_carryover_and_balance": "年初结转和结余",
    "income_total_change_from_prior_year": "收入总计比上年增减",
    "income_total_change_pct": "收入总计增长率%",
    "expenditure_total": "支出总计",
    "current_year_expenditure": "本年支出合计",
    "balance_distribution": "结余分配",
    "closing_carryover_and_balance": "年末结转和结余",
    "expenditure_total_change_from_prior_year": "支出总计比上年增减",
    "expenditure_total_change_pct": "支出总计增长率%",
    "current_year_income_change_from_prior_year": "本年收入比上年增减",
    "current_year_income_change_pct": "本年收入增长率%",
    "current_year_expenditure_change_from_prior_year": "本年支出比上年增减",
    "current_year_expenditure_change_pct": "本年支出增长率%",
    "completion_of_budget_pct": "预算完成率%",
    "budget": "预算数",
    "amount_yuan": "金额（元）",
    "budget_yuan": "预算数（元）",
    "change_from_prior_year_yuan": "比上年增减（元）",
    "overseas_travel": "因公出国（境）费",
    "vehicle_purchase": "公务用车购置费",
    "vehicle_operation": "公务用车运行维护费",
    "official_reception": "公务接待费",
    "item": "项目",
    "initial_budget_income_total": "收入总计年初预算数",
    "initial_budget_expenditure_total": "支出总计年初预算数",
    "budget_to_final_variance_pct": "预决算差异率%",
    "amount": "金额",
    "share_pct": "占比%",
    "change_from_prior_year": "比上年增减",
    "change_pct": "增长率%",
    "total": "合计",
    "personnel": "人员经费",
    "public_operating": "公用经费",
    "full_year_budget": "全年预算数",
    "executed": "全年执行数",
    "initial_budget": "年初预算数",
    "execution_rate_pct": "执行率%",
    "funds_score": "得分",
    "available": "可用余额",
}

# Every other field the reports print, so that a table never shows an English key.
LABELS.update(
    {
        "adjustments_after_close": "结账后的调整分录",
        "amount_unit": "金额单位",
        "awarded_to_sme": "授予中小企业合同金额",
        "awarded_to_sme_pct": "授予中小企业合同金额占比%",
        "awarded_to_micro_small": "授予小微企业合同金额",
        "awarded_to_micro_small_pct": "授予小微企业合同金额占比%",
        "balance": "余额",
        "balance_by_fund_source": "按资金来源的余额",
        "budget": "预算数",
        "buildings_m2": "房屋（平方米）",
        "business_date": "业务日期",
        "carried_in": "上年结转",
        "carried_out": "结转下年",
        "carried_over": "结转",
        "carried_over_at_close": "年终结转",
        "classified": "涉密",
        "classified_projects": "涉密项目",
        "clawed_back": "财政收回",
        "clawed_back_prior_year_carryover": "收回上年结转资金",
        "code": "编码",
        "corrects": "更正的分录",
        "current_year_fiscal": "当年财政拨款",
        "departments": "内设机构",
        "derived_function_codes": "对应功能分类",
        "document_no": "凭证号 / 文号",
        "expenditure_nature": "支出性质",
        "fiscal_year": "年度",
        "fixed_assets_original_value": "固定资产原值",
        "function_code": "功能分类",
        "fund_source": "资金来源",
        "funds": "资金",
        "general_public_budget": "一般公共预算财政拨款",
        "goods": "货物",
        "headcount": "实有人数",
        "implementing_units": "实施单位",
        "in_service": "在职人员",
        "lapsed": "结余",
        "lapsed_at_close": "年终结余",
        "line": "预算指标",
        "memo": "摘要",
        "name": "名称",
        "nature": "支出性质",
        "official_reception": "公务接待费",
        "opening": "年初结转和结余",
        "other": "其他资金",
        "overseas_groups": "因公出国（境）团组",
        "overseas_persons": "因公出国（境）人次",
        "overseas_travel": "因公出国（境）费",
        "payee": "收款单位",
        "personnel_items": "人员经费包括",
        "position": "日志位置",
        "posted_by": "记账人",
        "prior_year_carryover": "上年结转资金",
        "project": "项目",
        "projects_evaluated": "绩效自评项目数",
        "public_operating_items": "公用经费包括",
        "reception_batches": "公务接待批次",
        "reception_persons": "公务接待人次",
        "recorded_at": "记录时间",
        "retired": "退休人员",
        "retired_before_1949_lixiu": "离休人员",
        "services": "服务",
        "share_of_current_year_expenditure_pct": "占本年支出%",
        "source": "资金来源",
        "title": "名称",
        "total_balance_wanyuan": "余额合计（万元）",
        "type": "类型",
        "unit": "单位",
        "variance_formula": "预决算差异率计算公式",
        "vehicle_operation": "公务用车运行维护费",
        "vehicle_purchase": "公务用车购置费",
        "vehicles": "车辆（辆）",
        "vehicles_held": "公务用车保有量（辆）",
        "vehicles_purchased": "公务用车购置数（辆）",
        "vehicles_value": "车辆价值",
        "works": "工程",
        "year_status": "年度状态",
    }
)
#: Values of the ledger's own enumerations, as the tables print them.
VALUES: dict[str, str] = {
    **{k.value: v for k, v in FUND_SOURCE_NAMES.items()},
    **{k.value: v for k, v in NATURE_NAMES.items()},
    **{k.value: v for k, v in THREE_PUBLIC_NAMES.items()},
    "basic": "基本支出",
    "project": "项目支出",
    "open": "进行中",
    "closing": "结账中",
    "closed": "已结账",
    EMPTY_BUDGET: "空（无收入、支出和结余）",
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{LABELS.get(k, k)}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_cell(v) for v in value)
    if isinstance(value, str):
        return VALUES.get(value, value)
    return str(value)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Rows of dicts as an aligned text table (None printed as —: not defined)."""
    if not rows:
        return "  (none)"
    columns = columns or list(rows[0])
    headers = [LABELS.get(c, c) for c in columns]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(_width(h), *(_width(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  " + "  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  " + "  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def render(report: dict[str, Any], *, title: str) -> str:
    """Any report (dict of sections) as text."""
    out = [title, "=" * _width(title)]
    in_yuan = str(report.get("amount_unit", "")).startswith("元")
    for key, value in report.items():
        if key in ("unit", "fiscal_year", "amount_unit"):
            continue
        out.append("")
        label = LABELS.get(key, key)
        out.append(label.replace("（万元）", "（元）") if in_yuan else label)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            flat = [
                {
                    k: (_cell(v) if isinstance(v, dict) and k != "funds" else v)
                    for k, v in row.items()
                }
                for row in value
            ]
            if key == "projects":
                flat = [
                    {
                        "name": row["name"],
                        "initial_budget": row["funds"]["total"]["initial_budget"],
                        "full_year_budget": row["funds"]["total"]["full_year_budget"],
                        "executed": row["funds"]["total"]["executed"],
                        "execution_rate_pct": row.get("execution_rate_pct"),
                        "funds_score": row.get("funds_score"),
                    }
                    for row in value
                ]
            out.append(table(flat))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            out.append(table([{"item": LABELS.get(k, k), **v} for k, v in value.items()]))
        elif isinstance(value, dict):
            for k, v in value.items():
                out.append(f"  {LABELS.get(k, k)}: {_cell(v)}")
        else:
            out.append(f"  {_cell(value)}")
    return "\n".join(out)
