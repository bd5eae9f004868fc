"""Notebook 03's written-out local update and the solution of exercise 7 (FedProx) pass the kit's checkers."""
import re

import numpy as np
from helpers import solution_text  # noqa: E402

import fedlearn_edu as fl
from fedlearn_edu import reference


def _code(text: str) -> str:
    return re.search(r"```python\n(.*?)```", text, flags=re.S).group(1)


def test_exercise_7_fedprox_solution_passes_its_checker():
    namespace = {"np": np, "fl": fl, "reference": reference, "print": lambda *a, **k: None}
    exec(_code(solution_text("03_model_and_local_training", 7)), namespace)
    verdict = fl.exercises.check_fedprox_update(namespace["fedprox_update"])
    assert verdict, str(verdict)
    # and it is a different function from the plain update: mu = 0 gives the local update, mu > 0 does not
    assert not fl.exercises.check_local_update(lambda w, X, y, epochs, batch_size, learning_rate, order:
                                               namespace["fedprox_update"](w, X, y, epochs, batch_size,
                                                                           learning_rate, order, 5.0))


def test_the_notebooks_local_update_passes_its_checker():
    import json
    from pathlib import Path
    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "03_model_and_local_training.ipynb")
                    .read_text(encoding="utf-8"))
    source = next("".join(c["source"]) for c in nb["cells"]
                  if c["cell_type"] == "code" and "def local_update" in "".join(c["source"]))
    namespace = {"np": np}
    exec(source, namespace)
    assert fl.exercises.check_local_update(namespace["local_update"])
