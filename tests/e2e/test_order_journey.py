"""A power plant buys thermal coal end to end in a real browser: search 动力煤, open a listing, cart, checkout;
the coal mine accepts; both confirm the contract; the buyer pays with the sandbox; the order shows as paid into
escrow. Prints how long the whole journey takes (screenshots included)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import quote

import pytest

from market.core.timeutil import to_local, utcnow
from market.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

BUYER, SELLER = "power@demo.jinshang.cn", "coal@demo.jinshang.cn"
SELLER_NAME = "大同市云冈晋北煤业有限公司"


def _desk(browser):  # type: ignore[no-untyped-def]
    return browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")


def _login(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#identifier", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks before contract, payment


def _confirm_contract(page, order_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(order_url)
    page.click("#contract form[action$='/contract/confirm'] button[type=submit]")
    page.wait_for_load_state()


def test_buyer_orders_coal_and_pays_into_escrow(live_server, browser, shot):
    started = time.monotonic()
    buyer_context = _desk(browser)
    buyer = buyer_context.new_page()
    _login(buyer, live_server, BUYER)

    # --- search and open a listing of the coal mine
    buyer.goto(f"{live_server}/search?q={quote('动力煤')}&category=thermal-coal")
    cards = buyer.locator("article.listing-card", has_text=SELLER_NAME)
    assert cards.count() > 0
    shot(buyer, "20-buyer-search")
    cards.first.locator("h3 a").click()
    buyer.wait_for_url(re.compile(r".*/listings/\d+$"))
    title = buyer.text_content("h1").strip()
    assert "动力煤" in title
    assert "信用" in buyer.text_content("aside")  # the seller's credit grade badge and ratings
    shot(buyer, "21-buyer-listing")

    # --- cart and checkout (the minimum order quantity is filled in)
    buyer.click("#add-to-cart button[type=submit]")
    buyer.wait_for_url("**/cart")
    assert title in buyer.text_content("main")
    shot(buyer, "22-buyer-cart")
    buyer.click("main a.button[href$='/checkout']")
    buyer.wait_for_url("**/checkout")
    today = to_local(utcnow()).date()
    buyer.fill("#ws", (today + timedelta(days=5)).isoformat())
    buyer.fill("#we", (today + timedelta(days=30)).isoformat())
    buyer.fill("#po", "SD-E2E-0001")
    shot(buyer, "23-buyer-checkout")
    buyer.click("main form.card button[type=submit]")
    buyer.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_url = buyer.url
    assert "已下单" in buyer.text_content("h1")
    shot(buyer, "24-order-placed")

    # --- the seller accepts and confirms the contract
    seller_context = _desk(browser)
    seller = seller_context.new_page()
    _login(seller, live_server, SELLER)
    seller.goto(order_url)
    seller.click("form[action$='/accept'] button[type=submit]")
    seller.wait_for_load_state()
    assert "卖方已接单" in seller.text_content("h1")
    _confirm_contract(seller, order_url)
    shot(seller, "25-seller-accepted-confirmed")

    # --- the buyer confirms too, then pays with the sandbox
    _confirm_contract(buyer, order_url)
    assert "待付款" in buyer.text_content("h1")
    assert "双方已确认" in buyer.text_content("#contract")
    shot(buyer, "26-contract-signed")
    buyer.click("main a.button[href*='/pay/']")
    buyer.wait_for_url("**/pay/**")
    buyer.check("input[name=provider][value=sandbox]")
    buyer.click("main form.card button[type=submit]")
    buyer.wait_for_selector("#instructions")
    shot(buyer, "27-pay-instructions")
    buyer.click("#instructions form button[type=submit]")
    buyer.wait_for_load_state()
    assert "已托管" in buyer.text_content("main")  # the escrow is funded

    # --- the order shows as paid into escrow, for both parties
    buyer.goto(order_url)
    assert "已付款至托管" in buyer.text_content("h1")
    assert "已托管" in buyer.text_content("main")
    shot(buyer, "28-order-funded")
    seller.goto(order_url)
    assert "已付款至托管" in seller.text_content("h1")
    seconds = time.monotonic() - started
    print(f"\norder journey (search → listing → cart → checkout → accept → contract ×2 → sandbox pay → funded): "
          f"{seconds:.1f} s in a real browser, screenshots included")
    assert seconds < 40
    buyer_context.close()
    seller_context.close()
