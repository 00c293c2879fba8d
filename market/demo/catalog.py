"""Demo catalog: the seeded category tree and 240 realistic listings from the demo companies.

Specs follow the trade: Datong thermal coal Q5000–6000 with St,d 0.4–1.2 %, Luliang prime coking
coal G 80–95, Taiyuan HRB400E rebar Φ12–32, Qinxian 沁州黄 millet of the 2025 harvest, Fenyang
walnuts, Qingxu aged vinegar. Prices are in fen. Every listing is queued for indexing; the demo
runs the worker after loading, so they become searchable at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from catalog.models import Listing, ListingStatus, PriceTier
from catalog.search.vocabulary import seed_vocabulary
from catalog.seed import seed_categories
from catalog.services import request_reindex
from market.accounts.models import Company
from market.core.timeutil import utcnow
from market.extensions import db

LOGINS: tuple[str, ...] = ()
COUNT = 240


def _company(ctx: dict[str, Any], key: str) -> Company | None:
    return (ctx.get("companies") or {}).get(key)


def _coal(rng: random.Random, kind: str) -> tuple[str, str, dict[str, Any], int, str]:
    if kind == "thermal-coal":
        q = rng.choice([5000, 5200, 5500, 5500, 5800, 6000])
        s = round(rng.uniform(0.4, 1.2), 2)
        size = rng.choice(["0-13", "13-25", "25-50", "mixed"])
        # the seller is the Datong mine: its own coal, named as traders name it
        place, place_en = rng.choice([("大同", "Datong"), ("大同塔山", "Datong Tashan"), ("晋北", "North Shanxi")])
        specs = {"qnet_ar": q, "st_d": s, "ad": round(rng.uniform(12, 24), 1), "vdaf": round(rng.uniform(26, 36), 1),
                 "mt": round(rng.uniform(8, 16), 1), "size": size}
        return (f"{place}优质动力煤 Q{q} 低硫 St,d {s}%", f"{place_en} thermal coal NCV {q} kcal/kg, sulfur {s}%",
                specs, 60000 + (q - 5000) // 100 * 1500 + rng.randrange(-3000, 3000, 100), "t")
    if kind in ("coking-coal", "prime-coking-coal"):
        g = rng.randint(80, 95)
        specs = {"g": g, "y": rng.randint(14, 25), "st_d": round(rng.uniform(0.4, 1.0), 2),
                 "ad": round(rng.uniform(8, 11), 1), "vdaf": round(rng.uniform(18, 28), 1), "mt": 9}
        return (f"吕梁柳林主焦煤 G{g} 低灰低硫", f"Luliang prime coking coal G{g}, low ash", specs,
                rng.randrange(150000, 185000, 500), "t")
    if kind == "anthracite":
        q = rng.choice([6000, 6300, 6500, 6800])
        specs = {"qnet_ar": q, "st_d": round(rng.uniform(0.3, 0.9), 2), "ad": 12, "vdaf": 7, "mt": 7, "size": "25-50"}
        return (f"晋城无烟块煤 Q{q}", f"Jincheng anthracite lumps {q} kcal/kg", specs,
                rng.randrange(110000, 140000, 500), "t")
    if kind == "pci-coal":
        q = rng.choice([6500, 6800, 7000])
        specs = {"qnet_ar": q, "st_d": round(rng.uniform(0.3, 0.6), 2), "ad": 10, "vdaf": 12, "mt": 8}
        return (f"阳泉喷吹煤 Q{q} 低硫", f"Yangquan PCI coal {q} kcal/kg", specs,
                rng.randrange(120000, 150000, 500), "t")
    csr = rng.randint(58, 68)
    specs = {"ad": 12.5, "st_d": round(rng.uniform(0.5, 0.8), 2), "mt": 5, "m40": 85, "csr": csr, "cri": 26,
             "size": rng.choice(["25-40", "40-80"])}
    return (f"孝义准一级冶金焦 CSR{csr}", f"Xiaoyi metallurgical coke CSR {csr}", specs,
            rng.randrange(180000, 220000, 500), "t")


def _metal(rng: random.Random, kind: str) -> tuple[str, str, dict[str, Any], int, str]:
    if kind == "rebar":
        d = rng.choice([12, 14, 16, 18, 20, 22, 25, 28, 32])
        grade = rng.choice(["HRB400E", "HRB400E", "HRB500E"])
        specs = {"standard": "GB/T 1499.2-2018", "grade": grade, "diameter": d, "length": rng.choice([9, 12])}
        return (f"太钢 {grade} 螺纹钢 Φ{d}mm", f"{grade} rebar {d} mm", specs, rng.randrange(360000, 410000, 1000), "t")
    if kind == "wire-rod":
        d = rng.choice([6.5, 8, 10])
        specs = {"standard": "GB/T 701-2008", "grade": rng.choice(["HPB300", "Q235"]), "diameter": d}
        return (f"高线 HPB300 Φ{d}", f"Wire rod HPB300 {d} mm", specs, rng.randrange(370000, 400000, 1000), "t")
    if kind == "hot-rolled-coil":
        t = rng.choice([2.75, 3.0, 4.0, 5.75, 9.75])
        specs = {"standard": "GB/T 3274-2017", "grade": rng.choice(["Q235B", "Q355B"]), "thickness": t, "width": 1500}
        return (f"热轧卷板 Q235B {t}×1500", f"Hot-rolled coil Q235B {t} x 1500 mm", specs,
                rng.randrange(380000, 420000, 1000), "t")
    if kind == "magnesium":
        grade = rng.choice(["Mg9990", "Mg9995"])
        specs = {"grade": grade, "purity": 99.9 if grade == "Mg9990" else 99.95, "form": "ingot"}
        return (f"闻喜金属镁锭 {grade} 7.5kg/锭", f"Magnesium ingot {grade}", specs,
                rng.randrange(1650000, 1900000, 5000), "t")
    specs = {"grade": rng.choice(["L04", "L08", "Z18"]), "si": round(rng.uniform(0.3, 1.8), 2), "s": 0.03, "p": 0.12}
    return ("炼钢生铁 L08 低磷", "Steelmaking pig iron L08", specs, rng.randrange(280000, 320000, 1000), "t")


def _farm(rng: random.Random, kind: str) -> tuple[str, str, dict[str, Any], int, str]:
    if kind == "millet":
        grade = rng.choice(["premium", "1"])
        specs = {"variety": "沁州黄", "grade": grade, "harvest_year": 2025, "moisture": round(rng.uniform(11, 13), 1),
                 "certifications": rng.choice([["gi"], ["gi", "green"], ["organic", "gi"]])}
        return ("沁州黄小米 2025年新米 地理标志", "Qinzhou yellow millet, 2025 harvest", specs,
                rng.randrange(1400, 2400, 50), "kg")
    if kind == "walnuts":
        size = rng.choice([30, 32, 34, 36])
        specs = {"variety": "汾州核桃", "grade": "1", "harvest_year": 2025, "moisture": 7, "nut_size": size,
                 "kernel_rate": rng.randint(48, 58), "certifications": ["gi"]}
        return (f"汾阳薄皮核桃 果径{size}mm以上", f"Fenyang thin-shell walnuts {size} mm+", specs,
                rng.randrange(2200, 3600, 50), "kg")
    if kind == "jujubes":
        specs = {"variety": "骏枣", "grade": "premium", "harvest_year": 2025, "moisture": 22, "fruit_count": 90}
        return ("临县红枣 骏枣 特级", "Linxian jujubes, premium", specs, rng.randrange(1600, 2600, 50), "kg")
    if kind == "aged-vinegar":
        years = rng.choice([3, 5, 6, 10])
        specs = {"variety": "山西老陈醋", "total_acid": rng.choice([4.5, 6.0, 9.0]), "aged_years": years,
                 "production_year": 2025, "certifications": ["gi"]}
        return (f"清徐山西老陈醋 {years}年陈酿", f"Qingxu Shanxi mature vinegar, aged {years} years", specs,
                rng.randrange(1500, 6000, 100), "box")
    variety = {"sorghum": "晋杂22号", "oats": "坝莜1号", "buckwheat": "苦荞", "mung-beans": "明绿豆",
               "potatoes": "晋薯16号", "apples": "红富士"}[kind]
    names = {"sorghum": ("高粱", "sorghum"), "oats": ("莜麦", "naked oats"),
             "buckwheat": ("苦荞麦", "tartary buckwheat"), "mung-beans": ("绿豆", "mung beans"),
             "potatoes": ("马铃薯", "potatoes"), "apples": ("苹果", "apples")}[kind]
    specs: dict[str, Any] = {"variety": variety, "grade": rng.choice(["1", "2"]), "harvest_year": 2025}
    if kind == "apples":
        specs |= {"fruit_diameter": rng.choice([75, 80, 85]), "brix": 14}
    elif kind == "potatoes":
        specs["tuber_weight"] = rng.choice([200, 300])
    else:
        specs["moisture"] = 13
    return (f"山西{names[0]} {variety} 2025年产", f"Shanxi {names[1]}, {variety}, 2025 crop", specs,
            rng.randrange(300, 1200, 10), "kg")


# (company key, category slug, generator, county codes, delivery place)
PLAN: list[tuple[str, str, Callable[..., Any], list[str], str]] = [
    ("datong_coal", "thermal-coal", _coal, ["140213", "140214", "140226", "140602", "140603"], "大同南站"),
    ("datong_coal", "anthracite", _coal, ["140521", "140525", "140581"], "晋城北站"),
    ("datong_coal", "pci-coal", _coal, ["140302", "140311"], "阳泉站"),
    ("luliang_coking", "prime-coking-coal", _coal, ["141125", "141181", "141102"], "柳林站"),
    ("luliang_coking", "coke", _coal, ["141181", "141182"], "孝义站"),
    ("taiyuan_steel", "rebar", _metal, ["140109", "140107"], "太原北站"),
    ("taiyuan_steel", "wire-rod", _metal, ["140109"], "太原北站"),
    ("taiyuan_steel", "hot-rolled-coil", _metal, ["140109"], "太原北站"),
    ("taiyuan_steel", "magnesium", _metal, ["140823"], "闻喜站"),
    ("taiyuan_steel", "pig-iron", _metal, ["140781"], "介休站"),
    ("xinzhou_millet", "millet", _farm, ["140430"], "沁县"),
    ("xinzhou_millet", "oats", _farm, ["140925", "140981"], "忻州"),
    ("xinzhou_millet", "buckwheat", _farm, ["140902"], "忻州"),
    ("xinzhou_millet", "mung-beans", _farm, ["140981"], "原平"),
    ("fenyang_walnut", "walnuts", _farm, ["141182"], "汾阳"),
    ("fenyang_walnut", "jujubes", _farm, ["141124"], "临县"),
    ("fenyang_walnut", "aged-vinegar", _farm, ["140121"], "清徐"),
    ("village_collective", "sorghum", _farm, ["140727", "140728"], "祁县"),
    ("village_collective", "potatoes", _farm, ["140928"], "五寨"),
    ("village_collective", "apples", _farm, ["140821", "140881"], "临猗"),
]


def load(ctx: dict[str, Any], echo: Callable[[str], Any]) -> None:
    """Seed the category tree and the demo listings (published, a few paused and drafts)."""
    tree = seed_categories()
    rng = random.Random(20260301)  # the same demo every time
    now = utcnow()
    made: list[Listing] = []
    usable = [row for row in PLAN if _company(ctx, row[0]) is not None]
    if not usable:
        echo("      (no demo companies: categories only)")
        return
    for n in range(COUNT):
        key, slug, generator, counties, place = usable[n % len(usable)]
        seller = _company(ctx, key)
        title_zh, title_en, specs, price, unit = generator(rng, slug)
        moq = Decimal(rng.choice([50, 100, 500, 1000])) if unit == "t" else Decimal(rng.choice([100, 500, 1000]))
        status = ListingStatus.PUBLISHED
        if n % 23 == 7:
            status = ListingStatus.PAUSED
        elif n % 29 == 11:
            status = ListingStatus.DRAFT
        listing = Listing(
            seller_id=seller.id, category_id=tree[slug].id, title_zh=title_zh, title_en=title_en,
            description_zh=f"{title_zh}。产地直供，可提供第三方检验报告，支持平台担保交易。",
            description_en=f"{title_en}. Direct from the producer; third-party inspection; escrow accepted.",
            specs=specs, unit=unit, unit_price_fen=price, min_order_quantity=moq,
            available_quantity=moq * rng.randint(10, 200), origin_region_code=rng.choice(counties),
            delivery_terms=rng.choice(["ex_works", "rail_station", "delivered"]), delivery_place=place,
            lead_time_days=rng.choice([3, 5, 7, 10]), status=status,
            published_at=None if status == ListingStatus.DRAFT else now - timedelta(hours=n * 3),
        )
        listing.price_tiers = [PriceTier(min_quantity=moq * 10, unit_price_fen=price - price // 50),
                               PriceTier(min_quantity=moq * 40, unit_price_fen=price - price // 25)]
        db.session.add(listing)
        made.append(listing)
    db.session.flush()
    for listing in made:
        request_reindex(listing.id)
    ctx["listings"] = made
    echo(f"      {len(made)} listings in {len(tree)} categories")
    echo(f"      {seed_vocabulary()} trade vocabulary rows (电煤 finds 动力煤, 5500大卡, Φ20, dongli mei ...)")
