"""The package's string catalogue: every user-visible string of fedlearn_edu, in both languages.

    python tools/package_catalogue.py extract   # update fedlearn_edu/locale/zh/LC_MESSAGES/fedlearn_edu.po
    python tools/package_catalogue.py check     # which strings lack a current Chinese translation?
    python tools/package_catalogue.py export > todo.json   # the strings still to translate, {english: ""}
    python tools/package_catalogue.py import todo.json     # put {english: chinese} into the .po

The code marks a user-visible string with ``tr("...")`` (gettext's ``_``), ``tr_figure("...")`` (drawn in a
figure) or ``N_("...")`` (a default or a table key, translated where it is shown); Babel's extractor finds them
(``pybabel extract -k tr -k tr_figure -k N_`` does the same). ``extract`` merges them into the .po as gettext's
msgmerge does: new strings come in untranslated, a changed string keeps its old translation marked fuzzy, a
removed one goes. Translators edit the .po (Poedit, Weblate, a text editor); tests/test_i18n.py fails while a
string has no current translation.
"""
from __future__ import annotations

import ast
import json
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


#: kit calls whose string arguments a notebook's code passes to the package, which shows them translated:
#: (function name, position of the string among the positional arguments)
NOTEBOOK_CALLS = {"check": 1, "verdict": 1, "float_slider": 3, "int_slider": 3, "log_value_slider": 3}
#: keyword arguments whose constant strings the kit shows translated: in any call, or only in the calls named
#: keyword arguments whose constant strings a notebook passes to the kit to show (None: of any call)
NOTEBOOK_KEYWORDS = {"description": None, "claim": None, "what": ("check_prediction",),
                     "expected": ("check", "verdict")}


def notebook_strings() -> list[tuple[str, str, int]]:
    """(text, file, line) of every constant string a notebook's code passes to the kit to show: the claims of
    ``fl.check``, the descriptions of sliders and menus (a :class:`~fedlearn_edu.widgets.ControlPanel`
    translates its controls' descriptions), what a prediction was about (``check_prediction(..., what=...)``),
    what a claim expects when it is words (``fl.check(..., expected="increasing")``).
    The code cells stay English; these reach the student translated."""
    import jupytext

    found = []
    for source in sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]*_*.py")):
        for cell in jupytext.read(source).cells:
            if cell.cell_type != "code":
                continue
            code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
            for node in ast.walk(ast.parse(code)):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                texts = [kw.value for kw in node.keywords if kw.arg in NOTEBOOK_KEYWORDS
                         and (NOTEBOOK_KEYWORDS[kw.arg] is None or name in NOTEBOOK_KEYWORDS[kw.arg])]
                position = NOTEBOOK_CALLS.get(name)
                if position is not None and len(node.args) > position:
                    texts.append(node.args[position])
                found += [(t.value, f"notebooks/src/{source.name}", t.lineno) for t in texts
                          if isinstance(t, ast.Constant) and isinstance(t.value, str) and t.value.strip()]
    return found


def template() -> Catalog:
    """Every marked string of the package, and every string a notebook passes to it, with where it is used."""
    catalog = Catalog(project="fedlearn-edu", locale=LOCALE)
    for filename, lineno, message, comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        catalog.add(message, locations=[(f"fedlearn_edu/{filename}", lineno)], auto_comments=comments)
    for text, filename, lineno in notebook_strings():
        if text in catalog:
            catalog[text].locations.append((filename, lineno))
        else:
            catalog.add(text, locations=[(filename, lineno)])
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


def export() -> dict:
    """{English: current translation or ""} for the strings that need work (missing or stale)."""
    catalog = load()
    todo = {}
    for message in template():
        entry = catalog.get(message.id) if message.id else None
        if message.id and (entry is None or not entry.string or entry.fuzzy):
            todo[message.id] = entry.string if entry is not None and entry.string else ""
    return todo


def import_translations(translations: dict) -> int:
    """Set {English: Chinese} in the .po (after bringing it up to date); returns how many were set."""
    catalog = extract()
    count = 0
    for english, chinese in translations.items():
        if english not in catalog:
            raise SystemExit(f"not a string of the catalogue: {english!r}")
        if chinese:
            catalog[english].string = chinese
            catalog[english].flags.discard("fuzzy")
            count += 1
    with PO.open("wb") as f:
        write_po(f, catalog, width=120, sort_by_file=True, ignore_obsolete=True)
    return count


def main(argv=None) -> int:
    args = argv or sys.argv[1:] or ["check"]
    command = args[0]
    if command == "export":
        print(json.dumps(export(), ensure_ascii=False, indent=1))
        return 0
    if command == "import":
        count = import_translations(json.loads(Path(args[1]).read_text(encoding="utf-8")))
        print(f"{count} translations set")
        return 0
    if command == "extract":
        catalog = extract()
        print(f"{PO.relative_to(ROOT)}: {len([m for m in catalog if m.id])} strings")
        return 0
    found = problems()
    print("\n".join(found) if found else "every string has a current translation")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
