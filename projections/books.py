"""The books: one fold over the event log that every report reads from.

``fold`` evolves a :class:`Books` from events in log order; it is pure (no I/O) and
can stop at a log position or a business date, which is how history is replayed to
any point. Reports (``projections.final_accounts``, ``projections.execution``,
``projections.balances``) are functions of the books.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.aggregates import (
    BudgetLine,
    ClassificationCatalogue,
    FiscalYear,
    Project,
    Unit,
    YearStatus,
)
from ledger.application import Ledger
from ledger.classifications import FISCAL_FUND_SOURCES, FundSource, Nature
from ledger.classifications.catalogue import Catalogue, CatalogueKind
from ledger.classifications.shipped import any_name, resolve
from ledger.errors import UnknownUnit, YearNotOpen
from ledger.line_totals import LineTotals
from ledger.postings import kind_legs, postings_for


@dataclass(frozen=True)
class EntryView:
    """The money side of an entry, or of the entry a reversal undoes."""

    kind: str
    amount: int
    initial: bool = False
    economic_code: str | None = None
    from_carryover: bool = False
    three_public: str | None = None
    procurement: tuple[str, str] | None = None
    party: str | None = None
    """The payer of a receipt, the payee of a payment (None for other entries)."""

    @classmethod
    def of(cls, event: BudgetLine.MoneyEvent) -> EntryView:
        category = getattr(event, "procurement_category", None)
        size = getattr(event, "supplier_size", None)
        return cls(
            kind=type(event).__name__,
            amount=event.amount,
            initial=bool(getattr(event, "initial", False)),
            economic_code=getattr(event, "economic_code", None),
            from_carryover=bool(getattr(event, "from_carryover", False)),
            three_public=getattr(event, "three_public", None),
            procurement=(category, size) if category and size else None,
            party=getattr(event, "payee", None) or getattr(event, "payer", None),
        )

    @classmethod
    def reversed_by(cls, event: BudgetLine.EntryReversed) -> EntryView:
        """The entry ``event`` undoes: the reversal carries what it reverses."""
        category, size = event.procurement_category, event.supplier_size
        return cls(
            kind=event.reversed_kind,
            amount=event.amount,
            initial=event.initial,
            economic_code=event.economic_code,
            from_carryover=event.from_carryover,
            three_public=event.three_public,
            procurement=(category, size) if category and size else None,
            party=event.payee,
        )


#: Entries whose other party is kept per line: a department's consolidation eliminates
#: those between its own units (see :mod:`projections.departments`).
PARTY_KINDS = frozenset({"Received", "Disbursed", "TransferredToEnterprise"})


@dataclass(frozen=True)
class AdjustmentView:
    """A correcting entry posted into a closed year (for reports and audit)."""

    position: int
    type: str
    unit_code: str
    year: int
    line: str | None
    amount: int | None
    business_date: date
    posted_by: str
    document_no: str
    reason: str


@dataclass
class LineView:
    """A budget line as the reports see it."""

    id: UUID
    unit_code: str
    year: int
    code: str
    title: str
    nature: Nature
    function_code: str
    fund_source: FundSource
    project_code: str | None
    opened_at: int = 0
    """Log position of the line's opening (lines are listed in that order)."""
    totals: LineTotals = field(default_factory=LineTotals)
    three_public: dict[str, int] = field(default_factory=dict)
    """Fen spent per “三公” category."""
    procurement: dict[tuple[str, str], int] = field(default_factory=dict)
    """Fen paid under procurement contracts per (category, supplier size)."""
    parties: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """Fen per (entry kind, other party, economic code or "") of receipts and payments."""

    key: str = field(default="", compare=False, repr=False)
    """The line id as text (documents and account names use it)."""

    def __post_init__(self) -> None:
        self.key = str(self.id)

    @property
    def is_fiscal(self) -> bool:
        return self.fund_source in FISCAL_FUND_SOURCES


@dataclass
class ProjectView:
    unit_code: str
    code: str
    name: str
    implementing_units: str
    classified: bool


@dataclass
class YearView:
    unit_code: str
    year: int
    status: YearStatus = YearStatus.OPEN
    adjustment_until: date | None = None
    reopen_count: int = 0
    close_attempt: int = 0
    closing_policy: dict[str, Any] = field(default_factory=dict)
    prior_year_figures: dict[str, Any] | None = None
    three_public_budget: dict[str, int] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class UnitView:
    code: str
    name: str
    kind: str
    latest_date: date | None = None
    """The latest business date of the unit's events folded so far (None before any):
    a checkpoint whose latest date is on or before a date holds nothing a report as of
    that date leaves out, so the report can be folded on from it."""


@dataclass
class Books:
    """Everything the reports need, folded from the events."""

    units: dict[str, UnitView] = field(default_factory=dict)
    projects: dict[tuple[str, str], ProjectView] = field(default_factory=dict)
    years: dict[tuple[str, int], YearView] = field(default_factory=dict)
    lines: dict[UUID, LineView] = field(default_factory=dict)
    adjustments: list[AdjustmentView] = field(default_factory=list)
    """Every correcting entry posted into a closed year, in log order."""
    accounts: dict[str, int] = field(default_factory=dict)
    """Balance of every double-entry account (see :mod:`ledger.postings`)."""
    catalogues: dict[str, dict[str, str]] = field(default_factory=dict)
    """Imported classification catalogues, ``"kind/year"`` → code → name."""
    kinds: dict[str, int] = field(default_factory=dict)
    """The accounts summed by kind (issued, returned, available, paid, transit), over the
    whole ledger even in books of one unit (see ``scope``): the double-entry check."""
    position: int = 0
    point_in_time: bool = False
    """Books of a past moment (as of a business date or a log position), not the present."""
    """Notification id of the last event folded in."""
    _year_keys: dict[UUID, tuple[str, int]] = field(default_factory=dict, repr=False)
    _catalogue_keys: dict[UUID, str] = field(default_factory=dict, repr=False)
    _legs: dict[tuple[str, str], tuple[tuple[str, int, tuple[str, str]], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Per (entry kind, line): its postings' accounts and signs (see ``_post``)."""
    _lines_by_year: dict[tuple[str, int], list[LineView]] = field(
        default_factory=dict, repr=False, compare=False
    )
    touched: set[tuple[str, str]] = field(default_factory=set, repr=False, compare=False)
    """Documents changed since the last write (see projections.read_model)."""
    scope: str | None = field(default=None, repr=False, compare=False)
    """A unit code when the books hold that unit only (read from the read model for its
    reports): events of other units are passed over, and the shared finance-bureau
    accounts may lag — such books are not for the ledger-wide double-entry check."""

    # --- queries ---------------------------------------------------------

    def unit(self, code_or_name: str) -> UnitView:
        """A unit by its code or by its full name."""
        if code_or_name in self.units:
            return self.units[code_or_name]
        for unit in self.units.values():
            if unit.name == code_or_name:
                return unit
        raise UnknownUnit(f"unit {code_or_name} is not registered")

    def year(self, unit_code: str, year: int) -> YearView:
        try:
            return self.years[(unit_code, year)]
        except KeyError:
            raise YearNotOpen(
                f"fiscal year {year} of unit {unit_code} has not been opened"
            ) from None

    def balances_by_account_kind(self) -> dict[str, int]:
        """Sum of the double-entry accounts by kind: issued, returned, available, paid,
        and carryover in transit (zero between commands).

        Money is conserved when they sum to zero: what left the bureau (−issued) is
        available on a line, paid out, or returned.
        """
        kinds = dict.fromkeys(
            (
                "issued",
                "returned",
                "available",
                "paid",
                "transit",
                "brought_forward",
                "received",
                "drawn",
                "distributed",
            ),
            0,
        )
        kinds.update(self.kinds)
        return kinds

    def catalogue(self, kind: CatalogueKind, year: int) -> Catalogue:
        """The catalogue that names and checks the codes of ``year`` (the rule of
        :func:`ledger.classifications.shipped.resolve`)."""
        names = self.catalogues.get(f"{kind.value}/{year}")
        if names is None:
            return resolve(kind, year)
        return Catalogue(kind, year, names, origin=f"imported {year}")

    def label(self, kind: CatalogueKind, year: int, code: str, *, path: bool = False) -> str:
        """The name of ``code`` in the catalogue of ``year`` (with ``path``, class /
        section / item joined by ``/``); a code that catalogue lacks (a prior year's
        published item) is named from the shipped catalogues, else shown as itself."""
        catalogue = self.catalogue(kind, year)
        lengths = [n for n in (3, 5, 7) if n <= len(code)] if path else [len(code)]
        return "/".join(
            catalogue.names.get(code[:n]) or any_name(kind, code[:n]) or code[:n] for n in lengths
        )

    def add_catalogue(self, kind: str, year: int, names: dict[str, str]) -> None:
        key = f"{kind}/{year}"
        self.catalogues[key] = names
        self._catalogue_keys[ClassificationCatalogue.id_for(kind, year)] = key

    def adjustments_of(self, unit_code: str, year: int) -> list[AdjustmentView]:
        """Correcting entries posted into the unit's closed year, in log order."""
        return [a for a in self.adjustments if (a.unit_code, a.year) == (unit_code, year)]

    def lines_of(self, unit_code: str, year: int) -> list[LineView]:
        """The unit's lines of that year, in the order they were opened."""
        return list(self._lines_by_year.get((unit_code, year), ()))

    def add_line(self, line: LineView) -> None:
        """Add a line (lines are added in the order they were opened)."""
        self.lines[line.id] = line
        self._lines_by_year.setdefault((line.unit_code, line.year), []).append(line)

    # --- evolve ----------------------------------------------------------

    def apply(self, event: Any, position: int = 0) -> None:
        """Fold one event in. Events the books do not track are ignored."""
        if self.scope is not None and not self._in_scope(event):
            self._count_kinds_of(event)  # the ledger-wide totals still move
            return
        if getattr(event, "adjustment_reason", None):
            self._note_adjustment(event, position)
        self._touch(event)
        if isinstance(event, BudgetLine.MoneyEvent):  # most events: tested first
            self._apply_money(self.lines[event.originator_id], EntryView.of(event), sign=1)
        elif isinstance(event, Unit.Registered):
            self.units[event.code] = UnitView(event.code, event.name, event.kind)
        elif isinstance(event, FiscalYear.Opened):
            self.years[(event.unit_code, event.year)] = YearView(event.unit_code, event.year)
            self._year_keys[event.originator_id] = (event.unit_code, event.year)
        elif isinstance(event, FiscalYear.PriorYearFiguresImported):
            self._year_of(event).prior_year_figures = event.figures
        elif isinstance(event, FiscalYear.ThreePublicBudgetSet):
            self._year_of(event).three_public_budget = dict(event.amounts)
        elif isinstance(event, FiscalYear.FactsRecorded):
            self._year_of(event).facts = dict(event.facts)
        elif isinstance(event, FiscalYear.ClosingStarted):
            year = self._year_of(event)
            year.status, year.closing_policy = YearStatus.CLOSING, dict(event.policy)
        elif isinstance(event, FiscalYear.Closed):
            year = self._year_of(event)
            year.status, year.adjustment_until = YearStatus.CLOSED, event.adjustment_until
        elif isinstance(event, FiscalYear.Reopened):
            year = self._year_of(event)
            year.status, year.adjustment_until = YearStatus.OPEN, None
            year.reopen_count += 1
        elif isinstance(event, FiscalYear.ClosingResumed):
            self._year_of(event).close_attempt += 1
        elif isinstance(event, FiscalYear.ClosingAbandoned):
            year = self._year_of(event)
            year.status = YearStatus.OPEN
            year.close_attempt += 1
        elif isinstance(event, Project.Registered):
            self.projects[(event.unit_code, event.code)] = ProjectView(
                event.unit_code, event.code, event.name, event.implementing_units, event.classified
            )
        elif isinstance(event, BudgetLine.Opened):
            self.add_line(
                LineView(
                    id=event.originator_id,
                    unit_code=event.unit_code,
                    year=event.year,
                    code=event.code,
                    title=event.title,
                    nature=Nature(event.nature),
                    function_code=event.function_code,
                    fund_source=FundSource(event.fund_source),
                    project_code=event.project_code,
                    opened_at=position,
                )
            )
        elif isinstance(event, BudgetLine.EntryReversed):
            line = self.lines[event.originator_id]
            self._apply_money(line, EntryView.reversed_by(event), sign=-1)
        elif isinstance(event, ClassificationCatalogue.Imported):
            self.add_catalogue(event.kind, event.year, {c: n for c, n in event.entries})
        elif isinstance(event, ClassificationCatalogue.Replaced):
            key = self._catalogue_keys[event.originator_id]
            self.catalogues[key] = {c: n for c, n in event.entries}
        elif isinstance(event, BudgetLine.ClosingEvent):
            line = self.lines[event.originator_id]
            kind = type(event).__name__
            line.totals.apply(kind, event.amount)
            self._post(line, kind, event.amount)
        elif isinstance(event, BudgetLine.CloseAdjusted):
            # A correction into a closed year moved its close: the same kind of entry,
            # by a signed amount.
            line = self.lines[event.originator_id]
            line.totals.apply(event.settles, event.amount)
            self._post(line, event.settles, event.amount)
        business_date = getattr(event, "business_date", None)
        if business_date is not None:
            self._note_date(event, business_date)

    def unit_of(self, event: Any) -> str | None:
        """The code of the unit an event belongs to (None for catalogues and the like):
        its line's or fiscal year's unit, or the unit it names."""
        line = self.lines.get(event.originator_id)
        if line is not None:
            return line.unit_code
        year = self._year_keys.get(event.originator_id)
        if year is not None:
            return year[0]
        return getattr(event, "unit_code", None) or getattr(event, "code", None)

    def _note_date(self, event: Any, business_date: date) -> None:
        """Keep the unit's latest business date (see ``UnitView.latest_date``)."""
        code = self.unit_of(event)
        unit = self.units.get(code) if code else None
        if unit is not None and (unit.latest_date is None or business_date > unit.latest_date):
            unit.latest_date = business_date
            self.touched.add(("unit", unit.code))

    def _in_scope(self, event: Any) -> bool:
        if isinstance(event, ClassificationCatalogue.Event):
            return True  # a catalogue serves every unit
        if isinstance(event, Unit.Registered):
            return bool(event.code == self.scope)
        if isinstance(event, FiscalYear.Opened | Project.Registered | BudgetLine.Opened):
            return bool(event.unit_code == self.scope)
        return event.originator_id in self.lines or event.originator_id in self._year_keys

    def _count_kinds_of(self, event: Any) -> None:
        """Add a money event of another unit to the totals by account kind only."""
        if isinstance(event, BudgetLine.EntryReversed):
            kind, amount = event.reversed_kind, -event.amount
        elif isinstance(event, BudgetLine.MoneyEvent | BudgetLine.ClosingEvent):
            kind, amount = type(event).__name__, event.amount
        elif isinstance(event, BudgetLine.CloseAdjusted):
            kind, amount = event.settles, event.amount
        else:
            return
        self._add_kinds(kind, amount)

    def _add_kinds(self, kind: str, amount: int) -> None:
        for account_kind, sign in kind_legs(kind):
            _add(self.kinds, account_kind, sign * amount)
        self.touched.add(("kinds", "ledger"))

    def _year_of(self, event: Any) -> YearView:
        return self.years[self._year_keys[event.originator_id]]

    def _touch(self, event: Any) -> None:
        if isinstance(event, BudgetLine.Event):  # most events: tested first
            line = self.lines.get(event.originator_id)
            self.touched.add(("line", line.key if line else str(event.originator_id)))
        elif isinstance(event, Unit.Registered):
            self.touched.add(("unit", event.code))
        elif isinstance(event, Project.Registered):
            self.touched.add(("project", f"{event.unit_code}/{event.code}"))
        elif isinstance(event, FiscalYear.Opened):
            self.touched.add(("year", f"{event.unit_code}/{event.year}"))
        elif isinstance(event, FiscalYear.Event) and event.originator_id in self._year_keys:
            unit_code, year = self._year_keys[event.originator_id]
            self.touched.add(("year", f"{unit_code}/{year}"))
        elif isinstance(event, ClassificationCatalogue.Imported):
            self.touched.add(("catalogue", f"{event.kind}/{event.year}"))
        elif isinstance(event, ClassificationCatalogue.Event):
            self.touched.add(("catalogue", self._catalogue_keys[event.originator_id]))

    def _note_adjustment(self, event: Any, position: int) -> None:
        line = self.lines.get(event.originator_id)
        key = (line.unit_code, line.year) if line else self._year_keys.get(event.originator_id)
        if key is None:
            return
        self.touched.add(("adjustment", str(position)))
        self.adjustments.append(
            AdjustmentView(
                position=position,
                type=type(event).__name__,
                unit_code=key[0],
                year=key[1],
                line=line.code if line else None,
                amount=getattr(event, "amount", None),
                business_date=event.business_date,
                posted_by=event.posted_by,
                document_no=event.document_no,
                reason=event.adjustment_reason,
            )
        )

    def _apply_money(self, line: LineView, entry: EntryView, *, sign: int) -> None:
        amount = sign * entry.amount
        line.totals.apply(
            entry.kind,
            amount,
            initial=entry.initial,
            economic_code=entry.economic_code,
            from_carryover=entry.from_carryover,
        )
        if entry.three_public:
            _add(line.three_public, entry.three_public, amount)
        if entry.procurement:
            _add(line.procurement, entry.procurement, amount)
        if entry.party is not None and entry.kind in PARTY_KINDS:
            _add(line.parties, (entry.kind, entry.party, entry.economic_code or ""), amount)
        self._post(line, entry.kind, amount)

    def _post(self, line: LineView, kind: str, amount: int) -> None:
        legs = self._legs.get((kind, line.key))
        if legs is None:  # each line's legs of each kind, read off postings_for once
            postings = postings_for(kind, 1, line_id=line.key, fund_source=line.fund_source)
            legs = tuple((p.account, p.amount, ("account", p.account)) for p in postings)
            self._legs[(kind, line.key)] = legs
        accounts, touched = self.accounts, self.touched
        for account, sign, touch in legs:
            _add(accounts, account, sign * amount)
            touched.add(touch)
        self._add_kinds(kind, amount)


def _add(tally: dict[Any, int], key: Any, amount: int) -> None:
    total = tally.get(key, 0) + amount
    if total:
        tally[key] = total
    else:
        tally.pop(key, None)


def fold(
    events: Iterable[tuple[int, Any]],
    *,
    as_of_date: date | None = None,
    scope: str | None = None,
    books: Books | None = None,
) -> Books:
    """Fold ``(position, event)`` pairs into books (new ones, or ``books`` to go on from).

    With ``as_of_date``, events whose business date is later are left out: the books
    as they stood on that date (including corrections posted since, if dated earlier).
    With ``scope`` (a unit code), the books of that unit only (see ``Books.scope``).
    """
    books = Books(scope=scope) if books is None else books
    not_yet: set[UUID] = set()  # aggregates created after the as-of date
    for position, event in events:
        business_date = getattr(event, "business_date", None)
        if as_of_date is not None:
            if event.originator_id in not_yet:
                continue
            if business_date is not None and business_date > as_of_date:
                if event.originator_version == 1:
                    not_yet.add(event.originator_id)
                continue
        books.apply(event, position)
        books.position = position
    return books


def tracked_topics() -> list[str]:
    """Topics of the events the books fold in: every event of units, fiscal years, projects
    and budget lines (command records and API tokens are not in the books). Replays read
    only these, so the log's other half is never decoded."""
    topics: set[str] = set()
    for aggregate in (Unit, FiscalYear, Project, BudgetLine, ClassificationCatalogue):
        for name in dir(aggregate):
            value = getattr(aggregate, name)
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                topics.add(get_topic(value))
    return sorted(topics)


TRACKED_TOPICS = tracked_topics()


def books_of(
    ledger: Ledger, *, as_of_position: int | None = None, as_of_date: date | None = None
) -> Books:
    """Replay the ledger's log into books, up to a log position and/or a business date."""
    last = ledger.position()
    stop = last if as_of_position is None else min(as_of_position, last)
    books = fold(ledger.read_events(stop=stop, topics=TRACKED_TOPICS), as_of_date=as_of_date)
    books.point_in_time = as_of_position is not None or as_of_date is not None
    books.position = stop
    return books
