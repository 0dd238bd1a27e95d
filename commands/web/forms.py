"""The postings a clerk makes from the 工作台: which fields each form has, their Chinese
labels, and which field a refusal of the books concerns (its message is shown there)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ledger.classifications import THREE_PUBLIC_NAMES
from ledger.money import parse_amount, yuan_str


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"
    """text, date, checkbox, select, textarea."""
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""


AMOUNT = Field("amount", "金额（元）", hint="如 4300 或 1,234.56 或 26.08万")
DATE = Field("business_date", "业务日期", "date")
DOCUMENT = Field("document_no", "凭证号 / 文号")
VOUCHER_DOCUMENT = Field("document_no", "凭证号")
PAYEE = Field("payee", "收款单位")
MEMO = Field("memo", "摘要", required=False)
THREE_PUBLIC = Field(
    "three_public",
    "“三公”经费类别",
    "select",
    required=False,
    options=(("", "（不是“三公”经费）"), *((k.value, v) for k, v in THREE_PUBLIC_NAMES.items())),
)


@dataclass(frozen=True)
class PostingForm:
    """One kind of posting a form makes."""

    kind: str
    """The URL name of the form."""
    command_type: str
    title: str
    fields: tuple[Field, ...]
    defaults: dict[str, str] = field(default_factory=dict)


FORMS: dict[str, PostingForm] = {
    f.kind: f
    for f in (
        PostingForm(
            "allocate",
            "allocate_budget",
            "下达 / 追加预算",
            (AMOUNT, DOCUMENT, DATE, Field("initial", "年初预算数", "checkbox", False), MEMO),
        ),
        PostingForm("reduce", "reduce_budget", "追减 / 调减预算", (AMOUNT, DOCUMENT, DATE, MEMO)),
        PostingForm(
            "transfer",
            "transfer_to_enterprise",
            "拨付企业",
            (AMOUNT, PAYEE, Field("economic_code", "经济分类"), VOUCHER_DOCUMENT, DATE, MEMO),
            {"economic_code": "31299"},
        ),
        PostingForm(
            "disburse",
            "disburse",
            "支付",
            (
                AMOUNT,
                PAYEE,
                Field("economic_code", "经济分类", hint="五位经济分类款项，如 30201 办公费"),
                VOUCHER_DOCUMENT,
                DATE,
                THREE_PUBLIC,
                MEMO,
            ),
        ),
        PostingForm(
            "claw-back",
            "claw_back",
            "财政收回",
            (
                AMOUNT,
                DOCUMENT,
                DATE,
                Field("from_carryover", "收回上年结转资金", "checkbox", False),
                MEMO,
            ),
        ),
        PostingForm(
            "reverse",
            "reverse_entry",
            "红字冲销",
            (
                Field("reverses_command_id", "被冲销的指令号"),
                Field("reason", "冲销原因", "textarea"),
                VOUCHER_DOCUMENT,
                DATE,
                MEMO,
            ),
        ),
    )
}

#: Fields every posting may also carry, shown when they matter.
CONFIRM_DUPLICATE = Field("confirm_duplicate", "确认重复记账的理由", "textarea", False)
ADJUSTMENT_REASON = Field(
    "adjustment_reason", "调整原因（已结账年度的更正分录）", "textarea", False
)
LINE = Field("line", "预算指标", "select")

#: The field a refusal of the books concerns, by its code (others are shown at the top).
ERROR_FIELD = {
    "overspend": "amount",
    "invalid_amount": "amount",
    "possible_duplicate": "confirm_duplicate",
    "nature_mismatch": "economic_code",
    "not_reversible": "reverses_command_id",
    "unknown_line": "line",
    "project_ended": "line",
    "adjustment_not_allowed": "adjustment_reason",
}


def new_command_id() -> str:
    """The id a form carries from the moment it is shown: however often it is sent (a
    double click, a refresh, the back button), it posts once."""
    return f"web-{uuid.uuid4().hex[:24]}"


def command_data(
    form: PostingForm, values: dict[str, str], *, unit: str, year: int, identity: str
) -> dict[str, Any]:
    """The command a filled-in form stands for, in the import format."""
    data: dict[str, Any] = {
        "type": form.command_type,
        "command_id": values.get("command_id", ""),
        "posted_by": identity,
        "unit": unit,
        "year": year,
        "line": values.get("line", ""),
    }
    for f in (*form.fields, CONFIRM_DUPLICATE, ADJUSTMENT_REASON):
        value = values.get(f.name, "")
        if f.kind == "checkbox":
            data[f.name] = value == "on"
        elif value.strip():
            data[f.name] = value
        elif f.required:
            data[f.name] = value  # refused as missing, next to the field
    for name, value in form.defaults.items():
        data.setdefault(name, value)
    return data


def shown_values(form: PostingForm, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of what a confirmation shows will be posted."""
    rows = [(LINE.label, str(data["line"]))]
    for f in (*form.fields, CONFIRM_DUPLICATE, ADJUSTMENT_REASON):
        value = data.get(f.name)
        if f.kind == "checkbox":
            rows.append((f.label, "是" if value else "否"))
        elif f.kind == "select" and value:
            rows.append((f.label, dict(f.options).get(str(value), str(value))))
        elif f is AMOUNT and value not in (None, ""):
            rows.append((f.label, exact_amount(str(value))))
        elif value not in (None, ""):
            rows.append((f.label, str(value)))
    return rows


def exact_amount(typed: str) -> str:
    """The amount that will be posted, in yuan with two decimals, parsed by the ledger's
    one grammar (so ``26.08万`` shows as ``260800.00``), and beside it what was typed when
    that reads otherwise."""
    exact = yuan_str(parse_amount(typed))
    return exact if typed.strip() == exact else f"{exact}（所填：{typed.strip()}）"
