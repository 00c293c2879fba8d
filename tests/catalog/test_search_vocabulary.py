"""The trade's vocabulary, on both backends: queries typed as buyers type them find the right category and
spec. The vocabulary is the default data (``vocabulary.tsv``) loaded into the table, as on a real site.

Each row: (query, expected category id on the top hit's category path, spec check on the top hit or None).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.search import make_index, vocabulary
from catalog.search.base import SearchDocument
from catalog.search.understand import understand
from catalog.search.vocabulary import seed_vocabulary
from tests.catalog.test_search_contract import BACKENDS

# category id → (parent id or None, zh, en)
CATS = {1: (None, "煤炭", "Coal"), 2: (1, "动力煤", "Thermal coal"), 3: (1, "焦煤", "Coking coal"),
        4: (3, "主焦煤", "Prime coking coal"), 5: (1, "无烟煤", "Anthracite"), 6: (1, "喷吹煤", "PCI coal"),
        7: (1, "焦炭", "Coke"), 10: (None, "冶金", "Metallurgy"), 11: (10, "螺纹钢", "Rebar"),
        12: (10, "线材", "Wire rod"), 13: (10, "热轧卷板", "Hot-rolled coil"),
        14: (10, "中厚板", "Medium and heavy plate"),
        15: (10, "生铁", "Pig iron"), 16: (10, "铁合金", "Ferroalloys"), 17: (10, "金属镁", "Magnesium"),
        18: (10, "铝锭", "Aluminium ingot"), 20: (None, "农产品", "Agricultural products"), 21: (20, "小米", "Millet"),
        22: (20, "高粱", "Sorghum"), 23: (20, "燕麦/莜麦", "Oats / naked oats"), 24: (20, "荞麦", "Buckwheat"),
        25: (20, "绿豆", "Mung beans"), 26: (20, "核桃", "Walnuts"), 27: (20, "红枣", "Jujubes"),
        28: (20, "苹果", "Apples"), 29: (20, "马铃薯", "Potatoes"), 30: (20, "老陈醋", "Aged vinegar")}

# (category, title as a seller writes it, numeric specs)
LOTS = [
    (2, "大同优质动力煤 Q5500 低硫", {"qnet_ar": 5500, "st_d": 0.6}),
    (2, "朔州动力煤 5000大卡 末煤", {"qnet_ar": 5000, "st_d": 1.8}),
    (2, "准格尔动力煤 Q4500", {"qnet_ar": 4500, "st_d": 2.4}),
    (2, "平朔 动力煤 5800 低灰", {"qnet_ar": 5800, "st_d": 0.9}),
    (2, "大同 动力煤 5500大卡 电厂用", {"qnet_ar": 5500, "st_d": 2.6}),
    (4, "吕梁主焦煤 G85 低硫", {"g": 85, "st_d": 0.5}),
    (3, "柳林焦煤 G75", {"g": 75, "st_d": 1.1}),
    (3, "古交肥煤 G90", {"g": 90, "st_d": 1.0}),
    (5, "晋城无烟煤 块煤 6500大卡", {"qnet_ar": 6500, "st_d": 0.4}),
    (6, "阳泉喷吹煤 低灰", {"qnet_ar": 7000, "st_d": 0.5}),
    (7, "孝义冶金焦 一级 CSR65", {"csr": 65, "ad": 12.5}),
    (7, "介休铸造焦 大块", {"csr": 55, "ad": 10.0}),
    (11, "太钢 HRB400E 螺纹钢 Φ20 9米", {"diameter": 20, "length": 9}),
    (11, "建龙 HRB400E 螺纹钢 Φ16", {"diameter": 16}),
    (11, "HRB500E 螺纹钢 Φ25", {"diameter": 25}),
    (11, "首钢 HRB400 螺纹钢 Φ12", {"diameter": 12}),
    (12, "高线 HPB300 Φ8", {"diameter": 8}),
    (13, "热轧卷板 Q235B 5.75mm", {"thickness": 5.75}),
    (13, "热轧板卷 Q355B 3.0", {"thickness": 3.0}),
    (14, "中厚板 Q345R 20mm", {"thickness": 20}),
    (15, "炼钢生铁 L08", {"si": 0.8}),
    (15, "铸造生铁 Z18", {"si": 1.8}),
    (16, "硅铁 FeSi75-B 鄂尔多斯", {"main_content": 75}),
    (16, "硅锰合金 FeMn65Si17", {"main_content": 65}),
    (17, "府谷金属镁锭 Mg9990", {"purity": 99.9}),
    (18, "电解铝锭 Al99.70", {"purity": 99.7}),
    (21, "沁州黄小米 2025年新米", {"harvest_year": 2025}),
    (21, "晋谷21号黄小米", {"harvest_year": 2024}),
    (22, "晋杂22号红高粱", {"harvest_year": 2025}),
    (23, "坝莜1号莜麦", {"harvest_year": 2025}),
    (24, "右玉苦荞麦", {"harvest_year": 2025}),
    (25, "明绿豆 精选", {"harvest_year": 2025}),
    (26, "汾州核桃 薄皮", {"nut_size": 32}),
    (27, "骏枣 特级", {"moisture": 22}),
    (28, "临猗红富士 80果", {"fruit_diameter": 80}),
    (29, "晋薯16号 大薯", {"tuber_weight": 300}),
    (30, "东湖老陈醋 5年", {"aged_years": 5}),
]


def _path(category: int) -> list[int]:
    chain = []
    node: int | None = category
    while node is not None:
        chain.append(node)
        node = CATS[node][0]
    return list(reversed(chain))


def _docs() -> list[SearchDocument]:
    docs = []
    for n, (category, title, numbers) in enumerate(LOTS, start=1):
        path = _path(category)
        body = " ".join(f"{CATS[c][1]} {CATS[c][2]}" for c in path)  # as documents.document_for writes it
        docs.append(SearchDocument(n, title, "", body, "", ["all", *(f"c:{c}" for c in path)],
                                   {k: float(v) for k, v in numbers.items()}, 10_000 + n, 1_700_000_000 + n))
    return docs


def near(key: str, value: float, tolerance: float = 250) -> Callable[[dict[str, float]], bool]:
    return lambda numbers: abs(numbers.get(key, -1e9) - value) <= tolerance


def equal(key: str, value: float) -> Callable[[dict[str, float]], bool]:
    return lambda numbers: numbers.get(key) == value


def at_most(key: str, value: float) -> Callable[[dict[str, float]], bool]:
    return lambda numbers: numbers.get(key, 1e9) <= value


def at_least(key: str, value: float) -> Callable[[dict[str, float]], bool]:
    return lambda numbers: numbers.get(key, -1e9) >= value


QUERIES: list[tuple[str, int, Callable[[dict[str, float]], bool] | None]] = [
    ("电煤", 2, None), ("动力煤", 2, None), ("动力煤5500大卡", 2, near("qnet_ar", 5500)),
    ("5500大卡", 2, near("qnet_ar", 5500)), ("5500kcal 动力煤", 2, near("qnet_ar", 5500)),
    ("Q5500", 2, near("qnet_ar", 5500)), ("电煤5000大卡", 2, near("qnet_ar", 5000)),
    ("低硫动力煤", 2, equal("st_d", 0.6)), ("低硫电煤", 2, equal("st_d", 0.6)),
    ("动力煤 硫0.8", 2, at_most("st_d", 0.8)), ("高热值动力煤", 2, equal("qnet_ar", 5800)),
    ("thermal coal", 2, None), ("steam coal", 2, None), ("dongli mei", 2, None), ("donglimei", 2, None),
    ("dlm", 2, None), ("dianmei", 2, None), ("主焦煤", 4, None), ("焦煤", 3, None), ("炼焦煤", 3, None),
    ("prime coking coal", 4, None), ("焦煤 G80", 3, at_least("g", 80)), ("无烟煤", 5, None), ("白煤", 5, None),
    ("anthracite", 5, None), ("喷吹煤", 6, None), ("PCI", 6, None), ("焦炭", 7, None), ("冶金焦", 7, None),
    ("met coke", 7, None), ("铸造焦", 7, None), ("螺纹钢", 11, None), ("HRB400E", 11, None),
    ("HRB400", 11, None), ("hrb400 螺纹钢", 11, None), ("三级螺纹钢", 11, None), ("三级钢", 11, None),
    ("Φ20螺纹钢", 11, equal("diameter", 20)), ("螺纹钢 20mm", 11, equal("diameter", 20)),
    ("φ16 螺纹", 11, equal("diameter", 16)), ("rebar", 11, None), ("钢筋", 11, None), ("线材", 12, None),
    ("盘条", 12, None), ("热卷", 13, None), ("热轧卷板", 13, None), ("HRC", 13, None), ("Q235B 热卷", 13, None),
    ("中厚板", 14, None), ("钢板", 14, None), ("生铁", 15, None), ("铸造生铁", 15, None), ("pig iron", 15, None),
    ("硅铁", 16, None), ("镁锭", 17, None), ("金属镁", 17, None), ("magnesium", 17, None), ("电解铝", 18, None),
    ("小米", 21, None), ("黄小米", 21, None), ("millet", 21, None), ("xiaomi", 21, None), ("高粱", 22, None),
    ("莜麦", 23, None), ("燕麦", 23, None), ("苦荞", 24, None), ("绿豆", 25, None), ("核桃", 26, None),
    ("胡桃", 26, None), ("walnuts", 26, None), ("红枣", 27, None), ("大枣", 27, None), ("苹果", 28, None),
    ("土豆", 29, None), ("马铃薯", 29, None), ("陈醋", 30, None), ("山西陈醋", 30, None),
]


@pytest.fixture(params=BACKENDS)
def loaded(request: pytest.FixtureRequest, app, db, tmp_path: Path):  # type: ignore[no-untyped-def]
    seed_vocabulary()
    db.session.commit()
    vocabulary.forget()
    index = make_index(request.param, index_dir=str(tmp_path / "index"))
    index.index(_docs())
    db.session.commit()
    index.refresh()
    yield index
    vocabulary.forget()


def test_the_table_is_big_enough() -> None:
    assert len(QUERIES) >= 60
    assert len({q for q, _c, _s in QUERIES}) == len(QUERIES)


def test_trade_queries_find_the_right_category_and_spec(loaded) -> None:  # type: ignore[no-untyped-def]
    docs = {d.id: d for d in _docs()}
    snapshot = vocabulary.current()
    wrong = []
    for query, category, spec in QUERIES:
        meaning = understand(query, snapshot)
        results = loaded.search(meaning.text, ranges=meaning.ranges, prefer=meaning.prefer, facets=("category",))
        if not results.hits:
            wrong.append(f"{query}: nothing found")
            continue
        top = docs[results.hits[0].id]
        if f"c:{category}" not in top.facet_terms:
            wrong.append(f"{query}: top hit {top.title_zh} is not in category {CATS[category][1]}")
        elif spec is not None and not spec(top.numbers):
            wrong.append(f"{query}: top hit {top.title_zh} {top.numbers} misses the stated spec")
    assert not wrong, wrong


def test_without_the_vocabulary_the_trade_words_miss(loaded, db) -> None:  # type: ignore[no-untyped-def]
    """The table, not code, does the work: switched off, 电煤 and 热卷 find nothing again."""
    from catalog.search.vocabulary import VocabularyEntry

    db.session.query(VocabularyEntry).update({"enabled": False})
    db.session.commit()
    vocabulary.forget()
    assert loaded.search("电煤").total == 0
    assert loaded.search("热卷").total == 0
    assert loaded.search("dongli mei").total == 0
