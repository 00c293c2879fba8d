"""Money that always agrees, in a real browser and in Chinese (issue #17): the steel mill pays by bank transfer
and pays too much — the operator imports the statement, the extra is refunded at once and shown; the coking
plant's disputed coal: the mine answers, the operator decides a split; the over-delivered lot: the coking plant
pays the difference and the order settles. Screenshots: tests/e2e/screenshots/40-money-*.png."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from market.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

STEEL, COKING, COAL, OPERATOR = ("steel@demo.jinshang.cn", "coking@demo.jinshang.cn", "coal@demo.jinshang.cn",
                                 "operator@demo.jinshang.cn")
HEADER = "交易流水号,交易日期,借贷标志,金额,币种,对方户名,对方账号,附言\n"


def _page(browser, base: str, email: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)  # a shared 2-core machine: the worker and gunicorn compete
    page.goto(base + "/login")
    page.fill("#identifier", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def _yuan(text: str) -> Decimal:
    return Decimal(re.search(r"¥([\d,]+\.\d\d)", text).group(1).replace(",", ""))  # type: ignore[union-attr]


def _order_id(operator, base: str, reference: str) -> str:  # type: ignore[no-untyped-def]
    operator.goto(f"{base}/operator/orders/by-number/{reference}")
    return operator.url.rstrip("/").rsplit("/", 1)[-1]


def test_bank_overpayment_dispute_split_and_top_up(live_server, browser, shot):
    operator = _page(browser, live_server, OPERATOR)

    # --- 1. bank transfer with an over-payment
    operator.goto(f"{live_server}/payments/operator?status=awaiting_funds")
    references = [link.strip() for link in operator.locator("table tbody tr td a").all_text_contents()]
    steel = _page(browser, live_server, STEEL)
    for reference in references:  # the escrow awaiting the steel buyer's money (the demo has several buyers)
        steel.goto(f"{live_server}/pay/{reference}")
        if steel.locator("input[name=provider][value=bank_transfer]").count():
            break
    steel.check("input[name=provider][value=bank_transfer]")
    steel.click("main form.card button[type=submit]")
    steel.wait_for_selector("#instructions")
    code = steel.text_content(".pay-code").strip()
    due = _yuan(steel.locator("#instructions").text_content())
    shot(steel, "40-money-bank-instructions")
    paid = due + Decimal("1000.00")
    statement = HEADER + f"E2E0001,2026-03-02,贷,{paid:.2f},人民币,太原晋钢轧材有限公司,6222020200112233,货款 {code}\n"
    operator.goto(f"{live_server}/payments/operator")
    operator.set_input_files("input[name=statement]", files=[{"name": "对账单.csv", "mimeType": "text/csv",
                                                               "buffer": statement.encode("utf-8")}])
    operator.click("form[action$='/statement'] button[type=submit]")
    operator.wait_for_load_state()
    assert "匹配 1 笔" in operator.text_content("main")
    shot(operator, "41-money-statement-imported")
    steel_order = _order_id(operator, live_server, reference)
    steel.goto(f"{live_server}/orders/{steel_order}")
    money = steel.text_content("main")
    assert "已付款至托管" in steel.text_content("h1")
    assert "多付款项" in money
    assert "¥1,000.00" in money
    assert "已立即退还买方" in money
    shot(steel, "42-money-overpayment-refunded")

    # --- 2. the disputed lot: the mine answers, the operator decides a split
    operator.goto(f"{live_server}/operator/disputes")
    operator.locator("main a[href*='/operator/disputes/']").first.click()
    operator.wait_for_load_state()
    dispute_url = operator.url
    order_id = operator.locator("h1 a").get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
    coal = _page(browser, live_server, COAL)
    coal.goto(f"{live_server}/orders/{order_id}/dispute")
    coal.fill("#text", "复检报告显示发热量仅比合同低约百分之三，同意适当扣款但不接受全额退款。")
    coal.click("form[action$='/dispute/respond'] button[type=submit]")
    coal.wait_for_load_state()
    assert "您的答复已加入争议记录" in coal.text_content("main")
    coal.goto(f"{live_server}/orders/{order_id}/dispute")
    shot(coal, "43-money-seller-answers")
    operator.goto(dispute_url)
    assert "同意适当扣款" in operator.text_content("main")
    held = _yuan(operator.locator("main .card", has_text="托管余额").first.text_content())
    payee = (held * Decimal("0.6")).quantize(Decimal("0.01"))
    operator.fill("#payee", f"{payee:.2f}")
    operator.select_option("#outcome", "split")
    operator.fill("#decision", "检验结果部分不符合合同约定，按六成付给卖方，其余退还买方。")
    shot(operator, "44-money-operator-decides")
    operator.click("form.card button[type=submit]")
    operator.wait_for_load_state()
    coking = _page(browser, live_server, COKING)
    coking.goto(f"{live_server}/orders/{order_id}")
    assert "已结算" in coking.text_content("h1")
    assert f"¥{payee:,.2f}" in coking.text_content("main")
    shot(coking, "45-money-dispute-settled")

    # --- 3. the over-delivered lot: the buyer sees the difference and pays it
    operator.goto(f"{live_server}/payments/operator?status=partially_released")
    top_up_ref = operator.locator("table tbody tr td a").first.text_content().strip()
    top_up_order = _order_id(operator, live_server, top_up_ref)
    coking.goto(f"{live_server}/orders/{top_up_order}")
    assert "待补差额" in coking.text_content("main")
    shot(coking, "46-money-top-up-due")
    coking.click("main a.button:has-text('补付差额')")
    coking.wait_for_url("**/pay/**")
    coking.check("input[name=provider][value=sandbox]")
    coking.click("main form.card button[type=submit]")
    coking.wait_for_selector("#instructions")
    coking.click("#instructions form button[type=submit]")
    coking.wait_for_load_state()
    coking.goto(f"{live_server}/orders/{top_up_order}")
    assert "已结算" in coking.text_content("h1")
    assert "待补差额" not in coking.text_content("main")
    shot(coking, "47-money-top-up-paid-settled")
