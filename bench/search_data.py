"""Synthetic listings and buyer queries for ``bench/search.py`` (seeded, so runs compare)."""

from __future__ import annotations

import random
from typing import Any

from catalog.search.base import SearchDocument

# (category id, parent id, industry, zh, en, numeric spec generator)
CATEGORIES = [
    (2, 1, "coal", "动力煤", "thermal coal", lambda r: {"qnet_ar": r.choice([4500, 5000, 5500, 5800, 6000]),
                                                        "st_d": round(r.uniform(0.3, 2.5), 2)}),
    (3, 1, "coal", "主焦煤", "prime coking coal", lambda r: {"g": r.randint(60, 95),
                                                             "st_d": round(r.uniform(0.3, 1.2), 2)}),
    (4, 1, "coal", "无烟煤", "anthracite", lambda r: {"qnet_ar": r.choice([6000, 6500, 6800]),
                                                      "st_d": round(r.uniform(0.2, 1.0), 2)}),
    (5, 1, "coal", "焦炭", "metallurgical coke", lambda r: {"csr": r.randint(50, 70)}),
    (11, 10, "metallurgy", "螺纹钢", "rebar", lambda r: {"diameter": r.choice([12, 16, 20, 25, 28, 32])}),
    (12, 10, "metallurgy", "热轧卷板", "hot-rolled coil", lambda r: {"thickness": r.choice([2.75, 3.0, 5.75, 9.75])}),
    (13, 10, "metallurgy", "金属镁", "magnesium ingot", lambda r: {"purity": r.choice([99.9, 99.95])}),
    (21, 20, "agriculture", "小米", "millet", lambda r: {"harvest_year": r.choice([2024, 2025])}),
    (22, 20, "agriculture", "核桃", "walnuts", lambda r: {"nut_size": r.choice([28, 30, 32, 34])}),
    (23, 20, "agriculture", "老陈醋", "aged vinegar", lambda r: {"aged_years": r.choice([3, 5, 10])}),
    (24, 20, "agriculture", "红枣", "jujubes", lambda r: {"moisture": r.randint(18, 25)}),
]
CITIES = {"140200": ["140213", "140214", "140226"], "141100": ["141125", "141181", "141182"],
          "140100": ["140109", "140107"], "140400": ["140430", "140404"], "140600": ["140602", "140603"],
          "140500": ["140521", "140525"]}
PLACES = {"140200": "大同", "141100": "吕梁", "140100": "太原", "140400": "长治", "140600": "朔州", "140500": "晋城"}
ADJECTIVES = ["优质", "低硫", "低灰", "现货", "厂家直供", "特级", "新货", "高热值", "国标", "出口级"]
ENGLISH = ["premium", "low sulfur", "spot", "direct from mine", "export grade", "new crop", "certified"]


def bucket(key: str, value: float) -> str:
    step = {"qnet_ar": 500, "st_d": 0.5, "g": 10, "csr": 5, "diameter": 8, "thickness": 3, "purity": 0.05,
            "harvest_year": 1, "nut_size": 2, "aged_years": 5, "moisture": 3}[key]
    low = int(value // step * step) if step >= 1 else round(value // step * step, 2)
    return f"{low}"


def make_docs(n: int, seed: int) -> list[SearchDocument]:
    rng = random.Random(seed)
    docs = []
    for i in range(1, n + 1):
        cat_id, parent, industry, zh, en, spec = rng.choice(CATEGORIES)
        city = rng.choice(list(CITIES))
        county = rng.choice(CITIES[city])
        numbers = spec(rng)
        adjectives = rng.sample(ADJECTIVES, 2)
        code = " ".join(f"{k.upper()}{v:g}" for k, v in numbers.items())
        title_zh = f"{PLACES[city]}{adjectives[0]}{zh} {code} {adjectives[1]}"
        title_en = f"{PLACES[city]} {rng.choice(ENGLISH)} {en}"
        body = (f"{zh} {en} {PLACES[city]} {rng.choice(ADJECTIVES)}，可提供第三方检验报告，支持平台担保交易。"
                f" Seller no. {rng.randint(1, 3000)} ships by rail.")
        terms = ["all", f"i:{industry}", f"c:{parent}", f"c:{cat_id}", f"ci:{city}", f"co:{county}",
                 f"se:{rng.randint(1, 3000)}", *(f"s:{k}={bucket(k, v)}" for k, v in numbers.items())]
        docs.append(SearchDocument(i, title_zh, title_en, body, body[:80], terms, numbers,
                                   rng.randrange(1000, 2_000_000, 100), 1_700_000_000 + i * 60,
                                   rng.choice([None, 40, 60, 75, 90])))
    return docs


def make_queries(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` distinct query texts built from the trade vocabulary (its defaults file): synonyms and
    narrower kinds, numbers with units, preference words, pinyin, English, places — typed as buyers do.
    Most are text only; one in five adds a category or city filter, one in ten a spec range."""
    from catalog.search.vocabulary import pinyin_keys, read_defaults

    rng = random.Random(seed + 1)
    rows = read_defaults()
    words = sorted({w.strip() for r in rows if r["kind"] in ("synonym", "narrower")
                    for w in [r["term"], *r["expansion"].split("|")] if w.strip()})
    words += [zh for _c, _p, _i, zh, _en, _s in CATEGORIES] + [en for *_x, en, _s in CATEGORIES]
    chinese = [w for w in words if not w.isascii()]
    pinyin = [k for w in chinese[:60] for k in pinyin_keys([w]).split()]
    prefer = [r["term"] for r in rows if r["kind"] == "prefer"]
    units = ["{}大卡", "{}kcal", "Q{}", "热值{}"]
    sizes = ["Φ{}", "{}mm", "φ{}"]
    places = list(PLACES.values())
    makers = [
        lambda: rng.choice(words),
        lambda: rng.choice(places) + rng.choice(chinese),
        lambda: rng.choice(prefer) + rng.choice(["动力煤", "电煤", "无烟煤", "焦煤", "焦炭"]),
        lambda: f"{rng.choice(['动力煤', '电煤', ''])} {rng.choice(units).format(rng.randrange(4000, 7000, 100))}",
        lambda: rng.choice(["螺纹钢", "三级钢", "HRB400", "线材"]) + rng.choice(sizes).format(
            rng.choice([8, 12, 16, 20, 25])),
        lambda: rng.choice(pinyin),
        lambda: f"{rng.choice(ADJECTIVES)} {rng.choice(words)}",
        lambda: f"{rng.choice(words)} 硫{rng.choice(['0.5', '0.8', '1.0', '1.5'])}",
        lambda: f"{rng.choice(ENGLISH)} {rng.choice([en for *_x, en, _s in CATEGORIES])}",
    ]
    texts: dict[str, None] = {}
    while len(texts) < count:
        text = " ".join(rng.choice(makers)().split())
        if text:
            texts[text] = None
    queries = []
    for n, text in enumerate(texts):
        cat_id, parent, *_rest = rng.choice(CATEGORIES)
        filters: dict[str, list[str]] = {}
        ranges: dict[str, tuple[float | None, float | None]] = {}
        if n % 5 == 1:
            filters = rng.choice([{"category": [str(cat_id)]}, {"category": [str(parent)]},
                                  {"city": [rng.choice(list(CITIES))]}])
        if n % 10 == 3:
            ranges = {"price": (50000, 900000)}
        queries.append({"text": text, "filters": filters, "ranges": ranges})
    return queries
