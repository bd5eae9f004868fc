"""Notebook 14's exercise solutions quote the benchmark: recompute them from its CSV."""
from pathlib import Path

from helpers import assert_states_in_order, solution_text  # noqa: E402

from fedlearn_edu import paper

CSV = Path(__file__).resolve().parents[1] / "benchmarks" / "fedavg_paper_results.csv"


def test_exercise_5_quotes_the_best_k10_speedup():
    best = paper.best_speedup(paper.read_csv(CSV), "iid", paper.BIG_CLIENTS, paper.BIG_FRACTION)
    assert_states_in_order(solution_text("14_fedavg_paper_reproduced", 5), [f"{best:g}"])


def test_exercise_3_e20_b10_always_takes_a_smaller_rate_than_fedsgd():
    rows = paper.read_csv(CSV)
    for r in rows:
        if (r["E"], r["B"]) == (20, 10):
            fedsgd = next(s for s in rows if s["algorithm"] == "FedSGD" and
                          (s["K"], s["partition"], s["C"]) == (r["K"], r["partition"], r["C"]))
            assert r["learning_rate"] < fedsgd["learning_rate"], r
