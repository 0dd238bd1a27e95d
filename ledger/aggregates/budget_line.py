"""预算指标: a budget line, the consistency boundary for "no overspending".

A line belongs to one unit, one year, one purpose (a project, or basic personnel /
public operating), one function item and one fund source. The methods decide —
they check the rules and raise typed errors — and trigger events; each event's
``apply`` only evolves state.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.domain import Snapshot as LibrarySnapshot

from ledger.classifications import (
    FISCAL_FUND_SOURCES,
    PERSONNEL_CLASSES,
    PUBLIC_OPERATING_CLASSES,
    THREE_PUBLIC_BY_ECONOMIC_CODE,
    Nature,
    ProcurementCategory,
    SupplierSize,
    ThreePublic,
    economic_item_class,
)
from ledger.closing.policy import Outcome
from ledger.errors import (
    NatureMismatch,
    NotReversible,
    Overspend,
    PossibleDuplicate,
    TakeOnClosed,
)
from ledger.events import PostedCreation, PostedEvent, business_id, encode_key
from ledger.line_totals import (
    ALLOCATED,
    BALANCE_USED,
    CARRIED_IN,
    CARRIED_OUT,
    LAPSED,
    MONEY_KINDS,
    RECEIVED,
    TAKEN_ON,
    LineTotals,
)
from ledger.money import yuan_str

ENTERPRISE_CLASS = "312"
CARRY_OVER = Outcome.CARRY_OVER.value
LAPSE = Outcome.LAPSE.value


class CloseRelease(Protocol):
    """Gives money a correction needs back from the close of the line's closed year."""

    def release(self, amount: int) -> None:
        """Take ``amount`` back from what the close settled, or raise
        :class:`~ledger.errors.Overspend` saying why it cannot (nothing is moved yet: the
        re-settlement follows the correction's event)."""


def _comparable(text: str) -> str:
    """Text as a person reads it: full-width and half-width alike (NFKC), case and
    whitespace ignored — ``记－０００１`` is ``记-0001``, ``加油 站`` is ``加油站``."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def posting_key(kind: str, document_no: str, payee: str | None, amount: int) -> str:
    """A short digest of what makes two money entries of a line "the same posting": the
    kind, document number, payee and amount, the texts compared as a person reads them."""
    text = encode_key((kind, _comparable(document_no), _comparable(payee or ""), amount))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _party(event: Any) -> str | None:
    """The other party of a money entry: the payee of a payment, the payer of a receipt,
    the purpose of a distribution (what makes two entries of a line "the same posting")."""
    for name in ("payee", "payer", "purpose"):
        value = getattr(event, name, None)
        if value is not None:
            return str(value)
    return None


#: Entries that bring money onto a line: reversing one needs it still available.
MONEY_IN_KINDS = frozenset({ALLOCATED, TAKEN_ON, RECEIVED, BALANCE_USED})
FISCAL_FUND_SOURCE_VALUES = frozenset(s.value for s in FISCAL_FUND_SOURCES)


class BudgetLine(Aggregate):
    """A budget line and its running totals (see :class:`~ledger.line_totals.LineTotals`)."""

    class Opened(PostedCreation):
        unit_code: str
        year: int
        code: str
        """The unit's own code for the line, unique within unit and year."""
        title: str
        nature: str
        """:class:`~ledger.classifications.Nature` value."""
        function_code: str
        """7-digit 支出功能分类 item."""
        fund_source: str
        """:class:`~ledger.classifications.FundSource` value."""
        project_code: str | None
        """The project the line funds; ``None`` for basic expenditure lines."""
        beyond_final_year: str | None = None
        """Why a line was opened for a year after its project's final year (None: it was
        not; without a reason such a line is refused)."""

    class MoneyEvent(PostedEvent):
        amount: int
        """In fen, always positive; the event type says which way it moves."""
        duplicate_confirmed: str | None
        """The clerk's reason for posting it although it equals an earlier posting of the
        line (same kind, document number, payee and amount); None when it did not."""

        def apply(self, aggregate: Any) -> None:
            aggregate._record(self)

    class Allocated(MoneyEvent):
        """下达 / 追加: money assigned to the line by the finance bureau."""

        initial: bool
        """True for 年初预算 (approved at the start of the year), False for an in-year top-up."""

    class Reduced(MoneyEvent):
        """追减 / 调减: the line lowered before the money was spent."""

    class OpeningBalanceTaken(MoneyEvent):
        """年初结转和结余 taken on: the line's opening balance from years the ledger never
        saw, entered once with the document it rests on (``document_no``: the prior year's
        approved final accounts, a 结转 notice …). From then on it is a carryover like one
        made by a close: it shows as 年初结转和结余, is spent first, carries over or lapses."""

        corrects: str | None
        """Command id of the earlier, reversed take-on of this line that this one corrects
        (None for a first take-on)."""

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            if self.corrects is not None:
                aggregate.take_on_corrected.add(self.corrects)

    class Received(MoneyEvent):
        """A receipt of non-fiscal income (上级补助收入, 事业收入, 经营收入, 附属单位上缴收入,
        其他收入) on a line of that fund source; not an appropriation by the finance bureau."""

        payer: str
        """Who paid it (the superior unit, the service's users, a subordinate unit …)."""

    class NonFiscalBalanceUsed(MoneyEvent):
        """使用非财政拨款结余: earlier years' non-fiscal balance (专用结余, 经营结余 …) drawn
        into this year to cover what this year's non-fiscal income does not."""

    class BalanceDistributed(MoneyEvent):
        """结余分配: non-fiscal surplus distributed (提取专用基金, 缴纳企业所得税, 转入非财政
        拨款结余); money that leaves the line without being spent."""

        purpose: str

    class TransferredToEnterprise(MoneyEvent):
        """拨付 / 对企业补助: money paid to an implementing enterprise."""

        payee: str
        economic_code: str
        """A 312xx item (对企业补助)."""

    class Disbursed(MoneyEvent):
        """支付: any other payment (salaries, office costs, purchases, subsidies to people)."""

        payee: str
        economic_code: str
        three_public: str | None
        """“三公”经费 category, derived from the economic item; None if not one of them."""
        procurement_category: str | None
        """政府采购 goods / works / services, when paid under a procurement contract."""
        supplier_size: str | None
        """Size of the contracted supplier (for the SME share of procurement)."""

    class ClawedBack(MoneyEvent):
        """财政收回: the finance bureau takes back unspent money."""

        from_carryover: bool
        """True when it takes back last year's carryover (上年度经费未支完，财政收回)."""

    class ClosingEvent(PostedEvent):
        """An entry of the year-end close. Never reversed: reopen the year instead."""

        amount: int

        def apply(self, aggregate: Any) -> None:
            aggregate.totals.apply(type(self).__name__, self.amount)

    class CarriedOver(ClosingEvent):
        """结转: the unspent balance moves to the same project's line next year."""

        to_year: int
        to_line: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.close_outcome = CARRY_OVER

    class CarryoverReceived(ClosingEvent):
        """上年结转资金: this line receives last year's unspent balance."""

        from_year: int
        from_line: str

    class Lapsed(ClosingEvent):
        """结余 / 财政收回 at year end: the unspent balance returns to the finance bureau."""

        reason: str
        """Which rule of the closing policy decided it."""

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.close_outcome = LAPSE

    class CloseAdjusted(PostedEvent):
        """A correcting entry posted into a closed year (in its adjustment period) moved
        what the year's close settled on a line, so that the line is empty again and next
        year opens with what this year closed with. Stored with the correction, by the same
        command; never posted on its own and never reversed (reverse the correction, which
        moves the close back)."""

        settles: ClassVar[str]
        """The closing entry kind this adjusts (its totals and postings move with it)."""

        amount: int
        """Fen, signed: positive settles more (the correction added money to the line),
        negative takes settled money back (the correction spent or removed it)."""
        correction: str
        """Command id of the correcting entry this follows (the command that stored both)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.totals.apply(self.settles, self.amount)

    class CarryoverAdjusted(CloseAdjusted):
        """结转调整: the closed line's carryover to next year's line grows or shrinks with a
        correction; next year's line records the other side (:class:`CarryoverReceiptAdjusted`)."""

        settles = CARRIED_OUT
        to_year: int
        """The year the carryover went to."""
        to_line: str
        """The line of that year that received it (same code)."""

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.close_outcome = CARRY_OVER

    class CarryoverReceiptAdjusted(CloseAdjusted):
        """上年结转调整: what this line received from last year's line (its opening, 上年结转)
        grows or shrinks with a correction posted into last year after its close."""

        settles = CARRIED_IN
        from_year: int
        """The closed year the correction was posted into."""
        from_line: str
        """The line of that year whose carryover moved (same code)."""

    class LapseAdjusted(CloseAdjusted):
        """结余调整: what the closed line returned to the finance bureau at the close grows
        or shrinks with a correction."""

        settles = LAPSED
        reason: str
        """Why this line lapses: the rule of its close (or of the closing policy)."""

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.close_outcome = LAPSE

    class EntryReversed(PostedEvent):
        """红字冲销: an earlier money event of this line, undone. The original stays."""

        reverses_version: int
        """Version of the reversed event within this line."""
        reverses_command_id: str
        reversed_kind: str
        """Event type of the reversed entry (Allocated, Disbursed, …)."""
        amount: int
        initial: bool
        economic_code: str | None
        from_carryover: bool
        reason: str
        three_public: str | None = None
        """The reversed payment's “三公” category (None if not one, or not a payment)."""
        procurement_category: str | None = None
        """The reversed payment's procurement category, if it was paid under a contract."""
        supplier_size: str | None = None
        payee: str | None = None
        """The payee of the reversed payment or transfer (None for other entries), so that
        the trail of an enterprise shows the reversal beside the payment."""
        reversed_document_no: str | None = None
        """The document number of the reversed entry."""

        def apply(self, aggregate: Any) -> None:
            aggregate._reverse(self)

    class Snapshot(LibrarySnapshot):
        """The line's state at a version, so that a long-lived line is not replayed from
        its first event (taken every ``Ledger.snapshotting_intervals`` events). Values
        JSON does not have are written as plain data and revived on the way back."""

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            state = snapshot.state
            state["nature"] = aggregate.nature.value
            state["totals"] = aggregate.totals.as_dict()
            state["reversed_versions"] = sorted(aggregate.reversed_versions)
            state["posting_keys"] = dict(aggregate.posting_keys)
            state["take_on_corrected"] = sorted(aggregate.take_on_corrected)
            return snapshot

        def mutate(self, _: None) -> Any:
            line: Any = super().mutate(None)
            line.nature = Nature(line.nature)
            line.totals = LineTotals(**line.totals)
            line.reversed_versions = set(line.reversed_versions)
            line.__dict__.setdefault("close_outcome", None)  # snapshots taken before it
            line.take_on_corrected = set(line.__dict__.get("take_on_corrected", ()))
            return line

    def __init__(
        self,
        *,
        unit_code: str,
        year: int,
        code: str,
        title: str,
        nature: str,
        function_code: str,
        fund_source: str,
        project_code: str | None,
        **_meta: Any,
    ) -> None:
        self.unit_code = unit_code
        self.year = year
        self.code = code
        self.title = title
        self.nature = Nature(nature)
        self.function_code = function_code
        self.fund_source = fund_source
        self.project_code = project_code
        self.totals = LineTotals()
        self.posting_keys: dict[str, int] = {}
        """How many unreversed money entries the line holds per :func:`posting_key` (kind,
        document number, payee, amount): what a new posting is compared with to catch
        the same voucher posted twice. Short digests, not the entries themselves."""
        self.reversed_versions: set[int] = set()
        """Versions of the money entries already reversed (each may be reversed once).

        The line keeps no list of its entries: its state stays the same size however
        many payments it receives. A reversal is decided against the original event,
        which the command handler reads from the store."""
        self.close_outcome: str | None = None
        self.take_on_corrected: set[str] = set()
        """Command ids of reversed take-ons that a later take-on has corrected."""
        """How the line's last year-end close settled it (``carry_over`` or ``lapse``), as
        its last closing entry says; None while no close has moved money on it."""

    @staticmethod
    def create_id(unit_code: str, year: int, code: str) -> UUID:
        return business_id("line", unit_code, year, code)

    @classmethod
    def id_for(cls, unit_code: str, year: int, code: str) -> UUID:
        return cls.create_id(unit_code, year, code)

    @property
    def label(self) -> str:
        return f"budget line {self.code} ({self.title}, {self.year})"

    # --- decide -----------------------------------------------------------

    def _refuse_duplicate(
        self, event_class: type[BudgetLine.MoneyEvent], amount: int, payee: str | None, meta: Any
    ) -> None:
        """Refuse a posting equal to an earlier, unreversed one unless it is confirmed."""
        if meta.get("duplicate_confirmed"):
            return
        key = posting_key(event_class.__name__, meta.get("document_no", ""), payee, amount)
        if self.posting_keys.get(key):
            to = f" to {payee}" if payee else ""
            raise PossibleDuplicate(
                f"this looks like a posting made twice: {self.label} already has a "
                f"{event_class.__name__} of {yuan_str(amount)} yuan{to} under document "
                f"{meta.get('document_no', '')!r}, not reversed. If it really is a second "
                "one, confirm it with a reason (CLI: --confirm-duplicate REASON; HTTP and "
                "import: the field confirm_duplicate)"
            )

    def _require_available(self, amount: int, what: str, close: CloseRelease | None = None) -> None:
        """Refuse ``amount`` beyond what is available. For a correction into this line's
        closed year, ``close`` gives the rest back from what the close settled (or refuses)."""
        available = self.totals.available
        if amount > available and close is not None:
            close.release(amount - available)
            return
        if amount > available:
            raise Overspend(
                f"{what} of {yuan_str(amount)} yuan would take {self.label} below zero: "
                f"only {yuan_str(available)} yuan is available"
            )

    def allocate(self, amount: int, *, initial: bool, **meta: Any) -> None:
        self._refuse_duplicate(self.Allocated, amount, None, meta)
        self.trigger_event(self.Allocated, amount=amount, initial=initial, **meta)

    def take_on(self, amount: int, *, corrects: str | None, **meta: Any) -> None:
        """Enter the line's opening balance (the caller checks the year allows it)."""
        if self.totals.carried_in - self.totals.taken_on:
            raise TakeOnClosed(
                f"{self.label} already received last year's carryover from the ledger's own "
                "close: its opening balance is that, not a take-on"
            )
        self._refuse_duplicate(self.OpeningBalanceTaken, amount, None, meta)
        self.trigger_event(self.OpeningBalanceTaken, amount=amount, corrects=corrects, **meta)

    def receive(self, amount: int, *, payer: str, **meta: Any) -> None:
        """Record non-fiscal income received on this line."""
        if self.fund_source in FISCAL_FUND_SOURCE_VALUES:
            raise NatureMismatch(
                f"{self.label} is funded by appropriation ({self.fund_source}): money from the "
                "finance bureau is allocated (allocate_budget), not received; a receipt goes to "
                "a line of a non-fiscal fund source (上级补助收入, 事业收入, 经营收入, "
                "附属单位上缴收入, 其他收入)"
            )
        self._refuse_duplicate(self.Received, amount, payer, meta)
        self.trigger_event(self.Received, amount=amount, payer=payer, **meta)

    def use_non_fiscal_balance(self, amount: int, **meta: Any) -> None:
        """Draw earlier years' non-fiscal balance into this line (使用非财政拨款结余)."""
        if self.fund_source in FISCAL_FUND_SOURCE_VALUES:
            raise NatureMismatch(
                f"{self.label} is funded by appropriation: 使用非财政拨款结余 draws on a "
                "non-fiscal balance and goes to a line of a non-fiscal fund source"
            )
        self._refuse_duplicate(self.NonFiscalBalanceUsed, amount, None, meta)
        self.trigger_event(self.NonFiscalBalanceUsed, amount=amount, **meta)

    def distribute_balance(
        self, amount: int, *, purpose: str, close: CloseRelease | None = None, **meta: Any
    ) -> None:
        """Distribute non-fiscal surplus of this line (结余分配)."""
        if self.fund_source in FISCAL_FUND_SOURCE_VALUES:
            raise NatureMismatch(
                f"{self.label} is funded by appropriation: its unspent money carries over or "
                "lapses at the close; 结余分配 is of non-fiscal surplus"
            )
        self._refuse_duplicate(self.BalanceDistributed, amount, purpose, meta)
        self._require_available(amount, "a distribution of surplus", close)
        self.trigger_event(self.BalanceDistributed, amount=amount, purpose=purpose, **meta)

    def reduce(self, amount: int, *, close: CloseRelease | None = None, **meta: Any) -> None:
        self._refuse_duplicate(self.Reduced, amount, None, meta)
        self._require_available(amount, "a reduction", close)
        self.trigger_event(self.Reduced, amount=amount, **meta)

    def claw_back(
        self,
        amount: int,
        *,
        from_carryover: bool = False,
        close: CloseRelease | None = None,
        **meta: Any,
    ) -> None:
        self._refuse_duplicate(self.ClawedBack, amount, None, meta)
        self._require_available(amount, "a clawback", close)
        if from_carryover:
            unspent = self.totals.carryover_budget - self.totals.spent_from_carryover
            if amount > unspent:
                raise Overspend(
                    f"a clawback of {yuan_str(amount)} yuan of last year's carryover exceeds what "
                    f"is left of it on {self.label}: {yuan_str(unspent)} yuan"
                )
        self.trigger_event(self.ClawedBack, amount=amount, from_carryover=from_carryover, **meta)

    def carry_over(self, *, to_year: int, to_line: str, **meta: Any) -> int:
        """Move the whole available balance to next year's line; returns the amount."""
        amount = self.totals.available
        if amount > 0:
            self.trigger_event(
                self.CarriedOver, amount=amount, to_year=to_year, to_line=to_line, **meta
            )
        return amount

    def receive_carryover(
        self, amount: int, *, from_year: int, from_line: str, **meta: Any
    ) -> None:
        self.trigger_event(
            self.CarryoverReceived, amount=amount, from_year=from_year, from_line=from_line, **meta
        )

    def lapse(self, *, reason: str, **meta: Any) -> int:
        """Return the whole available balance to the finance bureau; returns the amount."""
        amount = self.totals.available
        if amount > 0:
            self.trigger_event(self.Lapsed, amount=amount, reason=reason, **meta)
        return amount

    def transfer_to_enterprise(
        self,
        amount: int,
        *,
        payee: str,
        economic_code: str,
        close: CloseRelease | None = None,
        **meta: Any,
    ) -> None:
        if economic_item_class(economic_code) != ENTERPRISE_CLASS:
            raise NatureMismatch(
                f"a transfer to an enterprise must use an economic item of 312 对企业补助, "
                f"not {economic_code}"
            )
        if self.nature is not Nature.PROJECT:
            raise NatureMismatch(
                f"{self.label} is a basic expenditure line; transfers to enterprises are paid "
                "from project lines"
            )
        self._refuse_duplicate(self.TransferredToEnterprise, amount, payee, meta)
        self._require_available(amount, "a transfer", close)
        self.trigger_event(
            self.TransferredToEnterprise,
            amount=amount,
            payee=payee,
            economic_code=economic_code,
            **meta,
        )

    def disburse(
        self,
        amount: int,
        *,
        payee: str,
        economic_code: str,
        three_public: ThreePublic | None,
        procurement_category: ProcurementCategory | None,
        supplier_size: SupplierSize | None,
        close: CloseRelease | None = None,
        **meta: Any,
    ) -> None:
        klass = economic_item_class(economic_code)
        if klass == ENTERPRISE_CLASS:
            raise NatureMismatch(
                f"economic item {economic_code} is 对企业补助: post it as a transfer to an "
                "enterprise, not as a disbursement"
            )
        if self.nature is Nature.BASIC_PERSONNEL and klass not in PERSONNEL_CLASSES:
            raise NatureMismatch(
                f"{self.label} is for personnel (人员经费) and may only pay items of 301 or 303,"
                f" not {economic_code}"
            )
        if self.nature is Nature.BASIC_PUBLIC and klass not in PUBLIC_OPERATING_CLASSES:
            raise NatureMismatch(
                f"{self.label} is for public operating costs (公用经费) and may only pay items "
                f"of 302 or 310, not {economic_code}"
            )
        derived = THREE_PUBLIC_BY_ECONOMIC_CODE.get(economic_code)
        if three_public is not None and three_public is not derived:
            raise NatureMismatch(
                f"economic item {economic_code} is not the “三公” category {three_public.value}"
            )
        if (procurement_category is None) != (supplier_size is None):
            raise NatureMismatch(
                "a procurement payment needs both its category and the supplier size"
            )
        self._refuse_duplicate(self.Disbursed, amount, payee, meta)
        self._require_available(amount, "a payment", close)
        self.trigger_event(
            self.Disbursed,
            amount=amount,
            payee=payee,
            economic_code=economic_code,
            three_public=None if derived is None else derived.value,
            procurement_category=None
            if procurement_category is None
            else procurement_category.value,
            supplier_size=None if supplier_size is None else supplier_size.value,
            **meta,
        )

    def require_reversible(
        self, original: BudgetLine.MoneyEvent, close: CloseRelease | None = None
    ) -> None:
        """Refuse reversing ``original`` unless it is an unreversed money entry of this line
        whose money, if it brought some in, is still available."""
        version = original.originator_version
        kind = type(original).__name__
        if original.originator_id != self.id or kind not in MONEY_KINDS:
            raise NotReversible(f"{self.label} has no money entry number {version} to reverse")
        if version in self.reversed_versions:
            raise NotReversible(
                f"entry {version} of {self.label} (command {original.command_id}) is already "
                "reversed"
            )
        if kind in MONEY_IN_KINDS:
            self._require_available(original.amount, "reversing that entry", close)

    def reverse(
        self,
        original: BudgetLine.MoneyEvent,
        *,
        reason: str,
        close: CloseRelease | None = None,
        **meta: Any,
    ) -> None:
        """Undo ``original``, a money event of this line (红字冲销)."""
        self.require_reversible(original, close)
        version = original.originator_version
        kind = type(original).__name__
        self.trigger_event(
            self.EntryReversed,
            reverses_version=version,
            reverses_command_id=original.command_id,
            reversed_kind=kind,
            amount=original.amount,
            initial=bool(getattr(original, "initial", False)),
            economic_code=getattr(original, "economic_code", None),
            from_carryover=bool(getattr(original, "from_carryover", False)),
            three_public=getattr(original, "three_public", None),
            procurement_category=getattr(original, "procurement_category", None),
            supplier_size=getattr(original, "supplier_size", None),
            payee=_party(original),
            reversed_document_no=original.document_no,
            reason=reason,
            **meta,
        )

    # --- corrections into a closed year -----------------------------------------

    def require_close_release(self, amount: int, outcome: Outcome, year_label: str) -> None:
        """Refuse to take ``amount`` back from this closed line's close if the close settled
        less than that by ``outcome`` (carried over, or lapsed)."""
        settled = self.totals.carried_out if outcome is Outcome.CARRY_OVER else self.totals.lapsed
        if amount > settled:
            what = "carried over" if outcome is Outcome.CARRY_OVER else "lapsed"
            raise Overspend(
                f"this correction needs {yuan_str(amount)} yuan that the close of {year_label} "
                f"settled on {self.label}, but only {yuan_str(settled)} yuan {what} there"
            )

    def require_carryover_return(self, amount: int, from_label: str) -> None:
        """Refuse to give ``amount`` of last year's carryover back to ``from_label`` (a
        correction spends it there) if this line has already used or lost it."""
        available, left = self.totals.available, self.totals.carryover_budget
        if amount > min(available, left):
            raise Overspend(
                f"this correction takes {yuan_str(amount)} yuan of the carryover of {from_label} "
                f"back from {self.label}, which has only {yuan_str(available)} yuan available "
                f"and {yuan_str(left)} yuan of that carryover left; reduce or reverse postings "
                "there first"
            )

    def resettle_close(
        self,
        outcome: Outcome,
        *,
        correction: str,
        rule: str,
        **meta: Any,
    ) -> int:
        """After a correction into this line's closed year, settle whatever it left on the
        line (or took beyond it) the way the close settled the line; returns the fen moved
        (negative: taken back). The caller moves next year's line by as much."""
        amount = self.totals.available
        if amount == 0:
            return 0
        if outcome is Outcome.CARRY_OVER:
            self.trigger_event(
                self.CarryoverAdjusted,
                amount=amount,
                correction=correction,
                to_year=self.year + 1,
                to_line=self.code,
                **meta,
            )
        else:
            self.trigger_event(
                self.LapseAdjusted, amount=amount, correction=correction, reason=rule, **meta
            )
        return amount

    def adjust_carryover_received(
        self, amount: int, *, from_year: int, from_line: str, correction: str, **meta: Any
    ) -> None:
        """The other side of :meth:`resettle_close` for a carryover, on next year's line."""
        self.trigger_event(
            self.CarryoverReceiptAdjusted,
            amount=amount,
            correction=correction,
            from_year=from_year,
            from_line=from_line,
            **meta,
        )

    # --- evolve -----------------------------------------------------------

    def _record(self, event: BudgetLine.MoneyEvent) -> None:
        kind = type(event).__name__
        if kind not in MONEY_KINDS:
            raise ValueError(f"not a money event: {kind}")
        initial = bool(getattr(event, "initial", False))
        economic_code = getattr(event, "economic_code", None)
        from_carryover = bool(getattr(event, "from_carryover", False))
        self.totals.apply(
            kind,
            event.amount,
            initial=initial,
            economic_code=economic_code,
            from_carryover=from_carryover,
        )
        key = posting_key(kind, event.document_no, _party(event), event.amount)
        self.posting_keys[key] = self.posting_keys.get(key, 0) + 1

    def _reverse(self, event: BudgetLine.EntryReversed) -> None:
        self.totals.apply(
            event.reversed_kind,
            -event.amount,
            initial=event.initial,
            economic_code=event.economic_code,
            from_carryover=event.from_carryover,
        )
        self.reversed_versions.add(event.reverses_version)
        document_no = getattr(event, "reversed_document_no", None)
        if document_no is not None:
            key = posting_key(event.reversed_kind, document_no, event.payee, event.amount)
            left = self.posting_keys.get(key, 0) - 1
            if left > 0:
                self.posting_keys[key] = left
            else:
                self.posting_keys.pop(key, None)
