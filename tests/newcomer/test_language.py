"""Everything a person reads is in that person's language.

Renders every notification kind, every contract clause and every enum label in zh_CN and en, and fails on
text in the other language: Latin words on Chinese text beyond a short allow-list (brand names, grade and
spec codes, units, file formats), and any Chinese character on English text. What people typed (company
names, titles, reasons) is masked first: it is their words, not ours.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from catalog import labels as catalog_labels
from market.accounts import labels as account_labels
from market.accounts import services as account_services
from market.accounts import verification
from market.accounts.models import VerificationRequest
from market.core.i18n import merged_catalog
from market.core.notify import Notification, render
from market.core.timeutil import utcnow
from market.credit import gates, ratings, report
from market.extensions import db
from market.orders import contract_text, contracts, disputes, inspection, lifecycle
from market.orders import services as order_services
from market.orders.lifecycle import EVENT_LABELS, STATE_LABELS, announce
from market.rfq import services as rfq_services
from market.supervision.labels import OBJECT_TYPE_LABELS
from tests.factories import make_coal_category, make_company, make_staff, make_trader, make_user
from tests.factories.orders import (
    inspect,
    make_grain_category,
    make_trade_listing,
    order_in_state,
    place_test_order,
    sign_contract,
)

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
LATIN = re.compile(r"%\([a-z_0-9]+\)[sd]|%%|[A-Za-z]+")
# Latin words a Chinese text may carry: brands, grade and spec codes, units, standards, file formats
ALLOWED_LATIN = {
    "Jinshang", "Stripe", "B", "L", "v", "AAA", "AA", "A", "BBB", "BB", "CCC", "CC", "C", "D", "N", "Y",
    "GB", "T", "Qnet", "ar", "St", "d", "Ad", "Mt", "Vdaf", "G", "mm", "kcal", "kg", "t", "HRB", "E", "Q",
    "PDF", "JPEG", "PNG", "WebP", "MB", "JSON", "CSV", "UTF", "SHA", "Ctrl", "Cmd", "YYYY", "MM", "DD",
    "I", "O", "S", "V", "Z", "Idempotency", "Key", "slug", "PO", "JS", "EPC", "QR", "USCC",
    "CR", "DR",  # the bank statement's debit/credit flags, as the bank's file writes them
}
# operator-only help that names JSON fields verbatim; a search example that shows Chinese input on purpose
ALLOWED_MSGIDS = ("Each attribute:", "e.g. 动力煤 5500", "Read (中文)",
                  # operator-only: the vocabulary page names its data columns and the CLI verbatim
                  "No vocabulary yet", "Name the spec key", "Choose near, equal, max or min", "Choose low or high",
                  # the statement format names the bank's own flags (贷/借 are what Chinese banks print)
                  "Line %(line)s: the direction must be CR or DR")


def stray_latin(text: str) -> list[str]:
    return [w for w in LATIN.findall(text) if not w.startswith("%") and w not in ALLOWED_LATIN]


def check(text: str, locale: str, where: str) -> None:
    if locale == "en":
        assert not CJK.search(text), f"Chinese on an English page ({where}): {text!r}"
    else:
        assert not stray_latin(text), f"English on a Chinese page ({where}): {stray_latin(text)} in {text!r}"


def msgid_of(label: object) -> str:
    return str(label._args[0]) if isinstance(label, LazyString) else str(label)


def test_the_chinese_catalog_has_no_english_and_the_english_no_chinese(app):
    problems = []
    for message in merged_catalog("zh_CN"):
        if not message.id or not message.string or message.id.startswith(ALLOWED_MSGIDS):
            continue
        for text, locale in ((message.string, "zh_CN"), (message.id, "en")):
            try:
                check(text, locale, f"msgid {message.id!r}")
            except AssertionError as exc:
                problems.append(str(exc).split("\n")[0])
    assert not problems, "\n".join(problems)


LABEL_TABLES = {
    "order state": STATE_LABELS, "order event": EVENT_LABELS, "lot state": lifecycle.LOT_STATE_LABELS,
    "company kind": account_labels.KIND_LABELS, "role": account_labels.ROLE_LABELS,
    "verification": account_labels.VERIFICATION_LABELS, "request": account_labels.REQUEST_STATUS_LABELS,
    "industry": account_labels.INDUSTRY_LABELS, "unit": catalog_labels.UNIT_LABELS,
    "delivery terms": catalog_labels.DELIVERY_TERMS_LABELS, "listing": catalog_labels.LISTING_STATUS_LABELS,
    "rating tag": ratings.TAGS, "payment terms": gates.PAYMENT_TERMS_LABELS, "credit source": report.SOURCE_LABELS,
    "limit step": gates.LIMIT_STEPS, "contract delivery terms": contract_text.DELIVERY_TERMS,
    "inspection method": contracts.INSPECTION_METHODS, "audit object": OBJECT_TYPE_LABELS,
}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("table", sorted(LABEL_TABLES))
def test_every_enum_label_is_in_the_readers_language(app, table, locale):
    with app.test_request_context(), force_locale(locale):
        for value, label in LABEL_TABLES[table].items():
            text = gettext(msgid_of(label))
            check(text, locale, f"{table} {value}")
            if locale == "zh_CN":
                assert CJK.search(text), f"{table} {value} is not translated: {text!r}"


def test_enum_filters_never_show_a_raw_value(app):
    with app.test_request_context(), force_locale("en"):
        assert catalog_labels.delivery_terms_label("rail_station") == "At the rail station"
        assert catalog_labels.unit_label("piece") == "pcs"
    with app.test_request_context(), force_locale("zh_CN"):
        assert catalog_labels.unit_label("piece") == "件"
        assert catalog_labels.unit_label("t") == "吨"


def _masked(message: dict | None) -> dict | None:
    """The message with what people typed (and numbers, codes) replaced: only our words remain."""
    if not message:
        return None
    if "t" in message:
        return {"t": "0"}
    return {"m": message["m"], "p": {k: _masked(v) if isinstance(v, dict) else "0"
                                     for k, v in (message.get("p") or {}).items()}}


def _drive_every_notification() -> None:
    """Real services, each of which notifies somebody."""
    order = order_in_state("delivered")  # placed, accepted, contract_confirmed, ..., lot_shipped, lot_delivered
    inspect(order, order.buyer, {"qnet_ar": 5500, "st_d": 0.8, "ad": 18, "mt": 10})  # lot_inspected
    inspection.accept_lot(order, order.buyer_id, order.lots[0].id)  # lot_accepted, goods_accepted, settled
    order_services.close_order(order, order.buyer_id)
    funded = order_in_state("funded")
    contracts.propose_change(funded, funded.buyer_id, {"delivery_address": "太原市小店区坞城路 1 号"}, "换地址")
    contract = contracts.current(funded)
    contracts.confirm(funded, funded.seller_id, None, contract.content_sha256)  # contract_change_proposed/amended
    disputed = order_in_state("delivered")
    dispute = disputes.open_dispute(disputed, disputed.buyer_id, reason="货物质量与合同不符，请平台处理。")
    disputes.resolve(dispute, operator_user_id=make_staff().id, payee_fen=0, outcome=sorted(disputes.OUTCOMES)[0],
                     decision="检验报告证明质量不符，全额退款给买方。")
    seller, _ = make_trader()
    buyer, _ = make_trader()
    order_services.reject_order(place_test_order(buyer, make_trade_listing(seller)), seller.id, "没有库存")
    order_services.cancel_order(place_test_order(buyer, make_trade_listing(seller)), buyer.id, "不需要了")
    stale = place_test_order(buyer, make_trade_listing(seller))
    stale.placed_at = utcnow() - timedelta(days=30)
    order_services.expire_order(stale.id, "placed")
    # RFQ: invited, declined, cancelled, opened, awarded
    category = make_coal_category()
    start = utcnow() + timedelta(days=5)

    def rfq(**extra):
        return rfq_services.post_rfq(buyer, None, rfq_services.RfqInput(
            category_id=category.id, title="求购动力煤", quantity=Decimal(100), unit="t", delivery_place="大同南站",
            window_start=start, window_end=start + timedelta(days=9), deadline=utcnow() + timedelta(hours=48),
            spec_ranges={}, **extra))

    other, _ = make_trader()
    first = rfq(visibility="invited", invited_seller_ids=(seller.id, other.id))
    quotes = [rfq_services.submit_quote(first, s, None, unit_price_fen=80_000 + i, quantity=Decimal(100),
                                        specs=SPECS, valid_until=first.deadline + timedelta(days=7),
                                        terms=None) for i, s in enumerate((seller, other))]
    rfq_services.close_early(first, buyer)
    rfq_services.accept_quote(first, buyer, None, quotes[0].id)
    second = rfq()
    rfq_services.submit_quote(second, seller, None, unit_price_fen=80_000, quantity=Decimal(100), specs=SPECS,
                              valid_until=second.deadline + timedelta(days=7), terms=None)
    rfq_services.cancel_rfq(second, buyer, "计划取消")
    third = rfq()
    third.deadline = utcnow() - timedelta(minutes=1)
    rfq_services.open_at_deadline(third.id)
    # accounts: verification approved and rejected, a join request
    operator = make_staff()
    for decide in (verification.approve, lambda op, rid: verification.reject(op, rid, "执照照片不清楚")):
        company = make_company(verified=False)
        from tests.factories import make_member

        make_member(company)
        request_ = VerificationRequest(company_id=company.id, stored_name="x.png", content_type="image/png",
                                       size_bytes=10)
        db.session.add(request_)
        db.session.flush()
        decide(operator, request_.id)
    account_services.request_to_join(seller.id, user=make_user())
    # every order state and event has a subject, even those no flow above reaches
    for event in (*STATE_LABELS, *EVENT_LABELS):
        announce(order, event, note=lifecycle._l("Version %(n)s", n=2))
    db.session.flush()


SPECS = {"qnet_ar": "5500", "st_d": "0.7", "ad": "18", "mt": "10"}
EXPECTED_KINDS = {
    *(f"order.{e}" for e in (*STATE_LABELS, *EVENT_LABELS)), "dispute.resolved", "rfq.invited", "rfq.declined",
    "rfq.cancelled", "rfq.opened", "verification.approved", "verification.rejected", "membership.requested",
}


def test_every_notification_kind_reads_in_the_readers_language(app):
    with app.test_request_context():
        _drive_every_notification()
        rows = list(db.session.scalars(select(Notification)))
        kinds = {row.kind for row in rows}
        assert kinds >= EXPECTED_KINDS, f"not exercised: {sorted(EXPECTED_KINDS - kinds)}"
        assert all(row.message for row in rows), "a notification without a stored message"
        seen = 0
        for row in rows:
            for locale in ("zh_CN", "en"):
                with force_locale(locale):
                    for part in ("s", "b"):
                        text = render(_masked(row.message.get(part)))
                        check(text, locale, f"{row.kind} {part}")
                        seen += 1
        assert seen >= 4 * len(EXPECTED_KINDS)
        # and read for real: one notice, two readers, two languages
        row = next(r for r in rows if r.kind == "rfq.declined")
        with force_locale("zh_CN"):
            assert "感谢" in row.text
            assert "询价" in row.title
        with force_locale("en"):
            assert row.text == "Another quote was chosen. Thank you for quoting."


def _mask_content(content: dict) -> dict:
    masked = copy.deepcopy(content)
    for party in ("buyer", "seller"):
        masked[party].update(name_zh="0", name_en="", address="0", contact="0", phone="0", uscc="0")
    if masked["inspection"].get("agency"):
        masked["inspection"]["agency"].update(name_zh="0", name_en="", address="0", uscc="0")
    for goods in masked["goods"]:
        goods["title"] = "0"
    masked["delivery"]["address"] = "0"
    masked["buyer_po_number"] = "0"
    if "seller_terms" in masked:
        masked["seller_terms"] = "0"
    return masked


def _clauses(content: dict) -> list[str]:
    texts = []
    for section in contract_text.sections(content):
        texts.append(section["title"])
        for label, value in section.get("rows", []):
            texts.extend((str(label), str(value)))
        table = section.get("table")
        if table:
            texts.extend(str(h) for h in table["head"])
            for row in table["rows"]:
                texts.extend(str(cell) for cell in row[1:])  # the title is the seller's words
    return texts


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_contract_clause_reads_in_the_readers_language(app, locale):
    with app.test_request_context():
        coal = order_in_state("accepted")
        grain_seller, _ = make_trader(industries=("agriculture",))
        grain = place_test_order(make_trader()[0], make_trade_listing(
            grain_seller, category=make_grain_category(), specs={"moisture": 12}, price_fen=500), "100")
        order_services.accept_order(grain, grain_seller.id)
        sign_contract(grain)
        contents = [contracts.current(coal).content, contracts.current(grain).content]
        steel = copy.deepcopy(contents[0])
        steel["goods"][0]["price_rule"] = {"kind": "steel_weight", "tolerance_pct": "3"}
        steel["inspection"]["method"] = contracts.INSPECTION_METHODS["metallurgy"]
        steel["seller_terms"] = "x"
        steel["delivery"]["terms"] = "rail_station"
        plain = copy.deepcopy(contents[1])
        plain["goods"][0]["price_rule"] = {"kind": "plain"}
        plain["inspection"]["method"] = contracts.NO_AGENCY_METHOD
        plain["delivery"]["terms"] = "ex_works"
        stepped = copy.deepcopy(contents[0])
        stepped["goods"][0]["price_rule"].update(method="stepped", step_kcal=100, step_fen=1500, bonus=True)
        for content in (*contents, steel, plain, stepped):
            with force_locale(locale):
                for text in _clauses(_mask_content(content)):
                    check(text, locale, "contract")
