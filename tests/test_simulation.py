"""Whole experiments: accuracy, communication, participation, determinism, divergence,
callbacks, client metrics, custom models and the step-by-step Simulation API."""
from __future__ import annotations

import hashlib
import json

import keras
import numpy as np
import pytest
from helpers import ARTICLE_N_PARAMETERS, run_python

import fedlearn_edu as fl
from fedlearn_edu.rng import sample_clients

SMALL = dict(n_clients=5, rounds=3, progress=False)


@pytest.fixture(scope="module")
def default_history():
    """run_experiment with its defaults: the article data, 10 IID clients, 20 rounds, FedAvg."""
    return fl.run_experiment(progress=False)


def test_defaults_are_the_articles_setting():
    c = fl.FLConfig()
    assert (c.n_clients, c.rounds, c.fraction, c.local_epochs, c.batch_size) == (10, 20, 1.0, 1, 32)
    assert (c.partition, c.server_optimizer, c.dataset, c.hidden_units) == ("iid", "fedavg", "article", (64,))
    assert c.clients_per_round == 10


def test_fedavg_reaches_85_percent_within_20_rounds(default_history):
    h = default_history
    assert not h.diverged and h.rounds_completed == 20
    assert h.message == "completed 20 rounds"
    reached = h.rounds_to_accuracy(0.85)
    assert reached is not None and 1 <= reached <= 20
    assert h.accuracy.max() >= 0.85
    assert h.final_accuracy >= 0.8
    assert h.final_accuracy > h.initial_accuracy + 0.2
    assert h.final_loss < h.initial_loss
    assert h.accuracy.shape == h.loss.shape == (20,)
    assert np.all((h.accuracy >= 0) & (h.accuracy <= 1))
    assert f"reached 85% in round {reached}" in h.summary(0.85)
    assert h.rounds_to_accuracy(1.0) is None or h.accuracy.max() == 1.0
    assert h.rounds_to_accuracy(0.0) == 1
    with pytest.raises(ValueError, match=r"target must be in \[0, 1\], got 2.0"):
        h.rounds_to_accuracy(2)


def test_bytes_per_round(default_history):
    h = default_history
    m = 10
    per_round = 2 * m * ARTICLE_N_PARAMETERS * 4
    assert per_round == 123120
    np.testing.assert_array_equal(h.bytes_down + h.bytes_up, np.full(20, per_round))
    np.testing.assert_array_equal(h.bytes_down, h.bytes_up)
    assert h.total_bytes == 20 * per_round
    assert h.bytes_down.dtype == np.int64


@pytest.mark.parametrize("scaffold", [False, True])
def test_bytes_and_megabytes_to_a_target(scaffold):
    """Bytes up to and including the first round at the target, by hand; up only; never reached."""
    h = fl.run_experiment(n_clients=4, rounds=6, partition="dirichlet", alpha=0.3, fraction=0.5, scaffold=scaffold)
    target = float(h.accuracy[2])                        # reached in round 3 at the latest
    reached = h.rounds_to_accuracy(target)
    assert reached is not None and reached <= 3
    up, down = int(h.bytes_up[:reached].sum()), int(h.bytes_down[:reached].sum())
    assert h.bytes_to_accuracy(target) == up + down and h.bytes_to_accuracy(target, up_only=True) == up
    assert h.megabytes_to_accuracy(target) == pytest.approx((up + down) / 1e6)
    assert h.bytes_to_accuracy(min(1.0, h.accuracy.max() + 0.01)) is None or h.accuracy.max() >= 0.99
    cumulative = h.cumulative_megabytes()
    assert cumulative.shape == (h.rounds_completed + 1,) and cumulative[0] == 0
    assert cumulative[reached] == pytest.approx((up + down) / 1e6)
    assert h.cumulative_megabytes(up_only=True)[-1] == pytest.approx(h.bytes_up.sum() / 1e6)
    with pytest.raises(ValueError, match="target"):
        h.bytes_to_accuracy(1.5)


def test_history_records_partition(default_history):
    h = default_history
    assert h.client_sizes.tolist() == [80] * 10
    assert h.label_counts.shape == (10, 3)
    np.testing.assert_array_equal(h.label_counts.sum(axis=1), h.client_sizes)
    assert len(h.wall_time) == 20 and np.all(h.wall_time >= 0)


def test_table_has_one_line_per_round(default_history):
    lines = default_history.table().splitlines()
    assert len(lines) == 21
    assert lines[0].split() == ["round", "clients", "loss", "accuracy", "MB"]
    assert lines[1].split()[:2] == ["1", "10"]
    assert lines[-1].split()[0] == "20"


def test_partial_participation():
    h = fl.run_experiment(n_clients=10, fraction=0.3, rounds=5, progress=False)
    assert h.config.clients_per_round == 3
    assert len(h.participants) == 5
    for r, clients in enumerate(h.participants):
        assert len(clients) == 3
        assert len(set(clients.tolist())) == 3
        assert np.all((clients >= 0) & (clients < 10))
        np.testing.assert_array_equal(clients, sample_clients(10, 3, 0, r))
    assert len({tuple(c) for c in h.participants}) > 1          # not the same clients every round
    per_round = 2 * 3 * ARTICLE_N_PARAMETERS * 4
    np.testing.assert_array_equal(h.bytes_down + h.bytes_up, np.full(5, per_round))


def test_sampled_clients_depend_only_on_seed_and_round():
    base = fl.run_experiment(n_clients=10, fraction=0.3, rounds=4, seed=1, progress=False)
    other = fl.run_experiment(n_clients=10, fraction=0.3, rounds=4, seed=1, client_learning_rate=0.05,
                              local_epochs=2, partition="shards", server_optimizer="fedadam", progress=False)
    for a, b in zip(base.participants, other.participants, strict=True):
        np.testing.assert_array_equal(a, b)
    reseeded = fl.run_experiment(n_clients=10, fraction=0.3, rounds=4, seed=2, progress=False)
    assert any(not np.array_equal(a, b) for a, b in zip(base.participants, reseeded.participants, strict=True))
    # the sampler itself: a pure function of (n_clients, m, seed, round)
    np.testing.assert_array_equal(sample_clients(10, 3, 1, 2), sample_clients(10, 3, 1, 2))
    assert len({tuple(sample_clients(10, 3, 1, r)) for r in range(10)}) > 1
    np.testing.assert_array_equal(sample_clients(10, 10, 5, 3), np.arange(10))


@pytest.mark.parametrize("fraction, expected", [(0.05, 1), (0.1, 1), (0.29, 2), (0.3, 3), (0.7, 7), (1.0, 10)])
def test_clients_per_round(fraction, expected):
    assert fl.FLConfig(n_clients=10, fraction=fraction).clients_per_round == expected


DETERMINISM_CONFIG = dict(n_clients=5, rounds=3, fraction=0.6, client_momentum=0.5, partition="dirichlet",
                          alpha=0.5, local_epochs=2, server_optimizer="fedavgm", seed=3)


def _fingerprint(h) -> dict:
    return {"weights": hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes()
                                               for w in h.final_weights)).hexdigest(),
            "accuracy": [repr(float(a)) for a in h.accuracy],
            "loss": [repr(float(v)) for v in h.loss],
            "participants": [p.tolist() for p in h.participants]}


def test_two_runs_in_one_process_give_the_same_numbers():
    a = fl.run_experiment(progress=False, **DETERMINISM_CONFIG)
    b = fl.run_experiment(progress=False, **DETERMINISM_CONFIG)
    assert a.same_numbers(b)
    assert _fingerprint(a) == _fingerprint(b)
    # and running the same Simulation twice resets it properly
    sim = fl.Simulation(fl.FLConfig(**DETERMINISM_CONFIG))
    assert sim.run(progress=False).same_numbers(sim.run(progress=False))
    c = fl.run_experiment(progress=False, **dict(DETERMINISM_CONFIG, seed=4))
    assert not a.same_numbers(c)


@pytest.mark.slow      # a fresh Python process imports TensorFlow
def test_run_in_a_subprocess_gives_the_same_numbers():
    script = ("import hashlib, json, numpy as np, fedlearn_edu as fl\n"
              f"h = fl.run_experiment(progress=False, **{DETERMINISM_CONFIG!r})\n"
              "print(json.dumps({'weights': hashlib.sha256(b''.join(np.ascontiguousarray(w).tobytes() "
              "for w in h.final_weights)).hexdigest(), 'accuracy': [repr(float(a)) for a in h.accuracy], "
              "'loss': [repr(float(v)) for v in h.loss], 'participants': [p.tolist() for p in h.participants]}))\n")
    proc = run_python(["-c", script])
    assert proc.returncode == 0, proc.stderr
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    here = _fingerprint(fl.run_experiment(progress=False, **DETERMINISM_CONFIG))
    assert len(here["accuracy"]) == 3
    assert child == here


def test_divergence_is_reported_not_raised():
    h = fl.run_experiment(client_learning_rate=10, progress=False)
    assert h.diverged
    assert isinstance(h.diverged_at, int) and 1 <= h.diverged_at <= 20
    assert h.rounds_completed == h.diverged_at - 1
    assert "client_learning_rate" in h.message and "10" in h.message
    assert np.all(np.isfinite(h.accuracy)) and np.all(np.isfinite(h.loss))
    assert len(h.participants) == len(h.bytes_down) == h.rounds_completed
    assert all(np.all(np.isfinite(w)) for w in h.final_weights)
    assert h.summary().startswith(f"DIVERGED in round {h.diverged_at}")


def test_callback_called_once_per_round():
    seen = []
    h = fl.run_experiment(callback=lambda hist: seen.append((hist.rounds_completed, hist.final_accuracy)),
                          rounds=4, n_clients=4, progress=False)
    assert [r for r, _ in seen] == [1, 2, 3, 4]
    np.testing.assert_array_equal([a for _, a in seen], h.accuracy)


def test_client_metrics_recorded_when_asked():
    h = fl.run_experiment(client_metrics=True, n_clients=6, fraction=0.5, rounds=3, progress=False)
    assert h.client_metrics is not None and len(h.client_metrics) == 3
    for r, record in enumerate(h.client_metrics):
        np.testing.assert_array_equal(record["ids"], h.participants[r])
        np.testing.assert_array_equal(record["n_examples"], h.client_sizes[h.participants[r]])
        assert len(record["loss"]) == len(record["accuracy"]) == 3
        assert np.all(np.isfinite(record["loss"])) and np.all(record["loss"] > 0)
        assert np.all((record["accuracy"] >= 0) & (record["accuracy"] <= 1))
    assert fl.run_experiment(**SMALL).client_metrics is None


def test_custom_model_with_dropout():
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(3, activation="softmax")])
    n_params = 20 * 32 + 32 + 32 * 3 + 3
    h = fl.run_experiment(model=model, n_clients=4, rounds=4, progress=False)
    assert not h.diverged and h.rounds_completed == 4
    assert h.final_accuracy > 0.7
    assert [w.shape for w in h.final_weights] == [(20, 32), (32,), (32, 3), (3,)]
    np.testing.assert_array_equal(h.bytes_down + h.bytes_up, np.full(4, 2 * 4 * n_params * 4))


def test_two_hidden_layers():
    h = fl.run_experiment(hidden_units=(16, 8), n_clients=4, rounds=4, progress=False)
    n_params = 20 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3
    assert fl.count_parameters(h.final_weights) == n_params
    assert not h.diverged and h.final_accuracy > 0.7
    np.testing.assert_array_equal(h.bytes_up, np.full(4, 4 * n_params * 4))


def test_custom_dataset():
    ds = fl.load_dataset("breast_cancer")
    h = fl.run_experiment(dataset=ds, n_clients=3, rounds=3, progress=False)
    assert h.label_counts.shape == (3, 2)
    assert h.final_weights[0].shape == (30, 64)
    assert h.final_accuracy > 0.85


def _manual_rounds(sim, rounds):
    """Walk through ``rounds`` rounds with the step methods; return what run() records."""
    sim.reset()
    out = {"participants": [], "accuracy": [], "loss": []}
    initial = sim.evaluate()
    for r in range(rounds):
        clients = sim.sample_clients(r)
        results = [sim.train_client(k, r) for k in clients]
        assert [res.client_id for res in results] == clients.tolist()
        averaged = sim.aggregate(results)
        expected_average = fl.weighted_average([res.weights for res in results],
                                               [len(sim.partitions[k]) for k in clients])
        assert all(np.array_equal(a, b) for a, b in zip(averaged, expected_average, strict=True))
        new = sim.server_update(averaged)
        loss, accuracy = sim.evaluate(new)
        sim.global_weights = new
        out["participants"].append(clients)
        out["accuracy"].append(accuracy)
        out["loss"].append(loss)
    return initial, out, [w.copy() for w in sim.global_weights]


def test_step_methods_reproduce_run_exactly_per_client_engine():
    config = fl.FLConfig(n_clients=6, rounds=2, fraction=0.5, server_optimizer="fedavgm",
                         client_momentum=0.3, seed=2, engine="per_client")
    sim = fl.Simulation(config)
    h = sim.run(progress=False)
    initial, manual, weights = _manual_rounds(sim, 2)
    assert (h.initial_loss, h.initial_accuracy) == initial
    for a, b in zip(h.participants, manual["participants"], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(h.accuracy, manual["accuracy"])
    np.testing.assert_array_equal(h.loss, manual["loss"])
    assert all(np.array_equal(a, b) for a, b in zip(h.final_weights, weights, strict=True))


def test_step_methods_reproduce_one_round_of_run_default_engine():
    sim = fl.Simulation(fl.FLConfig(n_clients=5, rounds=1, seed=1))
    h = sim.run(progress=False)
    initial, manual, weights = _manual_rounds(sim, 1)
    np.testing.assert_array_equal(h.participants[0], manual["participants"][0])
    np.testing.assert_allclose(h.initial_loss, initial[0], rtol=1e-5)
    np.testing.assert_allclose(h.loss, manual["loss"], rtol=1e-5)
    np.testing.assert_allclose(h.accuracy, manual["accuracy"], atol=1e-6)
    for a, b in zip(h.final_weights, weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_client_data_is_the_partition():
    sim = fl.Simulation(fl.FLConfig(n_clients=4, rounds=1, partition="shards"))
    X, y = sim.client_data(2)
    np.testing.assert_array_equal(X, sim.dataset.X_train[sim.partitions[2]])
    np.testing.assert_array_equal(y, sim.dataset.y_train[sim.partitions[2]])
    assert sim.n_parameters == ARTICLE_N_PARAMETERS


def test_config_replace_and_unknown_override():
    c = fl.FLConfig().replace(n_clients=20, alpha=0.1)
    assert c.n_clients == 20 and c.alpha == 0.1
    assert c.to_dict()["n_clients"] == 20
    with pytest.raises(TypeError, match=r"no field\(s\) \['n_client'\]"):
        fl.run_experiment(n_client=5)
    with pytest.raises(ValueError, match="rounds"):
        fl.FLConfig().replace(rounds=0)
    with pytest.raises(TypeError, match="config must be an FLConfig"):
        fl.Simulation({"n_clients": 3})


def _dense_model():
    return keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def _dropout_model():
    return keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dropout(0.2, seed=1), keras.layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("make_model, engine", [(_dense_model, "per_client"), (_dropout_model, "auto")],
                         ids=["dense-per_client", "dropout-auto"])
def test_run_experiment_leaves_the_callers_model_untouched(make_model, engine):
    keras.utils.set_random_seed(0)
    model = make_model()
    before = fl.get_weights(model)
    first = fl.run_experiment(model=model, n_clients=3, rounds=3, engine=engine, progress=False)
    second = fl.run_experiment(model=model, n_clients=3, rounds=3, engine=engine, progress=False)
    # the second experiment must start from the same initial model as the first
    assert second.initial_loss == first.initial_loss
    assert all(np.array_equal(a, b) for a, b in zip(fl.get_weights(model), before, strict=True))


def test_rounds_to_accuracy_counts_a_float32_hit_on_the_target():
    h = fl.run_experiment(fl.FLConfig(rounds=2))
    h.accuracy = np.array([np.float32(341 / 360), np.float32(342 / 360)], dtype=np.float64)
    assert h.accuracy[1] < 0.95                     # float32 stores 342/360 a hair below 0.95
    assert h.rounds_to_accuracy(0.95) == 2
    assert h.rounds_to_accuracy(0.951) is None
