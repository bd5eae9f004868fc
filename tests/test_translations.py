"""The Chinese notebooks (notebooks/zh/) are their English sources, translated: one source, two languages.

Each Chinese notebook must be generated from the current English source and a complete, current translation
(notebooks/locale/zh/NN_*.po): the same code cells (plus fl.set_language("zh") in the set-up cell), every Markdown
cell translated, none stale. When an English cell changes, its translation turns fuzzy and these tests fail until
a translator updates it (then `python tools/translate_notebooks.py build NN`).
"""
from __future__ import annotations

import importlib.util
import re
import shutil

import nbformat
import pytest
from helpers import ROOT

ZH = ROOT / "notebooks" / "zh"


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


translate = _tool("translate_notebooks")
TWINS = [s for s in translate.sources() if (ZH / f"{s.stem}.ipynb").exists()]
IDS = [s.stem for s in TWINS]


def _cells(nb):
    return [(c.cell_type, c.source) for c in nb.cells]


@pytest.mark.parametrize("source", TWINS, ids=IDS)
def test_every_markdown_cell_has_a_current_translation(source):
    assert translate.problems(source) == []


@pytest.mark.parametrize("source", TWINS, ids=IDS)
def test_the_chinese_notebook_is_generated_from_its_source(source):
    committed = nbformat.read(ZH / f"{source.stem}.ipynb", as_version=4)
    assert _cells(committed) == _cells(translate.chinese_notebook(source)), \
        f"run: python tools/translate_notebooks.py build {source.name.split('_')[0]}"
    assert committed.metadata.get("language") == "zh"


@pytest.mark.parametrize("source", TWINS, ids=IDS)
def test_code_cells_are_the_english_ones_plus_the_language_line(source):
    english = [c.source for c in translate.read_source(source).cells if c.cell_type == "code"]
    chinese = [c.source for c in nbformat.read(ZH / f"{source.stem}.ipynb", as_version=4).cells
               if c.cell_type == "code"]
    set_up = next(i for i, text in enumerate(english) if translate.IMPORT_LINE in text.splitlines())
    assert chinese[:set_up] + chinese[set_up + 1:] == english[:set_up] + english[set_up + 1:]
    assert chinese[set_up].splitlines() == [line for line in english[set_up].splitlines()
                                            for line in ([line, translate.LANGUAGE_LINE]
                                                         if line == translate.IMPORT_LINE else [line])]


@pytest.mark.parametrize("source", TWINS, ids=IDS)
def test_relative_links_of_the_chinese_notebook_resolve(source):
    nb = nbformat.read(ZH / f"{source.stem}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in translate.LINK.finditer(cell.source):
            target = match["target"]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
                continue
            assert (ZH / target).exists() or target.endswith(".ipynb"), f"{cell['id']}: {target}"


def test_a_changed_english_cell_makes_its_translation_stale(tmp_path, monkeypatch):
    """The mechanism itself, on a copy: translate every cell, change one English cell, extract again."""
    source = tmp_path / "src" / "00_start_here.py"
    source.parent.mkdir()
    shutil.copy(translate.SOURCES / source.name, source)
    monkeypatch.setattr(translate, "PO_DIR", tmp_path / "locale")
    cells = translate.markdown_cells(source)
    worksheet = "\n\n".join(f"<!-- cell {cell_id} -->\n译文 {i}\n<!-- end -->" for i, (cell_id, _) in enumerate(cells))
    assert translate.import_worksheet(source, worksheet) == len(cells)
    assert translate.problems(source) == []
    first_id, first_text = cells[0]
    source.write_text(source.read_text().replace("# # 00 · Start here", "# # 00 · Start here, changed"))
    translate.save(translate.extract(source), source)
    found = translate.problems(source)
    assert found == [f"{first_id}: stale (the English changed; review and remove the fuzzy flag)"]
    with pytest.raises(SystemExit, match="no current translation"):
        translate.chinese_notebook(source)
