"""From a listing to the document the search backends store."""

from __future__ import annotations

from catalog import specs as spec_rules
from catalog.models import Listing, ListingStatus
from catalog.search.base import SearchDocument

SUMMARY_CHARS = 160


def region_terms(code: str | None) -> list[str]:
    """City and county facet terms of a GB/T 2260 code (a city code yields only the city)."""
    if not code or len(code) != 6 or not code.isdigit():
        return []
    city = code[:4] + "00"
    terms = [f"ci:{city}"]
    if code != city:
        terms.append(f"co:{code}")
    return terms


def is_searchable(listing: Listing | None) -> bool:
    """Only published listings of active companies are in the index."""
    return (listing is not None and listing.status == ListingStatus.PUBLISHED
            and listing.seller is not None and listing.seller.status == "active")


def document_for(listing: Listing) -> SearchDocument:
    """The search document of a published listing."""
    category = listing.category
    path = category.ancestors()
    schema = category.effective_schema()
    seller = listing.seller
    terms = ["all", f"i:{category.industry}", f"se:{listing.seller_id}"]
    terms += [f"c:{node.id}" for node in path]
    terms += region_terms(listing.origin_region_code)
    numbers: dict[str, float] = {}
    words: list[str] = []
    for attribute in schema:
        key = attribute["key"]
        if key not in (listing.specs or {}):
            continue
        value = listing.specs[key]
        kind = spec_rules.normalise_type(attribute.get("type", "text"))
        if kind in ("number", "year") and isinstance(value, int | float):
            numbers[key] = float(value)
        bucket = spec_rules.bucket_for(attribute, value)
        if bucket is not None:
            terms.append(f"s:{key}={bucket}")
        if kind == "choice":
            option = next((o for o in spec_rules.options(attribute) if o["value"] == str(value)), None)
            words.append(str(value))
            if option:
                words += [option["label_zh"], option["label_en"]]
        elif kind == "multi_choice":
            for item in value or []:
                words.append(spec_rules.option_label(attribute, str(item), "zh_CN"))
                words.append(spec_rules.option_label(attribute, str(item), "en"))
        elif kind == "text":
            words.append(str(value))
    body = " ".join(filter(None, [
        listing.description_zh, listing.description_en,
        " ".join(f"{node.name_zh} {node.name_en}" for node in path),
        seller.name_zh if seller else "", (seller.name_en or "") if seller else "",
        listing.delivery_place or "", " ".join(words),
    ]))
    summary = (listing.description_zh or listing.description_en or "").strip()
    published = listing.published_at or listing.updated_at or listing.created_at
    return SearchDocument(
        id=listing.id,
        title_zh=listing.title_zh,
        title_en=listing.title_en or "",
        body=body,
        summary=summary[:SUMMARY_CHARS],
        facet_terms=list(dict.fromkeys(terms)),
        numbers=numbers,
        price_fen=int(listing.unit_price_fen),
        published_ts=int(published.timestamp()) if published else 0,
        credit_score=seller.credit_score if seller else None,
    )
