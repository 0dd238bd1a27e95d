"""Command models: what a clerk (or a job, or the import file) asks the ledger to do.

Every command is a pydantic model with a ``type`` tag, the client's ``command_id``
and the posting metadata; amounts are written as yuan text (``"1234.56"``) or 万元
(``"26.08万"``) and held as integer fen. JSON Lines import uses exactly these
models, one per line.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ledger.classifications import (
    FundSource,
    Nature,
    ProcurementCategory,
    SupplierSize,
    ThreePublic,
    require_function_shape,
)
from ledger.classifications.catalogue import CatalogueKind
from ledger.closing.policy import Outcome
from ledger.codes import (
    BUSINESS_CODE_PATTERN,
    COMMAND_ID_PATTERN,
    require_business_code,
    require_command_id,
)
from ledger.errors import InvalidInput, LedgerError
from ledger.money import AMOUNT_PATTERN, parse_amount, yuan_str
from ledger.roles import Role
from ledger.text_policy import multi_line, nested_text, single_line


def _parse_positive(value: object) -> int:
    return parse_amount(value)


def _parse_non_negative(value: object) -> int:
    return parse_amount(value, allow_zero=True)


#: A positive amount: yuan text in, integer fen inside, yuan text out.
_AMOUNT_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string", "maxLength": 40, "pattern": AMOUNT_PATTERN},
            {"type": "integer"},
        ],
        "description": 'Yuan as text ("1234.56" or "1,234.56", at most two decimals, '
        'optionally ending in 元) or 万元 ("26.08万", "26.08万元", at most four decimals); '
        "ASCII digits, commas only between groups of three, no sign or exponent. "
        "An integer is whole yuan. Never a floating-point number.",
        "examples": ["1234.56", "26.08万"],
    }
)
Amount = Annotated[
    int,
    BeforeValidator(_parse_positive),
    PlainSerializer(yuan_str, when_used="json"),
    _AMOUNT_SCHEMA,
]
#: A zero-or-positive amount (budgets and published figures may be zero).
NonNegativeAmount = Annotated[
    int,
    BeforeValidator(_parse_non_negative),
    PlainSerializer(yuan_str, when_used="json"),
    _AMOUNT_SCHEMA,
]
#: One-line free text under the text policy (ledger/text_policy.py): no control,
#: invisible or bidirectional characters; stored in NFC. Give it a length with Field.
OneLine = Annotated[str, BeforeValidator(single_line)]
#: Multi-line free text under the text policy: tabs and line breaks allowed (CR LF → LF).
MultiLine = Annotated[str, BeforeValidator(multi_line)]
#: One-line text: a name, a payee, who posted.
Text = Annotated[OneLine, Field(min_length=1, max_length=200)]
#: Free text: a memo.
Memo = Annotated[MultiLine, Field(max_length=1000)]
#: A reason the clerk must give.
Reason = Annotated[MultiLine, Field(min_length=1, max_length=1000)]
#: 文号 / 凭证号, where a posting needs one.
DocumentNo = Annotated[OneLine, Field(min_length=1, max_length=200)]
#: A business code: a unit, budget line or project code (one pattern, ledger.codes).
BusinessCode = Annotated[
    str,
    AfterValidator(require_business_code),
    WithJsonSchema({"type": "string", "pattern": BUSINESS_CODE_PATTERN, "maxLength": 64}),
]
#: A command id: the client's own id for one command (a voucher number will do).
CommandId = Annotated[
    str,
    AfterValidator(require_command_id),
    WithJsonSchema({"type": "string", "pattern": COMMAND_ID_PATTERN, "maxLength": 64}),
]
#: The id of a step of the year-end close (it names the run and the line: longer than a
#: client's command id may be).
StepId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
#: A unit named by its code or by its full registered name (resolved by the handler).
UnitRef = Annotated[OneLine, Field(min_length=1, max_length=200)]


class Command(BaseModel):
    """Fields every command carries."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    system_only: ClassVar[bool] = False
    """True for the steps the ledger makes itself (the year-end close): no client may send
    them, and their ids live in a namespace of their own."""

    type: str
    """The kind of command (each subclass fixes it)."""
    command_id: CommandId
    """The client's id for this command; resend the same id to retry safely."""
    posted_by: Text
    business_date: date
    """业务日期: when it happened in the books."""
    document_no: Annotated[OneLine, Field(max_length=200)] = ""
    """文号 / 凭证号 behind the posting."""
    memo: Memo = ""
    adjustment_reason: Reason | None = None
    """Required for a correcting entry into a closed year (closer role, adjustment period)."""

    def fingerprint(self) -> str:
        """SHA-256 of the canonical content: the same command always has the same one."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def meta(self) -> dict[str, Any]:
        """The posting metadata every event records."""
        return {
            "posted_by": self.posted_by,
            "business_date": self.business_date,
            "document_no": self.document_no,
            "memo": self.memo,
            "command_id": self.command_id,
            "adjustment_reason": self.adjustment_reason,
        }


class LineCommand(Command):
    """A command about one budget line, named by unit, year and line code."""

    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    line: BusinessCode


class MoneyCommand(LineCommand):
    """A line command that moves money. Money postings need their document number."""

    amount: Amount
    document_no: DocumentNo
    confirm_duplicate: Reason | None = None
    """The clerk's reason for posting what looks like a duplicate (same kind, document
    number, payee and amount as an earlier posting of the line that was not reversed)."""

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "duplicate_confirmed": self.confirm_duplicate}


class RegisterUnit(Command):
    """Register a budget unit (预算单位)."""

    type: Literal["register_unit"] = "register_unit"
    code: BusinessCode
    name: Text
    kind: Literal["administrative", "institution"] = "administrative"


class DeclareDepartment(Command):
    """Declare a department (部门) whose 部门决算 consolidates the units assigned to it."""

    type: Literal["declare_department"] = "declare_department"
    code: BusinessCode
    name: Text


class AssignUnitToDepartment(Command):
    """Assign a unit to a department: its accounts are consolidated into the department's
    (its own office, 机关本级, or a subordinate unit). A unit belongs to one department."""

    type: Literal["assign_unit_to_department"] = "assign_unit_to_department"
    department: BusinessCode
    unit: UnitRef


class OpenFiscalYear(Command):
    """Open a unit's fiscal year for posting."""

    type: Literal["open_fiscal_year"] = "open_fiscal_year"
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]


class RegisterProject(Command):
    """Register a project of a unit."""

    type: Literal["register_project"] = "register_project"
    unit: UnitRef
    code: BusinessCode
    name: Annotated[OneLine, Field(min_length=1, max_length=500)]
    implementing_units: Annotated[OneLine, Field(max_length=500)] = ""
    classified: bool = False
    final_year: Annotated[int, Field(ge=1949, le=2200)] | None = None
    """The project's last year; its unspent money carries over only before it."""


class OpenBudgetLine(LineCommand):
    """Open a budget line (预算指标) in an open year."""

    type: Literal["open_budget_line"] = "open_budget_line"
    title: Annotated[OneLine, Field(min_length=1, max_length=500)]
    nature: Nature
    function_code: str
    fund_source: FundSource = FundSource.GENERAL_PUBLIC_BUDGET
    project: BusinessCode | None = None
    beyond_final_year: Reason | None = None
    """The reason for opening a project's line in a year after the project's final year
    (e.g. the project was extended by 文号 …); refused without one."""

    @field_validator("function_code")
    @classmethod
    def _function_item(cls, value: str) -> str:
        return require_function_shape(value)


class AllocateBudget(MoneyCommand):
    """下达 / 追加: assign money to a line, as initial budget or as an in-year top-up."""

    type: Literal["allocate_budget"] = "allocate_budget"
    initial: bool = False
    """True for 年初预算数 approved at the start of the year."""


class ReduceBudget(MoneyCommand):
    """追减 / 调减: lower a line before the money is spent."""

    type: Literal["reduce_budget"] = "reduce_budget"


class TransferToEnterprise(MoneyCommand):
    """拨付: pay an implementing enterprise from a project line (economic class 312)."""

    type: Literal["transfer_to_enterprise"] = "transfer_to_enterprise"
    payee: Text
    economic_code: Annotated[str, Field(pattern=r"^\d{5}$")] = "31299"


class Disburse(MoneyCommand):
    """支付: any other payment from a line."""

    type: Literal["disburse"] = "disburse"
    payee: Text
    economic_code: Annotated[str, Field(pattern=r"^\d{5}$")]
    three_public: ThreePublic | None = None
    procurement_category: ProcurementCategory | None = None
    supplier_size: SupplierSize | None = None


class ClawBack(MoneyCommand):
    """财政收回: the finance bureau takes back unspent money from a line."""

    type: Literal["claw_back"] = "claw_back"
    from_carryover: bool = False
    """Taking back last year's carryover (上年度经费未支完，财政收回)."""


class ReverseEntry(LineCommand):
    """红字冲销: undo an earlier money posting of a line, named by its command id."""

    type: Literal["reverse_entry"] = "reverse_entry"
    reverses_command_id: CommandId
    reason: Reason
    document_no: DocumentNo


class OpenBalance(MoneyCommand):
    """Take on a line's opening balance (年初结转和结余) from years the ledger never saw,
    with the document it rests on (``document_no``). The line names what it is for: fund
    source, function item, basic or project, project.

    Accepted only in a year whose prior year is not in the ledger, before the year's first
    money posting. A take-on is corrected like any posting — reversed (``reverse_entry``
    naming its command id) — and the right balance taken on again with ``corrects`` naming
    the reversed take-on; after the first posting that is the only take-on accepted."""

    type: Literal["open_balance"] = "open_balance"
    corrects: CommandId | None = None
    """Command id of the reversed take-on of this line that this one replaces."""


class RecordReceipt(MoneyCommand):
    """Record non-fiscal income received on a line of that fund source (上级补助收入,
    事业收入, 经营收入, 附属单位上缴收入, 其他收入); appropriations are allocated instead."""

    type: Literal["record_receipt"] = "record_receipt"
    payer: Text


class UseNonFiscalBalance(MoneyCommand):
    """使用非财政拨款结余: draw earlier years' non-fiscal balance into a non-fiscal line."""

    type: Literal["use_non_fiscal_balance"] = "use_non_fiscal_balance"


class DistributeBalance(MoneyCommand):
    """结余分配: distribute non-fiscal surplus of a line (提取专用基金, 缴纳所得税 …)."""

    type: Literal["distribute_balance"] = "distribute_balance"
    purpose: Text


class PriorYearItem(BaseModel):
    """A published prior-year figure of one function item."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    amount: NonNegativeAmount


class PriorYearFigures(BaseModel):
    """Published figures of the year before (for units whose prior year is not in the ledger).

    Each figure is optional: a unit that publishes only part of its prior year (a 三公
    statement alone) imports what it published, and a figure left out is not compared
    (or comes from the ledger's own prior year, by the report's prior-year rule)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    income_total: NonNegativeAmount | None = None
    expenditure_total: NonNegativeAmount | None = None
    fiscal_appropriation_income_total: NonNegativeAmount | None = None
    fiscal_appropriation_expenditure_total: NonNegativeAmount | None = None
    general_public_budget_expenditure: NonNegativeAmount | None = None
    function_items: list[PriorYearItem] | None = None
    three_public: dict[ThreePublic, NonNegativeAmount] | None = None
    office_operating_expenses: NonNegativeAmount | None = None
    current_year_income: NonNegativeAmount | None = None
    """本年收入合计 of the prior year, as published (optional: without it, and without the
    prior year in the ledger, the report prints no change of 本年收入)."""
    current_year_expenditure: NonNegativeAmount | None = None
    """本年支出合计 of the prior year, as published (optional, as above)."""

    @model_validator(mode="after")
    def _some_figure(self) -> PriorYearFigures:
        if all(value is None for value in self.__dict__.values()):
            raise ValueError("give at least one published prior-year figure")
        return self


class ImportPriorYearFigures(Command):
    """Record the published prior-year figures of a unit, for year-on-year comparison."""

    type: Literal["import_prior_year_figures"] = "import_prior_year_figures"
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    """The year whose reports compare against these figures (the prior year is year − 1)."""
    figures: PriorYearFigures


class SetThreePublicBudget(Command):
    """Set the full-year budget of the three public expenses for a unit and year."""

    type: Literal["set_three_public_budget"] = "set_three_public_budget"
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    amounts: dict[ThreePublic, NonNegativeAmount]


#: A code of a classification catalogue (类 3 digits, 款 5, 项 7).
CatalogueCode = Annotated[str, Field(pattern=r"^[0-9]{3}([0-9]{2}){0,2}$")]


class ImportCatalogue(Command):
    """Load a classification catalogue (政府收支分类科目) for a year, as a finance bureau
    maintains it; validated whole by the handler (ledger/classifications/catalogue.py).
    Loading another catalogue for the same year and kind replaces it."""

    type: Literal["import_catalogue"] = "import_catalogue"
    kind: CatalogueKind
    year: Annotated[int, Field(ge=1949, le=2200)]
    entries: Annotated[
        list[tuple[CatalogueCode, Annotated[OneLine, Field(min_length=1, max_length=200)]]],
        Field(min_length=1, max_length=50_000),
    ]
    """``[code, name]`` pairs, every level (类 and 款, and 项 for the function
    classification)."""
    mapping: Annotated[dict[CatalogueCode, CatalogueCode], Field(max_length=50_000)] = {}
    """The year before's code → this year's, for codes that were renumbered or merged."""
    source: Annotated[OneLine, Field(min_length=1, max_length=500)]
    """Where the catalogue comes from (the file's name, the 财政部 document)."""


class YearFacts(BaseModel):
    """Non-monetary facts printed in the final accounts (人员、车辆、资产)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    headcount: int = Field(default=0, ge=0)
    in_service: int = Field(default=0, ge=0)
    retired_before_1949_lixiu: int = Field(default=0, ge=0)
    retired: int = Field(default=0, ge=0)
    departments: int = Field(default=0, ge=0)
    vehicles_held: int = Field(default=0, ge=0)
    vehicles_purchased: int = Field(default=0, ge=0)
    overseas_groups: int = Field(default=0, ge=0)
    overseas_persons: int = Field(default=0, ge=0)
    reception_batches: int = Field(default=0, ge=0)
    reception_persons: int = Field(default=0, ge=0)
    fixed_assets_original_value: NonNegativeAmount = 0
    buildings_m2: int = Field(default=0, ge=0)
    vehicles: int = Field(default=0, ge=0)
    vehicles_value: NonNegativeAmount = 0


class RecordYearFacts(Command):
    """Record the non-monetary facts of a unit's year."""

    type: Literal["record_year_facts"] = "record_year_facts"
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    facts: YearFacts


class StartClosing(Command):
    """Begin the year-end close: the year stops taking postings; next year is opened."""

    system_only: ClassVar[bool] = True
    type: Literal["start_closing"] = "start_closing"
    command_id: StepId
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    policy: Annotated[dict[str, Any], AfterValidator(nested_text)]
    """The closing policy applied (recorded with the close)."""
    before_year_end: Reason | None = None
    """Why the year is closed before its 31 December (refused without a reason)."""


class CloseLine(LineCommand):
    """Settle one line's unspent balance at year end: carry it over or let it lapse."""

    system_only: ClassVar[bool] = True
    type: Literal["close_line"] = "close_line"
    command_id: StepId
    outcome: Outcome
    rule: Annotated[OneLine, Field(max_length=200)]
    """The policy rule that decided the outcome."""


class FinishClosing(Command):
    """Lock the year once every line is settled."""

    system_only: ClassVar[bool] = True
    type: Literal["finish_closing"] = "finish_closing"
    command_id: StepId
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    adjustment_until: date
    """Last day on which a closer may post a correcting entry into the year."""
    sealed_position: Annotated[int | None, Field(ge=0)] = None
    sealed_hash: Annotated[str | None, Field(max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")] = None
    """The seal: the chain's head (position and link) the close finished on; checked
    against the log when the command is applied (see ``commands.closing``)."""


class ResumeClosing(Command):
    """Let a stuck close go on (admin, with a reason): the close's next run uses fresh step
    ids, so whatever blocked the old ones no longer does."""

    type: Literal["resume_closing"] = "resume_closing"
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    reason: Memo = Field(min_length=1)


class AbandonClosing(Command):
    """Give up a close that cannot finish (admin, with a reason): the year is open again.
    Lines already settled by it stay settled, as after a reopening."""

    type: Literal["abandon_closing"] = "abandon_closing"
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    reason: Memo = Field(min_length=1)


class ReopenFiscalYear(Command):
    """Reopen a closed year (admin only, with a reason; rare)."""

    type: Literal["reopen_fiscal_year"] = "reopen_fiscal_year"
    unit: UnitRef
    year: Annotated[int, Field(ge=1949, le=2200)]
    reason: Reason


class IssueToken(Command):
    """Issue an API token (admin). Carries only the salted hash of the secret."""

    type: Literal["issue_token"] = "issue_token"
    token_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    identity: Text
    role: Role
    clearance: bool = False
    units: list[UnitRef] = []
    """The units the token may act in and read (codes or full names); empty: every unit,
    which only auditors and admins may have."""
    salt: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class RevokeToken(Command):
    """Revoke an API token (admin)."""

    type: Literal["revoke_token"] = "revoke_token"
    token_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    reason: Reason


AnyCommand = Annotated[
    RegisterUnit
    | DeclareDepartment
    | AssignUnitToDepartment
    | OpenFiscalYear
    | RegisterProject
    | OpenBudgetLine
    | AllocateBudget
    | ReduceBudget
    | TransferToEnterprise
    | Disburse
    | ClawBack
    | ReverseEntry
    | OpenBalance
    | RecordReceipt
    | UseNonFiscalBalance
    | DistributeBalance
    | ImportPriorYearFigures
    | SetThreePublicBudget
    | RecordYearFacts
    | ImportCatalogue
    | StartClosing
    | CloseLine
    | FinishClosing
    | ResumeClosing
    | AbandonClosing
    | ReopenFiscalYear
    | IssueToken
    | RevokeToken,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[AnyCommand] = TypeAdapter(cast(Any, AnyCommand))


def _problems(
    error: ValidationError, tag: object = None
) -> list[tuple[str, str, Exception | None]]:
    problems: list[tuple[str, str, Exception | None]] = []
    for item in error.errors():
        loc = item["loc"]
        if loc and loc[0] == tag:
            loc = loc[1:]
        where = ".".join(str(p) for p in loc) or "command"
        underlying = (item.get("ctx") or {}).get("error")
        if isinstance(underlying, LedgerError):
            message = underlying.message
        else:
            message = item["msg"].removeprefix("Value error, ")
            underlying = None
        problems.append((where, message, underlying))
    return problems


def describe_validation_error(error: ValidationError, tag: object = None) -> str:
    """One clerk-readable clause per problem, naming the field."""
    return "; ".join(f"{where}: {message}" for where, message, _ in _problems(error, tag))


C = TypeVar("C", bound=Command)


def build_command(cls: type[C], **fields: Any) -> C:
    """A command the ledger builds from a client's input (the close's options, a stuck
    close's reason): invalid input is refused as :class:`InvalidInput` naming the field,
    as :func:`parse_command` does, never an unexpected error."""
    try:
        return cls(**fields)
    except ValidationError as error:
        raise InvalidInput(describe_validation_error(error)) from None


#: Command types only the ledger itself makes (the steps of the year-end close).
SYSTEM_COMMAND_TYPES = frozenset(
    c.model_fields["type"].default for c in (StartClosing, CloseLine, FinishClosing)
)


def command_unit(command: Command) -> str | None:
    """The unit a command is about (code, or a full name before resolution), if any."""
    if isinstance(command, RegisterUnit):
        return command.code
    unit = getattr(command, "unit", None)
    return unit if isinstance(unit, str) else None


def parse_command(data: object, *, close_steps: bool = False) -> AnyCommand:
    """Build a client's command from parsed JSON (CLI, import, HTTP, web page), or raise a
    :class:`LedgerError` naming the field.

    A single bad amount raises :class:`InvalidAmount`, a single bad code
    :class:`UnknownCode`; anything else :class:`InvalidInput`. The steps of the year-end
    close are refused unless ``close_steps`` (an admin importing a history together with
    the closes another system made; see ``fundflow import --with-close-steps``).
    """
    if not isinstance(data, dict):
        raise InvalidInput('a command must be a JSON object with a "type" field')
    if data.get("type") in SYSTEM_COMMAND_TYPES and not close_steps:
        raise InvalidInput(
            f"{data['type']} is a step of the year-end close, made by the close itself "
            "(fundflow close-year); it cannot be posted"
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as error:
        problems = _problems(error, data.get("type"))
        message = describe_validation_error(error, data.get("type"))
        kinds = {type(u) for _, _, u in problems}
        if len(kinds) == 1 and (kind := kinds.pop()) is not None and issubclass(kind, LedgerError):
            raise kind(message) from None
        raise InvalidInput(message) from None


def invalid_fields(data: dict[str, Any]) -> dict[str, str]:
    """Each field of a client's command that is invalid, with its message (a web form shows
    it beside the field); empty when the command is valid."""
    try:
        _ADAPTER.validate_python(data)
    except ValidationError as error:
        return {where: message for where, message, _ in _problems(error, data.get("type"))}
    return {}
