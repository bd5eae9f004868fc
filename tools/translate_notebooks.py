"""The Chinese edition of the notebooks: one source, two languages.

    python tools/translate_notebooks.py extract            # write/update notebooks/locale/zh/NN_*.po from the sources
    python tools/translate_notebooks.py check              # which notebooks have stale or missing translations?
    python tools/translate_notebooks.py export 05 > 05.md  # a translator's worksheet (one block per Markdown cell)
    python tools/translate_notebooks.py import 05 05.md    # put a worksheet's translations into the .po
    python tools/translate_notebooks.py build 05           # write notebooks/zh/05_*.ipynb and run it
    python tools/translate_notebooks.py build --no-execute # every Chinese notebook, outputs kept

Every English notebook's source ``notebooks/src/NN_*.py`` also makes ``notebooks/zh/NN_*.ipynb``: the same code
cells (the set-up cell also calls ``fl.set_language("zh")``), and each Markdown cell replaced by its translation
from ``notebooks/locale/zh/NN_*.po``. A .po file is gettext's: the English cell text is the ``msgid``, the Chinese
text the ``msgstr``, the cell id a translator's comment, so Poedit, Weblate or any gettext tool can edit it.

When an English cell changes, ``extract`` keeps the old translation as *fuzzy* (gettext's word for "needs review")
and ``check`` fails until a translator updates it: a half-translated notebook cannot ship silently. Relative links
are rewritten for the ``zh/`` folder (``../assets/x.png`` becomes ``../../assets/x.png``; links to other notebooks
stay inside the Chinese edition).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_notebooks import NOTEBOOKS, SOURCES, execute, read_source  # noqa: E402

LANGUAGE = "zh"
LOCALE = "zh_Hans_CN"
PO_DIR = NOTEBOOKS / "locale" / LANGUAGE
TARGET_DIR = NOTEBOOKS / LANGUAGE
#: the line the set-up cell of every Chinese notebook gains, after ``import fedlearn_edu as fl``
IMPORT_LINE = "import fedlearn_edu as fl"
LANGUAGE_LINE = f'fl.set_language("{LANGUAGE}")'
#: a worksheet block: ``<!-- cell NN-iii -->`` ... ``<!-- end -->``
BLOCK = re.compile(r"<!-- cell (?P<id>[0-9]{2}[a-z]?-[0-9]{3}) -->\n(?P<text>.*?)\n<!-- end -->", re.S)
#: a Markdown link or image target, or an HTML src/href
LINK = re.compile(r"(\]\(|src=\"|href=\")(?P<target>[^)\"#\s]+)")
CJK = re.compile(r"[\u4e00-\u9fff]")


def sources(numbers: list[str] | None = None) -> list[Path]:
    found = sorted(SOURCES.glob("[0-9][0-9]*_*.py"))
    return [s for s in found if not numbers or s.name.split("_")[0] in numbers]


def po_path(source: Path) -> Path:
    return PO_DIR / f"{source.stem}.po"


def markdown_cells(source: Path) -> list[tuple[str, str]]:
    """(cell id, English text) of every Markdown cell of ``source``."""
    return [(cell["id"], cell.source) for cell in read_source(source).cells if cell.cell_type == "markdown"]


def load(source: Path) -> Catalog:
    path = po_path(source)
    if not path.exists():
        return Catalog(locale=LOCALE, project="fedlearn-edu", domain=source.stem)
    with path.open("rb") as f:
        return read_po(f, locale=LOCALE, domain=source.stem)


HEADER = """\
Chinese (Simplified) translation of the fedlearn-edu notebook {name}.
Generated from notebooks/src/{name}.py by tools/translate_notebooks.py extract: one message per Markdown cell,
the English cell text as msgid. Terms: notebooks/locale/zh/TERMS.md."""


def save(catalog: Catalog, source: Path) -> None:
    catalog.header_comment = "\n".join("# " + line for line in HEADER.format(name=source.stem).splitlines())
    catalog.fuzzy = False
    catalog.version = "1"
    catalog.msgid_bugs_address = "https://github.com/fedlearn-edu"
    catalog.last_translator = catalog.language_team = "fedlearn-edu"
    PO_DIR.mkdir(parents=True, exist_ok=True)
    with po_path(source).open("wb") as f:
        write_po(f, catalog, width=120, sort_output=False, omit_header=False, ignore_obsolete=True)


def extract(source: Path) -> Catalog:
    """The .po of ``source`` brought up to date: one message per distinct Markdown cell; a cell whose
    English changed keeps its old translation marked fuzzy (gettext's msgmerge), a removed cell goes."""
    template = Catalog(locale=LOCALE, project="fedlearn-edu", domain=source.stem)
    for cell_id, text in markdown_cells(source):
        if text in template:
            template[text].auto_comments.append(f"cell {cell_id}")
        else:
            template.add(text, auto_comments=[f"cell {cell_id}"])
    catalog = load(source)
    catalog.update(template, no_fuzzy_matching=False)
    catalog.obsolete.clear()
    return catalog


def problems(source: Path) -> list[str]:
    """What keeps ``source``'s Chinese notebook from shipping: Markdown cells with no translation, a fuzzy
    (stale) one, or one without any Chinese character."""
    catalog = load(source)
    found = []
    for cell_id, text in markdown_cells(source):
        message = catalog.get(text)
        if message is None or not message.string:
            found.append(f"{cell_id}: not translated")
        elif message.fuzzy:
            found.append(f"{cell_id}: stale (the English changed; review and remove the fuzzy flag)")
        elif CJK.search(message.string) is None and re.search(r"[A-Za-z]{3,}", text):
            found.append(f"{cell_id}: the translation has no Chinese text")
    return found


def relinked(text: str) -> str:
    """Relative link targets of an English cell, as seen from ``notebooks/zh/``."""
    def fix(match: re.Match) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return match.group(0)                       # an address or an absolute path
        if (TARGET_DIR / target).exists() or not (NOTEBOOKS / target).exists():
            return match.group(0)
        if (TARGET_DIR / target).suffix == ".ipynb":
            return match.group(0)
        return match.group(1) + "../" + target
    return LINK.sub(fix, text)


def chinese_notebook(source: Path) -> nbformat.NotebookNode:
    """The Chinese twin of ``source``: translated Markdown, the same code, ``fl.set_language("zh")``."""
    nb = read_source(source)
    catalog = load(source)
    set_up = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            message = catalog.get(cell.source)
            if message is None or not message.string or message.fuzzy:
                raise SystemExit(f"{source.name}: cell {cell['id']} has no current translation (run check)")
            cell.source = relinked(message.string)
        elif not set_up and IMPORT_LINE in cell.source.splitlines():
            lines = cell.source.splitlines()
            lines.insert(lines.index(IMPORT_LINE) + 1, LANGUAGE_LINE)
            cell.source = "\n".join(lines)
            set_up = True
    if not set_up:
        raise SystemExit(f"{source.name}: no set-up cell with `{IMPORT_LINE}`")
    nb.metadata.pop("jupytext", None)                  # generated, not paired: edit the .po, not the notebook
    nb.metadata["language"] = LANGUAGE
    return nb


def export(source: Path) -> str:
    """A worksheet for a translator: each Markdown cell as a block holding its translation (or its English
    text, to be replaced)."""
    catalog = load(source)
    blocks = []
    for cell_id, text in markdown_cells(source):
        message = catalog.get(text)
        current = message.string if message is not None and message.string else text
        blocks.append(f"<!-- cell {cell_id} -->\n{current}\n<!-- end -->")
    return "\n\n".join(blocks) + "\n"


def import_worksheet(source: Path, worksheet: str) -> int:
    """Put a worksheet's blocks into the .po as translations; returns how many were set."""
    english = dict(markdown_cells(source))
    catalog = extract(source)
    count = 0
    for block in BLOCK.finditer(worksheet):
        cell_id, text = block["id"], block["text"].strip("\n")
        if cell_id not in english:
            raise SystemExit(f"{source.name}: the worksheet has a cell {cell_id} the source does not have")
        message = catalog[english[cell_id]]
        message.string = text
        message.flags.discard("fuzzy")
        count += 1
    save(catalog, source)
    return count


def build(source: Path, run: bool = True) -> Path:
    nb = chinese_notebook(source)
    target = TARGET_DIR / f"{source.stem}.ipynb"
    TARGET_DIR.mkdir(exist_ok=True)
    if run:
        seconds = execute(nb, cwd=TARGET_DIR)
        print(f"zh/{target.name}: ran in {seconds:.1f} s")
    elif target.exists():
        old = nbformat.read(target, as_version=4)
        for new_cell, old_cell in zip(nb.cells, old.cells, strict=False):
            if new_cell.cell_type == "code" and old_cell.cell_type == "code" and new_cell.source == old_cell.source:
                new_cell.outputs, new_cell.execution_count = old_cell.outputs, old_cell.execution_count
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["extract", "check", "export", "import", "build"])
    parser.add_argument("numbers", nargs="*", help="two-digit notebook numbers (default: all); import: NN FILE")
    parser.add_argument("--no-execute", action="store_true", help="build: keep the outputs, do not run")
    args = parser.parse_args(argv)
    if args.command == "import":
        number, worksheet = args.numbers
        (source,) = sources([number])
        print(f"{source.name}: {import_worksheet(source, Path(worksheet).read_text(encoding='utf-8'))} cells imported")
        return 0
    chosen = sources(args.numbers)
    if args.command == "export":
        sys.stdout.write(export(chosen[0]))
        return 0
    status = 0
    for source in chosen:
        if args.command == "extract":
            save(extract(source), source)
        elif args.command == "check":
            found = problems(source)
            print(f"{source.stem}: " + (f"{len(found)} cells to translate or review" if found else "translated"))
            status |= bool(found)
        else:
            build(source, run=not args.no_execute)
    return status


if __name__ == "__main__":
    sys.exit(main())
