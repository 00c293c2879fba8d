"""GB/T 2260 codes for Shanxi: 11 cities, 117 county-level units, names in both languages."""

from __future__ import annotations

from market.accounts import regions


def test_eleven_cities_and_their_counties():
    assert [c.name_zh for c in regions.cities()] == [
        "太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市", "忻州市", "临汾市", "吕梁市"]
    assert sum(len(regions.counties(c.code)) for c in regions.cities()) == 117
    assert len(regions.counties("140900")) == 14  # Xinzhou
    assert regions.counties("110000") == []


def test_current_codes_after_the_reorganisations():
    assert regions.region_name("140213") == "平城区"  # Datong 2018
    assert regions.region_name("140404", "en") == "Shangdang District"  # Changzhi 2019
    assert regions.region_name("140703") == "太谷区"  # Taigu 2019
    assert regions.region_name("140681") == "怀仁市"
    assert not regions.is_shanxi_code("140202")  # the old Datong 城区 is gone
    assert not regions.is_shanxi_code("140424")  # the old 屯留县


def test_labels_and_lookups():
    assert regions.region_label("141182") == "吕梁市汾阳市"
    assert regions.region_label("141182", "en") == "Fenyang City, Lüliang"
    assert regions.region_label("140100", "en") == "Taiyuan"
    assert regions.region_name("140000") == "山西省"
    assert regions.region_name("999999") == ""
    assert regions.is_shanxi_code("140921")
    assert not regions.is_shanxi_code("110101")
    assert not regions.is_shanxi_code(None)


def test_region_from_uscc():
    assert regions.region_from_uscc("93140921MA0KE5P2WG") == "140921"
    assert regions.region_from_uscc("91140201MA0KE5P2WG") == "140200"  # city-level office: the city
    assert regions.region_from_uscc("91110108MA0KE5P2WG") is None
