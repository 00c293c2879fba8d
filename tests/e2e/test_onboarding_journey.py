"""A farmer cooperative signs up on a phone, uploads its licence, an operator approves it, the cooperative
sees that it is verified. Prints how many fields and seconds the sign-up takes."""

from __future__ import annotations

import secrets
import time
from io import BytesIO

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from market.accounts import uscc
from market.demo import DEMO_PASSWORD
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.e2e

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _licence_png(path, code: str) -> None:  # type: ignore[no-untyped-def]
    image = Image.new("RGB", (800, 560), "#fbf6ea")
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 16, 784, 544), outline="#9b1c1c", width=5)
    draw.text((300, 60), "BUSINESS LICENCE", fill="#9b1c1c")
    draw.text((80, 160), f"USCC: {code}", fill="#1f2328")
    buffer = BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())


def test_cooperative_signs_up_on_a_phone_and_gets_verified(live_server, browser, shot, tmp_path):
    code = uscc.make("93", "140902", "MA0" + "".join(secrets.choice(ALPHABET) for _ in range(6)))
    name = f"忻州市忻府区金谷小米专业合作社{code[-4:]}"
    email = f"jingu-{code[-6:].lower()}@example.cn"

    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    shot(page, "01-home-phone")
    page.click("label.nav-burger")
    shot(page, "02-home-phone-menu")

    # --- the sign-up, timed from opening the page to landing on the next step
    started = time.monotonic()
    page.goto(live_server + "/signup")
    opened = time.monotonic() - started
    shot(page, "03-signup-empty")
    typed = {"#company_name": name, "#uscc": " ".join([code[:6].lower(), code[6:12], code[12:]]),
             "#contact_name": "郭金谷", "#contact": email, "#password": "Xinfu-millet-harvest-2026"}
    page.fill("#company_name", typed["#company_name"])
    page.fill("#uscc", typed["#uscc"])
    page.locator("#contact_name").focus()  # blur: the online name check runs
    # a locator wait, not wait_for_function: the CSP (script-src 'self', no eval) refuses evaluated strings
    expect(page.locator("#uscc-check")).not_to_be_empty()
    checked = time.monotonic() - started
    assert "代码有效" in page.text_content("#uscc-check")
    assert page.input_value("#kind") == "farmer_cooperative"  # detected from the 93 prefix
    shot(page, "04-signup-name-check")
    for selector in ("#contact_name", "#contact", "#password"):
        page.fill(selector, typed[selector])
    page.click("#signup-submit")
    page.wait_for_url("**/company/verification")
    seconds = time.monotonic() - started
    print(f"\nscripted sign-up: {len(typed)} fields typed (kind detected), {seconds:.2f} s in a real browser "
          f"(page open {opened:.2f} s, name check answered {checked:.2f} s; screenshots included)")
    shot(page, "05-after-signup")
    assert name in page.text_content("main")

    # --- licence upload
    licence = tmp_path / "执照.png"
    _licence_png(licence, code)
    page.set_input_files("#licence", str(licence))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("#verification-status")
    assert "待审核" in page.text_content("#verification-status")
    shot(page, "06-licence-uploaded")

    # --- the operator approves (desktop)
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    operator = desk.new_page()
    operator.goto(live_server + "/login")
    operator.fill("#identifier", "operator@demo.jinshang.cn")
    operator.fill("#password", DEMO_PASSWORD)
    operator.click("main button[type=submit]")
    operator.wait_for_url("**/operator/verification")
    item = operator.locator("article.queue-item", has_text=name)
    assert item.count() == 1
    shot(operator, "07-operator-queue")
    operator.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
    item.locator("button.approve").click()
    operator.wait_for_load_state()
    assert operator.locator("article.queue-item", has_text=name).count() == 0
    shot(operator, "08-operator-approved")

    # --- the cooperative sees it is verified
    page.goto(live_server + "/company/verification")
    assert "已认证" in page.text_content("#verified-status")
    shot(page, "09-cooperative-verified")
    page.goto(live_server + "/company")
    assert "L1 已认证" in page.text_content("main")
    shot(page, "10-company-page-phone")
    phone.close()
    desk.close()
