"""Every user-visible string has a Chinese translation, and the committed catalogs are up to date."""

from __future__ import annotations

from babel.messages.mofile import read_mo

from market.core.i18n import compiled_path, extracted_messages, merged_catalog


def test_every_string_is_translated_to_chinese():
    catalog = merged_catalog("zh_CN")
    missing = sorted(m for m in extracted_messages() if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"{len(missing)} strings lack a zh_CN translation, e.g. {missing[:15]}"


def test_compiled_catalog_matches_the_parts():
    """The committed .mo is what `jinshang i18n-compile` makes from the parts (someone forgot to run it?)."""
    with compiled_path("zh_CN").open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    parts = {m.id: m.string for m in merged_catalog("zh_CN") if m.id}
    assert compiled == parts
