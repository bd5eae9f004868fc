"""The vectorised engine gives the per-client engine's numbers, and never retraces."""
import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import rng
from fedlearn_edu.vectorized import Architecture, tf_epoch_orders, tracing_count

CASES = {
    "iid": dict(n_clients=10, rounds=6),
    "dirichlet_unequal_E3": dict(n_clients=7, rounds=5, partition="dirichlet", alpha=0.3,
                                 local_epochs=3, batch_size=10),
    "partial_participation": dict(n_clients=20, rounds=6, fraction=0.3),
    "quantity_fedprox_momentum": dict(n_clients=8, rounds=5, partition="quantity", mu=0.1,
                                      client_momentum=0.5, server_optimizer="fedavgm"),
    "full_batch_fedadam": dict(n_clients=5, rounds=5, batch_size=None, server_optimizer="fedadam"),
    "deeper_tanh_fedyogi": dict(n_clients=6, rounds=4, hidden_units=(16, 8), activation="tanh",
                                server_optimizer="fedyogi", partition="shards"),
    "gelu_elu_adagrad_digits": dict(n_clients=5, rounds=3, hidden_units=(32,), activation="gelu",
                                    server_optimizer="fedadagrad", dataset="digits"),
}


def _rel_err(a, b):
    return max(float(np.max(np.abs(x - y))) / (float(np.max(np.abs(y))) + 1e-12) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", sorted(CASES))
def test_vectorized_matches_per_client(name):
    config = fl.FLConfig(**CASES[name])
    vec = fl.run_experiment(config.replace(engine="vectorized"))
    per = fl.run_experiment(config.replace(engine="per_client"))
    assert vec.engine == "vectorized" and per.engine == "per_client"
    assert _rel_err(vec.final_weights, per.final_weights) < 1e-5
    assert all(np.array_equal(a, b) for a, b in zip(vec.participants, per.participants, strict=True))
    np.testing.assert_allclose(vec.loss, per.loss, rtol=1e-4)
    assert np.max(np.abs(vec.accuracy - per.accuracy)) <= 1.0 / len(fl.load_dataset(config.dataset).y_test) + 1e-9
    np.testing.assert_array_equal(vec.bytes_up, per.bytes_up)


def test_divergence_agrees_between_engines():
    config = fl.FLConfig(rounds=12, client_learning_rate=10.0)
    vec = fl.run_experiment(config.replace(engine="vectorized"))
    per = fl.run_experiment(config.replace(engine="per_client"))
    assert per.diverged_at is not None
    assert vec.diverged_at == per.diverged_at
    assert vec.rounds_completed == per.rounds_completed == per.diverged_at - 1
    assert all(np.all(np.isfinite(w)) for w in vec.final_weights)
    assert "client_learning_rate" in vec.message


def test_client_metrics_agree():
    config = fl.FLConfig(n_clients=6, rounds=3, partition="dirichlet", alpha=0.5)
    vec = fl.run_experiment(config.replace(engine="vectorized"), client_metrics=True)
    per = fl.run_experiment(config.replace(engine="per_client"), client_metrics=True)
    for a, b in zip(vec.client_metrics, per.client_metrics, strict=True):
        np.testing.assert_array_equal(a["ids"], b["ids"])
        np.testing.assert_array_equal(a["n_examples"], b["n_examples"])
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-4)


def test_graph_hash_matches_numpy():
    sizes = np.array([5, 9, 1])
    orders = tf_epoch_orders(sizes, 9, 2, 4, 1, np.array([3, 0, 8])).numpy()
    for row, (n, client) in enumerate(zip(sizes, [3, 0, 8], strict=True)):
        expected = rng.epoch_orders(int(n), 2, 4, 1, client)
        np.testing.assert_array_equal(orders[row, :, :n], expected)
    # one seed per client (the experiments of a batch)
    orders = tf_epoch_orders(sizes, 9, 2, np.array([4, 7, 0]), 1, np.array([3, 0, 8])).numpy()
    for row, (n, seed, client) in enumerate(zip(sizes, [4, 7, 0], [3, 0, 8], strict=True)):
        np.testing.assert_array_equal(orders[row, :, :n], rng.epoch_orders(int(n), 2, seed, 1, client))


def test_no_retracing_when_sliders_move():
    ds = fl.load_dataset("article")
    arch = Architecture((20, 64, 3), ("relu",))
    fl.run_experiment(fl.FLConfig(rounds=2), dataset=ds)
    before = tracing_count(arch)
    for change in [dict(n_clients=1), dict(n_clients=100), dict(rounds=3), dict(local_epochs=2),
                   dict(batch_size=7), dict(batch_size=None), dict(client_learning_rate=0.03),
                   dict(server_learning_rate=0.5), dict(server_optimizer="fedavgm", server_momentum=0.3),
                   dict(mu=0.2), dict(partition="dirichlet", alpha=0.2), dict(fraction=0.5),
                   dict(seed=9), dict(server_optimizer="fedyogi")]:
        h = fl.run_experiment(fl.FLConfig(rounds=2).replace(**change), dataset=ds)
        assert h.engine == "vectorized"
    assert tracing_count(arch) == before


def test_other_models_use_the_per_client_engine():
    import keras
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.1), keras.layers.Dense(3, activation="softmax")])
    h = fl.run_experiment(fl.FLConfig(rounds=2), model=model)
    assert h.engine == "per_client"
    with pytest.raises(ValueError, match="engine='vectorized'"):
        fl.Simulation(fl.FLConfig(engine="vectorized"), model=model)
    assert Architecture.from_model(fl.build_article_model()) == Architecture((20, 64, 3), ("relu",))


def test_callback_sees_every_round_in_order():
    seen = []
    fl.run_experiment(fl.FLConfig(rounds=4), callback=lambda h: seen.append(h.rounds_completed))
    assert seen == [1, 2, 3, 4]


@pytest.mark.parametrize("local_steps", [1, 2, 5])
def test_local_step_cap_matches(local_steps):
    config = fl.FLConfig(n_clients=6, rounds=4, partition="quantity", local_epochs=2, batch_size=8,
                         local_steps=local_steps)
    vec = fl.run_experiment(config.replace(engine="vectorized"))
    per = fl.run_experiment(config.replace(engine="per_client"))
    assert _rel_err(vec.final_weights, per.final_weights) < 1e-5
def test_per_round_batch_orders_equal_precomputed_ones(monkeypatch):
    """Large runs compute each round's batch order inside the loop instead of all rounds up
    front (vectorized.MAX_PRECOMPUTED_ORDERS); both paths give the same bits."""
    from fedlearn_edu import vectorized
    config = fl.FLConfig(n_clients=12, rounds=5, partition="dirichlet", alpha=0.3, fraction=0.5, local_epochs=2,
                         batch_size=16)
    precomputed = fl.run_experiment(config)
    monkeypatch.setattr(vectorized, "_CACHE", {})
    monkeypatch.setattr(vectorized, "MAX_PRECOMPUTED_ORDERS", 0)
    per_round = fl.run_experiment(config)
    assert precomputed.engine == per_round.engine == "vectorized"
    assert precomputed.same_numbers(per_round)
    for a, b in zip(precomputed.final_weights, per_round.final_weights, strict=True):
        np.testing.assert_array_equal(a, b)
