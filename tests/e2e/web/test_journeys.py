"""The 工作台 as its users drive it, in Chromium, against ``fundflow serve`` on PostgreSQL
loaded with the bureau's 2022. Every page visited is saved as a screenshot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import SEED_DIR
from tests.e2e.web.conftest import UNIT, Journey

pytestmark = pytest.mark.postgres
LINE = "JB-2010301-GY"
YEAR = f"/u/{UNIT}/2022"


def fill_posting(j: Journey, values: dict[str, str]) -> None:
    for label, value in values.items():
        j.page.get_by_label(label, exact=False).first.fill(value)


def test_clerk_posts_meets_an_overspend_posts_once_and_reverses(journey: Journey) -> None:
    j, page = journey, journey.page
    j.sign_in(j.service.token("会计-李娜", "clerk", UNIT))
    page.get_by_role("link", name=re.compile("2022年度")).first.click()
    expect(page.locator(f'tr[data-line="{LINE}"]')).to_be_visible()
    j.shot("year")
    # Top the line up, so that it has money to pay.
    page.locator(f'tr[data-line="{LINE}"]').get_by_role("link", name="下达 / 追加预算").click()
    fill_posting(
        j, {"金额": "10000", "凭证号 / 文号": "昌市财预〔2022〕99号", "业务日期": "2022-12-20"}
    )
    j.shot("allocate-form")
    page.get_by_role("button", name="下一步：核对").click()
    j.shot("allocate-confirm")
    page.get_by_role("button", name="确认记账").click()
    expect(page.locator("#done")).to_contain_text("已记账")
    j.shot("allocate-posted")

    # An overspend: the domain's message beside the amount, nothing posted.
    j.go(f"{YEAR}/post/disburse?line={LINE}", "disburse-form")
    fill_posting(
        j,
        {
            "金额": "1,000,000",
            "收款单位": "加油站",
            "经济分类": "30231",
            "凭证号": "记-2022-12-0099",
            "业务日期": "2022-12-20",
        },
    )
    page.get_by_role("button", name="下一步：核对").click()
    expect(page.locator("#confirm")).to_contain_text("加油站")
    j.shot("disburse-confirm")
    page.get_by_role("button", name="确认记账").click()
    amount = page.locator(".field", has=page.locator("#f-amount"))
    expect(amount.locator(".error")).to_be_visible()
    expect(amount.locator(".error")).to_contain_text(re.compile("overspend|超|不足|available"))
    j.shot("overspend")

    # Corrected, confirmed, then sent twice: a double click and a resubmission.
    page.locator("#f-amount").fill("4300")
    page.get_by_role("button", name="下一步：核对").click()
    form = page.locator("form", has=page.get_by_role("button", name="确认记账"))
    values = page.evaluate("f => Object.fromEntries(new FormData(f))", form.element_handle())
    page.get_by_role("button", name="确认记账").dblclick()
    page.wait_for_url(re.compile("/journal"))
    j.shot("disburse-posted")
    again = page.request.post(
        f"{j.service.base}{YEAR}/post/disburse", form={**values, "step": "post"}
    )
    assert "done=again" in again.url
    page.goto(again.url)
    expect(page.locator("#done")).to_contain_text("重复提交没有再记一次")
    j.shot("resubmitted")
    page.get_by_label("凭证号").fill("记-2022-12-0099")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tr.entry")).to_have_count(1)
    j.shot("journal-one-posting")

    # Reverse it from the journal.
    page.locator("tr.entry").get_by_role("link", name="冲销").click()
    fill_posting(j, {"冲销原因": "重复录入", "凭证号": "记-2022-12-0100", "业务日期": "2022-12-21"})
    j.shot("reverse-form")
    page.get_by_role("button", name="下一步：核对").click()
    page.get_by_role("button", name="确认记账").click()
    expect(page.locator("#done")).to_contain_text("已记账")
    page.get_by_label("凭证号").fill("记-2022-12-0100")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tr.entry")).to_have_count(1)
    expect(page.locator("tr.entry")).to_contain_text("红字冲销")
    j.shot("journal-reversal")


def test_clerk_scoped_to_one_unit_cannot_reach_another(journey: Journey) -> None:
    j, page = journey, journey.page
    j.sign_in(j.service.token("会计-别处", "clerk", "CJ-OTHER"))
    expect(page.locator("main")).not_to_contain_text(UNIT)
    for path in (YEAR, f"{YEAR}/journal", f"{YEAR}/post/disburse", f"/u/{UNIT}/trail"):
        j.go(path, "refused")
        expect(page.locator("[data-code]")).to_have_attribute("data-code", "out_of_scope")
        expect(page.locator("main")).not_to_contain_text("商务和工业信息化局")


def test_closer_previews_and_closes_the_year(journey: Journey) -> None:
    j, page = journey, journey.page
    j.sign_in(j.service.token("结账员-赵", "closer", UNIT))
    j.go(f"{YEAR}/close", "close-preview")
    rows = page.locator("#preview tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator("#preview")).to_contain_text("default.")
    page.get_by_role("button", name="确认结账").click()
    expect(page.locator("#close-done")).to_contain_text("已结账")
    expect(page.locator("#seal")).to_have_text(re.compile(r"^\d+:"))
    j.shot("close-result")
    j.go(YEAR, "closed-year")
    expect(page.locator("h1")).to_contain_text("已结账")


def test_auditor_reads_the_trail_as_of_a_date_verifies_and_downloads(
    journey: Journey, tmp_path: Path
) -> None:
    j, page = journey, journey.page
    j.sign_in(j.service.token("审计-周", "auditor", clearance=True))
    j.go(f"/u/{UNIT}/trail?year=2022&line={LINE}", "trail")
    every = page.locator("#trail tbody tr").count()
    j.go(f"/u/{UNIT}/trail?year=2022&line={LINE}&as_of=2022-06-30", "trail-as-of")
    dates = page.locator("#trail tbody tr td:nth-child(3)").all_inner_texts()
    assert dates and all(d <= "2022-06-30" for d in dates) and len(dates) < every
    j.go(f"{YEAR}/books?as_of=2022-06-30", "books-as-of")
    j.go("/chain", "chain")
    expect(page.locator("#chain-status")).to_contain_text("完好")
    expect(page.locator("#chain-lines")).to_contain_text("head:")
    j.go(f"{YEAR}/reconcile", "reconcile-form")
    page.get_by_label(re.compile("公开数文件")).set_input_files(
        str(SEED_DIR / "changji-2022-published-figures.json")
    )
    page.get_by_role("button", name="核对").click()
    expect(page.locator("#reconcile-summary")).to_contain_text("不一致")
    expect(page.locator("#reconcile tr.diff").first).to_be_visible()
    j.shot("reconcile")
    j.go(f"{YEAR}/reports", "reports")
    with page.expect_download() as download:
        page.locator("#dl-workbook").click()
    saved = tmp_path / "决算2022.xlsx"
    download.value.save_as(saved)
    workbook = load_workbook(saved)
    assert {f"公开0{n}表" for n in range(1, 10)} <= set(workbook.sheetnames)
    j.go(f"{YEAR}/execution", "execution")
    j.go(f"{YEAR}/balances", "balances")


def test_auditor_without_clearance_never_sees_classified_detail(journey: Journey) -> None:
    j, page = journey, journey.page
    j.sign_in(j.service.token("审计-吴", "auditor"))
    secret = re.compile("XM-P20|P20")
    for path, what in (
        ("/", "home"),
        (YEAR, "year"),
        (f"{YEAR}/journal", "journal"),
        (f"{YEAR}/reports", "reports"),
        (f"{YEAR}/execution", "execution"),
        (f"{YEAR}/balances", "balances"),
        (f"/u/{UNIT}/trail?enterprise=特变电工股份有限公司", "trail-by-payee"),
        (f"/u/{UNIT}/trail?project=P20", "trail-classified"),
        (f"{YEAR}/books?as_of=2022-06-30", "books-as-of"),
        (f"{YEAR}/close", "close"),
    ):
        j.go(path, what)
        assert not secret.search(page.content()), path
    expect(page.locator("[data-code]")).to_have_attribute("data-code", "forbidden")
