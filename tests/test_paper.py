"""fedlearn_edu.paper (the FedAvg paper's grid) and benchmarks/fedavg_paper.py in its small configuration."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import paper

ROOT = Path(__file__).resolve().parents[1]
TINY = (16, 16)      # a small 2NN: these tests check the plumbing, not the paper's numbers


@pytest.fixture(scope="module")
def digits():
    return fl.load_dataset("digits")


# -- rounds to target ---------------------------------------------------------------------

def test_rounds_to_target_on_a_hand_made_curve():
    curve = [0.50, 0.80, 0.94, 0.96, 0.93, 0.97]
    assert paper.first_round_reaching(curve, 0.95) == 4          # first round at or above, 1-based
    assert paper.first_round_reaching(curve, 0.94) == 3          # equal counts as reached
    assert paper.first_round_reaching(curve, 0.50) == 1
    assert paper.first_round_reaching(curve, 0.98) is None
    assert paper.first_round_reaching([], 0.5) is None
    assert paper.first_round_reaching(np.float32([0.9, 342 / 360]), 0.95) == 2     # float32 0.94999999 counts
    assert paper.first_round_reaching([0.9, 341 / 360], 0.95) is None               # one image short does not


def test_rounds_to_target_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="target"):
        paper.first_round_reaching([0.5], 1.5)
    with pytest.raises(ValueError, match="accuracy"):
        paper.first_round_reaching([[0.5, 0.6]], 0.5)


def test_run_to_target_stops_where_one_long_run_reaches_it(digits):
    config = paper.PaperConfig("iid", 0.1, 1, None).fl_config(0.3, 60, hidden_units=TINY)
    reached, history = paper.run_to_target(config, digits, 0.85)
    long_run = fl.run_experiment(config, dataset=digits, progress=False)
    assert reached == paper.first_round_reaching(long_run.accuracy, 0.85)
    assert reached is not None and history.rounds_completed == reached < 60     # it stopped there
    np.testing.assert_allclose(history.accuracy, long_run.accuracy[:reached], atol=1e-6)


def test_a_cells_race_gives_the_rounds_of_full_length_runs(digits):
    """The learning rates of a cell race (they stop when one reaches the target); the answer is
    that of running every rate to the budget and taking the fastest."""
    cells = [paper.PaperConfig("iid", 0.1, 1, None), paper.PaperConfig("shards", 0.2, 5, 10)]
    rates = (0.03, 0.3, 1.0)
    grid = paper.run_grid(cells, digits, learning_rates=rates, target=0.85, round_budget=40, hidden_units=TINY,
                          progress_bar=False)
    for cell, result in zip(cells, grid.results, strict=True):
        full = {r: fl.run_experiment(cell.fl_config(r, 40, hidden_units=TINY), dataset=digits, progress=False)
                .rounds_to_accuracy(0.85) for r in rates}
        reached = [(n, i) for i, n in enumerate(full.values()) if n is not None]
        assert result.rounds == min(reached)[0]
        assert result.learning_rate == rates[min(reached)[1]]


# -- the grid's parameters ------------------------------------------------------------------

def test_c_zero_means_one_client_per_round(digits):
    assert paper.clients_per_round(0.0, 100) == 1
    assert paper.clients_per_round(0.1, 100) == 10
    assert paper.clients_per_round(1.0, 100) == 100
    config = paper.PaperConfig("shards", 0.0, 1, None).fl_config(0.3, 3, hidden_units=TINY)
    history = fl.run_experiment(config, dataset=digits, progress=False)
    assert [len(p) for p in history.participants] == [1, 1, 1]


def test_b_infinity_is_one_full_batch_step_per_epoch(digits):
    cell = paper.PaperConfig("iid", 0.1, 5, None)
    assert cell.batch_size is None and paper.fedsgd("iid", 0.1).is_fedsgd and not cell.is_fedsgd
    sim = fl.Simulation(cell.fl_config(0.3, 1, hidden_units=TINY), dataset=digits)
    sizes = sim.local_batch_sizes(0)
    assert len(sizes) == 5 and np.all(sizes == sim.client_sizes[0])    # E steps, each on all n_k examples
    assert paper.updates_per_round(sim.client_sizes, 5, None) == 5.0
    # B = 10 on 14 or 15 examples: two steps per epoch
    assert paper.updates_per_round([14, 15], 20, 10) == 40.0
    assert paper.paper_updates_per_round(20, 10, 600) == 1200.0        # the paper's u, Table 2's last row


def test_grid_holds_both_tables_without_duplicates():
    grid = paper.paper_grid()
    assert len(grid) == len(set(grid)) == 2 * (2 * 5 + 9 - 2)
    assert paper.PaperConfig("iid", 0.0, 1, 10) in grid                 # Table 1, C = 0
    assert paper.PaperConfig("shards", 0.1, 20, 10) in grid             # Table 2, most local computation
    assert sum(c.is_fedsgd for c in grid) == 2 * 5                      # FedSGD at every C


def test_bad_input_errors_name_the_parameter(digits):
    with pytest.raises(ValueError, match="partition"):
        paper.PaperConfig("dirichlet", 0.1, 1, None)
    with pytest.raises(ValueError, match="fraction"):
        paper.PaperConfig("iid", 1.5, 1, None)
    with pytest.raises(ValueError, match="local_epochs"):
        paper.PaperConfig("iid", 0.1, 0, None)
    with pytest.raises(ValueError, match="batch_size"):
        paper.PaperConfig("iid", 0.1, 1, 0)
    with pytest.raises(ValueError, match="learning_rates"):
        paper.run_configuration(paper.fedsgd("iid", 0.1), digits, learning_rates=())
    with pytest.raises(ValueError, match="round_budget"):
        paper.run_configuration(paper.fedsgd("iid", 0.1), digits, round_budget=0)
    with pytest.raises(TypeError, match="config"):
        paper.run_configuration("FedSGD", digits)
    with pytest.raises(ValueError, match="table"):
        paper.published("3")


def test_run_configuration_picks_the_fastest_learning_rate(digits):
    result = paper.run_configuration(paper.fedsgd("iid", 0.1), digits, learning_rates=(0.03, 0.3),
                                     target=0.85, round_budget=60, hidden_units=TINY)
    assert result.learning_rate == 0.3 and result.rounds is not None
    assert result.rounds_by_learning_rate[0.3] == result.rounds
    assert result.clients_per_round == 10 and result.updates_per_round == 1.0


def test_speedups_over_fedsgd_and_over_c0():
    def res(c, e, b, rounds):
        return paper.ConfigResult(paper.PaperConfig("iid", c, e, b), rounds, 0.1, {}, 1, 1.0, 1.0, 0.9)
    results = [res(0.0, 1, None, 100), res(0.1, 1, None, 50), res(0.1, 20, 10, 5), res(0.1, 5, 10, None)]
    paper.add_speedups(results)
    assert results[1].speedup == 1.0 and results[0].speedup == 1.0       # FedSGD rows: exactly 1
    assert results[2].speedup == 10.0
    assert results[3].speedup is None                                    # not reached: "—"
    assert results[1].speedup_vs_c0 == 2.0


# -- the published numbers --------------------------------------------------------------------

def test_published_numbers_are_the_papers():
    t1 = {(r.partition, r.fraction, r.batch_size): r for r in paper.published("1")}
    assert t1[("iid", 0.0, 10)].rounds == 316 and t1[("iid", 0.1, 10)].rounds == 87
    assert t1[("iid", 0.5, None)].rounds is None                        # the paper's "—"
    t2 = {(r.partition, r.local_epochs, r.batch_size): r for r in paper.published("2")}
    assert t2[("iid", 1, None)].rounds == 626
    assert t2[("iid", 20, 10)].rounds == 18 and t2[("iid", 20, 10)].speedup == 34.8
    assert t2[("iid", 20, 10)].u == 1200
    for row in paper.PUBLISHED:                     # each printed speed-up is the ratio of printed rounds
        if row.speedup is not None:
            base = (t1[(row.partition, 0.0, row.batch_size)] if row.table == "1"
                    else t2[(row.partition, 1, None)])
            assert round(base.rounds / row.rounds, 1) == pytest.approx(row.speedup, abs=0.051)


# -- the benchmark script, small ------------------------------------------------------------------

@pytest.mark.slow      # a fresh Python process imports TensorFlow
def test_benchmark_script_small_writes_parsable_tables(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fedavg_paper.py"), "--small",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[1/" in proc.stderr and proc.stdout == ""             # progress lines on stderr only
    rows = paper.read_csv(tmp_path / "fedavg_paper_results.csv")
    assert rows and {r["partition"] for r in rows} == {"iid", "shards"}
    fedsgd_rows = [r for r in rows if r["algorithm"] == "FedSGD" and r["rounds"] is not None]
    assert fedsgd_rows and all(r["speedup"] == 1.0 for r in fedsgd_rows)
    md = (tmp_path / "fedavg_paper_results.md").read_text(encoding="utf-8")
    assert "seed 0" in md and "Wall time" in md and "| paper rounds |" in md
    assert "| iid | 0.1 | 1 | ∞ |" in md                              # the FedSGD row of Table 2


def test_read_csv_rejects_other_files(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="path"):
        paper.read_csv(path)


def test_best_speedup_skips_fedsgd_and_missing_cells():
    def row(e, b, speedup, k=100, c=0.1, partition="iid"):
        return {"K": k, "partition": partition, "C": c, "E": e, "B": b, "speedup": speedup}
    rows = [row(1, None, 1.0), row(5, 10, 3.0), row(20, 10, None), row(20, 10, 9.0, k=10),
            row(5, 10, 7.0, partition="shards")]
    assert paper.best_speedup(rows, "iid") == 3.0
    assert paper.best_speedup(rows, "iid", n_clients=10) == 9.0
    assert paper.best_speedup(rows, "iid", fraction=0.5) is None
    with pytest.raises(ValueError, match="partition"):
        paper.best_speedup(rows, "noniid")


@pytest.mark.slow
def test_the_shipped_results_match_a_fresh_run_of_sampled_cells(digits):
    """Notebook 14 loads benchmarks/fedavg_paper_results.csv instead of running the grid (minutes of
    training). A seeded sample of its cells, re-run with the learning rate the file names, must give
    the file's rounds."""
    import random
    rows = paper.read_csv(Path(__file__).resolve().parents[1] / "benchmarks" / "fedavg_paper_results.csv")
    assert len(rows) == 52
    sample = random.Random(17).sample([r for r in rows if r["learning_rate"] is not None], 4)
    for row in sample:
        cell = paper.PaperConfig(row["partition"], row["C"], row["E"], row["B"])
        budget = paper.ROUND_BUDGET if row["K"] == paper.N_CLIENTS else paper.BIG_ROUND_BUDGET
        result = paper.run_configuration(cell, digits, learning_rates=(row["learning_rate"],), n_clients=row["K"],
                                         round_budget=budget)
        assert result.rounds == row["rounds"], (cell.label, row["K"], result.rounds, row["rounds"])
