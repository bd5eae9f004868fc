"""Notebook 05's callbacks (fedlearn_edu.widgets.math) over a grid of slider values."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu.widgets import math as mw

ROUNDS = 4   # enough to separate the curves, short enough for a grid


@pytest.fixture(scope="module")
def quantity_sim():
    return fl.Simulation(fl.FLConfig(n_clients=6, partition="quantity", alpha=0.5))


@pytest.fixture(scope="module")
def trainer():
    return mw._trainer(20, 3, (64,))


# -- gradients -----------------------------------------------------------------------------
def test_fedsgd_identity_matches_gradient_tape(quantity_sim, trainer):
    weights = quantity_sim.initial_weights
    gradients = mw.client_gradients(quantity_sim, weights, trainer)
    assert gradients.shape == (6, fl.count_parameters(weights))
    for k in (0, 5):
        X, y = quantity_sim.client_data(k)
        assert np.allclose(gradients[k], mw.tape_gradient(quantity_sim.model, weights, X, y), atol=1e-5)


def test_weighted_client_gradients_are_the_pooled_gradient(quantity_sim, trainer):
    weights = quantity_sim.initial_weights
    gradients = mw.client_gradients(quantity_sim, weights, trainer)
    pooled = mw.tape_gradient(quantity_sim.model, weights, quantity_sim.dataset.X_train,
                              quantity_sim.dataset.y_train)
    assert np.allclose(fl.fedavg_coefficients(quantity_sim.client_sizes) @ gradients, pooled, atol=1e-5)


def test_formula_weights_favour_the_smallest_client():
    sizes = np.array([5, 50, 500])
    shares = mw.formula_weights(sizes)
    assert np.isclose(shares["article"].sum(), 1) and np.isclose(shares["fedavg"].sum(), 1)
    assert np.argmax(shares["article"]) == 0 and np.argmax(shares["fedavg"]) == 2
    assert shares["article"][0] > 10 * shares["fedavg"][0]
    equal = mw.formula_weights([7, 7, 7])
    assert np.allclose(equal["article"], equal["fedavg"])


def test_formula_weights_are_the_formula_under_its_two_readings():
    """seed_formula on mean-loss gradients g_i weights them by the "article" shares; on sum-loss
    gradients n_i g_i, by the uniform "article_sum" shares (each up to the formula's overall scale)."""
    sizes = np.array([5, 50, 500])
    g = np.random.default_rng(0).normal(size=(3, 4))                  # mean gradients g_i
    shares = mw.formula_weights(sizes)
    mean_reading, _ = fl.seed_formula(np.zeros(4), g, sizes, alpha=1.0, beta=0.5)
    sum_reading, _ = fl.seed_formula(np.zeros(4), sizes[:, None] * g, sizes, alpha=1.0, beta=0.5)
    np.testing.assert_allclose(mean_reading, np.sum(1.0 / sizes) * shares["article"] @ g)
    np.testing.assert_allclose(sum_reading, 3 * shares["article_sum"] @ g)
    np.testing.assert_allclose(shares["article_sum"], 1 / 3)


def test_literal_run_never_learns(quantity_sim, trainer):
    run = mw.literal_formula_run(quantity_sim, alpha=0.1, beta=0.9, rounds=3, trainer=trainer)
    assert run["accuracy"].shape == run["loss"].shape == run["norm"].shape == (4,)
    assert np.all(np.abs(run["accuracy"][1:] - 1 / 3) < 0.05)
    assert np.all(np.abs(run["loss"][1:] - np.log(3)) < 0.01)
    assert np.all(run["norm"][1:] < 0.05 * run["norm"][0])


# -- the slider callback over a grid ---------------------------------------------------------
GRID = [(n_clients, learning_rate, beta)
        for n_clients in (1, 30) for learning_rate in (0.001, 1.0) for beta in (0.0, 0.95)] + [(10, 0.03, 0.9)]


@pytest.fixture(scope="module")
def grid_results():
    return {values: mw.compute_formula_comparison(*values, rounds=ROUNDS) for values in GRID}


@pytest.mark.parametrize("values", GRID, ids=lambda v: f"K{v[0]}-lr{v[1]}-b{v[2]}")
def test_grid_properties(grid_results, values):
    n_clients, learning_rate, beta = values
    r = grid_results[values]
    assert r.rounds.tolist() == list(range(ROUNDS + 1))
    assert len(r.client_sizes) == n_clients and r.client_sizes.sum() == 800
    # beta cancels out of the article's formula, and its "model" never learns
    assert not r.beta_changes_literal
    assert np.all(r.literal_accuracy[1:] <= r.chance + 0.1)
    # the article's 1/n_i puts the smallest client on top; FedAvg weights by data
    assert np.isclose(r.article_weights.sum(), 1) and np.isclose(r.fedavg_weights.sum(), 1)
    assert r.article_weights[r.smallest_client] == r.article_weights.max()
    if n_clients > 1 and r.client_sizes.min() < r.client_sizes.max():
        assert r.article_weights[r.smallest_client] > r.fedavg_weights[r.smallest_client]
    # beta = 0 is FedAvg: the two engine runs are the same run
    if beta == 0.0:
        assert np.array_equal(r.fedavgm_accuracy, r.fedavg_accuracy, equal_nan=True)
    # a usable learning rate: FedAvg learns, the literal formula does not
    if learning_rate >= 0.03:
        assert r.fedavg_accuracy[-1] > r.literal_accuracy[-1] + 0.3


def test_default_setting_momentum_is_ahead(grid_results):
    r = grid_results[(10, 0.03, 0.9)]
    assert r.fedavgm_accuracy[3] > r.fedavg_accuracy[3]
    assert abs(r.literal_accuracy[-1] - r.chance) < 0.05


def test_one_client_gets_all_the_say(grid_results):
    r = grid_results[(1, 0.001, 0.0)]
    assert r.article_weights.tolist() == [1.0] and r.fedavg_weights.tolist() == [1.0]


def test_show_returns_the_computed_numbers(capsys):
    import matplotlib.pyplot as plt
    shown = mw.show_formula_comparison(5, 0.1, 0.5, rounds=2)
    computed = mw.compute_formula_comparison(5, 0.1, 0.5, rounds=2)
    assert np.array_equal(shown.literal_accuracy, computed.literal_accuracy)
    assert np.array_equal(shown.fedavgm_accuracy, computed.fedavgm_accuracy)
    out = capsys.readouterr().out
    assert "article's formula" in out and "FedAvgM" in out
    plt.close("all")


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_clients=0), "n_clients"), (dict(n_clients=2.5), "n_clients"),
    (dict(learning_rate=0.0), "learning_rate"), (dict(learning_rate=float("nan")), "learning_rate"),
    (dict(beta=1.0), "beta"), (dict(beta=-0.1), "beta"), (dict(rounds=0), "rounds"),
])
def test_bad_slider_values_name_the_parameter(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        mw.compute_formula_comparison(**kwargs)


@pytest.mark.parametrize("name", list(mw.PRESETS))
def test_every_preset_of_the_panel_draws(name, capsys):
    values = dict(n_clients=10, learning_rate=0.03, beta=0.9, server_learning_rate=1.0, local_epochs=1, batch_size=32,
                  rounds=3)
    values.update(mw.PRESETS[name])
    result = mw.show_formula_comparison(**values)
    assert not result.beta_changes_literal
    assert all(ax.get_title() for ax in plt.gcf().axes)
    plt.close("all")


def test_fedsgd_preset_equals_the_full_batch_run():
    fedsgd = mw.compute_formula_comparison(rounds=3, beta=0.0, local_epochs=1, batch_size=float("inf"))
    history = fl.run_experiment(fl.FLConfig(n_clients=10, rounds=3, partition="quantity", alpha=0.5,
                                            client_learning_rate=0.03, local_epochs=1, batch_size=None))
    assert np.allclose(fedsgd.fedavg_accuracy[1:], history.accuracy)
