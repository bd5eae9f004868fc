"""The package's string catalogue: every user-visible string of fedlearn_edu, in both languages.

    python tools/package_catalogue.py extract   # update fedlearn_edu/locale/zh/LC_MESSAGES/fedlearn_edu.po
    python tools/package_catalogue.py check     # which strings lack a current Chinese translation?

The code marks a user-visible string with ``tr("...")`` (gettext's ``_``), ``tr_figure("...")`` (drawn in a
figure) or ``N_("...")`` (a default or a table key, translated where it is shown); Babel's extractor finds them
(``pybabel extract -k tr -k tr_figure -k N_`` does the same). ``extract`` merges them into the .po as gettext's
msgmerge does: new strings come in untranslated, a changed string keeps its old translation marked fuzzy, a
removed one goes. Translators edit the .po (Poedit, Weblate, a text editor); tests/test_i18n.py fails while a
string has no current translation.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fedlearn_edu"
PO = PACKAGE / "locale" / "zh" / "LC_MESSAGES" / "fedlearn_edu.po"
KEYWORDS = {"tr": None, "tr_figure": None, "N_": None}
LOCALE = "zh_Hans_CN"


def template() -> Catalog:
    """Every marked string of the package, with where it is used."""
    catalog = Catalog(project="fedlearn-edu", locale=LOCALE)
    for filename, lineno, message, comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        catalog.add(message, locations=[(f"fedlearn_edu/{filename}", lineno)], auto_comments=comments)
    return catalog


def load() -> Catalog:
    if not PO.exists():
        return Catalog(project="fedlearn-edu", locale=LOCALE)
    with PO.open("rb") as f:
        return read_po(f, locale=LOCALE)


def extract() -> Catalog:
    catalog = load()
    catalog.update(template(), no_fuzzy_matching=False)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.header_comment = ("# Chinese (Simplified) catalogue of fedlearn-edu: every user-visible string.\n"
                              "# Made by tools/package_catalogue.py extract; terms: notebooks/locale/zh/TERMS.md.")
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, catalog, width=120, sort_by_file=True, ignore_obsolete=True)
    return catalog


def problems() -> list[str]:
    """Marked strings with no current translation: missing, empty or fuzzy."""
    catalog = load()
    found = []
    for message in template():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        where = ", ".join(f"{f}:{n}" for f, n in message.locations)
        if entry is None or not entry.string:
            found.append(f"not translated: {message.id!r} ({where})")
        elif entry.fuzzy:
            found.append(f"stale: {message.id!r} ({where})")
    return found


def main(argv=None) -> int:
    command = (argv or sys.argv[1:] or ["check"])[0]
    if command == "extract":
        catalog = extract()
        print(f"{PO.relative_to(ROOT)}: {len([m for m in catalog if m.id])} strings")
        return 0
    found = problems()
    print("\n".join(found) if found else "every string has a current translation")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
