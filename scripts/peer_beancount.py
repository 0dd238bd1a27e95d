"""The peer of benchmark 6: the same history as a beancount journal.

``journal`` turns a generated history (the import's JSON Lines) into beancount text with
the same money movements as the ledger's double entry: each budget line is an asset
account; allocations come from ``Income:Issued``, reductions, clawbacks and lapses go back
to ``Income:Returned``, payments go to ``Expenses:Paid``, carryovers move to next year's
line through ``Equity:Transit``; a reversal is the opposite transaction. ``balances``
loads the journal with beancount and returns every line account's balance in fen, for
comparison with the ledger's replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

OPEN_DATE = "2000-01-01"


def account(unit: str, year: int, line: str) -> str:
    """The beancount account of a budget line (components must start with a capital)."""
    return f"Assets:Line:{unit}:Y{year}:{line}"


def line_key(unit: str, year: int, line: str) -> str:
    return f"{unit}/{year}/{line}"


def journal(commands: Iterable[dict[str, Any]]) -> str:
    """Beancount text with the money movements of ``commands`` (a valid history)."""
    out: list[str] = [
        'option "operating_currency" "CNY"',
        f"{OPEN_DATE} open Income:Issued CNY",
        f"{OPEN_DATE} open Income:Returned CNY",
        f"{OPEN_DATE} open Expenses:Paid CNY",
        f"{OPEN_DATE} open Equity:Transit CNY",
    ]
    opened: set[str] = set()
    postings: dict[str, tuple[str, str, Decimal]] = {}  # command id → (from, to, yuan)
    balance: dict[str, Decimal] = {}

    def move(date: str, what: str, source: str, target: str, amount: Decimal) -> None:
        for name in (source, target):
            if name.startswith("Assets:") and name not in opened:
                opened.add(name)
                out.append(f"{OPEN_DATE} open {name} CNY")
        out.append(
            f'{date} * "{what}"\n  {target}  {amount:.2f} CNY\n  {source}  {-amount:.2f} CNY'
        )
        balance[source] = balance.get(source, Decimal(0)) - amount
        balance[target] = balance.get(target, Decimal(0)) + amount

    for c in commands:
        kind = c["type"]
        if "line" not in c or kind == "open_budget_line":
            continue
        here = account(c["unit"], c["year"], c["line"])
        date = c["business_date"]
        if kind == "allocate_budget":
            flow = ("Income:Issued", here, Decimal(c["amount"]))
        elif kind in ("reduce_budget", "claw_back"):
            flow = (here, "Income:Returned", Decimal(c["amount"]))
        elif kind in ("disburse", "transfer_to_enterprise"):
            flow = (here, "Expenses:Paid", Decimal(c["amount"]))
        elif kind == "reverse_entry":
            source, target, amount = postings[c["reverses_command_id"]]
            flow = (target, source, amount)
        elif kind == "close_line":
            left = balance.get(here, Decimal(0))
            if not left:
                continue
            if c["outcome"] == "lapse":
                flow = (here, "Income:Returned", left)
            else:
                move(date, kind, here, "Equity:Transit", left)
                flow = ("Equity:Transit", account(c["unit"], c["year"] + 1, c["line"]), left)
        else:
            raise ValueError(f"no beancount form for {kind}")
        postings[c["command_id"]] = flow
        move(date, kind, *flow)
    return "\n".join(out) + "\n"


def write_journal(history: Path, target: Path) -> None:
    with history.open(encoding="utf-8") as lines:
        text = journal(json.loads(line) for line in lines if line.strip())
    target.write_text(text, encoding="utf-8")


def balances(path: Path) -> dict[str, int]:
    """Load the journal with beancount (parse, book, validate) and sum every line
    account: {unit/year/line: fen}."""
    from beancount import loader
    from beancount.core import realization

    entries, errors, _options = loader.load_file(str(path))
    if errors:
        raise RuntimeError(f"beancount found {len(errors)} errors, first: {errors[0]}")
    root = realization.realize(entries)
    found: dict[str, int] = {}
    for real in realization.iter_children(root):
        parts = real.account.split(":")
        if parts[:2] != ["Assets", "Line"] or len(parts) != 5:
            continue
        units = real.balance.get_currency_units("CNY").number
        found[line_key(parts[2], int(parts[3][1:]), parts[4])] = int(units * 100)
    return found
