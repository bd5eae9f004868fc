"""Notebook 04: the from-scratch FedAvg loop and the solutions of exercises 5 and 7 pass the kit's checkers."""
import json
import re
from pathlib import Path

import numpy as np
from helpers import solution_text  # noqa: E402

import fedlearn_edu as fl

STEM = "04_fedavg_step_by_step"


def _solution(exercise: int) -> dict:
    code = re.search(r"```python\n(.*?)```", solution_text(STEM, exercise), flags=re.S).group(1)
    namespace = {"np": np, "fl": fl, "print": lambda *a, **k: None}
    exec(code, namespace)
    return namespace


def test_exercise_5_fedavg_passes_and_the_article_weighting_does_not():
    fedavg = _solution(5)["fedavg"]
    assert fl.exercises.check_fedavg(fedavg)

    def article(models, n_examples):
        p = 1 / np.asarray(n_examples, dtype=np.float64)
        return fedavg(models, p / p.sum() * 1e6)           # weights proportional to 1/n_k
    verdict = fl.exercises.check_fedavg(article)
    assert not verdict and "1/n_k" in str(verdict)


def test_exercise_7_momentum_step_passes():
    assert fl.exercises.check_server_momentum(_solution(7)["momentum_step"])


def test_the_from_scratch_loop_matches_both_engines():
    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / f"{STEM}.ipynb").read_text(encoding="utf-8"))
    source = next("".join(c["source"]) for c in nb["cells"]
                  if c["cell_type"] == "code" and "def fedavg_from_scratch" in "".join(c["source"]))
    namespace = {"np": np}
    exec(source, namespace)
    config = fl.FLConfig(n_clients=6, fraction=0.5, partition="dirichlet", alpha=0.5, rounds=4, seed=3)
    sim = fl.Simulation(config)
    d = sim.dataset
    mine = namespace["fedavg_from_scratch"](d.X_train, d.y_train, sim.partitions, sim.initial_weights, rounds=4,
                                            fraction=0.5, epochs=1, batch_size=32, client_learning_rate=0.1, seed=3)
    for engine in ("per_client", "vectorized"):
        h = fl.run_experiment(config.replace(engine=engine))
        assert max(float(np.abs(a - b).max()) for a, b in zip(mine[-1], h.final_weights, strict=True)) < 1e-5
