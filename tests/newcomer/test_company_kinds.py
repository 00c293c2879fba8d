"""Company kinds follow GB 32100's registration authority and kind codes; nothing defaults to 企业."""

from __future__ import annotations

import pytest

from market.accounts import uscc
from market.accounts.labels import KIND_LABELS
from market.accounts.models import CompanyKind
from market.accounts.services import check_availability, infer_kind


@pytest.mark.parametrize(("prefix", "kind"), [
    ("91", CompanyKind.ENTERPRISE), ("92", CompanyKind.INDIVIDUAL_BUSINESS), ("93", CompanyKind.FARMER_COOPERATIVE),
    ("11", CompanyKind.GOVERNMENT_AGENCY), ("12", CompanyKind.GOVERNMENT_AGENCY), ("A1", CompanyKind.GOVERNMENT_AGENCY),
    ("51", CompanyKind.SOCIAL_ORGANISATION), ("52", CompanyKind.SOCIAL_ORGANISATION),
    ("53", CompanyKind.SOCIAL_ORGANISATION), ("N1", CompanyKind.VILLAGE_COLLECTIVE),
    ("N2", CompanyKind.VILLAGE_COLLECTIVE), ("N3", CompanyKind.VILLAGE_COLLECTIVE),
    ("Y1", CompanyKind.OTHER_ORGANISATION), ("81", CompanyKind.OTHER_ORGANISATION),
    ("31", CompanyKind.OTHER_ORGANISATION), ("71", CompanyKind.OTHER_ORGANISATION),
])
def test_kind_follows_the_code(db, prefix, kind):
    code = uscc.make(prefix, "140100", "MA0000001")
    assert uscc.is_valid(code)
    assert infer_kind(code) == kind
    assert check_availability(code, None).kind == kind
    assert kind in KIND_LABELS


def test_every_prefix_of_the_standard_maps_to_a_kind_and_only_91_is_an_enterprise(db):
    for prefix in uscc.KINDS:
        kind = infer_kind(uscc.make(prefix, "140100", "MA0000001"))
        assert kind in KIND_LABELS
        assert (kind == CompanyKind.ENTERPRISE) == (prefix == "91"), prefix
    assert uscc.registration("Y1140100MA0000001") == ("其他", "其他")
    assert uscc.registration("93140100MA0000001") == ("工商", "农民专业合作社")


def test_the_kind_list_offers_every_kind(client):
    page = client.get("/signup").get_data(as_text=True)
    for kind in CompanyKind:
        assert f'value="{kind.value}"' in page
