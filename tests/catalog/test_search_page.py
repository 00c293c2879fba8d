"""The results page speaks the trade: it says what it understood (with one click to drop it), shows the
spec filters of the category most results fall into without a click, and odd input is never an error."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest

from catalog.search import vocabulary
from catalog.search.vocabulary import VocabularyEntry, seed_vocabulary
from tests.catalog.test_views import indexed, sign_in
from tests.factories import make_company, make_listing, make_member, make_staff


@pytest.fixture
def trade(db):  # type: ignore[no-untyped-def]
    seed_vocabulary()
    db.session.commit()
    vocabulary.forget()
    low = make_listing(title_zh="大同动力煤 Q5500", specs={"qnet_ar": 5500, "st_d": 0.5, "size": "0-13"})
    high = make_listing(title_zh="朔州动力煤 Q5500", specs={"qnet_ar": 5500, "st_d": 2.2, "size": "0-13"})
    other = make_listing(title_zh="大同动力煤 Q4500", specs={"qnet_ar": 4500, "st_d": 0.4, "size": "0-13"})
    indexed(low, high, other)
    yield {"low": low.id, "high": high.id, "other": other.id}
    vocabulary.forget()


def test_page_says_what_it_understood_and_drops_it_in_one_click(client, trade) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=" + quote("低硫电煤 5500大卡")).get_data(as_text=True)
    assert "热值 ≈ 5500 kcal/kg" in html
    assert "低硫：全硫从低到高" in html
    # the drop link of the 热值 chip searches the rest of the query
    assert 'href="/search?q=' + quote("低硫电煤") + '"' in html  # the 热值 chip's drop link: the rest of the query
    assert 'href="/search?q=' + quote_plus("电煤 5500大卡") + '"' in html  # the 低硫 chip's
    api = client.get("/api/v1/search?q=" + quote("低硫电煤 5500大卡")).json
    assert [hit["id"] for hit in api["hits"]] == [trade["low"], trade["high"]]  # 4500 lot out, low sulfur first
    assert api["understood"]["ranges"] == {"qnet_ar": [5250.0, 5750.0]}
    assert api["understood"]["dominant_category"] == "thermal-coal"


def test_dominant_category_shows_its_spec_filters_keeping_the_text(client, trade) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=" + quote("电煤")).get_data(as_text=True)
    assert 'name="min.qnet_ar"' in html  # the thermal-coal spec filters, without choosing the category
    assert 'name="q" value="电煤"' in html
    filtered = client.get("/api/v1/search?q=" + quote("电煤") + "&max.st_d=1.0").json
    assert sorted(hit["id"] for hit in filtered["hits"]) == sorted([trade["low"], trade["other"]])


@pytest.mark.parametrize("text", ["!!!...", "😀🔥💯", "x" * 10_000, "5500斤", "Φ-5", "99999大卡", "硫-1",
                                  "Q5500 Q6000 5000大卡", "φ", "大卡", "0.0.0大卡"])
def test_odd_queries_answer_with_results_or_a_message(client, trade, text: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/search?q=" + quote(text))
    assert page.status_code == 200
    api = client.get("/api/v1/search?q=" + quote(text))
    assert api.status_code == 200
    if text in ("Φ-5", "99999大卡"):
        assert "not used as a filter" in page.get_data(as_text=True) or "不作为筛选条件" in page.get_data(as_text=True)


def test_operator_edits_the_vocabulary_as_data(client, db, trade) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/search?q=" + quote("煤电")).json["total"] == 0
    sign_in(client, make_staff("operator"))
    assert client.get("/operator/vocabulary").status_code == 200
    bad = client.post("/operator/vocabulary", data={"kind": "synonym", "term": "煤电", "expansion": ""})
    assert bad.status_code == 422
    added = client.post("/operator/vocabulary", data={"kind": "synonym", "term": "煤电", "expansion": "动力煤"})
    assert added.status_code == 302
    entry = db.session.query(VocabularyEntry).filter_by(term="煤电").one()
    assert entry.pinyin == "meidian md dongli mei dlm".replace("dongli mei", "donglimei")
    db.session.rollback()
    vocabulary.forget()  # other processes notice within vocabulary.CHECK_SECONDS
    assert client.get("/api/v1/search?q=" + quote("煤电")).json["total"] == 3
    assert client.post(f"/operator/vocabulary/{entry.id}/toggle").status_code == 302
    vocabulary.forget()
    assert client.get("/api/v1/search?q=" + quote("煤电")).json["total"] == 0


def test_vocabulary_page_is_for_operators(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_member(make_company()))
    assert client.get("/operator/vocabulary").status_code == 403
    assert client.post("/operator/vocabulary", data={"kind": "synonym", "term": "x", "expansion": "y"}
                       ).status_code == 403
