"""Every number a notebook's prose states as a measurement is printed by one of its cells.

The rules (what counts, what passes) are in ``tools/prose_numbers.py``. What no rule covers is
listed here, per notebook, with the reason. An entry that no longer matches anything fails too,
so the list cannot outlive its reasons.
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import prose_numbers  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SOLUTIONS = "recomputed from the kit by tests/test_solutions_NN.py"

DERIVED = "arithmetic written out on the same line from numbers the notebook prints or sets"
TO_TRY = "a value the student is asked to try or to reach, not a measurement"

#: notebook -> {number as written (with % or ×): why it need not be printed}
ALLOWED: dict[str, dict[str, str]] = {
    "01_why_federated": {
        "150,528": DERIVED + " (224 × 224 × 3 bytes of one photo)",
        "260": f"exercise 3's solution, {SOLUTIONS}",
    },
    "03_model_and_local_training": {"6156": DERIVED + " (1539 parameters × 4 bytes)"},
    "07b_communication_and_devices": {number: f"exercise 3's solution, {SOLUTIONS}"
                                      for number in ("96", "48", "9.6", "4.8")},
    "11_non_iid_algorithms": {"0.958": f"exercise 3's solution, {SOLUTIONS}"},
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_numbers_in_prose_are_printed_by_the_notebook(path):
    missing = prose_numbers.unexplained(path, ALLOWED.get(path.stem, {}))
    assert not missing, (f"{path.name}: numbers in the prose that no cell prints (print them, cite their "
                         f"source on the line, or add them to ALLOWED with the reason):\n"
                         + "\n".join(f"  {n.key!r}: {n.line[:120]}" for n in missing))


@pytest.mark.parametrize("stem", sorted(ALLOWED))
def test_every_allowed_number_is_still_needed(stem):
    path = ROOT / "notebooks" / f"{stem}.ipynb"
    assert path.exists(), f"ALLOWED names {stem}, which is not a notebook"
    still_needed = {n.key for n in prose_numbers.unexplained(path)}
    stale = set(ALLOWED[stem]) - still_needed
    assert not stale, f"{stem}: ALLOWED entries no longer needed: {sorted(stale)}"


def _notebook(markdown: str, outputs: str, code: str = "pass") -> dict:
    return {"cells": [
        {"cell_type": "markdown", "source": markdown},
        {"cell_type": "code", "source": code, "outputs": [{"output_type": "stream", "text": outputs}]},
    ]}


@pytest.mark.parametrize("prose, printed, passes", [
    ("minutes: 1.8, 1.4 and 4.0", "1.8 1.3 3.7", False),          # a stale solution (notebook 13)
    ("minutes: 1.8, 1.3 and 3.7", "1.79 1.31 3.70", True),
    ("it reaches about 97–98%", "best 0.969", False),              # notebook 14: the top end is not measured
    ("it reaches about 97%", "best 0.969", True),
    ("final accuracy 0.95", "final accuracy 0.958", False),        # rounding, not truncation
    ("final accuracy 0.96", "final accuracy 0.958", True),
    ("a 3.5× speed-up", "speed-up 3.46", True),
    ("a 35× speed-up", "speed-up 3.46", False),
    ("it needs 9 rounds", "rounds: 12, 13", False),
    ("it needs 12 rounds", "rounds: 12, 13", True),
    ("the paper's 99% (McMahan et al. 2017)", "", True),           # quoted with its source
    ("> 99% in the paper", "", True),
    ("section 3.3 of the article", "", True),                      # a section, not a measurement
    ("pins TensorFlow 2.14", "", True),
    ("see notebook 07", "", True),
    ("`0.123` and ```python\nx = 0.5\n```", "", True),            # code in the Markdown is not prose
])
def test_the_check_tells_stale_numbers_from_printed_ones(tmp_path, prose, printed, passes):
    path = tmp_path / "99_example.ipynb"
    path.write_text(json.dumps(_notebook(prose, printed)), encoding="utf-8")
    assert (prose_numbers.unexplained(path) == []) == passes


def test_settings_in_code_pass_and_solution_code_counts_as_code(tmp_path):
    path = tmp_path / "99_example.ipynb"
    notebook = _notebook("a client learning rate of 0.3 and a target of 95%; try 60 rounds", "",
                         code="config = FLConfig(client_learning_rate=0.3)\ntarget = 0.95")
    solution = "<details>\n\n```python\nrounds = 60\n```\n</details>"
    notebook["cells"].append({"cell_type": "markdown", "source": solution})
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert prose_numbers.unexplained(path) == []
