"""Shanxi's administrative divisions by GB/T 2260 code: 11 prefecture-level cities and their 117
county-level units (districts, counties, county-level cities), with Chinese and English names.

Codes follow the current list of the Ministry of Civil Affairs (after Datong's 2018 and Changzhi's
2019 district reorganisations, Huairen becoming a city in 2018 and Taigu a district in 2019). The
third to eighth characters of a USCC are the registering authority's region code, so
:func:`region_from_uscc` can propose a region at sign-up.
"""

from __future__ import annotations

from typing import NamedTuple

PROVINCE_CODE = "140000"
PROVINCE_NAMES = {"zh_CN": "山西省", "en": "Shanxi"}


class Region(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    city_code: str  # the prefecture-level city (for a city: its own code)

    @property
    def is_city(self) -> bool:
        return self.code == self.city_code

    def name(self, locale: str = "zh_CN") -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh


# city code -> (Chinese, English, [(county code, Chinese, English), ...])
_DATA: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "140100": ("太原市", "Taiyuan", [
        ("140105", "小店区", "Xiaodian District"), ("140106", "迎泽区", "Yingze District"),
        ("140107", "杏花岭区", "Xinghualing District"), ("140108", "尖草坪区", "Jiancaoping District"),
        ("140109", "万柏林区", "Wanbailin District"), ("140110", "晋源区", "Jinyuan District"),
        ("140121", "清徐县", "Qingxu County"), ("140122", "阳曲县", "Yangqu County"),
        ("140123", "娄烦县", "Loufan County"), ("140181", "古交市", "Gujiao City"),
    ]),
    "140200": ("大同市", "Datong", [
        ("140212", "新荣区", "Xinrong District"), ("140213", "平城区", "Pingcheng District"),
        ("140214", "云冈区", "Yungang District"), ("140215", "云州区", "Yunzhou District"),
        ("140221", "阳高县", "Yanggao County"), ("140222", "天镇县", "Tianzhen County"),
        ("140223", "广灵县", "Guangling County"), ("140224", "灵丘县", "Lingqiu County"),
        ("140225", "浑源县", "Hunyuan County"), ("140226", "左云县", "Zuoyun County"),
    ]),
    "140300": ("阳泉市", "Yangquan", [
        ("140302", "城区", "Chengqu District"), ("140303", "矿区", "Kuangqu District"),
        ("140311", "郊区", "Jiaoqu District"), ("140321", "平定县", "Pingding County"),
        ("140322", "盂县", "Yu County"),
    ]),
    "140400": ("长治市", "Changzhi", [
        ("140403", "潞州区", "Luzhou District"), ("140404", "上党区", "Shangdang District"),
        ("140405", "屯留区", "Tunliu District"), ("140406", "潞城区", "Lucheng District"),
        ("140423", "襄垣县", "Xiangyuan County"), ("140425", "平顺县", "Pingshun County"),
        ("140426", "黎城县", "Licheng County"), ("140427", "壶关县", "Huguan County"),
        ("140428", "长子县", "Zhangzi County"), ("140429", "武乡县", "Wuxiang County"),
        ("140430", "沁县", "Qin County"), ("140431", "沁源县", "Qinyuan County"),
    ]),
    "140500": ("晋城市", "Jincheng", [
        ("140502", "城区", "Chengqu District"), ("140521", "沁水县", "Qinshui County"),
        ("140522", "阳城县", "Yangcheng County"), ("140524", "陵川县", "Lingchuan County"),
        ("140525", "泽州县", "Zezhou County"), ("140581", "高平市", "Gaoping City"),
    ]),
    "140600": ("朔州市", "Shuozhou", [
        ("140602", "朔城区", "Shuocheng District"), ("140603", "平鲁区", "Pinglu District"),
        ("140621", "山阴县", "Shanyin County"), ("140622", "应县", "Ying County"),
        ("140623", "右玉县", "Youyu County"), ("140681", "怀仁市", "Huairen City"),
    ]),
    "140700": ("晋中市", "Jinzhong", [
        ("140702", "榆次区", "Yuci District"), ("140703", "太谷区", "Taigu District"),
        ("140721", "榆社县", "Yushe County"), ("140722", "左权县", "Zuoquan County"),
        ("140723", "和顺县", "Heshun County"), ("140724", "昔阳县", "Xiyang County"),
        ("140725", "寿阳县", "Shouyang County"), ("140727", "祁县", "Qi County"),
        ("140728", "平遥县", "Pingyao County"), ("140729", "灵石县", "Lingshi County"),
        ("140781", "介休市", "Jiexiu City"),
    ]),
    "140800": ("运城市", "Yuncheng", [
        ("140802", "盐湖区", "Yanhu District"), ("140821", "临猗县", "Linyi County"),
        ("140822", "万荣县", "Wanrong County"), ("140823", "闻喜县", "Wenxi County"),
        ("140824", "稷山县", "Jishan County"), ("140825", "新绛县", "Xinjiang County"),
        ("140826", "绛县", "Jiang County"), ("140827", "垣曲县", "Yuanqu County"),
        ("140828", "夏县", "Xia County"), ("140829", "平陆县", "Pinglu County"),
        ("140830", "芮城县", "Ruicheng County"), ("140881", "永济市", "Yongji City"),
        ("140882", "河津市", "Hejin City"),
    ]),
    "140900": ("忻州市", "Xinzhou", [
        ("140902", "忻府区", "Xinfu District"), ("140921", "定襄县", "Dingxiang County"),
        ("140922", "五台县", "Wutai County"), ("140923", "代县", "Dai County"),
        ("140924", "繁峙县", "Fanshi County"), ("140925", "宁武县", "Ningwu County"),
        ("140926", "静乐县", "Jingle County"), ("140927", "神池县", "Shenchi County"),
        ("140928", "五寨县", "Wuzhai County"), ("140929", "岢岚县", "Kelan County"),
        ("140930", "河曲县", "Hequ County"), ("140931", "保德县", "Baode County"),
        ("140932", "偏关县", "Pianguan County"), ("140981", "原平市", "Yuanping City"),
    ]),
    "141000": ("临汾市", "Linfen", [
        ("141002", "尧都区", "Yaodu District"), ("141021", "曲沃县", "Quwo County"),
        ("141022", "翼城县", "Yicheng County"), ("141023", "襄汾县", "Xiangfen County"),
        ("141024", "洪洞县", "Hongtong County"), ("141025", "古县", "Gu County"),
        ("141026", "安泽县", "Anze County"), ("141027", "浮山县", "Fushan County"),
        ("141028", "吉县", "Ji County"), ("141029", "乡宁县", "Xiangning County"),
        ("141030", "大宁县", "Daning County"), ("141031", "隰县", "Xi County"),
        ("141032", "永和县", "Yonghe County"), ("141033", "蒲县", "Pu County"),
        ("141034", "汾西县", "Fenxi County"), ("141081", "侯马市", "Houma City"),
        ("141082", "霍州市", "Huozhou City"),
    ]),
    "141100": ("吕梁市", "Lüliang", [
        ("141102", "离石区", "Lishi District"), ("141121", "文水县", "Wenshui County"),
        ("141122", "交城县", "Jiaocheng County"), ("141123", "兴县", "Xing County"),
        ("141124", "临县", "Lin County"), ("141125", "柳林县", "Liulin County"),
        ("141126", "石楼县", "Shilou County"), ("141127", "岚县", "Lan County"),
        ("141128", "方山县", "Fangshan County"), ("141129", "中阳县", "Zhongyang County"),
        ("141130", "交口县", "Jiaokou County"), ("141181", "孝义市", "Xiaoyi City"),
        ("141182", "汾阳市", "Fenyang City"),
    ]),
}


def _build() -> dict[str, Region]:
    table: dict[str, Region] = {}
    for city_code, (city_zh, city_en, counties_) in _DATA.items():
        table[city_code] = Region(city_code, city_zh, city_en, city_code)
        for code, name_zh, name_en in counties_:
            table[code] = Region(code, name_zh, name_en, city_code)
    return table


REGIONS: dict[str, Region] = _build()


def is_shanxi_code(code: str | None) -> bool:
    """True for the province, one of its 11 cities or one of their county-level units."""
    return bool(code) and (code == PROVINCE_CODE or code in REGIONS)


def get(code: str | None) -> Region | None:
    return REGIONS.get(code or "")


def cities() -> list[Region]:
    """The 11 prefecture-level cities, in code order."""
    return [REGIONS[code] for code in _DATA]


def counties(city_code: str) -> list[Region]:
    """The districts, counties and county-level cities of one city (empty for an unknown code)."""
    if city_code not in _DATA:
        return []
    return [REGIONS[code] for code, _zh, _en in _DATA[city_code][2]]


def region_name(code: str | None, locale: str = "zh_CN") -> str:
    """The unit's own name ("平城区" / "Pingcheng District"); "" for an unknown code."""
    if code == PROVINCE_CODE:
        return PROVINCE_NAMES["en" if str(locale).startswith("en") else "zh_CN"]
    region = get(code)
    return region.name(str(locale)) if region else ""


def region_label(code: str | None, locale: str = "zh_CN") -> str:
    """The name with its city, as shown on a company page ("大同市平城区" / "Pingcheng District, Datong")."""
    region = get(code)
    if region is None:
        return region_name(code, locale)
    if region.is_city:
        return region.name(str(locale))
    city = REGIONS[region.city_code]
    if str(locale).startswith("en"):
        return f"{region.name_en}, {city.name_en}"
    return f"{city.name_zh}{region.name_zh}"


def region_from_uscc(code: str) -> str | None:
    """The Shanxi region a USCC was registered in (characters 3-8), or None.

    Registration offices at city level use codes such as 140201; we then fall back to the city.
    """
    candidate = code[2:8] if len(code) >= 8 else ""
    if candidate in REGIONS:
        return candidate
    city = candidate[:4] + "00"
    if city in _DATA:
        return city
    return None
