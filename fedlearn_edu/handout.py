"""A lecturer's copy of a notebook: the exercises without their solutions, for handing out.

``python -m fedlearn_edu exercises --strip notebooks/04_fedavg_step_by_step.ipynb -o student/``
writes ``student/04_fedavg_step_by_step.ipynb`` in which

* every collapsed solution ``<details><summary>Solution to exercise N</summary> ... </details>``
  is gone, and so is every code cell tagged ``solution``;
* the outputs of the Exercises section are cleared, so that no measured answer shows before the
  student writes a guess;
* the exercises, the ``guess_* = None`` cells and the checker cells (``fl.exercises.check_*``)
  stay, so the student can still check every answer;
* relative links to files (``../assets/five_steps.png``) are rewritten for the new folder.

:func:`exercise_inventory` counts what a notebook offers: exercises, solutions, checkers and the
kind of each exercise (predict then run, compute, find the bug, write the function). The format it
reads is described in ``notebooks/src/README.md``.
"""
from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SOLUTION_TAG", "ExerciseInventory", "exercise_inventory", "exercise_table", "strip_solutions",
           "write_handout"]

SOLUTION_TAG = "solution"
EXERCISES_HEADING = "## Exercises"
# <details><summary>Solution to exercise 5</summary> ... </details>, with the blank lines around it
_SOLUTION_BLOCK = re.compile(r"\n*[ \t]*<details><summary>Solution to exercise (\d+)</summary>.*?</details>[ \t]*\n?",
                             flags=re.S)
_SOLUTION_CELL = re.compile(r"^# Solution to exercise (\d+)\b")
_EXERCISE_ITEM = re.compile(r"(?m)^(\d+)\. ")
_KIND = re.compile(r"(?m)^\d+\. \*\*([^*]+?)\.?\*\*")
_CHECKER = re.compile(r"\bcheck_[a-z0-9_]+\b")
_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _is_solution_cell(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def _exercises_start(cells: list[dict]) -> int:
    """Index of the markdown cell with the ``## Exercises`` heading (len(cells) if none)."""
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown" and EXERCISES_HEADING in _source(cell):
            return index
    return len(cells)


@dataclass
class ExerciseInventory:
    """What the Exercises section of one notebook offers.

    Attributes
    ----------
    exercises : list of int
        The exercise numbers, in the order they appear.
    solutions : list of int
        The exercise numbers that have a collapsed solution (``<details>`` or a ``solution`` cell).
    checkers : set of str
        Names of ``fl.exercises`` checkers the section uses (``check_fedavg``, ...).
    kinds : dict of int to str
        The bold kind that opens an exercise ("Predict, then run", "Find the bug", ...), if any.
    predictions : int
        Code cells that call ``check_prediction`` on a ``guess_*`` variable.
    """

    exercises: list[int] = field(default_factory=list)
    solutions: list[int] = field(default_factory=list)
    checkers: set[str] = field(default_factory=set)
    kinds: dict[int, str] = field(default_factory=dict)
    predictions: int = 0


def exercise_inventory(notebook: dict) -> ExerciseInventory:
    """Count the exercises, solutions and checkers of a notebook (a dict as read from the ``.ipynb``)."""
    cells = notebook.get("cells", [])
    inventory = ExerciseInventory()
    for cell in cells[_exercises_start(cells):]:
        text = _source(cell)
        if cell.get("cell_type") == "markdown":
            without_solutions = _SOLUTION_BLOCK.sub("\n", text)
            inventory.exercises += [int(n) for n in _EXERCISE_ITEM.findall(without_solutions)]
            inventory.kinds.update({int(m.group(0).split(".")[0]): m.group(1).strip()
                                    for m in _KIND.finditer(without_solutions)})
            inventory.solutions += [int(n) for n in _SOLUTION_BLOCK.findall(text)]
        elif _is_solution_cell(cell) and _SOLUTION_CELL.match(text):
            inventory.solutions.append(int(_SOLUTION_CELL.match(text).group(1)))
        elif cell.get("cell_type") == "code" and "check_prediction(guess_" in text:
            inventory.predictions += 1
        inventory.checkers |= set(_CHECKER.findall(text))
    return inventory


def _relink(text: str, source_dir: Path, target_dir: Path) -> str:
    """Rewrite relative links to existing files (not notebooks) so they resolve from ``target_dir``."""
    def fix(match: re.Match) -> str:
        target = match.group(2)
        if re.match(r"^[a-z]+:|^#|^/", target) or target.endswith(".ipynb"):
            return match.group(0)
        resolved = (source_dir / target).resolve()
        if not resolved.exists():
            return match.group(0)
        return match.group(1) + Path(os.path.relpath(resolved, target_dir.resolve())).as_posix() + match.group(3)
    return _LINK.sub(fix, text)


def strip_solutions(notebook: dict, *, source_dir: Path | None = None, target_dir: Path | None = None) -> dict:
    """A copy of ``notebook`` without solutions and without outputs in its Exercises section.

    Parameters
    ----------
    notebook : dict
        The notebook as read from its ``.ipynb`` (nbformat 4).
    source_dir, target_dir : Path, optional
        Where the notebook is and where the copy will be; relative links to files are rewritten
        from one to the other. Without them links are kept as they are.

    Returns
    -------
    dict
        The handout: a new notebook; ``notebook`` itself is not changed.
    """
    handout = copy.deepcopy(notebook)
    handout.get("metadata", {}).pop("jupytext", None)       # no paired source next to the copy
    start = _exercises_start(handout.get("cells", []))
    cells = []
    for index, cell in enumerate(handout.get("cells", [])):
        if _is_solution_cell(cell):
            continue
        if cell.get("cell_type") == "markdown":
            text = _SOLUTION_BLOCK.sub("\n\n", _source(cell))
            if source_dir is not None and target_dir is not None:
                text = _relink(text, Path(source_dir), Path(target_dir))
            cell["source"] = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
        elif cell.get("cell_type") == "code" and index > start:
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    handout["cells"] = cells
    return handout


def write_handout(notebook_path: str | os.PathLike, output_dir: str | os.PathLike) -> Path:
    """Write the handout of ``notebook_path`` into ``output_dir`` (created if missing); return its path.

    Raises
    ------
    ValueError
        If ``notebook_path`` is not an existing ``.ipynb`` file, is not a notebook, or if the copy would
        overwrite the notebook itself.
    """
    source = Path(notebook_path)
    if source.suffix != ".ipynb" or not source.is_file():
        raise ValueError(f"notebook must be an existing .ipynb file, got {str(notebook_path)!r}")
    target_dir = Path(output_dir)
    target = target_dir / source.name
    if target.resolve() == source.resolve():
        raise ValueError(f"-o {str(output_dir)!r} would overwrite the notebook itself: choose another folder")
    try:
        notebook = json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"notebook {str(notebook_path)!r} is not a Jupyter notebook: {exc}") from None
    if not isinstance(notebook, dict) or "cells" not in notebook:
        raise ValueError(f"notebook {str(notebook_path)!r} is not a Jupyter notebook: it has no cells")
    target_dir.mkdir(parents=True, exist_ok=True)
    handout = strip_solutions(notebook, source_dir=source.parent, target_dir=target_dir)
    target.write_text(json.dumps(handout, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def exercise_table(notebooks: dict[str, dict], known_checkers: set[str]) -> list[str]:
    """The rows of the README's exercise table: exercises, solutions and checkers per notebook.

    Parameters
    ----------
    notebooks : dict of column name ("04") -> notebook dict, in column order
    known_checkers : the names in ``fl.exercises.CHECKERS`` (other ``check_*`` names are not counted)

    Returns
    -------
    list of str, three Markdown table rows; the last column is the whole kit (checkers counted once)
    """
    found = {name: exercise_inventory(nb) for name, nb in notebooks.items()}
    checkers = {name: inventory.checkers & known_checkers for name, inventory in found.items()}
    rows = [("exercises", [len(i.exercises) for i in found.values()], sum(len(i.exercises) for i in found.values())),
            ("with a solution", [len(i.solutions) for i in found.values()],
             sum(len(i.solutions) for i in found.values())),
            ("checkers used", [len(c) for c in checkers.values()], len(set().union(*checkers.values())))]
    return [f"| {label} | " + " | ".join(map(str, values)) + f" | {total} |" for label, values, total in rows]

