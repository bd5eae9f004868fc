"""fedlearn_edu.privacy: closed-form leakage, DLG, DP-FedAvg and its accountant."""
from __future__ import annotations

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import privacy


@pytest.fixture(scope="module")
def digits():
    return fl.load_dataset("digits")


@pytest.fixture(scope="module")
def digits_model(digits):
    model = fl.build_model(digits.n_features, digits.n_classes, seed=2)
    return fl.LocalTrainer(model), fl.get_weights(model)


def _relative(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


# -- closed form ---------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 5, 300])
def test_one_example_fedsgd_update_gives_the_record_back_exactly(digits, digits_model, index):
    trainer, sent = digits_model
    x, y = digits.X_train[index:index + 1], digits.y_train[index:index + 1]
    back = fl.client_update(trainer, sent, x, y, batch_size=None, client_learning_rate=0.1)
    x_hat, label = privacy.reconstruct_single_example(sent, back.weights)
    assert label == y[0]
    assert _relative(x_hat, x[0]) < 1e-5
    # every unit that moved gives the same record
    candidates = privacy.candidate_inputs(sent, back.weights)
    assert len(candidates) >= 5
    assert privacy.examples_recovered(candidates, x) == 1
    assert np.all(np.linalg.norm(candidates - x[0], axis=1) / np.linalg.norm(x[0]) < 1e-4)


def test_several_local_steps_on_one_record_are_still_exact(digits, digits_model):
    trainer, sent = digits_model
    x, y = digits.X_train[:1], digits.y_train[:1]
    back = fl.client_update(trainer, sent, x, y, epochs=5, batch_size=1, client_learning_rate=0.1)
    x_hat, label = privacy.reconstruct_single_example(sent, back.weights)
    assert label == y[0] and _relative(x_hat, x[0]) < 1e-4


def test_relu_unit_that_fires_for_one_record_of_a_batch_leaks_it(digits, digits_model):
    trainer, sent = digits_model
    X, y = digits.X_train[:4], digits.y_train[:4]
    back = fl.client_update(trainer, sent, X, y, batch_size=None, client_learning_rate=0.1)
    candidates = privacy.candidate_inputs(sent, back.weights)
    assert privacy.examples_recovered(candidates, X) >= 1
    assert privacy.best_match_error(candidates, X) < 1e-4


def test_leakage_table_orders_the_defences(digits, digits_model):
    trainer, sent = digits_model
    rows = privacy.leakage_under_defences(digits.X_train, digits.y_train, trainer, sent)
    assert [r.n_examples for r in rows] == [1, 4, 16, 64, 16, 10, 1]
    assert rows[0].error < 1e-5 and rows[0].recovered == 1
    assert rows[3].error > 0.1 and rows[3].recovered == 0            # batch of 64
    assert rows[-1].error > 0.9 and rows[-1].recovered == 0           # clip + noise
    for row in rows:
        assert row.best_candidate.shape == (digits.n_features,)
        assert 0 <= row.matched_index < row.n_examples
        assert "0x" not in repr(row)


def test_closed_form_rejects_what_it_cannot_invert(digits_model):
    _, sent = digits_model
    with pytest.raises(ValueError, match="did not change"):
        privacy.reconstruct_single_example(sent, [w.copy() for w in sent])
    with pytest.raises(ValueError, match="did not change"):
        privacy.candidate_inputs(sent, [w.copy() for w in sent])
    with pytest.raises(ValueError, match="weights_before"):
        privacy.reconstruct_single_example(sent[:2], sent[:2])
    with pytest.raises(ValueError, match="same width"):
        privacy.best_match_error(np.zeros((2, 3)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="clip_norm"):
        privacy.update_seen_by_server(None, sent, [(np.zeros((1, 64)), np.zeros(1, int))], noise_multiplier=1.0)


def test_applications_reexports_the_moved_function():
    from fedlearn_edu.widgets import applications
    assert applications.reconstruct_single_example is privacy.reconstruct_single_example


# -- Deep Leakage from Gradients -------------------------------------------------------------------
def test_update_to_gradient_is_the_tensorflow_gradient(digits):
    model = fl.build_model(digits.n_features, digits.n_classes, hidden_units=(8,), activation="tanh", seed=1)
    trainer, sent = fl.LocalTrainer(model), fl.get_weights(model)
    X, y = digits.X_train[:3], digits.y_train[:3]
    back = fl.client_update(trainer, sent, X, y, batch_size=None, client_learning_rate=0.05)
    from fedlearn_edu._tf import tf
    fl.set_weights(model, sent)
    with tf.GradientTape() as tape:
        loss = fl.client.cross_entropy(tf.constant(y), model(tf.constant(X)))
    expected = tape.gradient(loss, model.trainable_variables)
    for g, e in zip(privacy.update_to_gradient(sent, back.weights, 0.05), expected, strict=True):
        assert np.allclose(g, e.numpy(), atol=2e-4)


def test_deep_leakage_recovers_a_batch_the_closed_form_blends(digits):
    model = fl.build_model(digits.n_features, digits.n_classes, hidden_units=(32,), activation="tanh", seed=1)
    trainer, sent = fl.LocalTrainer(model), fl.get_weights(model)
    X, y = digits.X_train[:2], digits.y_train[:2]
    back = fl.client_update(trainer, sent, X, y, batch_size=None, client_learning_rate=0.1)
    gradient = privacy.update_to_gradient(sent, back.weights, 0.1)
    result = privacy.deep_leakage(sent, gradient, n_examples=2, activation="tanh", iterations=400, seed=0)
    errors = np.array([[_relative(d, x) for x in X] for d in result.x]).min(axis=0)
    assert errors.max() < 0.1
    assert sorted(result.labels.tolist()) == sorted(y.tolist())
    assert result.matching_loss[-1] < 1e-3 * result.matching_loss[0]
    assert result.label_probabilities.shape == (2, 10)
    assert np.allclose(result.label_probabilities.sum(axis=1), 1.0)
    again = privacy.deep_leakage(sent, gradient, n_examples=2, activation="tanh", iterations=400, seed=0)
    assert np.array_equal(again.x, result.x), "seeded: the same run twice"


@pytest.mark.parametrize("kwargs, name", [(dict(activation="softplus"), "activation"),
                                          (dict(n_examples=0), "n_examples"), (dict(iterations=0), "iterations"),
                                          (dict(learning_rate=0.0), "learning_rate"), (dict(restarts=0), "restarts")])
def test_deep_leakage_checks_its_arguments(digits_model, kwargs, name):
    _, sent = digits_model
    args = dict(n_examples=1) | kwargs
    with pytest.raises(ValueError, match=name):
        privacy.deep_leakage(sent, sent, **args)


# -- DP mechanism ------------------------------------------------------------------------------------
def test_clipping_bounds_every_norm_and_keeps_short_updates():
    rng = np.random.default_rng(0)
    updates = rng.normal(0, 1, (50, 30)) * rng.uniform(0.01, 3, (50, 1))
    clipped = privacy.clip_to_norm(updates, 1.0)
    norms = np.linalg.norm(updates, axis=1)
    assert np.all(np.linalg.norm(clipped, axis=1) <= 1.0 + 1e-12)
    assert np.allclose(clipped[norms <= 1.0], updates[norms <= 1.0])
    long = norms > 1.0
    assert np.allclose(np.linalg.norm(clipped[long], axis=1), 1.0)
    cosine = np.sum(clipped[long] * updates[long], axis=1) / norms[long]
    assert np.allclose(cosine, 1.0), "clipping keeps the direction"


@pytest.mark.parametrize("z, S, m", [(1.0, 0.5, 10), (0.3, 2.0, 4), (4.0, 0.1, 50)])
def test_dp_noise_has_the_stated_standard_deviation(z, S, m):
    rng = np.random.default_rng(1)
    draws = np.concatenate([privacy.dp_aggregate(np.zeros((3, 5000)), S, z, m, rng) for _ in range(10)])
    stated = privacy.dp_noise_std(z, S, m)
    assert stated == pytest.approx(z * S / m)
    assert abs(draws.std() / stated - 1) < 0.02      # 50,000 draws: standard error 0.3%
    assert abs(draws.mean()) < 4 * stated / np.sqrt(draws.size)


def test_dp_average_uses_the_fixed_expected_denominator():
    updates = np.array([[3.0, 4.0], [0.3, 0.4]])                     # norms 5 and 0.5
    out = privacy.dp_aggregate(updates, clip_norm=1.0, noise_multiplier=0.0, expected_clients=4,
                               rng=np.random.default_rng(0))
    assert np.allclose(out, (np.array([0.6, 0.8]) + np.array([0.3, 0.4])) / 4)
    empty = privacy.dp_aggregate(np.zeros((0, 2)), 1.0, 0.0, 4, np.random.default_rng(0))
    assert np.array_equal(empty, np.zeros(2))


def test_one_client_moves_the_noiseless_dp_average_by_at_most_S_over_m():
    rng = np.random.default_rng(2)
    honest = rng.normal(0, 1, (9, 20))
    for attacker in (rng.normal(0, 100, 20), -honest.sum(axis=0)):
        with_it = privacy.dp_aggregate(np.vstack([honest, attacker]), 0.5, 0.0, 10, rng)
        without = privacy.dp_aggregate(honest, 0.5, 0.0, 10, rng)
        assert np.linalg.norm(with_it - without) <= 0.5 / 10 + 1e-12


# -- accountant --------------------------------------------------------------------------------------
# Published configurations: TensorFlow Privacy's test of its DP-SGD privacy calculator,
# tensorflow/privacy, tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py
# (commit 943ef91ee932207f22e3840753e0d5b1dd07d503), cases Test0 and Test1:
#   n=60000, batch 150, noise multiplier 1.3, 15 epochs, delta 1e-5  ->  eps 0.7242234026109595 (order 19)
#   n=100000, batch 100, noise multiplier 1.0, 30 epochs, delta 1e-7 ->  eps 1.4154988495444845 (order 13)
# (steps = ceil(epochs * n / batch), Poisson sampling with q = batch / n, as compute_dp_sgd_privacy does)
@pytest.mark.parametrize("n, batch, z, epochs, delta, published", [
    (60000, 150, 1.3, 15, 1e-5, 0.7242234026109595),
    (100000, 100, 1.0, 30, 1e-7, 1.4154988495444845),
])
def test_epsilon_matches_a_published_configuration(n, batch, z, epochs, delta, published):
    steps = int(np.ceil(epochs * n / batch))
    epsilon = privacy.dp_epsilon(z, batch / n, steps, delta)
    assert float(f"{epsilon:.2g}") == float(f"{published:.2g}")     # two significant digits
    assert epsilon == pytest.approx(published, rel=1e-3)


def test_epsilon_moves_the_right_way():
    base = privacy.dp_epsilon(1.0, 0.2, 15, 1e-3)
    assert privacy.dp_epsilon(2.0, 0.2, 15, 1e-3) < base                  # more noise
    assert privacy.dp_epsilon(1.0, 0.2, 60, 1e-3) > base                  # more rounds
    assert privacy.dp_epsilon(1.0, 0.05, 15, 1e-3) < base                 # fewer clients per round
    assert privacy.dp_epsilon(1.0, 0.2, 15, 1e-6) > base                  # smaller delta
    assert privacy.dp_epsilon(0.0, 0.2, 15, 1e-3) == np.inf


@pytest.mark.parametrize("kwargs, name", [
    (dict(noise_multiplier=-1.0), "noise_multiplier"), (dict(sampling_probability=0.0), "sampling_probability"),
    (dict(sampling_probability=1.5), "sampling_probability"), (dict(rounds=0), "rounds"),
    (dict(delta=0.0), "delta"), (dict(delta=1.0), "delta"),
])
def test_accountant_arguments_are_checked(kwargs, name):
    args = dict(noise_multiplier=1.0, sampling_probability=0.1, rounds=10, delta=1e-5) | kwargs
    with pytest.raises(ValueError, match=name):
        privacy.dp_epsilon(**args)


def test_poisson_sampling_is_seeded_and_has_rate_q():
    a = privacy.poisson_sample(1000, 0.2, seed=3, round_index=7)
    assert np.array_equal(a, privacy.poisson_sample(1000, 0.2, seed=3, round_index=7))
    assert not np.array_equal(a, privacy.poisson_sample(1000, 0.2, seed=3, round_index=8))
    sizes = [len(privacy.poisson_sample(1000, 0.2, 0, r)) for r in range(50)]
    assert abs(np.mean(sizes) - 200) < 10 and np.std(sizes) > 0


# -- DP-FedAvg loop ----------------------------------------------------------------------------------
def test_dp_fedavg_run_reports_its_privacy_and_trains():
    config = fl.FLConfig(n_clients=20, fraction=0.5, rounds=4, hidden_units=(8,), batch_size=None,
                         client_learning_rate=0.5, engine="per_client")
    sim = fl.Simulation(config)
    run = privacy.run_dp_fedavg(config, noise_multiplier=1.0, clip_norm=1.0, delta=1e-3, simulation=sim)
    assert run.accuracy.shape == (4,) and np.all((run.accuracy >= 0) & (run.accuracy <= 1))
    assert run.epsilon == pytest.approx(privacy.dp_epsilon(1.0, 0.5, 4, 1e-3))
    assert run.expected_clients == 10 and run.noise_std == pytest.approx(0.1)
    assert run.participants.shape == (4,) and run.participants.sum() > 0
    assert 0 <= run.clipped_fraction <= 1
    assert "epsilon" in repr(run) and "0x" not in repr(run)
    plain = privacy.run_dp_fedavg(config, noise_multiplier=0.0, clip_norm=1e9, simulation=sim)
    assert plain.epsilon == np.inf and plain.late_accuracy > run.accuracy[0] - 0.2
    with pytest.raises(ValueError, match="same config"):
        privacy.run_dp_fedavg(config.replace(rounds=2), 1.0, 1.0, simulation=sim)
    with pytest.raises(ValueError, match="clip_norm"):
        privacy.run_dp_fedavg(config, 1.0, 0.0, simulation=sim)


def test_leakage_against_noise_grows_from_exact_to_nothing(digits, digits_model):
    trainer, sent = digits_model
    errors = privacy.leakage_against_noise(digits.X_train[:1], digits.y_train[:1], trainer, sent,
                                           [0.0, 0.001, 0.1, 1.0], clip_norm=0.1)
    assert errors.shape == (4,)
    assert errors[0] < 1e-5, "clipping alone scales dW and db alike: still exact"
    assert errors[1] < 0.1 and errors[2] > 0.9 and errors[3] > 0.9
    with pytest.raises(ValueError, match="one record"):
        privacy.leakage_against_noise(digits.X_train[:2], digits.y_train[:2], trainer, sent, [0.1])


def test_epsilon_curve_is_the_accountant_round_by_round():
    """One RDP computation times the rounds gives what composing the rounds in dp_accounting gives."""
    rounds = [1, 2, 15, 60, 500]
    curve = privacy.dp_epsilon_curve(1.0, 0.2, rounds, delta=1e-5)
    expected = [privacy.dp_epsilon(1.0, 0.2, r, delta=1e-5) for r in rounds]
    np.testing.assert_allclose(curve, expected, rtol=1e-9)
    assert np.all(np.diff(curve) > 0)
    assert np.all(np.isinf(privacy.dp_epsilon_curve(0.0, 0.2, rounds, delta=1e-5)))
    with pytest.raises(ValueError, match="rounds"):
        privacy.dp_epsilon_curve(1.0, 0.2, [0], delta=1e-5)
