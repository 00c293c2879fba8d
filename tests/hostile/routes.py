"""What the hostile-input test sends to each route: who asks, the path arguments, and the input it reads.

Every rule of ``app.url_map`` must have an entry here (or be listed in ``NOT_DRIVEN`` with a reason),
so a new route without a strategy fails the test instead of going untested.

``fields`` maps each form / query / JSON field the view reads to a VALID default (a callable gets the
world); the test replaces one or more of them with hostile values per request. ``files`` names upload
fields (sent as multipart with a hostile file name). ``json`` marks a JSON body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from market.core.timeutil import to_local, utcnow


def _day(days: int) -> str:
    return to_local(utcnow() + timedelta(days=days)).strftime("%Y-%m-%d")


def _moment(days: int) -> str:
    return to_local(utcnow() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Route:
    actor: str  # anon | buyer | seller | operator | regulator
    path: dict[str, Any] = field(default_factory=dict)  # path argument -> world key or literal
    fields: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    json: bool = False
    lists: tuple[str, ...] = ()  # fields that take several values


W = "world:"  # a path/field default that names an attribute of the world

DELIVERY = {"delivery_address": "山西省大同市云冈区电厂路1号", "delivery_window_start": _day(5),
            "delivery_window_end": _day(20), "po_number": "PO-1", "note": "备注", "inspection_agency_id": ""}

ROUTES: dict[str, dict[str, Route]] = {
    # endpoint -> method -> Route
    "home.index": {"GET": Route("anon")},
    "home.health": {"GET": Route("anon")},
    "home.ready": {"GET": Route("anon")},
    "home.switch_language": {"GET": Route("anon", {"code": "en"}, {"next": "/search"}),
                             "POST": Route("buyer", {"code": "zh_CN"}, {"next": "/company"})},
    # accounts
    "accounts.signup": {"GET": Route("anon", fields={"another": "1"}),
                        "POST": Route("anon", fields={"company_name": "太原新材料有限公司", "uscc": "",
                                                      "kind": "", "contact_name": "王五",
                                                      "contact": "wang5@example.cn", "password": "short",
                                                      "action": ""})},
    "accounts.signup_check": {"GET": Route("anon", fields={"uscc": "91140200MA0K00001X", "name": "大同煤业"})},
    "accounts.request_join": {"POST": Route("anon", {"company_id": W + "seller_id"},
                                            {"contact_name": "赵六", "contact": "zhao6@example.cn",
                                             "password": "short"})},
    "accounts.login": {"GET": Route("anon", fields={"next": "/company"}),
                       "POST": Route("anon", fields={"identifier": "nobody@example.cn", "password": "wrong",
                                                     "next": "/company"})},
    "accounts.logout": {"POST": Route("buyer")},
    "accounts.forgot_password": {"GET": Route("anon"), "POST": Route("anon", fields={"identifier": "x@example.cn"})},
    "accounts.reset_password": {"GET": Route("anon", {"token": "not-a-token"}),
                                "POST": Route("anon", {"token": "not-a-token"}, {"password": "x"})},
    "accounts.change_password": {"GET": Route("buyer"),
                                 "POST": Route("buyer", fields={"current_password": "wrong",
                                                                "password": "Another-long-password-99"})},
    "accounts.company": {"GET": Route("buyer")},
    "accounts.update_profile": {"POST": Route("buyer", fields={
        "name_en": "Datong Power", "kind": "enterprise", "industries": ["coal"], "region_code": "140200",
        "address": "大同", "contact_name": "李", "contact_phone": "13800000000",
        "contact_email": "li@example.cn"}, lists=("industries",))},
    "accounts.change_role": {"POST": Route("buyer", {"membership_id": W + "colleague_membership_id"},
                                           {"role": "sales"})},
    "accounts.remove_member": {"POST": Route("buyer", {"membership_id": 2**31 - 1})},
    "accounts.decide_join": {"POST": Route("buyer", {"membership_id": W + "colleague_membership_id"},
                                           {"decision": "approve", "role": "sales"})},
    "accounts.invite": {"POST": Route("buyer", fields={"email": "colleague@example.cn", "role": "sales"})},
    "accounts.revoke_invite": {"POST": Route("buyer", {"invitation_id": 1})},
    "accounts.switch_company": {"POST": Route("buyer", fields={"company_id": W + "buyer_id"})},
    "accounts.accept_invite": {"GET": Route("anon", {"token": "not-a-token"}),
                               "POST": Route("anon", {"token": "not-a-token"},
                                             {"contact_name": "x", "password": "y"})},
    "accounts.verification": {"GET": Route("buyer"), "POST": Route("buyer", files=("licence",))},
    "accounts.verification_queue": {"GET": Route("operator", fields={"page": "1"})},
    "accounts.licence_file": {"GET": Route("operator", {"request_id": 1})},
    "accounts.approve_verification": {"POST": Route("operator", {"request_id": 2**31 - 1})},
    "accounts.reject_verification": {"POST": Route("operator", {"request_id": 2**31 - 1}, {"reason": "模糊不清"})},
    # catalog
    "catalog.search": {"GET": Route("anon", fields={"q": "动力煤", "page": "1", "sort": "relevance",
                                                    "category": "", "min.qnet_ar": "5000", "max.st_d": "1"})},
    "catalog.listing": {"GET": Route("anon", {"listing_id": W + "listing_id"})},
    "catalog.storefront": {"GET": Route("anon", {"company_id": W + "seller_id"}, {"page": "1"})},
    "catalog.photo": {"GET": Route("anon", {"photo_id": 1, "variant": "thumb"})},
    "catalog.certificate": {"GET": Route("anon", {"attachment_id": 1})},
    "catalog.my_listings": {"GET": Route("seller", fields={"status": "published", "page": "1"})},
    "catalog.bulk_listings": {"POST": Route("seller", fields={"action": "pause", "ids": [W + "listing_id"],
                                                             "status": ""}, lists=("ids",))},
    "catalog.new_listing": {"GET": Route("seller", fields={"category": W + "category_slug"}),
                            "POST": Route("seller", fields={
                                "category": W + "category_slug", "title_zh": "动力煤 5000", "title_en": "Coal",
                                "description_zh": "好煤", "description_en": "", "unit": "t", "unit_price": "700.00",
                                "min_order_quantity": "10", "available_quantity": "500",
                                "origin_region_code": "140200", "delivery_terms": "ex_works",
                                "delivery_place": "大同", "lead_time_days": "7", "specs.qnet_ar": "5000",
                                "specs.st_d": "0.8", "specs.ad": "20", "specs.mt": "10", "tier_qty_0": "100",
                                "tier_price_0": "690.00"})},
    "catalog.edit_listing": {"GET": Route("seller", {"listing_id": W + "listing_id"}),
                             "POST": Route("seller", {"listing_id": W + "listing_id"}, {
                                 "title_zh": "动力煤 5500", "unit": "t", "unit_price": "800.00",
                                 "min_order_quantity": "10", "available_quantity": "5000",
                                 "delivery_terms": "ex_works", "lead_time_days": "7", "specs.qnet_ar": "5500",
                                 "specs.st_d": "0.8", "specs.ad": "18", "specs.mt": "10", "tier_qty_0": "",
                                 "tier_price_0": ""})},
    "catalog.change_listing_status": {"POST": Route("seller", {"listing_id": W + "listing_id"},
                                                    {"action": "nothing", "next": "/my/listings"})},
    "catalog.upload_photo": {"POST": Route("seller", {"listing_id": W + "listing_id"}, files=("photo",))},
    "catalog.delete_photo": {"POST": Route("seller", {"listing_id": W + "listing_id", "photo_id": 1})},
    "catalog.upload_certificate": {"POST": Route("seller", {"listing_id": W + "listing_id"}, files=("certificate",))},
    "catalog.admin_categories": {"GET": Route("operator", fields={"edit": W + "category_id"})},
    "catalog.admin_vocabulary": {"GET": Route("operator")},
    "catalog.admin_add_vocabulary": {"POST": Route("operator", fields={
        "kind": "synonym", "term": "电煤", "expansion": "动力煤", "spec_key": "", "mode": "", "low": "", "high": "",
        "tolerance": "", "label_zh": "", "label_en": "", "unit": ""})},
    "catalog.admin_toggle_vocabulary": {"POST": Route("operator", {"entry_id": 2**31 - 1})},
    "catalog.admin_delete_vocabulary": {"POST": Route("operator", {"entry_id": 2**31 - 1})},
    "catalog.admin_add_category": {"POST": Route("operator", fields={
        "slug": "", "name_zh": "焦炭", "name_en": "Coke", "parent_id": W + "category_id", "industry": "coal"})},
    "catalog.admin_move_category": {"POST": Route("operator", {"category_id": W + "category_id"},
                                                  {"parent_id": W + "category_id"})},
    "catalog.admin_rename_category": {"POST": Route("operator", {"category_id": W + "category_id"},
                                                    {"name_zh": "", "name_en": ""})},
    "catalog.admin_category_schema": {"POST": Route("operator", {"category_id": W + "category_id"},
                                                    {"spec_schema": "not json"})},
    "catalog_api.search": {"GET": Route("anon", fields={"q": "coal", "page": "1", "sort": "price_asc"})},
    "catalog_api.categories": {"GET": Route("anon")},
    "catalog_api.listing": {"GET": Route("anon", {"listing_id": W + "listing_id"})},
    # rfq
    "rfq.index": {"GET": Route("buyer", fields={"tab": "mine", "page": "1"})},
    "rfq.new": {"GET": Route("buyer"), "POST": Route("buyer", fields={
        "category_id": W + "category_id", "title": "求购动力煤", "quantity": "500", "unit": "t",
        "delivery_place": "大同", "delivery_window_start": _day(10), "delivery_window_end": _day(30),
        "deadline": _moment(-1), "visibility": "open", "invited": [W + "seller_id"], "description": "",
        "min.qnet_ar": "5000", "max.st_d": "50"}, lists=("invited",))},
    "rfq.detail": {"GET": Route("seller", {"rfq_id": W + "rfq_id"})},
    "rfq.quote": {"POST": Route("seller", {"rfq_id": W + "rfq_id"}, {
        "unit_price": "790.00", "quantity": "500", "valid_until": _day(-1), "terms": "款到发货",
        "specs.qnet_ar": "5500"})},
    "rfq.withdraw": {"POST": Route("seller", {"rfq_id": 2**31 - 1})},
    "rfq.close": {"POST": Route("buyer", {"rfq_id": 2**31 - 1})},
    "rfq.cancel": {"POST": Route("buyer", {"rfq_id": 2**31 - 1}, {"reason": "不再需要"})},
    "rfq.accept": {"POST": Route("buyer", {"rfq_id": W + "rfq_id", "quote_id": 2**31 - 1})},
    # orders
    "orders.index": {"GET": Route("buyer", fields={"tab": "buying", "state": "", "q": "", "page": "1"})},
    "orders.detail": {"GET": Route("buyer", {"order_id": W + "order_id"})},
    "orders.accept": {"POST": Route("seller", {"order_id": W + "order_id"})},
    "orders.reject": {"POST": Route("seller", {"order_id": W + "order_id"}, {"reason": "x"})},
    "orders.cancel": {"POST": Route("buyer", {"order_id": W + "order_id"}, {"reason": "x"})},
    "orders.close": {"POST": Route("buyer", {"order_id": W + "order_id"})},
    "orders.contract": {"GET": Route("buyer", {"order_id": W + "order_id"}, {"version": "1", "lang": "en"})},
    "orders.contract_pdf": {"GET": Route("buyer", {"order_id": W + "order_id"}, {"version": "1", "lang": "zh"})},
    "orders.confirm_contract": {"POST": Route("buyer", {"order_id": W + "order_id"}, {"sha256": "0" * 64})},
    "orders.propose_contract_change": {"POST": Route("buyer", {"order_id": W + "order_id"}, {
        "delivery_address": "", "delivery_window_start": "", "delivery_window_end": "",
        "quantity_tolerance_pct": "5", "note": "x"})},
    "orders.ship": {"POST": Route("seller", {"order_id": W + "order_id"}, {
        "line_id": W + "line_id", "quantity": "1", "transport_ref": "TY-9", "final": ""})},
    "orders.shipping_complete": {"POST": Route("seller", {"order_id": 2**31 - 1})},
    "orders.delivered": {"POST": Route("buyer", {"order_id": W + "order_id", "lot_id": W + "lot_id"},
                                       {"delivered_quantity": "1"})},
    "orders.inspect": {"GET": Route("buyer", {"order_id": W + "order_id", "lot_id": W + "lot_id"}),
                       "POST": Route("buyer", {"order_id": W + "order_id", "lot_id": W + "lot_id"}, {
                           "measured_quantity": "1000", "specs.qnet_ar": "50", "specs.st_d": "50",
                           "specs.mt": "99", "certificate_no": "C-1", "method": "GB/T 213", "note": ""})},
    "orders.accept_lot": {"POST": Route("buyer", {"order_id": W + "order_id", "lot_id": 2**31 - 1})},
    "orders.dispute": {"GET": Route("buyer", {"order_id": W + "order_id"}),
                       "POST": Route("buyer", {"order_id": W + "order_id"}, {
                           "reason": "short", "lot_id": W + "lot_id", "claimed": "100.00"}, files=("evidence",))},
    "orders.evidence": {"GET": Route("buyer", {"order_id": W + "order_id", "name": "nothing.pdf"})},
    "orders.notifications": {"GET": Route("buyer", fields={"page": "1"})},
    "orders.notifications_read": {"POST": Route("buyer")},
    "orders.cart": {"GET": Route("buyer")},
    "orders.cart_add": {"POST": Route("buyer", fields={"listing_id": W + "listing_id", "quantity": "0"})},
    "orders.cart_update": {"POST": Route("buyer", {"item_id": W + "cart_item_id"}, {"quantity": "0"})},
    "orders.cart_remove": {"POST": Route("buyer", {"item_id": 2**31 - 1})},
    "orders.checkout": {"GET": Route("buyer"), "POST": Route("buyer", fields={
        **DELIVERY, "delivery_window_end": _day(1), "form_token": "tok-1"})},
    "orders.dispute_queue": {"GET": Route("operator")},
    "orders.dispute_decide": {"GET": Route("operator", {"dispute_id": W + "dispute_id"}),
                              "POST": Route("operator", {"dispute_id": W + "dispute_id"}, {
                                  "payee": "100.00", "outcome": "nobody", "decision": "short"})},
    "orders.operator_evidence": {"GET": Route("operator", {"dispute_id": W + "dispute_id", "name": "x.pdf"})},
    "orders.operator_cancel": {"POST": Route("operator", {"order_id": 2**31 - 1}, {"reason": "x"})},
    "orders.operator_order": {"GET": Route("operator", {"order_id": W + "order_id"})},
    "orders.operator_order_by_number": {"GET": Route("operator", {"number": "JS-NONE"})},
    "orders.request_cancel": {"POST": Route("buyer", {"order_id": W + "order_id"}, {"reason": "卖方一直未发货"})},
    "orders.waive_top_up": {"POST": Route("seller", {"order_id": W + "order_id", "lot_id": W + "lot_id"})},
    "orders.dispute_respond": {"POST": Route("seller", {"order_id": W + "order_id"}, {"text": "装车化验单为证"},
                                             files=("evidence",))},
    "orders.dispute_propose": {"POST": Route("seller", {"order_id": W + "order_id"},
                                             {"payee": "100.00", "text": "各担一半"})},
    "orders.dispute_accept": {"POST": Route("buyer", {"order_id": W + "order_id", "message_id": 2**31 - 1})},
    "orders_api.create": {"POST": Route("buyer", json=True, fields={
        "lines": [{"listing_id": W + "listing_id", "quantity": "0"}], **DELIVERY})},
    "orders_api.show": {"GET": Route("buyer", {"order_id": W + "order_id"})},
    # payments
    "payments.webhook": {"POST": Route("anon", {"provider": "sandbox"}, json=True, fields={
        "id": "evt_hostile", "type": "payin.succeeded", "created": 0,
        "data": {"reference": W + "escrow_reference", "amount_fen": 0, "currency": "CNY", "object_ref": "x"}})},
    "payments.pay": {"GET": Route("buyer", {"reference": W + "escrow_reference"}),
                     "POST": Route("buyer", {"reference": W + "escrow_reference"}, {"provider": "nope"})},
    "payments_sandbox.simulate": {"POST": Route("buyer", {"reference": "JS-NONE"})},
    "payments.balance": {"GET": Route("seller", fields={"page": "1"})},
    "payments.save_bank_account": {"POST": Route("seller", fields={"account_name": "大同煤业",
                                                                   "account_no": "", "bank_name": "工行"})},
    "payments.stripe_connect": {"POST": Route("buyer")},  # buyer lacks no role; stripe double refuses
    "payments.operator_console": {"GET": Route("operator", fields={"status": "frozen", "page": "1"})},
    "payments.upload_statement": {"POST": Route("operator", files=("statement",))},
    "payments.assign_line": {"POST": Route("operator", {"line_id": 2**31 - 1}, {"reference": "JS-NONE"})},
    "payments.line_fee": {"POST": Route("operator", {"line_id": 2**31 - 1})},
    "payments.line_return": {"POST": Route("operator", {"line_id": 2**31 - 1})},
    "payments.line_write_off": {"POST": Route("operator", {"line_id": 2**31 - 1}, {"reason": "银行重复记账"})},
    "payments.instructions_csv": {"GET": Route("operator")},
    "payments.run_reconcile": {"POST": Route("operator", fields={"provider": "nope"})},
    "payments.resolve": {"POST": Route("operator", {"reference": "JS-NONE"}, {
        "payee": "1.00", "payer": "1.00", "resolution_ref": "r"})},
    "payments.retry": {"POST": Route("operator", {"payout_id": 2**31 - 1})},
    # credit
    "credit.my_report": {"GET": Route("buyer")},
    "credit.company_report": {"GET": Route("buyer", {"company_id": W + "seller_id"})},
    "credit.company_ratings": {"GET": Route("anon", {"company_id": W + "seller_id"}, {"page": "1"})},
    "credit.rate_order": {"GET": Route("buyer", {"order_id": W + "order_id"}),
                          "POST": Route("buyer", {"order_id": W + "order_id"}, {
                              "stars": "9", "tags": ["on_time"], "comment": ""}, lists=("tags",))},
    "credit.refresh": {"POST": Route("buyer")},
    "credit.operator_gates": {"GET": Route("operator"), "POST": Route("operator", fields={
        "order_limit_l0_fen": "", "order_limit_l1_fen": "100000.00"})},
    "credit.grant_override": {"POST": Route("operator", fields={
        "company_id": W + "buyer_id", "kind": "nope", "reason": "x", "limit": "", "payment_terms": "",
        "expires_on": _day(30)})},
    "credit.revoke_override": {"POST": Route("operator", {"override_id": 2**31 - 1}, {"revoke_reason": "x"})},
    "credit.operator_recompute": {"POST": Route("operator", {"company_id": 2**31 - 1})},
    # supervision
    "supervision.audit_log": {"GET": Route("regulator", fields={
        "action": "", "object_type": "", "object_id": "", "actor": "", "company": "", "date_from": _day(-30),
        "date_to": _day(1), "page": "1"})},
}

NOT_DRIVEN = {
    "static": "serves files from static/; takes no input but the file name (werkzeug's safe_join)",
}
