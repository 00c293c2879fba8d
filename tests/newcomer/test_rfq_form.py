"""The RFQ form: one category's spec fields at a time (static JS, no inline script); units in the reader's
language."""

from __future__ import annotations

import re

from catalog.seed import seed_categories
from tests.factories import login, make_trader


def test_rfq_form_groups_spec_fields_by_category_and_has_no_inline_script(client, db):
    seed_categories()
    _, user = make_trader()
    db.session.commit()
    login(client, user)
    page = client.get("/rfq/new").get_data(as_text=True)
    assert "js/rfq.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert page.count('class="card spec-set"') >= 6
    assert re.search(r'<option value="t"[^>]*>吨</option>', page)
    assert re.search(r'<option value="piece"[^>]*>件</option>', page)
    # a failed post re-renders only the chosen category's fields
    from sqlalchemy import select

    from catalog.models import Category
    coal = db.session.scalars(select(Category).where(Category.slug == "thermal-coal")).one()
    response = client.post("/rfq/new", data={"category_id": coal.id, "title": "", "quantity": "100", "unit": "t"})
    assert response.status_code in (400, 422)
    again = response.get_data(as_text=True)
    assert again.count('class="card spec-set"') == 1
    assert f'data-category="{coal.id}"' in again


def test_units_in_english(client, db):
    seed_categories()
    _, user = make_trader()
    user.locale = "en"
    db.session.commit()
    login(client, user)
    page = client.get("/rfq/new").get_data(as_text=True)
    assert "Post a request for quotation" in page
    assert re.search(r'<option value="piece"[^>]*>pcs</option>', page)
    assert re.search(r'<option value="t"[^>]*>t</option>', page)
