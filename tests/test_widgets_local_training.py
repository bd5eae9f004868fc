"""Callbacks of notebook 03 (fedlearn_edu.widgets.local_training) over a grid of slider values."""
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fedlearn_edu as fl  # noqa: E402
from fedlearn_edu.widgets import local_training as lt  # noqa: E402

K_ENDS = lt.CLIENT_RANGE                 # (2, 50)
E_ENDS = lt.EPOCH_RANGE                  # (1, 20)
LR_ENDS = lt.LEARNING_RATE_RANGE         # (0.001, 1.0)
ALPHA_ENDS = lt.ALPHA_RANGE              # (0.01, 100)


@pytest.fixture(scope="module")
def grid():
    """compute_drift_comparison at every corner of the slider box."""
    return {(k, a, e, lr): lt.compute_drift_comparison(k, a, e, lr)
            for k, a, e, lr in itertools.product(K_ENDS, ALPHA_ENDS, E_ENDS, LR_ENDS)}


def test_grid_numbers_are_finite_and_in_range(grid):
    for key, numbers in grid.items():
        for result in (numbers["iid"], numbers["non_iid"]):
            assert not result.diverged, key
            assert result.drift > 0 and np.isfinite(result.drift), key
            assert -1.0 <= result.mean_cosine <= 1.0, key
            assert result.client_vectors.shape == (key[0], 1539)
            assert result.n_examples.sum() == 800


@pytest.mark.parametrize("partition", ["iid", "non_iid"])
def test_drift_grows_with_local_epochs(grid, partition):
    for k, a, lr in itertools.product(K_ENDS, ALPHA_ENDS, LR_ENDS):
        few, many = grid[(k, a, E_ENDS[0], lr)][partition], grid[(k, a, E_ENDS[1], lr)][partition]
        assert many.drift > few.drift, (k, a, lr)


@pytest.mark.parametrize("partition", ["iid", "non_iid"])
def test_drift_grows_with_client_learning_rate(grid, partition):
    for k, a, e in itertools.product(K_ENDS, ALPHA_ENDS, E_ENDS):
        slow, fast = grid[(k, a, e, LR_ENDS[0])][partition], grid[(k, a, e, LR_ENDS[1])][partition]
        assert fast.drift > slow.drift, (k, a, e)


def test_skewed_clients_drift_more_than_iid_at_moderate_settings(grid):
    for k, e in itertools.product(K_ENDS, E_ENDS):
        skewed = grid[(k, ALPHA_ENDS[0], e, LR_ENDS[0])]
        assert skewed["ratio"] > 2.0, (k, e)
        assert skewed["cosine_iid"] > skewed["cosine_non_iid"] + 0.2, (k, e)


def test_large_alpha_is_close_to_iid(grid):
    for k, e, lr in itertools.product(K_ENDS, E_ENDS, LR_ENDS):
        assert 0.6 < grid[(k, ALPHA_ENDS[1], e, lr)]["ratio"] < 1.5, (k, e, lr)


def test_drift_grows_with_skew_at_the_notebook_default():
    ratios = [lt.compute_drift_comparison(10, alpha, 5, 0.1)["ratio"] for alpha in (100.0, 1.0, 0.1)]
    assert ratios[0] < ratios[1] < ratios[2]
    assert ratios[2] > 1.5


def test_drift_by_hand_matches_measure_drift():
    dataset, trainer, start = lt.article_setup()
    parts = fl.dirichlet_partition(dataset.y_train, 4, alpha=0.5, seed=1)
    results = lt.train_clients(trainer, list(start), dataset, parts, local_epochs=2)
    W = np.stack([fl.flatten_weights(r.weights) for r in results]).astype(np.float64)
    n = np.array([len(p) for p in parts])
    average = (n / n.sum()) @ W
    expected = (n / n.sum()) @ np.linalg.norm(W - average, axis=1)
    measured = lt.measure_drift(results, list(start))
    assert measured.drift == pytest.approx(expected, rel=1e-9)
    updates = W - fl.flatten_weights(start)
    cos01 = updates[0] @ updates[1] / np.linalg.norm(updates[0]) / np.linalg.norm(updates[1])
    assert -1 <= cos01 <= 1 and measured.mean_cosine <= 1


def test_identical_clients_have_no_drift():
    _, _, start = lt.article_setup()
    moved = [w + 0.01 for w in start]
    results = [fl.ClientResult(moved, 10, 0.0, 1.0, k) for k in range(3)]
    measured = lt.measure_drift(results, list(start))
    assert measured.drift == pytest.approx(0.0, abs=1e-9)
    assert measured.mean_cosine == pytest.approx(1.0)


def test_nan_client_is_reported_as_diverged():
    _, _, start = lt.article_setup()
    bad = [np.full_like(w, np.nan) for w in start]
    measured = lt.measure_drift([fl.ClientResult(list(start), 5, 0.0, 1.0),
                                 fl.ClientResult(bad, 5, np.nan, 0.0, 1)], list(start))
    assert measured.diverged and np.isnan(measured.drift)


def test_one_compiled_function_serves_every_slider_value(grid):
    _, trainer, _ = lt.article_setup()
    assert trainer.tracing_count == 1


def test_skewed_client_alone_overfits_its_label_mix():
    skewed = lt.compute_alone(n_clients=10, alpha=0.1, local_epochs=20)
    iid = lt.compute_alone(n_clients=10, partition="iid", local_epochs=20, client_id=0)
    assert skewed.dominant_share > 0.9
    assert skewed.local_accuracy > skewed.test_accuracy + 0.3
    assert iid.gap < skewed.gap - 0.3


def test_most_skewed_client():
    counts = np.array([[5, 5, 5], [0, 0, 3], [30, 0, 1], [1, 40, 1]])
    assert lt.most_skewed_client(counts, min_examples=20) == 2     # 30/31 > 40/42
    assert lt.most_skewed_client(counts, min_examples=35) == 3     # the only client that large
    assert lt.most_skewed_client(counts, min_examples=1) == 1      # a single label
    assert lt.most_skewed_client(np.array([[0, 9], [0, 3]]), min_examples=1) == 0   # tie: larger
    with pytest.raises(ValueError, match="min_examples"):
        lt.most_skewed_client(counts, min_examples=100)


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_clients=0), "n_clients"),
    (dict(alpha=0.0), "alpha"),
    (dict(local_epochs=0), "local_epochs"),
    (dict(client_learning_rate=-0.1), "client_learning_rate"),
    (dict(client_learning_rate=float("nan")), "client_learning_rate"),
    (dict(partition="random"), "partition"),
])
def test_bad_slider_values_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        lt.compute_client_drift(**kwargs)


def test_show_drift_draws_and_returns_the_computed_numbers(capsys):
    shown = lt.show_drift(10, 0.1, 5, 0.1)
    computed = lt.compute_drift_comparison(10, 0.1, 5, 0.1)
    assert shown["drift_non_iid"] == pytest.approx(computed["drift_non_iid"], rel=1e-6)
    assert shown["ratio"] > 1.5
    assert plt.get_fignums(), "a figure was drawn"
    assert "drift IID 0.351" in capsys.readouterr().out
    plt.close("all")


@pytest.mark.parametrize("k, a, e, lr", [(K_ENDS[0], ALPHA_ENDS[0], E_ENDS[1], LR_ENDS[1]),
                                        (K_ENDS[1], ALPHA_ENDS[1], E_ENDS[0], LR_ENDS[0])])
def test_show_drift_at_slider_corners(k, a, e, lr):
    numbers = lt.show_drift(k, a, e, lr)
    assert np.isfinite(numbers["ratio"])
    plt.close("all")


@pytest.mark.parametrize("name", list(lt.PRESETS))
def test_every_drift_preset_draws(name, capsys):
    values = {"n_clients": 10, "alpha": 0.1, "local_epochs": 5, "client_learning_rate": 0.1, **lt.PRESETS[name]}
    result = lt.show_drift(**values)
    assert result["drift_iid"] > 0 and result["drift_non_iid"] > 0
    plt.close("all")


def test_the_presets_teach_what_they_say():
    base = dict(n_clients=10, alpha=0.1, local_epochs=5, client_learning_rate=0.1)
    nearly_iid = lt.compute_drift_comparison(**{**base, **lt.PRESETS["nearly IID clients: α_D = 100"]})
    skewed = lt.compute_drift_comparison(**{**base, **lt.PRESETS["extreme label skew: α_D = 0.01"]})
    assert nearly_iid["ratio"] < 1.2 < skewed["ratio"]
