"""Every notebook survives a student's experiments: run with papermill, its knobs moved to the ends
of their ranges (the ranges its ``parameters`` cell states), it runs to the end without an error.

The claims may then fail (✘ lines): that is the lesson, not a crash. ``FL_PARAMETER_GRID=1``
adds a wider grid: each knob alone at each end of its range.
"""
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_parameters import TAG, read_knobs  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
WITH_KNOBS = NOTEBOOKS               # every notebook has its knobs (issue 16)


def _run(path: Path, parameters: dict, tmp_path: Path) -> dict:
    import papermill
    out = tmp_path / path.name
    try:
        papermill.execute_notebook(str(path), str(out), parameters=parameters, kernel_name="python3",
                                   progress_bar=False, cwd=str(path.parent), execution_timeout=600)
    except papermill.PapermillExecutionError as exc:
        pytest.fail(f"{path.name} with {parameters} stops in cell {exc.exec_count}: {exc.ename}: {exc.evalue}")
    return json.loads(out.read_text(encoding="utf-8"))


def _errors(notebook: dict) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in notebook["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_parameters_cell_follows_the_set_up_cell(path):
    code = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    tagged = [i for i, c in enumerate(code) if TAG in c.get("metadata", {}).get("tags", [])]
    assert tagged == [1], f"{path.name}: one cell tagged {TAG!r}, the second code cell (after the set-up)"
    knobs = read_knobs(path)
    assert knobs, "the parameters cell defines no knob"
    assert all(k.edges for k in knobs)


def _assigned_names(source: str) -> set[str]:
    """Names a cell binds at the top level: assignments, for-loop targets, imports, defs."""
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:               # a cell magic: not Python
        return set()
    names = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, (ast.For, ast.With)):
            targets = [node.target] if isinstance(node, ast.For) else [i.optional_vars for i in node.items]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target is not None else set()
    return names


@pytest.mark.parametrize("path", WITH_KNOBS, ids=lambda p: p.stem)
def test_no_cell_overwrites_a_knob(path):
    """A later ``for seed in ...`` would silently change every experiment after it."""
    knobs = {k.name for k in read_knobs(path)}
    code = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    for cell in code[2:]:
        clash = _assigned_names("".join(cell["source"])) & knobs
        assert not clash, f"{path.name}: a cell rebinds the knob(s) {clash}:\n{''.join(cell['source'])[:300]}"


@pytest.mark.slow
@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize("path", WITH_KNOBS, ids=lambda p: p.stem)
def test_the_notebook_runs_with_every_knob_at_one_end(path, end, tmp_path):
    knobs = read_knobs(path)
    parameters = {k.name: (k.edges[0] if end == "low" else k.edges[-1]) for k in knobs}
    assert not _errors(_run(path, parameters, tmp_path))


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FL_PARAMETER_GRID"), reason="the wider grid: set FL_PARAMETER_GRID=1")
@pytest.mark.parametrize("path", WITH_KNOBS, ids=lambda p: p.stem)
def test_the_notebook_runs_with_each_knob_alone_at_each_end(path, tmp_path):
    for knob in read_knobs(path):
        for value in knob.edges:
            assert not _errors(_run(path, {knob.name: value}, tmp_path)), (knob.name, value)
