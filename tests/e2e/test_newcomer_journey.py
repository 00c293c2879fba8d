"""The first hour of a Shanxi SME, in Chinese on a 390×844 phone (issue #12): a millet cooperative signs up,
is verified and lists millet; a new (L0) buyer sees its order limit on the listing before ordering; a coal
mine opens /orders and sees its sales; a quote with a bad price comes back with a clear error; an RFQ award
produces a contract with the winning quote's specs. Screenshots: tests/e2e/screenshots/4x-*.png."""

from __future__ import annotations

import re
import secrets

import pytest

from market.accounts import uscc
from market.demo import DEMO_PASSWORD
from tests.e2e.conftest import PHONE
from tests.e2e.test_onboarding_journey import ALPHABET, _licence_png

pytestmark = pytest.mark.e2e

RFQ_TITLE = "2026年二季度电煤采购"


def _phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)
    context.set_default_timeout(90_000)  # a shared 2-core machine under load answers slowly at times
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
    return context, page


def _login(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#identifier", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _sign_up(page, base: str, prefix: str, name: str, person: str) -> str:  # type: ignore[no-untyped-def]
    code = uscc.make(prefix, "140902", "MA1" + "".join(secrets.choice(ALPHABET) for _ in range(6)))
    page.goto(base + "/signup")
    page.fill("#company_name", f"{name}{code[-4:]}")
    page.fill("#uscc", code)
    page.fill("#contact_name", person)
    page.fill("#contact", f"{prefix}-{code[-6:].lower()}@example.cn")
    page.fill("#password", "Xinfu-millet-harvest-2026")
    page.click("#signup-submit")
    page.wait_for_url("**/company/verification")
    return f"{name}{code[-4:]}"


def test_first_hour_of_a_shanxi_sme_on_a_phone(live_server, browser, shot, tmp_path):
    # --- 1. a millet cooperative signs up, uploads its licence and is verified
    coop_context, coop = _phone(browser)
    coop_name = _sign_up(coop, live_server, "93", "忻州市忻府区谷丰小米专业合作社", "郭谷丰")
    licence = tmp_path / "执照.png"
    _licence_png(licence, "93")
    coop.set_input_files("#licence", str(licence))
    coop.click("form[enctype] button[type=submit]")
    coop.wait_for_load_state()
    assert "待审核" in coop.text_content("#verification-status")
    shot(coop, "40-coop-signed-up")
    operator_context, operator = _phone(browser)
    _login(operator, live_server, "operator@demo.jinshang.cn")
    operator.goto(live_server + "/operator/verification")
    operator.locator("article.queue-item", has_text=coop_name).locator("button.approve").click()
    operator.wait_for_load_state()
    coop.goto(live_server + "/company")
    assert "L1 已认证" in coop.text_content("main")
    assert "农民专业合作社" in coop.text_content("main")  # the kind follows the 93 code
    shot(coop, "41-coop-verified")

    # --- 2. ... and lists millet
    coop.goto(live_server + "/my/listings/new?category=millet")
    coop.fill("#title_zh", "忻府区新谷小米 2025年新米")
    coop.fill("[name='specs.variety']", "晋谷21号")
    grade = coop.locator("select[name='specs.grade'] option").nth(1).get_attribute("value")
    coop.select_option("select[name='specs.grade']", grade)
    coop.fill("[name='specs.harvest_year']", "2025")
    coop.fill("[name='specs.moisture']", "12.5")
    coop.fill("#unit_price", "16.80")
    coop.select_option("#unit", "kg")
    assert coop.locator("#unit option[value=kg]").text_content() == "千克"  # units in the reader's language
    coop.fill("#min_order_quantity", "100")
    coop.fill("#available_quantity", "20000")
    coop.fill("#lead_time_days", "3")
    coop.locator("form:has(input[name=category]) button[type=submit]").first.click()
    coop.wait_for_url(re.compile(r".*/my/listings/\d+/edit$"))
    coop.locator("form:has(input[name=action][value=publish]) button").click()
    coop.wait_for_load_state()
    listing_id = re.search(r"/my/listings/(\d+)/", coop.url).group(1)
    shot(coop, "42-coop-listed-millet")
    listing_url = f"{live_server}/listings/{listing_id}"

    # --- 3. a new buyer (L0, not yet verified) sees its limit on the listing before ordering
    buyer_context, buyer = _phone(browser)
    _sign_up(buyer, live_server, "91", "忻州市晋味食品有限公司", "韩晋味")
    buyer.goto(listing_url)
    assert "忻府区新谷小米" in buyer.text_content("h1")
    notice = buyer.locator(".limit-notice")
    assert notice.count() == 1
    text = notice.text_content()
    assert "¥50,000.00" in text
    assert "营业执照" in text  # how to raise it: get verified
    assert "L0" in text
    notice.scroll_into_view_if_needed()
    shot(buyer, "43-l0-buyer-sees-limit-on-listing")
    # a quantity above the limit is refused with the field named, nothing in the cart
    buyer.fill("#cart-quantity", "5000")  # 5,000 kg × ¥16.80 = ¥84,000
    buyer.click("#add-to-cart button[type=submit]")
    buyer.wait_for_load_state()
    assert "额度" in buyer.text_content("main")
    shot(buyer, "44-l0-buyer-above-limit-refused")

    # --- 4. a seller opens /orders and sees its sales
    seller_context, seller = _phone(browser)
    _login(seller, live_server, "coal@demo.jinshang.cn")
    seller.goto(live_server + "/orders")
    current = seller.locator("a[aria-current=page]")
    assert "tab=selling" in current.get_attribute("href")
    assert seller.locator("table tbody tr").count() > 0
    shot(seller, "45-seller-orders-open-on-sales")

    # --- 5. a quote with a bad price comes back with a clear error (and nothing is saved)
    quoting_context, quoting = _phone(browser)
    _login(quoting, live_server, "shuozhou-coal@demo.jinshang.cn")
    quoting.goto(live_server + "/rfq/")
    quoting.locator("a", has_text=RFQ_TITLE).first.click()
    quoting.wait_for_url(re.compile(r".*/rfq/\d+$"))
    rfq_url = quoting.url

    def fill_quote(price: str) -> None:
        quoting.fill("#price", price)
        quoting.fill("#qq", "1500")
        quoting.fill("#goods", "朔州平鲁动力煤 Q5650 洗混煤")
        quoting.fill("#q-qnet_ar", "5650")
        quoting.fill("#q-st_d", "0.6")
        quoting.fill("#q-ad", "17")
        quoting.fill("#q-mt", "9")
        quoting.fill("#terms", "车板交货，含税；以第三方检验为准")
        quoting.locator("form[action$='/quote'] button[type=submit]").click()
        quoting.wait_for_load_state()

    fill_quote("771.555")
    error = quoting.locator(".flash-error").first.text_content()
    assert "单价" in error
    assert re.search(r"(两|2) ?位小数", error)
    assert quoting.locator("#quote-form .field-error").count() >= 1  # beside the field, input kept
    assert quoting.input_value("#price") == "771.555"
    assert quoting.locator("text=您的报价").count() == 0 or "771.555" not in quoting.text_content("main")
    shot(quoting, "46-quote-bad-price-error")
    fill_quote("771.50")
    assert quoting.locator(".flash-success").count() == 1
    shot(quoting, "47-quote-submitted")

    # --- 6. the buyer awards the quote: the contract carries the quote's goods, specs, price and terms
    power_context, power = _phone(browser)
    _login(power, live_server, "power@demo.jinshang.cn")
    power.goto(rfq_url)
    power.locator("form[action$='/close'] button").click()
    power.wait_for_load_state()
    row = power.locator("tr", has_text="朔州市平鲁区金山煤业")
    row.locator("form[action*='/accept'] button").click()
    power.wait_for_url(re.compile(r".*/orders/\d+$"))
    shot(power, "48-award-order")
    power.locator("#contract a", has_text="中文").click()
    power.wait_for_load_state()
    contract = power.text_content("main")
    assert "朔州平鲁动力煤 Q5650 洗混煤" in contract  # the goods as the quote named them
    assert "5650" in contract  # the price adjustment base is the quoted Qnet,ar
    assert "¥771.50" in contract
    assert "车板交货，含税" in contract
    shot(power, "49-award-contract-with-quote-specs")
    for context in (coop_context, operator_context, buyer_context, seller_context, quoting_context, power_context):
        context.close()
