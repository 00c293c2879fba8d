"""Translations: each package keeps its own ``translations/parts/<package>.<locale>.po``.

Parts avoid one shared file that every change edits; ``jinshang i18n-compile`` merges them into
``translations/<locale>/LC_MESSAGES/messages.mo`` (committed, so a fresh install needs no build step).
"""

from __future__ import annotations

from pathlib import Path

import click
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from market.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
LOCALES = ("zh_CN", "en")


def merged_catalog(locale: str) -> Catalog:
    """All parts of one locale in a single catalog; a msgid defined twice must agree."""
    merged = Catalog(locale=locale)
    for part in sorted((TRANSLATIONS / "parts").glob(f"*.{locale}.po")):
        with part.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        for message in catalog:
            if not message.id or not message.string:
                continue
            existing = merged.get(message.id)
            if existing is not None and existing.string != message.string:
                raise click.ClickException(
                    f"{part.name}: {message.id!r} translated differently elsewhere ({existing.string!r})"
                )
            merged.add(message.id, message.string)
    return merged


def compiled_path(locale: str) -> Path:
    """Babel parses "zh_CN" as zh_Hans_CN and looks its catalogue up under that name."""
    return TRANSLATIONS / str(Locale.parse(locale)) / "LC_MESSAGES" / "messages.mo"


def compile_all() -> dict[str, int]:
    """Write each locale's ``messages.mo``; returns how many messages each has."""
    counts = {}
    for locale in LOCALES:
        catalog = merged_catalog(locale)
        target = compiled_path(locale).parent
        target.mkdir(parents=True, exist_ok=True)
        with compiled_path(locale).open("wb") as handle:
            write_mo(handle, catalog)
        counts[locale] = len(catalog)
    return counts


@click.command("i18n-compile")
def i18n_compile_command() -> None:
    """Merge translations/parts/*.po and compile the .mo files."""
    for locale, count in compile_all().items():
        click.echo(f"{locale}: {count} messages")


def extracted_messages() -> set[str]:
    """Every translatable string in the code and templates (what a translator must cover)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

    python, jinja = [("**.py", "python")], [("**.html", "jinja2")]
    found: set[str] = set()
    for folder, method_map in (("market", python), ("catalog", python), ("payments", python), ("templates", jinja)):
        extracted = extract_from_dir(str(PROJECT_ROOT / folder), method_map, keywords=keywords)
        for _file, _line, message, _comments, _context in extracted:
            messages = message if isinstance(message, tuple) else (message,)
            found.update(m for m in messages[:1] if m)
    return found
