"""Write a deterministic synthetic history, in the import format, at a chosen scale.

    python scripts/generate.py --units 20 --lines 20 --payments 500 --out history.jsonl

Each unit gets one or more fiscal years, two basic lines (personnel and public operating)
and project lines (one project in twenty classified), initial budgets and in-year top-ups,
many small
disbursements and transfers to a limited set of enterprises — most of them on a few hot
lines (a Zipf-like choice) — a correction (reversal) now and then, and a clawback of what
is left on some lines. With ``--years`` each year is closed before the next is posted
(the file then holds the steps of those closes: import it with ``--with-close-steps``):
lines of projects still running carry over, the rest lapses. The same arguments always
write the same file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENTERPRISES = [f"企业{n:03d}有限公司" for n in range(50)]
PROJECT_ITEMS = ["2150805", "2150299", "2160299", "2160699", "2169999", "2111001", "2010399"]
PERSONNEL_CODES = ["30101", "30102", "30103", "30108", "30110", "30113"]
PUBLIC_CODES = ["30201", "30205", "30206", "30207", "30211", "30231"]


def unit_history(
    u: int, lines: int, payments: int, year: int, rng: random.Random, years: int = 1
) -> Iterator[dict[str, Any]]:
    """One unit's books over ``years`` years from ``year``: each year is closed (projects
    still running carry over, the rest lapses) before the next one is posted."""
    unit = f"U{u:05d}"
    n = 0

    def command(kind: str, month: int = 1, when: int = year, **fields: Any) -> dict[str, Any]:
        nonlocal n
        n += 1
        return {
            "type": kind,
            "command_id": f"{unit}-{when}-{n:07d}",
            "posted_by": "会计",
            "business_date": f"{when}-{month:02d}-{rng.randint(1, 28):02d}",
            **fields,
        }

    last = year + years - 1
    yield command("register_unit", code=unit, name=f"合成单位{u:05d}")
    yield command("open_fiscal_year", unit=unit, year=year)
    codes = [f"JB-{unit}-RY", f"JB-{unit}-GY"]
    natures = ["basic_personnel", "basic_public"]
    final_years: dict[str, int] = {}
    for p in range(lines - 2):
        project = f"P{p:04d}"
        final_years[project] = year + rng.randint(0, years)
        yield command(
            "register_project",
            unit=unit,
            code=project,
            name=f"项目{p:04d}",
            implementing_units="合成企业",
            classified=p % 20 == 19,
            final_year=final_years[project],
        )
        codes.append(f"XM-{unit}-{p:04d}")
        natures.append("project")
    carried: set[str] = set()  # lines the last close carried into this year
    for when in range(year, last + 1):
        running = [i for i in range(len(codes)) if i < 2 or final_years[f"P{i - 2:04d}"] >= when]
        for i in running:
            if codes[i] not in carried:
                yield command(
                    "open_budget_line", when=when, **_line_fields(unit, when, i, codes, natures)
                )
        yield from _year_of_payments(
            command,
            unit,
            when,
            [codes[i] for i in running],
            [natures[i] for i in running],
            payments,
            rng,
        )
        if when == last:
            break
        yield command("start_closing", 12, when, unit=unit, year=when, policy={"generated": True})
        carried = set()
        for i in running:
            goes_on = i >= 2 and final_years[f"P{i - 2:04d}"] > when
            yield command(
                "close_line",
                12,
                when,
                unit=unit,
                year=when,
                line=codes[i],
                outcome="carry_over" if goes_on else "lapse",
                rule="project continues" if goes_on else "year end",
            )
            if goes_on:
                carried.add(codes[i])
        yield command(
            "finish_closing", 12, when, unit=unit, year=when, adjustment_until=f"{when + 1}-01-31"
        )


def _line_fields(
    unit: str, year: int, i: int, codes: list[str], natures: list[str]
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "unit": unit,
        "year": year,
        "line": codes[i],
        "title": codes[i],
        "nature": natures[i],
        "function_code": "2010301" if i < 2 else PROJECT_ITEMS[i % len(PROJECT_ITEMS)],
    }
    if natures[i] == "project":
        fields["project"] = f"P{i - 2:04d}"
    return fields


def _year_of_payments(
    command: Any,
    unit: str,
    year: int,
    codes: list[str],
    natures: list[str],
    payments: int,
    rng: random.Random,
) -> Iterator[dict[str, Any]]:
    """Allocations, then payments — mostly on a few hot lines — corrections and
    clawbacks."""
    weights = [1 / (rank + 1) ** 1.2 for rank in range(len(codes))]
    spend: list[list[int]] = [[] for _ in codes]
    for _ in range(payments):
        spend[rng.choices(range(len(codes)), weights)[0]].append(rng.randint(100, 500_000))
    line = {"unit": unit, "year": year}
    for i, code in enumerate(codes):
        total = sum(spend[i]) + rng.randint(0, 1_000_000) + 100
        initial = total // 2 if i < 2 or rng.random() < 0.2 else 0
        if initial:
            yield command(
                "allocate_budget",
                1,
                year,
                line=code,
                amount=f"{initial // 100}.{initial % 100:02d}",
                initial=True,
                document_no=f"预{unit}-{year}-{i}",
                **line,
            )
        rest = total - initial
        yield command(
            "allocate_budget",
            2,
            year,
            line=code,
            amount=f"{rest // 100}.{rest % 100:02d}",
            document_no=f"追{unit}-{year}-{i}",
            **line,
        )
    for i, code in enumerate(codes):
        for k, fen in enumerate(spend[i]):
            amount = f"{fen // 100}.{fen % 100:02d}"
            month = 3 + k * 9 // max(1, len(spend[i]))
            if natures[i] == "project":
                paid = command(
                    "transfer_to_enterprise",
                    month,
                    year,
                    line=code,
                    amount=amount,
                    payee=rng.choice(ENTERPRISES),
                    document_no=f"记-{k}",
                    **line,
                )
            else:
                codes_of = PERSONNEL_CODES if natures[i] == "basic_personnel" else PUBLIC_CODES
                paid = command(
                    "disburse",
                    month,
                    year,
                    line=code,
                    amount=amount,
                    payee="收款人",
                    economic_code=rng.choice(codes_of),
                    document_no=f"记-{k}",
                    **line,
                )
            yield paid
            if rng.random() < 0.01:  # keyed twice: corrected
                yield command(
                    "reverse_entry",
                    month,
                    year,
                    line=code,
                    reverses_command_id=paid["command_id"],
                    reason="更正",
                    document_no=f"红-{k}",
                    **line,
                )
        if rng.random() < 0.2:
            yield command(
                "claw_back", 12, year, line=code, amount="1.00", document_no=f"收回-{i}", **line
            )


def generate(
    units: int, lines: int, payments: int, year: int, seed: int, years: int = 1
) -> Iterator[str]:
    """The history as JSON lines; ``payments`` per unit and year."""
    for u in range(units):
        rng = random.Random(f"{seed}/{u}")
        for command in unit_history(u, lines, payments, year, rng, years):
            yield json.dumps(command, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--lines", type=int, default=20, help="budget lines per unit (≥ 3)")
    parser.add_argument("--payments", type=int, default=500, help="payments per unit and year")
    parser.add_argument("--year", type=int, default=2024, help="the first year")
    parser.add_argument("--years", type=int, default=1, help="years, each closed before the next")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.lines < 3:
        parser.error("--lines must be at least 3")
    count = 0
    with args.out.open("w", encoding="utf-8") as handle:
        for line in generate(
            args.units, args.lines, args.payments, args.year, args.seed, args.years
        ):
            handle.write(line + "\n")
            count += 1
    print(f"wrote {count} commands to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
