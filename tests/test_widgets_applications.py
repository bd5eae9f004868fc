"""Notebook 08's callbacks (fedlearn_edu.widgets.applications) over a grid of slider values."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu.widgets import applications as aw

N_TRAIN = 455   # breast-cancer training patients (80% of 569)

GRID = [(n, lr, alpha) for n in (2, 20) for lr in (0.01, 1.0) for alpha in (0.1, 5.0)] + [(5, 0.1, 0.5)]


@pytest.fixture(scope="module")
def grid_results():
    return {values: aw.compute_hospital_study(*values) for values in GRID}


@pytest.mark.parametrize("values", GRID, ids=lambda v: f"H{v[0]}-lr{v[1]}-a{v[2]}")
def test_grid_properties(grid_results, values):
    n_hospitals, learning_rate, alpha = values
    s = grid_results[values]
    assert s.hospital_sizes.shape == (n_hospitals,) and s.hospital_sizes.sum() == N_TRAIN
    assert s.label_counts.shape == (n_hospitals, 2)
    assert np.array_equal(s.label_counts.sum(axis=1), s.hospital_sizes)
    assert s.lone_accuracy.shape == (n_hospitals,)
    assert np.all((s.lone_accuracy >= 0) & (s.lone_accuracy <= 1))
    assert s.worst_lone_accuracy <= s.mean_lone_accuracy
    # federating never hurts the average hospital, and pooling works at any of these rates
    assert s.fedavg_accuracy >= s.mean_lone_accuracy - 0.02
    assert s.pooled_accuracy >= 0.9
    assert s.fedavg_history.rounds_completed == 20 and not s.fedavg_history.diverged


@pytest.mark.parametrize("n_hospitals, learning_rate", [(2, 0.01), (2, 1.0), (20, 0.01), (20, 1.0)])
def test_more_label_skew_gives_a_higher_non_iid_score(grid_results, n_hospitals, learning_rate):
    skewed = grid_results[(n_hospitals, learning_rate, 0.1)]
    mixed = grid_results[(n_hospitals, learning_rate, 5.0)]
    assert skewed.non_iid > mixed.non_iid


def test_default_setting_matches_the_notebook_claims(grid_results):
    s = grid_results[(5, 0.1, 0.5)]
    assert s.fedavg_accuracy >= s.mean_lone_accuracy + 0.05
    assert s.fedavg_accuracy >= s.worst_lone_accuracy + 0.2
    assert s.fedavg_accuracy >= s.pooled_accuracy - 0.03


def test_many_skewed_hospitals_gain_most(grid_results):
    s = grid_results[(20, 1.0, 0.1)]
    assert s.fedavg_accuracy >= s.mean_lone_accuracy + 0.1


def test_quantity_skew_keeps_the_label_mix():
    s = aw.compute_hospital_study(5, partition="quantity", alpha=0.5)
    skew = aw.compute_hospital_study(5, partition="dirichlet", alpha=0.5)
    assert s.non_iid < skew.non_iid
    assert s.hospital_sizes.max() > 10 * s.hospital_sizes.min()


def test_show_returns_the_computed_numbers(capsys):
    import matplotlib.pyplot as plt
    shown = aw.show_hospital_study(3, 0.1, 1.0)
    computed = aw.compute_hospital_study(3, 0.1, 1.0)
    assert np.array_equal(shown.lone_accuracy, computed.lone_accuracy)
    assert shown.fedavg_accuracy == computed.fedavg_accuracy
    out = capsys.readouterr().out
    assert "FedAvg" in out and "pooled" in out and "alone" in out
    assert "0x" not in repr(shown) and "FedAvg" in repr(shown)
    plt.close("all")


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_hospitals=0), "n_hospitals"), (dict(n_hospitals=41), "n_hospitals"),
    (dict(n_hospitals=2.5), "n_hospitals"), (dict(client_learning_rate=0.0), "client_learning_rate"),
    (dict(alpha=0.0), "alpha"), (dict(alpha=-1.0), "alpha"), (dict(partition="shards"), "partition"),
    (dict(rounds=0), "rounds"),
])
def test_bad_slider_values_name_the_parameter(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        aw.compute_hospital_study(**kwargs)


def test_hospital_datasets_split_the_training_rows_and_share_the_test_set():
    data = fl.load_dataset("breast_cancer")
    sim = fl.Simulation(fl.FLConfig(n_clients=4, partition="dirichlet", alpha=0.5, dataset="breast_cancer"),
                        dataset=data)
    hospitals = aw.hospital_datasets(sim)
    assert len(hospitals) == 4
    assert sum(len(h.y_train) for h in hospitals) == len(data.y_train)
    for k, h in enumerate(hospitals):
        assert isinstance(h, fl.Dataset) and h.n_classes == 2
        assert np.array_equal(h.X_train, data.X_train[sim.partitions[k]])
        assert h.X_test is data.X_test and h.y_test is data.y_test


@pytest.fixture(scope="module")
def article_trainer_and_weights():
    model = fl.build_article_model(seed=3)
    return fl.LocalTrainer(model), fl.get_weights(model)


@pytest.mark.parametrize("index", [0, 7, 123])
def test_one_example_update_gives_the_example_back(article_trainer_and_weights, index):
    trainer, sent = article_trainer_and_weights
    data = fl.load_dataset("article")
    x, y = data.X_train[index:index + 1], data.y_train[index:index + 1]
    back = fl.client_update(trainer, sent, x, y, batch_size=None, client_learning_rate=0.05)
    x_hat, label = aw.reconstruct_single_example(sent, back.weights)
    assert label == y[0]
    assert np.allclose(x_hat, x[0], atol=1e-4)


def test_two_example_update_is_a_mix_not_either_example(article_trainer_and_weights):
    trainer, sent = article_trainer_and_weights
    data = fl.load_dataset("article")
    back = fl.client_update(trainer, sent, data.X_train[:2], data.y_train[:2], batch_size=None,
                            client_learning_rate=0.05)
    x_hat, _ = aw.reconstruct_single_example(sent, back.weights)
    assert not np.allclose(x_hat, data.X_train[0], atol=1e-3)
    assert not np.allclose(x_hat, data.X_train[1], atol=1e-3)
    # ... but exactly an affine mix of the two: x_hat = c x_0 + (1 - c) x_1
    direction = data.X_train[0] - data.X_train[1]
    c = float(direction @ (x_hat - data.X_train[1]) / (direction @ direction))
    assert np.allclose(x_hat, c * data.X_train[0] + (1 - c) * data.X_train[1], atol=1e-3)


def test_reconstruction_rejects_updates_it_cannot_invert(article_trainer_and_weights):
    _, sent = article_trainer_and_weights
    with pytest.raises(ValueError, match="did not change"):
        aw.reconstruct_single_example(sent, [w.copy() for w in sent])
    with pytest.raises(ValueError, match="weights_before"):
        aw.reconstruct_single_example(sent[:2], sent[:2])


NOTEBOOK_DEFAULTS = dict(n_hospitals=5, client_learning_rate=0.1, alpha=0.5, partition="dirichlet", seed=0)


@pytest.mark.parametrize("name", list(aw.PRESETS))
def test_every_preset_of_the_hospital_panel_runs_and_draws_a_titled_figure(name):
    from fedlearn_edu.style import pyplot
    plt = pyplot()
    values = {**NOTEBOOK_DEFAULTS, **aw.PRESETS[name]}
    study = aw.show_hospital_study(**values)
    ax = plt.gcf().axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert study.hospital_sizes.shape == (values["n_hospitals"],)
    plt.close("all")


def test_the_presets_show_what_their_names_say():
    iid = aw.compute_hospital_study(**{**NOTEBOOK_DEFAULTS, **aw.PRESETS["IID hospitals"]})
    skewed = aw.compute_hospital_study(**{**NOTEBOOK_DEFAULTS, **aw.PRESETS["very different hospitals: α_D = 0.1"]})
    too_large = aw.compute_hospital_study(**{**NOTEBOOK_DEFAULTS,
                                             **aw.PRESETS["too-large learning rate: η_l = 10"]})
    assert iid.non_iid < skewed.non_iid
    assert iid.mean_lone_accuracy > skewed.mean_lone_accuracy      # alone, the skewed hospitals fall behind
    assert too_large.fedavg_accuracy < iid.fedavg_accuracy - 0.2    # a too-large η_l breaks training
