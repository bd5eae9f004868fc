"""The article model, weight helpers, and local training (client_update) against Keras fit."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import ARTICLE_N_PARAMETERS

import fedlearn_edu as fl
from fedlearn_edu.client import batch_plan
from fedlearn_edu.rng import epoch_orders

RTOL, ATOL = 1e-5, 1e-6


# ---------------------------------------------------------------------------------------
# model and weights
def test_article_model_has_1539_parameters():
    model = fl.build_article_model(seed=0)
    assert ARTICLE_N_PARAMETERS == 1539
    assert fl.count_parameters(model) == 1539
    assert model.count_params() == 1539
    weights = fl.get_weights(model)
    assert fl.count_parameters(weights) == 1539
    assert [w.shape for w in weights] == [(20, 64), (64,), (64, 3), (3,)]
    assert all(w.dtype == np.float32 for w in weights)


def test_article_model_outputs_probabilities():
    model = fl.build_article_model(seed=0)
    out = model(np.random.default_rng(0).normal(size=(5, 20)).astype(np.float32)).numpy()
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(out > 0)


def test_build_model_variants_and_seeding():
    m = fl.build_model(n_features=7, n_classes=4, hidden_units=(8, 5), activation="tanh", seed=3)
    assert fl.count_parameters(m) == 7 * 8 + 8 + 8 * 5 + 5 + 5 * 4 + 4
    a = fl.get_weights(fl.build_article_model(seed=1))
    b = fl.get_weights(fl.build_article_model(seed=1))
    c = fl.get_weights(fl.build_article_model(seed=2))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(a[1], 0.0)                  # biases start at zero
    # an int for hidden_units means one hidden layer
    assert fl.count_parameters(fl.build_model(hidden_units=16)) == 20 * 16 + 16 + 16 * 3 + 3


def test_flatten_unflatten_round_trip():
    weights = fl.get_weights(fl.build_article_model(seed=4))
    vector = fl.flatten_weights(weights)
    assert vector.shape == (1539,) and vector.dtype == np.float32
    np.testing.assert_array_equal(vector[:20 * 64], weights[0].ravel())
    np.testing.assert_array_equal(vector[-3:], weights[3])
    back = fl.unflatten_weights(vector, weights)
    assert [w.shape for w in back] == [w.shape for w in weights]
    assert all(np.array_equal(x, y) for x, y in zip(back, weights, strict=True))
    # and the other way round
    v = np.arange(1539, dtype=np.float32)
    np.testing.assert_array_equal(fl.flatten_weights(fl.unflatten_weights(v, weights)), v)


def test_unflatten_wrong_length_message():
    weights = fl.get_weights(fl.build_article_model())
    with pytest.raises(ValueError, match=r"vector must have shape \(1539,\).*got \(1538,\)"):
        fl.unflatten_weights(np.zeros(1538), weights)


def test_set_weights_round_trip_and_errors():
    model = fl.build_article_model(seed=0)
    new = [np.full(w.shape, i + 0.5, np.float32) for i, w in enumerate(fl.get_weights(model))]
    fl.set_weights(model, new)
    assert all(np.array_equal(x, y) for x, y in zip(fl.get_weights(model), new, strict=True))
    bad = list(new)
    bad[0] = np.zeros((64, 20), np.float32)
    with pytest.raises(ValueError) as info:
        fl.set_weights(model, bad)
    assert str(info.value) == "weights[0] must have shape (20, 64), got (64, 20)"
    with pytest.raises(ValueError, match=r"weights must hold 4 arrays for this model, got 3"):
        fl.set_weights(model, new[:3])
    # a failed call changed nothing it should not have: first array is still the old one
    np.testing.assert_array_equal(fl.get_weights(model)[0], new[0])


def test_get_weights_returns_copies():
    model = fl.build_article_model(seed=0)
    w = fl.get_weights(model)
    w[0][:] = 123.0
    assert not np.any(fl.get_weights(model)[0] == 123.0)


# ---------------------------------------------------------------------------------------
# batch plan and batch order
def test_batch_plan_hand_example():
    starts, sizes = batch_plan(10, 2, 4)
    np.testing.assert_array_equal(starts, [0, 4, 8, 10, 14, 18])
    np.testing.assert_array_equal(sizes, [4, 4, 2, 4, 4, 2])
    starts, sizes = batch_plan(10, 3, None)
    np.testing.assert_array_equal(starts, [0, 10, 20])
    np.testing.assert_array_equal(sizes, [10, 10, 10])
    starts, sizes = batch_plan(5, 1, 32)                       # B > n: one batch
    np.testing.assert_array_equal(starts, [0])
    np.testing.assert_array_equal(sizes, [5])


def test_epoch_orders_are_seeded_permutations():
    orders = epoch_orders(50, 3, seed=1, round_index=2, client=3)
    assert orders.shape == (3, 50)
    for row in orders:
        np.testing.assert_array_equal(np.sort(row), np.arange(50))
    assert not np.array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(orders, epoch_orders(50, 3, 1, 2, 3))
    for other in [epoch_orders(50, 3, 2, 2, 3), epoch_orders(50, 3, 1, 3, 3), epoch_orders(50, 3, 1, 2, 4)]:
        assert not np.array_equal(orders, other)


# ---------------------------------------------------------------------------------------
# client_update == Keras fit
def _keras_model(weights, learning_rate, momentum, seed=0):
    model = fl.build_article_model(seed=seed)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
                  loss="sparse_categorical_crossentropy", jit_compile=False)
    fl.set_weights(model, weights)
    return model


def _fit_epochs(model, X, y, orders, batch_size):
    """One fit call per local epoch, on that epoch's permutation. The optimizer (and its
    momentum) lives on across the calls, exactly like client_update's velocity lives on
    across its epochs; each epoch's last batch may be short, like batch_plan's."""
    for order in orders:
        model.fit(X[order], y[order], batch_size=len(X) if batch_size is None else batch_size,
                  epochs=1, shuffle=False, verbose=0)
    return fl.get_weights(model)


def _assert_same_weights(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("n, epochs, batch_size, lr, momentum", [
    (96, 3, 32, 0.1, 0.0),       # batches align with epochs
    (90, 3, 32, 0.1, 0.0),       # a short last batch per epoch
    (90, 3, None, 0.1, 0.0),     # full batch (B = inf)
    (90, 3, 32, 0.05, 0.9),      # local momentum, carried across the epochs
    (90, 3, None, 0.05, 0.9),
    (50, 2, 7, 0.2, 0.5),
])
def test_client_update_equals_keras_fit(article, article_trainer, article_initial_weights,
                                        n, epochs, batch_size, lr, momentum):
    X, y = article.X_train[:n], article.y_train[:n]
    seed, round_index, client_id = 5, 2, 7
    result = fl.client_update(article_trainer, article_initial_weights, X, y, epochs=epochs,
                              batch_size=batch_size, client_learning_rate=lr, client_momentum=momentum,
                              seed=seed, round_index=round_index, client_id=client_id)
    orders = epoch_orders(n, epochs, seed, round_index, client_id)
    expected = _fit_epochs(_keras_model(article_initial_weights, lr, momentum), X, y, orders, batch_size)
    _assert_same_weights(result.weights, expected)
    assert result.n_examples == n and result.client_id == client_id
    # the model really moved
    assert max(np.max(np.abs(a - b)) for a, b in zip(result.weights, article_initial_weights, strict=True)) > 1e-3
    # the reported local metrics are those of the returned weights on the local data
    loss, accuracy = article_trainer.evaluate(result.weights, X, y)
    assert result.loss == pytest.approx(loss, rel=1e-5)
    assert result.accuracy == pytest.approx(accuracy, abs=1e-6)


def test_momentum_single_fit_over_concatenated_epochs_when_aligned(article, article_trainer,
                                                                    article_initial_weights):
    # with n a multiple of B no batch straddles two epochs, so one fit call over the
    # concatenated permutations is the same training as client_update
    n, epochs, B, lr, momentum = 96, 3, 32, 0.05, 0.9
    X, y = article.X_train[:n], article.y_train[:n]
    result = fl.client_update(article_trainer, article_initial_weights, X, y, epochs=epochs, batch_size=B,
                              client_learning_rate=lr, client_momentum=momentum, seed=1, round_index=0,
                              client_id=0)
    order = epoch_orders(n, epochs, 1, 0, 0).ravel()
    model = _keras_model(article_initial_weights, lr, momentum)
    model.fit(X[order], y[order], batch_size=B, epochs=1, shuffle=False, verbose=0)
    _assert_same_weights(result.weights, fl.get_weights(model))


def test_batches_never_span_two_epochs(article, article_trainer, article_initial_weights):
    # n = 90, B = 32: Keras fit over the concatenated epochs would build batches across
    # the epoch boundary (32, 32, 32, ...); client_update must not (32, 32, 26 per epoch)
    n, epochs, B, lr = 90, 3, 32, 0.1
    X, y = article.X_train[:n], article.y_train[:n]
    result = fl.client_update(article_trainer, article_initial_weights, X, y, epochs=epochs, batch_size=B,
                              client_learning_rate=lr, seed=1)
    order = epoch_orders(n, epochs, 1, 0, 0).ravel()
    model = _keras_model(article_initial_weights, lr, 0.0)
    model.fit(X[order], y[order], batch_size=B, epochs=1, shuffle=False, verbose=0)
    spanning = fl.get_weights(model)
    assert not all(np.allclose(a, e, rtol=RTOL, atol=ATOL) for a, e in zip(result.weights, spanning, strict=True))


def test_momentum_restarts_with_each_call(article, article_trainer, article_initial_weights):
    """Round t+1 of a client starts with zero velocity: it matches a *freshly* compiled
    Keras optimizer, not one that kept its momentum from round t."""
    n, epochs, B, lr, momentum = 64, 2, 16, 0.05, 0.9
    X, y = article.X_train[:n], article.y_train[:n]
    kwargs = dict(epochs=epochs, batch_size=B, client_learning_rate=lr, client_momentum=momentum, seed=3)
    round0 = fl.client_update(article_trainer, article_initial_weights, X, y, round_index=0, **kwargs)
    again = fl.client_update(article_trainer, article_initial_weights, X, y, round_index=0, **kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(round0.weights, again.weights, strict=True))
    round1 = fl.client_update(article_trainer, round0.weights, X, y, round_index=1, **kwargs)

    keras_model = _keras_model(article_initial_weights, lr, momentum)
    after0 = _fit_epochs(keras_model, X, y, epoch_orders(n, epochs, 3, 0, 0), B)
    _assert_same_weights(round0.weights, after0)
    fresh = _fit_epochs(_keras_model(after0, lr, momentum), X, y, epoch_orders(n, epochs, 3, 1, 0), B)
    carried = _fit_epochs(keras_model, X, y, epoch_orders(n, epochs, 3, 1, 0), B)
    _assert_same_weights(round1.weights, fresh)
    assert not all(np.allclose(a, e, rtol=RTOL, atol=ATOL) for a, e in zip(round1.weights, carried, strict=True))


def test_client_update_does_not_modify_global_weights(article, article_trainer, article_initial_weights):
    before = [w.copy() for w in article_initial_weights]
    fl.client_update(article_trainer, article_initial_weights, article.X_train[:40], article.y_train[:40],
                     epochs=2, client_learning_rate=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(before, article_initial_weights, strict=True))


def test_tracing_count_stays_one():
    trainer = fl.LocalTrainer(fl.build_article_model(seed=9))
    weights = fl.get_weights(trainer.model)
    rng = np.random.default_rng(0)
    cases = [(5, None, 1, 0.01, 0.0, 0.0), (17, 1, 2, 0.1, 0.9, 0.0), (64, 8, 3, 0.5, 0.0, 0.1),
             (80, 32, 1, 0.05, 0.5, 1.0), (150, 200, 2, 0.2, 0.0, 0.0), (33, 10, 4, 0.3, 0.9, 0.01)]
    for k, (n, B, E, lr, momentum, mu) in enumerate(cases):
        X = rng.normal(size=(n, 20)).astype(np.float32)
        y = rng.integers(0, 3, size=n)
        result = fl.client_update(trainer, weights, X, y, epochs=E, batch_size=B, client_learning_rate=lr,
                                  client_momentum=momentum, mu=mu, seed=k, round_index=k, client_id=k)
        weights = result.weights
        trainer.evaluate(weights, X, y)
    assert trainer.tracing_count == 1


def _distance(a, b):
    return float(np.sqrt(sum(np.sum((x - y) ** 2) for x, y in zip(a, b, strict=True))))


def test_fedprox_keeps_client_closer_to_global(article, article_trainer, article_initial_weights):
    X, y = article.X_train[:200], article.y_train[:200]
    distances = []
    for mu in (0.0, 0.1, 1.0):
        result = fl.client_update(article_trainer, article_initial_weights, X, y, epochs=5, batch_size=32,
                                  client_learning_rate=0.1, mu=mu, seed=2)
        distances.append(_distance(result.weights, article_initial_weights))
    assert distances[0] > distances[1] > distances[2] > 0, distances


def test_fedprox_gradient_by_hand(article, article_trainer, article_initial_weights):
    """Full batch, two steps: w1 = w0 - lr g(w0);  w2 = w1 - lr (g(w1) + mu (w1 - w0))."""
    X, y = article.X_train[:120], article.y_train[:120]
    lr, mu = 0.1, 0.5
    w0 = article_initial_weights
    # step 1: the proximal gradient is zero at the start, so mu changes nothing
    one = fl.client_update(article_trainer, w0, X, y, epochs=1, batch_size=None, client_learning_rate=lr, mu=mu)
    plain = fl.client_update(article_trainer, w0, X, y, epochs=1, batch_size=None, client_learning_rate=lr)
    _assert_same_weights(one.weights, plain.weights)
    w1 = plain.weights
    # one plain step from w1 gives w1 - lr g(w1)
    w1_step = fl.client_update(article_trainer, w1, X, y, epochs=1, batch_size=None, client_learning_rate=lr).weights
    expected = [s - lr * mu * (a - b) for s, a, b in zip(w1_step, w1, w0, strict=True)]
    two = fl.client_update(article_trainer, w0, X, y, epochs=2, batch_size=None, client_learning_rate=lr, mu=mu)
    _assert_same_weights(two.weights, expected)


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=np.zeros((4, 19))), r"X must have shape \(n_k, 20\).*\(4, 19\)"),
    (dict(y=np.zeros(3, int)), r"X and y must have the same length, got 4 and 3"),
    (dict(X=np.zeros((0, 20)), y=np.zeros(0, int)), r"at least one example"),
    (dict(epochs=0), r"epochs must be an integer >= 1, got 0"),
    (dict(client_momentum=1.0), r"client_momentum must be in \[0, 1\), got 1.0"),
    (dict(mu=-0.1), r"mu must be >= 0, got -0.1"),
])
def test_client_update_rejects_bad_arguments(article_trainer, article_initial_weights, kwargs, match):
    args = dict(X=np.zeros((4, 20), np.float32), y=np.zeros(4, int))
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError, match=match):
        fl.client_update(article_trainer, article_initial_weights, X, y, **args)


def test_local_trainer_needs_a_keras_model():
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        fl.LocalTrainer("not a model")


# ---------------------------------------------------------------------------------------
# utils
def test_set_seed_seeds_numpy_and_keras():
    assert fl.set_seed(123) == 123
    a = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    fl.set_seed(123)
    b = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_versions_report():
    import tensorflow as tf
    v = fl.versions()
    for key in ("python", "fedlearn_edu", "tensorflow", "keras", "numpy", "scikit-learn", "matplotlib"):
        assert key in v and isinstance(v[key], str) and v[key]
    assert v["tensorflow"] == tf.__version__
    assert v["keras"] == keras.__version__
    assert v["fedlearn_edu"] == fl.__version__
