"""The notebooks are paired with their percent-format sources by jupytext (issue 14).

An instructor may edit either file; these tests check that the committed pair agrees the
way jupytext itself sees it, and that cell tags survive the build's reader.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _update_from_source(notebook: Path, workdir: Path) -> tuple[dict, dict, str]:
    """Run ``jupytext --to ipynb --update`` on a copy of the pair: (before, after, jupytext's message)."""
    (workdir / "src").mkdir()
    copy = workdir / notebook.name
    shutil.copy(notebook, copy)
    shutil.copy(ROOT / "notebooks" / "src" / f"{notebook.stem}.py", workdir / "src")
    before = json.loads(copy.read_text(encoding="utf-8"))
    done = subprocess.run([sys.executable, "-m", "jupytext", "--to", "ipynb", "--update", "-o", copy.name,
                           f"src/{notebook.stem}.py"], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return before, json.loads(copy.read_text(encoding="utf-8")), done.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_update_changes_nothing(notebook, tmp_path):
    before, after, _ = _update_from_source(notebook, tmp_path)
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
    subprocess.run([sys.executable, "-m", "jupytext", "--to", "ipynb", "--update", "-o", notebook.name,
                    f"src/{source.name}"], cwd=tmp_path, capture_output=True, check=True, timeout=120)
    assert json.loads((tmp_path / notebook.name).read_text(encoding="utf-8")) != before


def test_build_check_agrees():
    assert build_notebooks.check() == []


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
