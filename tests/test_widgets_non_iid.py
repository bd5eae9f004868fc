"""Notebook 11's callbacks (fedlearn_edu.widgets.non_iid) over a grid of slider values."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fedlearn_edu.simulation import ACCURACY_TOLERANCE  # noqa: E402
from fedlearn_edu.widgets import non_iid as ni  # noqa: E402

DIGITS_PARAMETERS = 64 * 64 + 64 + 64 * 10 + 10      # the digits MLP: 4810
DEFAULTS = dict(alpha=0.1, n_clients=10, client_learning_rate=0.3, mu=0.01, server_momentum=0.5)
#: the ends of the notebook's sliders (alpha: 10**-1.3 .. 10**2, K: 2..30, lr: 10**-2 .. 10**0.5,
#: mu: 10**-3 .. 1, beta: 0 .. 0.95), one at a time with the others at their defaults
SLIDER_ENDS = [("alpha", 10 ** -1.3), ("alpha", 100.0), ("n_clients", 2), ("n_clients", 30),
               ("client_learning_rate", 0.01), ("client_learning_rate", 10 ** 0.5),
               ("mu", 0.001), ("mu", 1.0), ("server_momentum", 0.0), ("server_momentum", 0.95)]


@pytest.fixture(scope="module")
def grid():
    """The callback at its defaults and at each slider end."""
    results = {("default", None): ni.compute_algorithms(**DEFAULTS)}
    for name, value in SLIDER_ENDS:
        results[(name, value)] = ni.compute_algorithms(**{**DEFAULTS, name: value})
    return results


# -- the slider callback ---------------------------------------------------------------------

@pytest.mark.parametrize("key", [("default", None)] + SLIDER_ENDS, ids=str)
def test_every_setting_reports_all_four_algorithms(grid, key):
    result = grid[key]
    assert list(result.rounds) == list(ni.ALGORITHMS)
    m = result.config.n_clients
    fedavg_mb = 2 * m * DIGITS_PARAMETERS * 4 / 1e6
    assert result.megabytes_per_round["FedAvg"] == pytest.approx(fedavg_mb)
    assert result.megabytes_per_round["SCAFFOLD"] == pytest.approx(2 * fedavg_mb)   # c travels too
    for name, reached in result.rounds.items():
        curve = result.curves[name]
        if result.diverged_at[name] is None:
            assert len(curve) == result.config.rounds + 1 and np.all((curve >= 0) & (curve <= 1))
        if reached is None:
            assert result.megabytes[name] is None
        else:
            tol = ACCURACY_TOLERANCE                      # float32 accuracies on the target count
            assert curve[reached] >= result.target - tol and np.all(curve[1:reached] < result.target - tol)
            assert result.megabytes[name] == pytest.approx(reached * result.megabytes_per_round[name])
    assert "FedAvg" in result.summary() and "SCAFFOLD" in repr(result)


SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def seeded(grid):
    """The defaults and the two alpha ends over three seeds (one seed's counts move with any change)."""
    settings = {"default": DEFAULTS, "skewed": {**DEFAULTS, "alpha": 10 ** -1.3},
                "iid": {**DEFAULTS, "alpha": 100.0}}
    return {key: [ni.compute_algorithms(**values, seed=s) for s in SEEDS] for key, values in settings.items()}


def _median_rounds(results, name):
    """Median over seeds of the rounds to the target (inf: not reached)."""
    return float(np.median([math.inf if r.rounds[name] is None else r.rounds[name] for r in results]))


def test_default_scaffold_and_fedavgm_save_rounds(seeded):
    runs = seeded["default"]
    fedavg = _median_rounds(runs, "FedAvg")
    # medians over 3 seeds, with a margin: both save at least a fifth of FedAvg's rounds
    assert _median_rounds(runs, "SCAFFOLD") <= 0.8 * fedavg, [r.rounds for r in runs]
    assert _median_rounds(runs, "FedAvgM") <= 0.8 * fedavg, [r.rounds for r in runs]
    assert all(r.speedup("FedAvg") == 1.0 for r in runs)


def test_alpha_ends_more_skew_more_rounds(seeded):
    skewed, iid = seeded["skewed"], seeded["iid"]
    assert all(s.non_iid_score > 0.5 for s in skewed) and all(i.non_iid_score < 0.1 for i in iid)
    assert _median_rounds(skewed, "FedAvg") >= 2 * _median_rounds(iid, "FedAvg")
    assert all(r is not None for run in iid for r in run.rounds.values())   # near-IID: everybody reaches 95%
    # SCAFFOLD's advantage shrinks without skew (median speed-up over the seeds)
    speedup = {key: np.median([(_median_rounds([r], "FedAvg") / _median_rounds([r], "SCAFFOLD"))
                               for r in runs]) for key, runs in (("skewed", skewed), ("iid", iid))}
    assert speedup["skewed"] > speedup["iid"], speedup


def test_client_count_ends(grid):
    two, thirty = grid[("n_clients", 2)], grid[("n_clients", 30)]
    assert two.config.n_clients == 2 and thirty.config.n_clients == 30
    assert thirty.megabytes_per_round["FedAvg"] == pytest.approx(15 * two.megabytes_per_round["FedAvg"])
    assert all(r is not None for r in two.rounds.values())


def test_learning_rate_ends(grid):
    slow, wild = grid[("client_learning_rate", 0.01)], grid[("client_learning_rate", 10 ** 0.5)]
    assert all(r is None for r in slow.rounds.values()) and all(d is None for d in slow.diverged_at.values())
    assert wild.diverged_at["FedAvg"] is not None and "DIVERGED" in wild.summary()


def test_mu_ends(grid):
    tiny, strong = grid[("mu", 0.001)], grid[("mu", 1.0)]
    assert abs(tiny.rounds["FedProx"] - tiny.rounds["FedAvg"]) <= 1                 # FedProx ~ FedAvg
    assert strong.rounds["FedProx"] is None or strong.rounds["FedProx"] > strong.rounds["FedAvg"]
    assert strong.rounds["SCAFFOLD"] == tiny.rounds["SCAFFOLD"]                      # mu touches FedProx only


def test_server_momentum_ends(grid):
    zero, high = grid[("server_momentum", 0.0)], grid[("server_momentum", 0.95)]
    assert zero.rounds["FedAvgM"] == zero.rounds["FedAvg"]                           # beta = 0 is FedAvg
    assert np.allclose(zero.curves["FedAvgM"], zero.curves["FedAvg"], atol=1e-6)
    assert high.diverged_at["FedAvgM"] is None


def test_results_are_cached(grid):
    assert ni.compute_algorithms(**DEFAULTS) is grid[("default", None)]
    config = ni.base_config(0.1)
    assert ni.run_cached(config) is ni.run_cached(ni.base_config(0.1))


def test_scaffold_round_one_is_fedavg():
    """Control variates start at zero, so the first SCAFFOLD round is a FedAvg round."""
    config = ni.base_config(0.1)
    assert ni.run_cached(config.replace(scaffold=True)).accuracy[0] == pytest.approx(
        ni.run_cached(config).accuracy[0], abs=1e-3)


@pytest.mark.parametrize("name, value", [("alpha", 0.0), ("n_clients", 0), ("n_clients", 5000),
                                         ("client_learning_rate", -0.1), ("mu", -0.1),
                                         ("server_momentum", 1.0), ("target", 1.5), ("rounds", 0)])
def test_bad_value_names_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        ni.compute_algorithms(**{**DEFAULTS, name: value})


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="algorithms"):
        ni.compute_algorithms(algorithms=("FedNothing",))
    with pytest.raises(ValueError, match="algorithms"):
        ni.algorithm_fields("FedNothing")


def test_algorithm_fields():
    assert ni.algorithm_fields("FedAvg") == {}
    assert ni.algorithm_fields("FedProx", mu=0.5) == {"mu": 0.5}
    assert ni.algorithm_fields("FedAvgM", server_momentum=0.9) == {"server_optimizer": "fedavgm",
                                                                   "server_momentum": 0.9}
    assert ni.algorithm_fields("SCAFFOLD") == {"scaffold": True}


def test_show_algorithms_draws_and_returns_the_numbers(capsys):
    shown = ni.show_algorithms(**DEFAULTS)
    assert shown is ni.compute_algorithms(**DEFAULTS)
    assert "rounds to 95%" in capsys.readouterr().out
    assert len(plt.gcf().axes) == 2


# -- client drift -----------------------------------------------------------------------------

def test_update_agreement():
    same = np.array([[1.0, 2.0], [1.0, 2.0]])
    assert ni.update_agreement(same, np.array([3, 5])) == pytest.approx(1.0)
    opposite = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert ni.update_agreement(opposite, np.array([1, 1])) == pytest.approx(0.0)
    assert ni.update_agreement(np.zeros((2, 3)), np.array([1, 1])) == 1.0
    with pytest.raises(ValueError, match="weights"):
        ni.update_agreement(same, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="weights"):
        ni.update_agreement(same, np.array([0, 0]))


def test_drift_skewed_clients_forget_and_disagree():
    drift = ni.compute_drift_grid(alphas=(0.05, 100.0), epochs=(1, 10))
    assert drift.client_accuracy.shape == drift.agreement.shape == (2, 2)
    assert drift.accuracy_of(0.05, 10) < drift.accuracy_of(0.05, 1) - 0.02
    assert drift.accuracy_of(100.0, 10) > drift.accuracy_of(0.05, 10) + 0.03
    assert all(drift.agreement_of(0.05, e) < drift.agreement_of(100.0, e) for e in drift.epochs)
    assert drift.scores[0] > drift.scores[1]
    assert drift.per_client[(0.05, 10)].shape == (10,)
    assert "agreement" in drift.table()


def test_drift_bad_values():
    with pytest.raises(ValueError, match="alpha"):
        ni.compute_drift_grid(alphas=(0.0,))
    with pytest.raises(ValueError, match="local_epochs"):
        ni.compute_drift_grid(epochs=(0,))
    with pytest.raises(ValueError, match="warmup_rounds"):
        ni.compute_drift_grid(warmup_rounds=0)


def test_show_drift_draws():
    result = ni.show_drift(alphas=(0.05, 100.0), epochs=(1, 10))
    assert len(plt.gcf().axes) == 2 and result.epochs == [1, 10]


# -- the sweep --------------------------------------------------------------------------------

def test_alpha_sweep_medians():
    sweep = ni.compute_alpha_sweep(alphas=(100.0, 0.1), algorithms=("FedAvg", "FedAvgM"), seeds=(0, 1))
    assert sweep.alphas == [0.1, 100.0] and sweep.rounds.shape == (2, 2) and sweep.per_seed.shape == (2, 2, 2)
    assert sweep.rounds_of(0.1) > sweep.rounds_of(100.0)
    assert sweep.rounds_of(0.1) == np.median(sweep.per_seed[0, 0])
    assert "FedAvgM" in sweep.table()


def test_alpha_sweep_never_reached_is_inf():
    sweep = ni.compute_alpha_sweep(alphas=(0.1,), algorithms=("FedAvg",), seeds=(0,), rounds=2)
    assert math.isinf(sweep.rounds_of(0.1)) and ">2" in sweep.table()


def test_alpha_sweep_bad_values():
    with pytest.raises(ValueError, match="seed"):
        ni.compute_alpha_sweep(alphas=(0.1,), seeds=())
    with pytest.raises(ValueError, match="algorithms"):
        ni.compute_alpha_sweep(alphas=(0.1,), algorithms=())


def test_show_alpha_sweep_draws():
    result = ni.show_alpha_sweep(alphas=(0.1, 100.0), algorithms=("FedAvg",), seeds=(0,))
    assert len(plt.gcf().axes) == 1 and result.algorithms == ["FedAvg"]


def test_the_server_learning_rate_reaches_fedavgm_only():
    base = ni.compute_algorithms(alpha=0.1, rounds=5, algorithms=("FedAvg", "FedAvgM"))
    half = ni.compute_algorithms(alpha=0.1, rounds=5, server_learning_rate=0.5, algorithms=("FedAvg", "FedAvgM"))
    assert np.array_equal(base.curves["FedAvg"], half.curves["FedAvg"])
    assert not np.array_equal(base.curves["FedAvgM"], half.curves["FedAvgM"])
    assert "server lr 0.5" in half.summary() and "server lr" not in base.summary()
    assert ni.algorithm_fields("FedAvgM", server_learning_rate=0.5)["server_learning_rate"] == 0.5
    assert "server_learning_rate" not in ni.algorithm_fields("FedProx", server_learning_rate=0.5)


@pytest.mark.parametrize("name", list(ni.PRESETS))
def test_every_preset_of_the_panel_draws(name, capsys):
    values = dict(alpha=0.1, n_clients=10, client_learning_rate=0.3, mu=0.01, server_momentum=0.5,
                  server_learning_rate=1.0, seed=0, rounds=5)
    values.update(ni.PRESETS[name])
    result = ni.show_algorithms(**values)
    assert set(result.rounds) == set(ni.ALGORITHMS) and "algorithm" in capsys.readouterr().out
    assert all(ax.get_title() for ax in plt.gcf().axes)
    plt.close("all")


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_a_bad_server_learning_rate_names_itself(value):
    with pytest.raises(ValueError, match="server_learning_rate"):
        ni.compute_algorithms(server_learning_rate=value)
