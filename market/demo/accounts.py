"""Demo companies and people: Shanxi coal, coking, steel, millet, walnuts, a village, a power plant, a county
bureau and an inspection agency, plus the platform's operator and regulator. Codes are valid USCCs built
with real GB/T 2260 region codes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import current_app
from PIL import Image, ImageDraw

from market.accounts import uscc
from market.accounts.models import Company, CompanyKind, Membership, User, Verification, VerificationRequest
from market.accounts.passwords import hash_password
from market.core.audit import record
from market.core.timeutil import utcnow
from market.extensions import db

DOMAIN = "demo.jinshang.cn"

# key: (USCC prefix, region, organisation code, name zh, name en, kind, industries, owner local part, owner name,
#       address, verified)
COMPANIES: dict[str, tuple[Any, ...]] = {
    "datong_coal": (
        "91", "140214", "MA0GQ7K3X", "大同市云冈晋北煤业有限公司", "Datong Yungang Jinbei Coal Mining Co., Ltd.",
        CompanyKind.ENTERPRISE, ["coal"], "coal", "王建国", "大同市云冈区口泉乡晋北矿区", True),
    "luliang_coking": (
        "91", "141181", "MA0HB2N8C", "孝义市鑫源焦化有限公司", "Xiaoyi Xinyuan Coking Co., Ltd.",
        CompanyKind.ENTERPRISE, ["coal", "metallurgy"], "coking", "李志强", "孝义市梧桐镇工业园区", True),
    "taiyuan_steel": (
        "91", "140108", "MA0JD4R6T", "太原晋钢轧材有限公司", "Taiyuan Jingang Steel Re-rolling Co., Ltd.",
        CompanyKind.ENTERPRISE, ["metallurgy"], "steel", "张卫东", "太原市尖草坪区柴村街道钢园路18号", True),
    "xinzhou_millet": (
        "93", "140921", "MA0KE5P2W", "定襄县河边镇小米种植专业合作社", "Dingxiang Hebian Millet Growers' Cooperative",
        CompanyKind.FARMER_COOPERATIVE, ["agriculture"], "millet", "赵秀兰", "忻州市定襄县河边镇河边村", True),
    "fenyang_walnut": (
        "92", "141182", "MA0LF6Q1U", "汾阳市贾家庄王记核桃种植园", "Fenyang Wang's Walnut Orchard",
        CompanyKind.INDIVIDUAL_BUSINESS, ["agriculture"], "walnut", "王福贵", "汾阳市贾家庄镇贾家庄村", True),
    "village_collective": (
        "N2", "141124", "MA0MG7R4Y", "临县碛口镇西湾村股份经济合作社",
        "Xiwan Village Joint-stock Economic Cooperative, Qikou, Lin County",
        CompanyKind.VILLAGE_COLLECTIVE, ["agriculture"], "village", "陈有才", "吕梁市临县碛口镇西湾村", False),
    "changzhi_power": (
        "91", "140404", "MA0NH8T5L", "长治上党热电有限公司", "Changzhi Shangdang Thermal Power Co., Ltd.",
        CompanyKind.ENTERPRISE, ["coal"], "power", "刘海峰", "长治市上党区韩店镇电厂路1号", True),
    "education_bureau": (
        "11", "140728", "0K1234567", "平遥县教育局", "Pingyao County Education Bureau",
        CompanyKind.GOVERNMENT_AGENCY, [], "edu", "孙丽娟", "晋中市平遥县古陶镇顺城路", True),
    "inspection_agency": (
        "91", "140105", "MA0PJ9U3M", "山西晋检检验检测有限公司", "Shanxi Jinjian Inspection & Testing Co., Ltd.",
        CompanyKind.SERVICE_PROVIDER, ["coal", "metallurgy", "agriculture"], "inspect", "周明",
        "太原市小店区长治路226号", True),
}

LOGINS = [
    f"coal@{DOMAIN} — owner, 大同市云冈晋北煤业 (coal mine, seller)",
    f"coal-sales@{DOMAIN} — sales, 大同市云冈晋北煤业",
    f"coking@{DOMAIN} — owner, 孝义市鑫源焦化 (coking plant)",
    f"steel@{DOMAIN} — owner, 太原晋钢轧材 (steel re-roller)",
    f"millet@{DOMAIN} — owner, 定襄县河边镇小米种植专业合作社 (cooperative, 93…)",
    f"walnut@{DOMAIN} — owner, 汾阳市王记核桃种植园 (individual business, 92…)",
    f"village@{DOMAIN} — owner, 临县西湾村股份经济合作社 (village collective, N…; licence waiting for review)",
    f"power@{DOMAIN} — owner, 长治上党热电 (power plant, buyer)",
    f"edu@{DOMAIN} — owner, 平遥县教育局 (government purchaser)",
    f"inspect@{DOMAIN} — owner, 山西晋检检验检测 (inspection agency)",
    f"operator@{DOMAIN} — platform operator (verification queue, escrow, audit log)",
    f"regulator@{DOMAIN} — market regulator (audit log)",
]


def _user(email: str, name: str, password_hash: str, **fields: Any) -> User:
    user = User(email=email, name=name, password_hash=password_hash, locale="zh_CN", **fields)
    db.session.add(user)
    db.session.flush()
    return user


def licence_image(company: Company) -> bytes:
    """A stand-in scan of a business licence (a real PNG, so the operator's viewer has something to show)."""
    image = Image.new("RGB", (900, 620), "#fbf6ea")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 880, 600), outline="#9b1c1c", width=6)
    draw.text((330, 60), "BUSINESS LICENCE  (DEMO)", fill="#9b1c1c")
    for row, text in enumerate((f"USCC: {company.uscc}", f"Name: {company.name_en}", f"Kind: {company.kind}",
                                f"Region code: {company.region_code}", "Issued by: Market Supervision Administration")):
        draw.text((80, 160 + row * 60), text, fill="#1f2328")
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _licence(company: Company, submitted_by: int, *, approved_by: int | None) -> VerificationRequest:
    data = licence_image(company)
    folder = Path(current_app.config["UPLOAD_DIR"]) / "licences"
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_hex(16)}.png"
    (folder / stored).write_bytes(data)
    now = utcnow()
    request_ = VerificationRequest(company_id=company.id, stored_name=stored, original_name="营业执照.png",
                                   content_type="image/png", size_bytes=len(data), submitted_by=submitted_by,
                                   created_at=now - timedelta(days=3 if approved_by else 0, hours=2))
    if approved_by:
        request_.status, request_.decided_by, request_.decided_at = "approved", approved_by, now - timedelta(days=2)
    db.session.add(request_)
    db.session.flush()
    return request_


def load(ctx: dict[str, Any], echo: Callable[[str], Any]) -> None:
    """Create the demo companies and users; ``ctx["companies"]`` and ``ctx["users"]`` receive them."""
    password_hash = hash_password(ctx["password"])  # one hash for every demo login: same password, faster load
    companies: dict[str, Company] = ctx.setdefault("companies", {})
    users: dict[str, User] = ctx.setdefault("users", {})
    users["operator"] = _user(f"operator@{DOMAIN}", "平台运营 李娜", password_hash, platform_role="operator")
    users["regulator"] = _user(f"regulator@{DOMAIN}", "市场监管 郭强", password_hash, platform_role="regulator")
    for key, (prefix, region, org, name_zh, name_en, kind, industries, local, person, address, verified) in (
            COMPANIES.items()):
        company = Company(uscc=uscc.make(prefix, region, org), name_zh=name_zh, name_en=name_en, kind=kind,
                          industries=industries, region_code=region, address=address, contact_name=person,
                          contact_email=f"{local}@{DOMAIN}", contact_phone=f"1390351{len(companies):04d}")
        db.session.add(company)
        db.session.flush()
        owner = _user(f"{local}@{DOMAIN}", person, password_hash, mobile=f"1380351{len(companies):04d}")
        db.session.add(Membership(user_id=owner.id, company_id=company.id, role="owner", status="active"))
        record("company.registered", "company", company.id, actor_user_id=owner.id, actor_company_id=company.id,
               after=company.snapshot(), note="demo data")
        _licence(company, owner.id, approved_by=users["operator"].id if verified else None)
        if verified:
            company.verification_level, company.verified_at = Verification.L1_VERIFIED, utcnow() - timedelta(days=2)
            record("company.verified", "company", company.id, actor_user_id=users["operator"].id,
                   after=company.snapshot(), note="demo data")
        companies[key], users[key] = company, owner
    sales = _user(f"coal-sales@{DOMAIN}", "马小军", password_hash)
    db.session.add(Membership(user_id=sales.id, company_id=companies["datong_coal"].id, role="sales",
                              status="active"))
    users["datong_coal_sales"] = sales
    db.session.flush()
    echo(f"      {len(companies)} companies, {len(users)} users (one licence waiting in the verification queue)")
