"""Compare a Flower run with the kit's own simulation, and show its logs without the
parts that change from run to run (ports, process and node ids, timings).

This module does not import Flower.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..simulation import History, Simulation
from .runner import FlowerRun

#: log lines worth showing a student, per process kind (substrings, in the order they appear)
LOG_PATTERNS = {
    "superlink": ("Starting Flower SuperLink", "Fleet HTTP API on", "Uvicorn running on https://"),
    "supernode": ("Starting Flower SuperNode", "SuperNode ID:", "Receiving: ", "Start `flwr-clientapp` process",
                  "Sending: "),
    "flwr run": ("Successfully started run", "[ROUND", "configure_train:", "aggregate_train:",
                 "configure_evaluate:", "aggregate_evaluate:", "MetricRecord: {'test",
                 "fedlearn_edu: "),
}

_SANITISE = [
    (re.compile(r"\x1b\[[0-9;]*m"), ""),                                   # colours
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z\s+"), ""),                        # time stamps
    (re.compile(r"\b(127\.0\.0\.1|localhost):\d+"), r"\1:PORT"),
    (re.compile(r"\(ID: [0-9a-f]+\)"), "(ID: MESSAGE)"),
    (re.compile(r"\d+\.\d{4,}(e-?\d+)?"), lambda m: f"{float(m.group(0)):.3f}"),  # floats: 3 decimals
    (re.compile(r"\b\d{8,}\b"), "ID"),                                      # run and node ids
    (re.compile(r"\d+(\.\d+)?s\b"), "TIME"),
]


def sanitise(line: str) -> str:
    """One log line with time stamps, ports, ids and timings replaced by stable text, and
    long floats rounded to 3 decimals."""
    for pattern, replacement in _SANITISE:
        line = pattern.sub(replacement, line)
    return re.sub(r"^(INFO|WARNING|DEBUG|ERROR)\s*:\s*", r"\1: ", line.strip())


def stable_log_lines(run: FlowerRun, process: str) -> list[str]:
    """The lines of one process's log (``"superlink"``, ``"supernode-0"``, ``"flwr run"``)
    that match :data:`LOG_PATTERNS`, sanitised (see :func:`sanitise`)."""
    kind = "supernode" if process.startswith("supernode") else process
    patterns = LOG_PATTERNS[kind]
    return [sanitise(line) for line in run.log_lines(process, "")
            if any(p in line for p in patterns)]


@dataclass
class Comparison:
    """A Flower run next to the kit's simulation of the same config.

    Attributes
    ----------
    histories : dict engine name -> the kit's History ("per_client", "vectorized")
    warm_histories : dict engine name -> a second run of the same Simulation (traced code reused),
        whose wall times are the kit's time per round
    max_difference : dict engine name -> largest |w_flower - w_kit| over the final weights
    same_accuracy : dict engine name -> the per-round test accuracies agree (to 1e-6)
    """

    flower: FlowerRun
    histories: dict
    warm_histories: dict
    max_difference: dict
    same_accuracy: dict

    def equal(self, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
        """True when every engine's final model equals Flower's to the tolerance."""
        return all(all(np.allclose(a, b, rtol=rtol, atol=atol) for a, b in
                       zip(self.flower.final_weights, h.final_weights, strict=True)) for h in self.histories.values())

    def kit_seconds_per_round(self, engine: str) -> float:
        """The kit's mean wall-clock seconds per round on ``engine`` (second, warm run)."""
        return float(np.mean(self.warm_histories[engine].wall_time))


def compare_with_kit(run: FlowerRun, engines: tuple[str, ...] = ("per_client", "vectorized")) -> Comparison:
    """Run the kit's simulation of ``run.config`` on each engine (twice: the second run times
    the warm code) and compare the models."""
    histories: dict[str, History] = {}
    warm: dict[str, History] = {}
    for engine in engines:
        simulation = Simulation(run.config.replace(engine=engine))
        histories[engine] = simulation.run(progress=False)
        warm[engine] = simulation.run(progress=False)
    return Comparison(
        flower=run, histories=histories, warm_histories=warm,
        max_difference={e: run.max_weight_difference(h.final_weights) for e, h in histories.items()},
        same_accuracy={e: bool(np.allclose(run.accuracy, h.accuracy, atol=1e-6)) for e, h in histories.items()})
