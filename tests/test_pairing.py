"""The notebooks are paired with their percent-format sources by jupytext (issue 14).

An instructor may edit either file; these tests check that the committed pair agrees the
way jupytext itself sees it, and that cell tags survive the build's reader.
"""
import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from jupytext.cli import jupytext as jupytext_cli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


def _update(workdir: Path, notebook: str, source: str) -> None:
    """``jupytext --to ipynb --update -o NOTEBOOK src/SOURCE`` in ``workdir`` (jupytext's own CLI, in-process)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        jupytext_cli(["--quiet", "--to", "ipynb", "--update", "-o", notebook, f"src/{source}"])


def _update_from_source(notebook: Path, workdir: Path) -> tuple[dict, dict]:
    """Run ``jupytext --to ipynb --update`` on a copy of the pair: (notebook before, notebook after)."""
    (workdir / "src").mkdir()
    copy = workdir / notebook.name
    shutil.copy(notebook, copy)
    shutil.copy(ROOT / "notebooks" / "src" / f"{notebook.stem}.py", workdir / "src")
    before = json.loads(copy.read_text(encoding="utf-8"))
    _update(workdir, notebook.name, f"{notebook.stem}.py")
    return before, json.loads(copy.read_text(encoding="utf-8"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_update_changes_nothing(notebook, tmp_path):
    before, after = _update_from_source(notebook, tmp_path)
    assert after == before, f"{notebook.name} differs from src/{notebook.stem}.py: run jupytext --sync"
    assert before["metadata"]["jupytext"]["formats"] == build_notebooks.FORMATS


def test_an_edited_source_is_detected(tmp_path):
    """The check can fail: one changed line in a source makes jupytext rewrite the notebook."""
    notebook = NOTEBOOKS[0]
    source = ROOT / "notebooks" / "src" / f"{notebook.stem}.py"
    (tmp_path / "src").mkdir()
    shutil.copy(notebook, tmp_path / notebook.name)
    edited = source.read_text(encoding="utf-8").replace("# %% [markdown]\n", "# %% [markdown]\n# an edit\n", 1)
    (tmp_path / "src" / source.name).write_text(edited, encoding="utf-8")
    before = json.loads((tmp_path / notebook.name).read_text(encoding="utf-8"))
    _update(tmp_path, notebook.name, source.name)
    assert json.loads((tmp_path / notebook.name).read_text(encoding="utf-8")) != before


def test_build_check_agrees():
    assert build_notebooks.check() == []


def test_no_execute_keeps_the_outputs(tmp_path):
    """``--no-execute`` (jupytext's update) rewrites a notebook from its source and keeps the outputs:
    unchanged, the notebook is what is committed; an edited cell gets its new source (and keeps its old
    outputs until the notebook is re-executed), an inserted cell has none, the ids are renumbered."""
    notebook = NOTEBOOKS[0]
    source = ROOT / "notebooks" / "src" / f"{notebook.stem}.py"
    have = nbformat.read(notebook, as_version=4)
    assert build_notebooks.update(source, notebook) == have
    code = next(i for i, c in enumerate(have.cells) if c.cell_type == "code" and c.outputs)
    old = have.cells[code].source
    edited = tmp_path / source.name
    edited.write_text(source.read_text(encoding="utf-8").replace(old, f"{old}\n# edited\n\n# %%\ninserted = 1", 1),
                      encoding="utf-8")
    nb = build_notebooks.update(edited, notebook)
    assert nb.cells[code].source == old + "\n# edited" and nb.cells[code].outputs == have.cells[code].outputs
    assert nb.cells[code + 1].source == "inserted = 1" and nb.cells[code + 1].outputs == []
    assert nb.cells[code + 1].execution_count is None
    assert [c.get("outputs") for c in nb.cells[code + 2:]] == [c.get("outputs") for c in have.cells[code + 1:]]
    assert [c.id for c in nb.cells] == [f"{notebook.name.split('_')[0]}-{i:03d}" for i in range(len(have.cells) + 1)]


def test_tags_and_raw_cells_survive_the_reader(tmp_path):
    source = tmp_path / "99_tags.py"
    source.write_text('# %% [markdown]\n# # 99 · A title\n\n# %% tags=["parameters"]\nn_clients = 10\n\n'
                      '# %% [raw]\n# not code\n\n# %% tags=["solution"] jupyter={"source_hidden": true}\n'
                      'answer = 42\n', encoding="utf-8")
    nb = build_notebooks.read_source(source)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "raw", "code"]
    assert nb.cells[1].metadata["tags"] == ["parameters"]
    assert nb.cells[3].metadata["tags"] == ["solution"] and nb.cells[3].metadata["jupyter"]["source_hidden"]
    assert [c.id for c in nb.cells] == ["99-000", "99-001", "99-002", "99-003"]
    nbformat.validate(nb)
