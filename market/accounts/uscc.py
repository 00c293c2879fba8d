"""The unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters over ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z). The last is a check
character over the first 17 with weights 3^i mod 31. Codes may start with letters (N: village
collectives, Y: trade unions, A: ...), which python-stdnum's ``cn.uscc`` wrongly rejects, so we
check the standard's rule ourselves.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
_SHAPE = re.compile(f"^[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}$")


class InvalidUSCC(ValueError):
    """Why a code is not a valid USCC; ``reason`` is a short, translatable message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise(raw: str) -> str:
    """Drop spaces and dashes (as people copy them from licences) and upper-case."""
    return re.sub(r"[\s\-\u3000]", "", raw or "").upper()


def check_character(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(ALPHABET.index(ch) * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code, or raise :class:`InvalidUSCC` saying what is wrong."""
    code = normalise(raw)
    if len(code) != 18:
        raise InvalidUSCC("A unified social credit code has 18 characters.")
    bad = sorted({ch for ch in code if ch not in ALPHABET})
    if bad:
        raise InvalidUSCC("The code contains characters that are never used (I, O, S, V, Z or symbols).")
    if not _SHAPE.match(code):
        raise InvalidUSCC("Characters 3 to 8 of the code must be the digits of a region code.")
    if check_character(code[:17]) != code[17]:
        raise InvalidUSCC("The check character does not match: please check the code for typos.")
    return code


# GB 32100-2015, table 1: the registration authority (1st character) and the kind of organisation it
# registered (2nd character). Descriptions in Chinese, as printed on licences.
AUTHORITIES = {"1": "机构编制", "2": "外交", "3": "司法行政", "4": "文化", "5": "民政", "6": "旅游", "7": "宗教",
               "8": "工会", "9": "工商", "A": "中央军委改革和编制办公室", "N": "农业", "Y": "其他"}
KINDS = {
    "11": "机关", "12": "事业单位", "13": "中央编办直接管理机构编制的群众团体", "19": "其他",
    "21": "外国常驻新闻机构", "29": "其他",
    "31": "律师执业机构", "32": "公证处", "33": "基层法律服务所", "34": "司法鉴定机构",
    "35": "仲裁委员会", "39": "其他",
    "41": "外国在华文化中心", "49": "其他",
    "51": "社会团体", "52": "民办非企业单位", "53": "基金会", "59": "其他",
    "61": "外国旅游部门常驻代表机构", "62": "港澳台地区旅游部门常驻内地（大陆）代表机构", "69": "其他",
    "71": "宗教活动场所", "72": "宗教院校", "79": "其他",
    "81": "工会", "89": "其他",
    "91": "企业", "92": "个体工商户", "93": "农民专业合作社",
    "A1": "军队事业单位", "A9": "其他",
    "N1": "组级集体经济组织", "N2": "村级集体经济组织", "N3": "乡镇级集体经济组织", "N9": "其他",
    "Y1": "其他",
}


def registration(code: str) -> tuple[str | None, str | None]:
    """The registration authority and kind (Chinese, from GB 32100) that a code's first two characters
    name, or None for a pair the standard does not define."""
    code = normalise(code)
    return AUTHORITIES.get(code[:1]), KINDS.get(code[:2])


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except InvalidUSCC:
        return False
    return True


def make(prefix: str, region: str, organisation: str) -> str:
    """Build a valid code from its parts (demo data and tests): 2 + 6 + 9 characters."""
    first17 = normalise(prefix + region + organisation)
    if len(first17) != 17:
        raise ValueError("need 17 characters before the check character")
    return first17 + check_character(first17)
