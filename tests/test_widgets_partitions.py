"""Callbacks of notebook 02 (fedlearn_edu.widgets.partitions) over a grid of slider values."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fedlearn_edu as fl  # noqa: E402
from fedlearn_edu.widgets import partitions  # noqa: E402

CLIENTS = (1, 2, 10, 50, 100)                 # slider ends and values between
ALPHAS = (0.01, 0.1, 0.5, 10.0, 1000.0)       # slider ends (10**-2, 10**3), the default, values between


@pytest.fixture(scope="module")
def grid():
    """compute_partition for every (clients, scheme, alpha) of the grid."""
    return {(k, s, a): partitions.compute_partition(k, s, a)
            for k in CLIENTS for s in fl.PARTITIONS for a in ALPHAS}


# -- the features ---------------------------------------------------------------------------------

def test_feature_roles_find_the_two_dimensional_signal(article_arrays):
    X, y = article_arrays
    roles = partitions.feature_roles(X)
    assert [len(roles[r]) for r in ("informative", "redundant", "noise")] == [2, 10, 8]
    every = np.concatenate(list(roles.values()))
    np.testing.assert_array_equal(np.sort(every), np.arange(20))
    signal = np.concatenate([roles["informative"], roles["redundant"]])
    assert np.linalg.matrix_rank(X[:, signal]) == 2
    assert np.linalg.matrix_rank(X[:, roles["noise"]]) == 8
    # the informative columns separate the classes; a noise column does not
    informative_means = np.array([X[y == c][:, roles["informative"]].mean(axis=0) for c in range(3)])
    noise_means = np.array([X[y == c][:, roles["noise"]].mean(axis=0) for c in range(3)])
    assert np.ptp(informative_means, axis=0).max() > 1.0
    assert np.ptp(noise_means, axis=0).max() < 0.3


def test_feature_roles_reject_other_arrays(article_arrays):
    X, _ = article_arrays
    with pytest.raises(ValueError, match="make_seed_arrays"):
        partitions.feature_roles(X + 1.0)
    with pytest.raises(ValueError, match="X must"):
        partitions.feature_roles(X[:, :5])


def test_plot_informative_features_draws_three_classes(article_arrays):
    X, y = article_arrays
    ax = partitions.plot_informative_features(X, y, partitions.feature_roles(X)["informative"])
    assert len(ax.collections) == 3


# -- one split --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_clients", CLIENTS)
@pytest.mark.parametrize("scheme", fl.PARTITIONS)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_every_split_covers_the_800_examples(grid, n_clients, scheme, alpha):
    r = grid[(n_clients, scheme, alpha)]
    assert r.counts.shape == (n_clients, 3)
    assert r.sizes.sum() == 800 and r.sizes.min() >= 1
    np.testing.assert_array_equal(r.counts.sum(axis=0), np.bincount(fl.load_dataset("article").y_train))
    assert 0.0 <= r.score <= 1.0
    assert r.score == pytest.approx(fl.non_iid_score(r.counts))


@pytest.mark.parametrize("n_clients", CLIENTS[1:])
def test_more_label_skew_gives_a_higher_score(grid, n_clients):
    scores = [grid[(n_clients, "dirichlet", a)].score for a in ALPHAS]
    assert scores[0] > scores[2] > scores[-1], scores
    assert grid[(n_clients, "dirichlet", 0.01)].score > grid[(n_clients, "iid", 0.5)].score


@pytest.mark.parametrize("n_clients", CLIENTS)
@pytest.mark.parametrize("scheme", ("iid", "shards"))
def test_alpha_is_ignored_where_it_does_not_apply(grid, n_clients, scheme):
    first = grid[(n_clients, scheme, ALPHAS[0])]
    for a in ALPHAS[1:]:
        np.testing.assert_array_equal(grid[(n_clients, scheme, a)].counts, first.counts)


def test_one_client_is_always_iid(grid):
    for s in fl.PARTITIONS:
        for a in ALPHAS:
            assert grid[(1, s, a)].score == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n_clients", (10, 50, 100))
def test_shards_give_at_most_two_classes_per_client(grid, n_clients):
    r = grid[(n_clients, "shards", 0.5)]
    # a shard that straddles a class boundary can bring a third class, but rarely
    assert np.mean(r.classes_per_client <= 2) >= 0.9 and r.score > 0.4
    assert r.sizes.max() - r.sizes.min() <= 1


@pytest.mark.parametrize("n_clients", (10, 50))
def test_quantity_skew_skews_sizes_not_labels(grid, n_clients):
    small_alpha, big_alpha = grid[(n_clients, "quantity", 0.1)], grid[(n_clients, "quantity", 1000.0)]
    assert small_alpha.sizes.max() > 10 * small_alpha.sizes.min()
    # with a large alpha all clients are nearly equal (the rounding remainder is spread out)
    assert big_alpha.sizes.max() < 2 * big_alpha.sizes.min()
    assert small_alpha.score < 0.25


def test_iid_sampling_noise_grows_with_the_number_of_clients(grid):
    scores = [grid[(k, "iid", 0.5)].score for k in CLIENTS]
    assert scores == sorted(scores)
    assert scores[2] < 0.1                 # 10 clients of 80: near 0


def test_repr_is_readable(grid):
    text = repr(grid[(10, "dirichlet", 0.5)])
    assert text.startswith("Dirichlet label skew, 10 clients, alpha 0.5: non-IID score 0.420")
    assert "alpha" not in repr(grid[(10, "shards", 0.5)])


@pytest.mark.parametrize("n_clients, scheme, alpha", [(1, "iid", 0.01), (10, "dirichlet", 0.5),
                                                      (100, "shards", 1000.0), (100, "quantity", 0.01)])
def test_show_partition_draws_and_returns_the_same_numbers(grid, n_clients, scheme, alpha):
    shown = partitions.show_partition(n_clients, scheme, alpha)
    np.testing.assert_array_equal(shown.counts, grid[(n_clients, scheme, alpha)].counts)
    assert plt.get_fignums()
    heat = plt.gcf().axes[0]
    assert heat.images[0].get_clim()[0] == 0, "colours start at zero"


def test_plot_schemes_returns_one_result_per_scheme():
    results = partitions.plot_schemes(10, 0.5)
    assert [r.scheme for r in results] == list(fl.PARTITIONS)
    assert len(plt.gcf().axes) == 8        # 4 heatmaps + 4 colour bars


@pytest.mark.parametrize("bad, name", [(dict(n_clients=0), "n_clients"), (dict(n_clients=801), "n_clients"),
                                       (dict(scheme="random"), "scheme"), (dict(alpha=0.0), "alpha"),
                                       (dict(alpha=-1.0), "alpha"), (dict(n_clients=500, scheme="shards"),
                                                                     "n_clients")])
def test_bad_values_name_the_parameter(bad, name):
    with pytest.raises(ValueError, match=name):
        partitions.compute_partition(**bad)


def test_sliders_report_released_values_only():
    assert partitions.alpha_slider().continuous_update is False
    assert partitions.alpha_slider().min == -2 and partitions.alpha_slider().max == 3
    assert [v for _, v in partitions.scheme_dropdown().options] == list(fl.PARTITIONS)


# -- score against alpha --------------------------------------------------------------------------

def test_score_falls_as_alpha_grows():
    curve = partitions.compute_score_vs_alpha()
    assert np.all(np.diff(curve.mean) < 0)
    assert np.all(curve.low <= curve.mean) and np.all(curve.mean <= curve.high)
    assert curve.mean[0] > 0.6 and curve.mean[-1] < 0.05
    assert curve.iid < 0.1 and curve.shards > 0.4
    assert "IID split" in repr(curve)


@pytest.mark.parametrize("n_clients", (2, 50))
def test_score_curve_for_other_client_counts(n_clients):
    curve = partitions.show_score_vs_alpha((0.01, 1.0, 1000.0), n_clients=n_clients, n_seeds=3)
    assert curve.mean[0] > curve.mean[1] > curve.mean[2]


def test_score_curve_bad_values():
    with pytest.raises(ValueError, match="alpha"):
        partitions.compute_score_vs_alpha((1.0, 0.0))
    with pytest.raises(ValueError, match="n_seeds"):
        partitions.compute_score_vs_alpha(n_seeds=0)


# -- FedAvg on the split -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def training_grid():
    """compute_fedavg_on_partition over clients x schemes x learning rates (alpha 0.1, 10 rounds)."""
    return {(k, s, lr): partitions.compute_fedavg_on_partition(k, s, 0.1, lr)
            for k in (2, 10, 100) for s in fl.PARTITIONS for lr in (0.001, 0.1, 10.0)}


@pytest.mark.parametrize("n_clients", (2, 10, 100))
@pytest.mark.parametrize("scheme", fl.PARTITIONS)
def test_moderate_learning_rate_learns_on_every_split(training_grid, n_clients, scheme):
    r = training_grid[(n_clients, scheme, 0.1)]
    assert r.diverged_at is None
    assert r.accuracy >= 0.8 and r.iid_accuracy >= 0.85
    assert r.histories["split"].config.partition == scheme
    assert r.histories["iid"].config.partition == "iid"


@pytest.mark.parametrize("n_clients", (2, 10, 100))
def test_iid_split_has_no_gap(training_grid, n_clients):
    r = training_grid[(n_clients, "iid", 0.1)]
    assert r.gap == 0.0 and r.histories["split"] is r.histories["iid"]


@pytest.mark.parametrize("n_clients", (2, 10, 100))
@pytest.mark.parametrize("scheme", fl.PARTITIONS)
def test_tiny_learning_rate_learns_less(training_grid, n_clients, scheme):
    assert training_grid[(n_clients, scheme, 0.001)].accuracy < training_grid[(n_clients, scheme, 0.1)].accuracy


@pytest.mark.parametrize("n_clients", (2, 10, 100))
def test_huge_learning_rate_is_reported(training_grid, n_clients):
    r = training_grid[(n_clients, "dirichlet", 10.0)]
    assert r.accuracy < 0.85
    if r.diverged_at is not None:
        assert "diverged" in repr(r)


def test_label_skew_costs_more_at_a_large_learning_rate():
    def mean_gap(lr):
        return np.mean([partitions.compute_fedavg_on_partition(10, "dirichlet", 0.1, lr, seed=s).gap
                        for s in range(3)])
    small, large = mean_gap(0.1), mean_gap(1.0)
    assert small < 0.03 < large


def test_show_fedavg_on_partition_draws_and_returns_numbers(training_grid):
    shown = partitions.show_fedavg_on_partition(10, "dirichlet", 0.1, 0.1)
    assert shown == training_grid[(10, "dirichlet", 0.1)]
    assert len(plt.gcf().axes[0].lines) >= 2


@pytest.mark.parametrize("bad, name", [(dict(client_learning_rate=0.0), "client_learning_rate"),
                                       (dict(rounds=0), "rounds"), (dict(scheme="x"), "scheme")])
def test_training_bad_values_name_the_parameter(bad, name):
    with pytest.raises(ValueError, match=name):
        partitions.compute_fedavg_on_partition(**bad)


# -- the panels of notebook 02 --------------------------------------------------------------------

def _split_controls():
    """The controls of notebook 02's split panel (section 7), at the notebook's defaults."""
    return dict(n_clients=fl.widgets.client_slider(10, min=2, max=100), scheme=partitions.scheme_dropdown("dirichlet"),
                alpha=fl.widgets.log_value_slider(0.5, 0.01, 1000.0, "Dirichlet concentration α_D"),
                seed=fl.widgets.int_slider(0, 0, 20, "seed"))


def _training_controls():
    controls = _split_controls()
    controls["client_learning_rate"] = fl.widgets.log_value_slider(0.1, 0.001, 10.0, "client learning rate η_l")
    return controls


@pytest.mark.parametrize("presets, controls", [(partitions.PRESETS, _split_controls),
                                               (partitions.TRAINING_PRESETS, _training_controls)])
def test_presets_fit_the_notebook_controls(presets, controls):
    panel = fl.widgets.ControlPanel(lambda **values: None, controls(), presets=presets, run_now=False)
    assert len(presets) >= 4 and set(panel.presets) == set(presets)
    assert "IID baseline" in presets and "shards (McMahan et al.)" in presets


@pytest.mark.parametrize("name", list(partitions.PRESETS))
def test_every_split_preset_draws(name, capsys):
    values = {**dict(n_clients=10, scheme="dirichlet", alpha=0.5, seed=0), **partitions.PRESETS[name]}
    shown = partitions.show_partition(**values)
    assert repr(shown) in capsys.readouterr().out
    assert shown.scheme == values["scheme"] and shown.n_clients == values["n_clients"]


def test_extreme_preset_is_more_skewed_than_the_iid_baseline():
    extreme = partitions.compute_partition(**partitions.PRESETS["extreme non-IID: α_D = 0.05"])
    iid = partitions.compute_partition(**partitions.PRESETS["IID baseline"])
    assert extreme.score > 0.5 > 0.1 > iid.score


def test_show_partition_prints_nothing_when_asked(capsys):
    partitions.show_partition(10, "iid", 0.5, show_summary=False)
    assert capsys.readouterr().out == ""


def test_show_fedavg_on_partition_takes_a_seed_and_prints_its_result(capsys):
    shown = partitions.show_fedavg_on_partition(4, "iid", 0.5, 0.1, rounds=2, seed=1)
    assert shown == partitions.compute_fedavg_on_partition(4, "iid", 0.5, 0.1, rounds=2, seed=1)
    assert repr(shown) in capsys.readouterr().out


def test_the_seed_dataset_is_the_manual_pipeline():
    """Notebook 02, section 3: fl.make_seed_dataset() is the stratified 80/20 split with the scaler fitted on the
    training part (moved here from the notebook)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    X, y = fl.make_seed_arrays()
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    proper = StandardScaler().fit(X_train)
    data = fl.make_seed_dataset()
    np.testing.assert_allclose(data.X_train, proper.transform(X_train), atol=1e-6)
    np.testing.assert_allclose(data.X_test, proper.transform(X_test), atol=1e-6)
    assert np.abs(data.X_train.mean(axis=0)).max() < 1e-5
