"""A posting's confirmation shows the amount exactly as it will be posted."""

from __future__ import annotations

import pytest

from commands.web.forms import FORMS, exact_amount, shown_values
from ledger.errors import InvalidAmount


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("26.08万", "260800.00（所填：26.08万）"),
        ("1,234.56", "1234.56（所填：1,234.56）"),
        ("7", "7.00（所填：7）"),
        ("7.00", "7.00"),
        (" 7.00 ", "7.00"),
    ],
)
def test_exact_amount(typed: str, shown: str) -> None:
    assert exact_amount(typed) == shown


def test_the_amount_row_is_the_exact_amount() -> None:
    data = {"line": "L1", "amount": "0.5万", "document_no": "文-1", "business_date": "2022-01-05"}
    rows = dict(shown_values(FORMS["allocate"], data))
    assert rows["金额（元）"] == "5000.00（所填：0.5万）"


def test_an_amount_outside_the_grammar_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        exact_amount("1.234")
