"""The Exercises sections of the notebooks: one format, a solution for every exercise, the kit's
checkers, self-contained solutions that pass them, and a handout without solutions that still runs.

The format is described in notebooks/src/README.md; fedlearn_edu/handout.py reads it.
"""
import contextlib
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import reference
from fedlearn_edu.handout import exercise_inventory, strip_solutions, write_handout

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
CORE = [p for p in NOTEBOOKS if int(p.name[:2]) <= 8]
KINDS = {"Predict, then run", "Compute", "Read the chart", "Explore", "Find the bug",
         "Find the bug, then write the function", "Write the function", "Implement the variant", "Think it through"}


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _exercise_cells(path: Path) -> list[dict]:
    cells = _notebook(path)["cells"]
    start = next(i for i, c in enumerate(cells) if "## Exercises" in "".join(c["source"]))
    return cells[start:]


def _output_text(cell: dict) -> str:
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))


def _kit_checkers(path: Path) -> set[str]:
    return exercise_inventory(_notebook(path)).checkers & set(fl.exercises.CHECKERS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_one_solution_in_order(path):
    found = exercise_inventory(_notebook(path))
    assert found.exercises == list(range(1, len(found.exercises) + 1)), f"exercises numbered {found.exercises}"
    assert found.solutions == found.exercises, f"solutions {found.solutions} for exercises {found.exercises}"
    assert len(found.exercises) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_says_its_kind(path):
    found = exercise_inventory(_notebook(path))
    missing = set(found.exercises) - set(found.kinds)
    assert not missing, f"exercises without a bold kind: {missing}"
    assert set(found.kinds.values()) <= KINDS, f"unknown kinds {set(found.kinds.values()) - KINDS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checkers_named_in_exercises_exist(path):
    named = exercise_inventory(_notebook(path)).checkers
    unknown = {n for n in named if n not in fl.exercises.CHECKERS}
    assert not unknown, f"{path.name} names checkers that fl.exercises does not have: {unknown}"


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.stem)
def test_every_core_notebook_has_a_checked_exercise(path):
    assert _kit_checkers(path), f"{path.name} has no exercise with an fl.exercises checker"


def test_the_kit_uses_at_least_25_checkers():
    used = set().union(*(_kit_checkers(p) for p in NOTEBOOKS))
    assert len(used) >= 25, f"{len(used)} checkers used: {sorted(used)}"


def test_exercises_go_from_predicting_to_writing_code():
    kinds = [k for p in NOTEBOOKS for k in exercise_inventory(_notebook(p)).kinds.values()]
    for kind in ("Predict, then run", "Compute", "Write the function", "Implement the variant"):
        assert kind in kinds, f"no exercise of kind {kind!r}"
    assert any(k.startswith("Find the bug") for k in kinds)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_predictions_start_from_an_empty_guess(path):
    """A predict-then-run check reads a ``guess_*`` that an earlier exercise cell sets to None."""
    cells = [c for c in _exercise_cells(path) if c["cell_type"] == "code"]
    for index, cell in enumerate(cells):
        for guess in re.findall(r"check_prediction\((guess_\w+)", "".join(cell["source"])):
            earlier = "\n".join("".join(c["source"]) for c in cells[:index])
            assert re.search(rf"(?m)^{guess} = None\b", earlier), f"{guess} is not set to None before its check"
            text = _output_text(cell)
            assert "your guess is None" in text, "the committed output is what a fresh notebook shows"


def _details_solutions():
    for path in NOTEBOOKS:
        markdown = "\n".join("".join(c["source"]) for c in _exercise_cells(path) if c["cell_type"] == "markdown")
        for number, body in re.findall(r"<details><summary>Solution to exercise (\d+)</summary>(.*?)</details>",
                                       markdown, flags=re.S):
            for code in re.findall(r"```python\n(.*?)```", body, flags=re.S):
                if "fl.exercises.check_" in code:
                    yield pytest.param(code, id=f"{path.stem.split('_')[0]}-exercise-{number}")


@pytest.mark.parametrize("code", list(_details_solutions()))
def test_collapsed_solutions_pass_their_checkers(code):
    """A solution in a <details> block that calls a checker runs on its own and every verdict is ✔."""
    namespace = {"np": np, "fl": fl, "math": math, "reference": reference}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, namespace)
    verdicts = [line for line in printed.getvalue().splitlines() if "✔" in line or "✘" in line]
    assert verdicts, "the solution prints no verdict"
    assert all("✘" not in line for line in verdicts), printed.getvalue()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solution_cells_print_passing_verdicts(path):
    """A hidden solution cell that checks something shows ✔ in its committed output (nbval re-runs it)."""
    for cell in _exercise_cells(path):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True
            text = _output_text(cell)
            assert "✘" not in text and "Error" not in text, text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_handout_has_no_solutions_and_keeps_the_checkers(path, tmp_path):
    handout = strip_solutions(_notebook(path), source_dir=path.parent, target_dir=tmp_path)
    text = json.dumps(handout, ensure_ascii=False)
    assert "Solution to exercise" not in text and "<details><summary>Solution" not in text
    assert not any("solution" in c.get("metadata", {}).get("tags", []) for c in handout["cells"])
    found, original = exercise_inventory(handout), exercise_inventory(_notebook(path))
    assert found.exercises == original.exercises and found.solutions == []
    assert found.predictions == original.predictions
    kept = {n for c in handout["cells"] for n in re.findall(r"check_\w+", "".join(c["source"]))}
    in_exercises = {n for c in _exercise_cells(path) if "solution" not in c.get("metadata", {}).get("tags", [])
                    for n in re.findall(r"check_\w+", re.sub(r"<details>.*?</details>", "", "".join(c["source"]),
                                                             flags=re.S))}
    assert in_exercises <= kept


def test_strip_removes_only_solutions():
    notebook = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# 99 · x\n\n![a figure](../assets/five_steps.png)"},
        {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [{"output_type": "stream", "name": "stdout",
                                                                               "text": "1\n"}], "execution_count": 1},
        {"cell_type": "markdown", "metadata": {}, "source": (
            "## Exercises\n1. **Compute.** Add.\n\n<details><summary>Solution to exercise 1</summary>\n\n"
            "```python\nprint(1 + 1)\n```\n</details>\n\n2. **Predict, then run.** Guess.")},
        {"cell_type": "code", "metadata": {}, "source": "guess_x = None", "outputs": [], "execution_count": 2},
        {"cell_type": "code", "metadata": {}, "source": "print(fl.exercises.check_prediction(guess_x, 2))",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "2\n"}], "execution_count": 3},
        {"cell_type": "code", "metadata": {"tags": ["solution"], "jupyter": {"source_hidden": True}},
         "source": "# Solution to exercise 2\nguess_x = 2", "outputs": [], "execution_count": 4},
    ], "metadata": {"jupytext": {"formats": "ipynb,src//py:percent"}}, "nbformat": 4, "nbformat_minor": 5}
    handout = strip_solutions(notebook, source_dir=ROOT / "notebooks", target_dir=ROOT / "student")
    assert [c["cell_type"] for c in handout["cells"]] == ["markdown", "code", "markdown", "code", "code"]
    assert handout["cells"][1]["outputs"], "outputs before the Exercises section stay"
    assert handout["cells"][4]["outputs"] == [] and handout["cells"][4]["execution_count"] is None
    assert handout["cells"][2]["source"] == "## Exercises\n1. **Compute.** Add.\n\n2. **Predict, then run.** Guess."
    assert "](../assets/five_steps.png)" in handout["cells"][0]["source"]      # student/ is beside notebooks/
    assert "jupytext" not in handout["metadata"]
    assert len(notebook["cells"]) == 6 and notebook["cells"][4]["outputs"], "the original is not changed"


def test_write_handout_refuses_to_overwrite_the_notebook(tmp_path):
    with pytest.raises(ValueError, match="overwrite the notebook itself"):
        write_handout(NOTEBOOKS[0], NOTEBOOKS[0].parent)
    with pytest.raises(ValueError, match="existing .ipynb"):
        write_handout(tmp_path / "missing.ipynb", tmp_path)
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a Jupyter notebook"):
        write_handout(bad, tmp_path / "out")


@pytest.mark.slow
def test_strip_command_writes_a_handout_that_runs_to_the_end(tmp_path):
    """The lecturer's command, as the README gives it; the copy runs in a fresh kernel from its new folder."""
    import nbformat
    from helpers import run_python
    from nbclient import NotebookClient

    source = ROOT / "notebooks" / "04_fedavg_step_by_step.ipynb"
    out = tmp_path / "student"
    done = run_python(["-m", "fedlearn_edu", "exercises", "--strip", str(source), "-o", str(out)])
    assert done.returncode == 0, done.stderr
    handout = out / source.name
    text = handout.read_text(encoding="utf-8")
    assert "Solution to exercise" not in text and "def momentum_step" not in text and "def rounds_to_target" not in text
    assert "fl.exercises.check_fedavg(fedavg)" in text and "guess_rounds_all_clients = None" in text
    notebook = nbformat.read(handout, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(out)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "your guess is None" in "".join("".join(o.get("text", "")) for o in outputs)


def test_the_readme_table_counts_what_the_notebooks_hold():
    from fedlearn_edu.handout import exercise_table
    rows = exercise_table({p.name.split("_")[0]: _notebook(p) for p in NOTEBOOKS}, set(fl.exercises.CHECKERS))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    header = "| notebook | " + " | ".join(p.name.split("_")[0] for p in NOTEBOOKS) + " | all |"
    assert header in readme, "the README's exercise table must have one column per notebook"
    for row in rows:
        assert row in readme, f"README.md is stale: expected the row\n{row}\n(python -m fedlearn_edu exercises ...)"
