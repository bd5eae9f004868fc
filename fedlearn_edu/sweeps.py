"""Experiments over several seeds, summarised robustly: what the comparison widgets share.

One seed's round count is a noisy number; the kit compares algorithms on the median over
seeds (a run that never reaches the target counts as infinity, so a median of inf says
"most runs never got there"), and on where a run settles rather than on its last round.
"""
from __future__ import annotations

import math
from typing import Hashable, Mapping, Sequence

import numpy as np

from .batch import run_experiments
from .data import Dataset
from .simulation import FLConfig, History

__all__ = ["SETTLE_ROUNDS", "format_median_rounds", "jitter", "median_or_inf", "median_rounds_to_accuracy",
           "run_seeds", "run_seeds_grid", "settled_accuracy"]

#: how many of the last rounds :func:`settled_accuracy` averages
SETTLE_ROUNDS = 10


def run_seeds(config: FLConfig, data: Dataset, seeds: Sequence[int]) -> list[History]:
    """The same experiment once per seed (the seed changes the split, the initial model,
    the sampling and the batch order; the test set stays the same), in one batched call."""
    return run_experiments([config.replace(seed=int(s)) for s in seeds], dataset=data, progress=False)


def run_seeds_grid(cells: Mapping[Hashable, FLConfig], data: Dataset,
                   seeds: Sequence[int]) -> dict[Hashable, list[History]]:
    """Every cell's experiment once per seed, the whole grid in one batched call
    (:func:`fedlearn_edu.run_experiments`): ``{cell: [History per seed]}``."""
    keys = list(cells)
    configs = [cells[k].replace(seed=int(s)) for k in keys for s in seeds]
    histories = run_experiments(configs, dataset=data, progress=False)
    n = len(seeds)
    return {k: histories[i * n:(i + 1) * n] for i, k in enumerate(keys)}


def median_or_inf(values: Sequence[float | None]) -> float:
    """Median of ``values`` with None counted as ``inf`` (never reached)."""
    return float(np.median([math.inf if v is None else float(v) for v in values]))


def median_rounds_to_accuracy(histories: Sequence[History], target: float) -> float:
    """Median over runs of the first round with test accuracy >= target (inf: most never did)."""
    return median_or_inf([h.rounds_to_accuracy(target) for h in histories])


def settled_accuracy(history: History, last: int = SETTLE_ROUNDS) -> float:
    """Mean test accuracy over the last ``last`` rounds: where a run settles, less noisy than
    the final round alone (0 for a run that diverged)."""
    if history.diverged or history.rounds_completed == 0:
        return 0.0
    return float(np.mean(history.accuracy[-last:]))


def jitter(history: History) -> float:
    """How noisy progress is: mean |change of test accuracy| from round to round over the
    second half of the run."""
    accuracy = history.accuracy[history.rounds_completed // 2:]
    return float(np.mean(np.abs(np.diff(accuracy)))) if len(accuracy) > 1 else 0.0


def format_median_rounds(rounds: float, max_rounds: int) -> str:
    """A median round count for a table: an integer, or ``>R`` when the target was not reached."""
    return f">{max_rounds}" if math.isinf(rounds) else f"{rounds:g}"
