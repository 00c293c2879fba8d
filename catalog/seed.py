"""The seeded category tree with its industry spec schemas (see ``catalog.specs`` for the format).

:func:`seed_categories` is idempotent: it adds missing categories by slug and leaves existing ones
(and an operator's edits to them) alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from catalog.models import Category
from market.extensions import db


def num(key: str, zh: str, en: str, unit: str, low: float, high: float, *, required: bool = False,
        buckets: list[float] | None = None, units: dict[str, float] | None = None) -> dict[str, Any]:
    attribute: dict[str, Any] = {"key": key, "label_zh": zh, "label_en": en, "type": "number", "unit": unit,
                                 "min": low, "max": high, "required": required}
    if buckets:
        attribute["buckets"] = buckets
    if units:
        attribute["units"] = units
    return attribute


def choice(key: str, zh: str, en: str, values: list[Any], *, required: bool = False,
           multi: bool = False) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, "type": "multi_choice" if multi else "choice",
            "options": values, "required": required}


def opt(value: str, zh: str, en: str) -> dict[str, str]:
    return {"value": value, "label_zh": zh, "label_en": en}


def text(key: str, zh: str, en: str, *, required: bool = False) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, "type": "text", "required": required}


def year(key: str, zh: str, en: str, *, required: bool = False) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, "type": "year", "min": 2015, "max": 2030,
            "required": required, "buckets": [2023, 2024, 2025]}


# ---- coal (GB/T 5751 classes; GB/T 212/214 analyses) ----
QNET = num("qnet_ar", "收到基低位发热量", "Net calorific value (Qnet,ar)", "kcal/kg", 2500, 7800, required=True,
           buckets=[4500, 5000, 5500, 6000], units={"MJ/kg": 238.846, "kJ/kg": 0.238846})
ST_D = num("st_d", "全硫 St,d", "Total sulfur (St,d)", "%", 0, 6, required=True, buckets=[0.5, 1.0, 2.0])
AD = num("ad", "灰分 Ad", "Ash (Ad)", "%", 0, 50, buckets=[10, 20, 30])
VDAF = num("vdaf", "挥发分 Vdaf", "Volatile matter (Vdaf)", "%", 0, 50, buckets=[10, 20, 28, 37])
MT = num("mt", "全水分 Mt", "Total moisture (Mt)", "%", 0, 40)
COAL_SIZE = choice("size", "粒度", "Size", [opt("0-13", "末煤 0–13 mm", "Fines 0–13 mm"),
                                            opt("13-25", "小块 13–25 mm", "Nuts 13–25 mm"),
                                            opt("25-50", "中块 25–50 mm", "Cobbles 25–50 mm"),
                                            opt("50-100", "大块 50–100 mm", "Lumps 50–100 mm"),
                                            opt("mixed", "混煤 0–50 mm", "Run of mine 0–50 mm")])
G_INDEX = num("g", "粘结指数 G", "Caking index (G)", "", 0, 110, required=True, buckets=[65, 80, 90])
Y_MM = num("y", "胶质层厚度 Y", "Plastic layer (Y)", "mm", 0, 40)
COKE = [AD, ST_D, MT,
        num("m40", "抗碎强度 M40", "Crushing strength (M40)", "%", 50, 95),
        num("csr", "反应后强度 CSR", "Strength after reaction (CSR)", "%", 20, 75, buckets=[55, 60, 65]),
        num("cri", "反应性 CRI", "Reactivity (CRI)", "%", 15, 45),
        choice("size", "粒度", "Size", [opt("10-25", "焦丁 10–25 mm", "Nut coke 10–25 mm"),
                                        opt("25-40", "小焦 25–40 mm", "25–40 mm"),
                                        opt("40-80", "冶金焦 40–80 mm", "Metallurgical 40–80 mm"),
                                        opt("80+", "大焦 80 mm 以上", "Above 80 mm")])]

# ---- metallurgy ----
STEEL_STANDARDS = ["GB/T 1499.2-2018", "GB/T 1499.1-2017", "GB/T 701-2008", "GB/T 14981-2009",
                   "GB/T 3274-2017", "GB/T 1591-2018", "GB/T 700-2006", "GB/T 713-2014"]
STANDARD = choice("standard", "执行标准", "Standard", STEEL_STANDARDS, required=True)
LENGTH = num("length", "长度", "Length", "m", 1, 15)


def steel(grades: list[str], size: dict[str, Any], *extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [STANDARD, choice("grade", "牌号", "Grade", grades, required=True), size, *extra]


# ---- agriculture ----
GRADE = choice("grade", "等级", "Grade", [opt("premium", "特级", "Premium"), opt("1", "一级", "Grade 1"),
                                          opt("2", "二级", "Grade 2"), opt("3", "三级", "Grade 3")])
HARVEST = year("harvest_year", "产季（年份）", "Harvest year", required=True)
MOISTURE = num("moisture", "水分", "Moisture", "%", 0, 40, buckets=[10, 13, 15])
CERTS = choice("certifications", "认证", "Certifications",
               [opt("green", "绿色食品", "Green Food"), opt("organic", "有机", "Organic"),
                opt("gi", "地理标志", "Geographical indication"), opt("haccp", "HACCP", "HACCP")], multi=True)


def farm(variety_hint: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [text("variety", f"品种（如 {variety_hint}）", "Variety", required=True), GRADE, HARVEST, *extra, CERTS]


# (slug, industry, name_zh, name_en, parent slug, schema)
TREE: list[tuple[str, str, str, str, str | None, list[dict[str, Any]]]] = [
    ("coal", "coal", "煤炭", "Coal", None, []),
    ("thermal-coal", "coal", "动力煤", "Thermal coal", "coal", [QNET, ST_D, AD, VDAF, MT, COAL_SIZE]),
    ("coking-coal", "coal", "焦煤", "Coking coal", "coal", [G_INDEX, Y_MM, ST_D, AD, VDAF, MT]),
    ("prime-coking-coal", "coal", "主焦煤", "Prime coking coal", "coking-coal", []),
    ("anthracite", "coal", "无烟煤", "Anthracite", "coal", [QNET, ST_D, AD, VDAF, MT, COAL_SIZE]),
    ("pci-coal", "coal", "喷吹煤", "PCI coal", "coal", [QNET, ST_D, AD, VDAF, MT]),
    ("coke", "coal", "焦炭", "Coke", "coal", COKE),
    ("metallurgy", "metallurgy", "冶金", "Metallurgy", None, []),
    ("rebar", "metallurgy", "螺纹钢", "Rebar", "metallurgy",
     steel(["HRB400E", "HRB500E", "HRB400", "HRB600"],
           num("diameter", "直径", "Diameter", "mm", 6, 50, required=True, buckets=[12, 20, 28]), LENGTH)),
    ("wire-rod", "metallurgy", "线材", "Wire rod", "metallurgy",
     steel(["HPB300", "Q195", "Q235", "SWRH82B"],
           num("diameter", "直径", "Diameter", "mm", 5, 20, required=True, buckets=[6.5, 8, 10]))),
    ("hot-rolled-coil", "metallurgy", "热轧卷板", "Hot-rolled coil", "metallurgy",
     steel(["Q235B", "Q355B", "SPHC", "SS400"],
           num("thickness", "厚度", "Thickness", "mm", 1, 25, required=True, buckets=[3, 6, 12]),
           num("width", "宽度", "Width", "mm", 600, 2200))),
    ("plate", "metallurgy", "中厚板", "Medium and heavy plate", "metallurgy",
     steel(["Q235B", "Q355B", "Q345R", "Q390C"],
           num("thickness", "厚度", "Thickness", "mm", 4, 300, required=True, buckets=[20, 40, 60]),
           num("width", "宽度", "Width", "mm", 1000, 4800), LENGTH)),
    ("pig-iron", "metallurgy", "生铁", "Pig iron", "metallurgy",
     [choice("grade", "牌号", "Grade", ["L04", "L08", "L10", "Z14", "Z18", "Z22"], required=True),
      num("si", "硅含量 Si", "Silicon (Si)", "%", 0, 4, buckets=[0.45, 0.85, 1.25]),
      num("s", "硫含量 S", "Sulfur (S)", "%", 0, 0.1), num("p", "磷含量 P", "Phosphorus (P)", "%", 0, 0.4)]),
    ("ferroalloy", "metallurgy", "铁合金", "Ferroalloys", "metallurgy",
     [choice("grade", "品种牌号", "Grade", ["FeSi75-B", "FeSi72", "FeMn65Si17", "FeCr55C1000", "FeMn78C8.0"],
             required=True),
      num("main_content", "主元素含量", "Main element content", "%", 10, 99, required=True, buckets=[65, 72, 75]),
      num("size", "粒度", "Size", "mm", 0, 200)]),
    ("magnesium", "metallurgy", "金属镁", "Magnesium", "metallurgy",
     [choice("grade", "牌号", "Grade", ["Mg9990", "Mg9995", "Mg9998", "Mg9999"], required=True),
      num("purity", "纯度", "Purity", "%", 99, 100, required=True, buckets=[99.9, 99.95]),
      choice("form", "形态", "Form", [opt("ingot", "锭", "Ingot"), opt("powder", "粉", "Powder"),
                                      opt("granule", "粒", "Granules")])]),
    ("aluminium", "metallurgy", "铝锭", "Aluminium ingot", "metallurgy",
     [choice("grade", "牌号", "Grade", ["Al99.70", "Al99.85", "Al99.90"], required=True),
      num("purity", "纯度", "Purity", "%", 99, 100, required=True, buckets=[99.7, 99.85])]),
    ("agriculture", "agriculture", "农产品", "Agricultural products", None, []),
    ("millet", "agriculture", "小米", "Millet", "agriculture", farm("沁州黄、晋谷21号", MOISTURE)),
    ("sorghum", "agriculture", "高粱", "Sorghum", "agriculture",
     farm("晋杂22号", MOISTURE, num("tannin", "单宁", "Tannin", "%", 0, 3))),
    ("oats", "agriculture", "燕麦/莜麦", "Oats / naked oats", "agriculture", farm("坝莜1号", MOISTURE)),
    ("buckwheat", "agriculture", "荞麦", "Buckwheat", "agriculture", farm("甜荞、苦荞", MOISTURE)),
    ("mung-beans", "agriculture", "绿豆", "Mung beans", "agriculture", farm("明绿豆", MOISTURE)),
    ("walnuts", "agriculture", "核桃", "Walnuts", "agriculture",
     farm("汾州核桃、清香", MOISTURE, num("nut_size", "果径", "Nut diameter", "mm", 20, 50, buckets=[28, 32, 36]),
          num("kernel_rate", "出仁率", "Kernel rate", "%", 30, 70))),
    ("jujubes", "agriculture", "红枣", "Jujubes", "agriculture",
     farm("骏枣、板枣", MOISTURE, num("fruit_count", "每千克粒数", "Fruits per kg", "/kg", 40, 400))),
    ("apples", "agriculture", "苹果", "Apples", "agriculture",
     farm("红富士", num("fruit_diameter", "果径", "Fruit diameter", "mm", 55, 100, buckets=[70, 75, 80, 85]),
          num("brix", "糖度", "Sugar (Brix)", "°Bx", 8, 20))),
    ("potatoes", "agriculture", "马铃薯", "Potatoes", "agriculture",
     farm("晋薯16号、荷兰15号", num("tuber_weight", "单薯重", "Tuber weight", "g", 50, 800, buckets=[150, 250, 400]))),
    ("aged-vinegar", "agriculture", "老陈醋", "Aged vinegar", "agriculture",
     [text("variety", "品牌/品种（如 山西老陈醋）", "Brand / variety", required=True),
      num("total_acid", "总酸（以乙酸计）", "Total acidity (as acetic acid)", "g/100mL", 3.5, 12, required=True,
          buckets=[4.5, 6, 8]),
      num("aged_years", "陈酿年份", "Years aged", "年", 0, 30, buckets=[3, 5, 10]),
      year("production_year", "生产年份", "Production year"), CERTS]),
]


def seed_categories() -> dict[str, Category]:
    """Create any missing seeded categories; return all categories by slug."""
    existing = {c.slug: c for c in db.session.scalars(select(Category))}
    for position, (slug, industry, name_zh, name_en, parent, schema) in enumerate(TREE):
        if slug in existing:
            continue
        category = Category(slug=slug, industry=industry, name_zh=name_zh, name_en=name_en,
                            spec_schema=[dict(a) for a in schema], position=position,
                            parent_id=existing[parent].id if parent else None)
        db.session.add(category)
        db.session.flush()
        existing[slug] = category
    return existing
