"""SCAFFOLD (Karimireddy et al. 2020, option II) on the per-client engine."""
import numpy as np
import pytest

import fedlearn_edu as fl


def _first_round(config):
    sim = fl.Simulation(config)
    sim.reset()
    clients = sim.sample_clients(0)
    results = [sim.train_client(k, 0) for k in clients]
    return sim, clients, results


def test_first_round_with_zero_controls_is_fedavg():
    base = fl.FLConfig(n_clients=5, rounds=1, partition="dirichlet", alpha=0.3, engine="per_client")
    fedavg = fl.run_experiment(base)
    scaffold = fl.run_experiment(base.replace(scaffold=True))
    for a, b in zip(fedavg.final_weights, scaffold.final_weights):
        np.testing.assert_array_equal(a, b)
    assert scaffold.engine == "per_client"
    np.testing.assert_array_equal(scaffold.bytes_up, 2 * fedavg.bytes_up)
    np.testing.assert_array_equal(scaffold.bytes_down, 2 * fedavg.bytes_down)


def test_control_variates_after_one_round_are_the_mean_gradients():
    # With c = c_k = 0 and plain SGD, y_k = x - lr * sum_j g_j, so c_k+ = (x - y_k)/(K lr) = mean_j g_j,
    # and c = (1/N) sum_k c_k+ over the round's clients.
    config = fl.FLConfig(n_clients=4, rounds=1, batch_size=16, scaffold=True, client_learning_rate=0.05)
    sim, clients, results = _first_round(config)
    x = fl.flatten_weights(sim.global_weights)
    sim.update_controls(results)
    for res in results:
        expected = (x - fl.flatten_weights(res.weights)) / (res.n_steps * 0.05)
        np.testing.assert_allclose(sim.client_controls[res.client_id], expected, rtol=1e-5, atol=1e-6)
        assert res.n_steps == int(np.ceil(len(sim.partitions[res.client_id]) / 16))
    np.testing.assert_allclose(sim.server_control, sim.client_controls.sum(axis=0) / 4, rtol=1e-5, atol=1e-7)


def test_correction_enters_every_local_step():
    # a constant correction c - c_k shifts every SGD step by -lr * (c - c_k): with a one-step
    # client the result moves by exactly that much
    config = fl.FLConfig(n_clients=2, rounds=1, batch_size=None, scaffold=True, client_learning_rate=0.1)
    sim = fl.Simulation(config)
    plain = sim.train_client(0, 0)
    sim.server_control[:] = 0.5
    shifted = sim.train_client(0, 0)
    diff = fl.flatten_weights(plain.weights) - fl.flatten_weights(shifted.weights)
    np.testing.assert_allclose(diff, 0.1 * 0.5, rtol=1e-4)


def test_scaffold_runs_reproducibly_and_learns_on_non_iid_data():
    config = fl.FLConfig(n_clients=10, rounds=20, partition="shards", scaffold=True)
    a, b = fl.run_experiment(config), fl.run_experiment(config)
    assert a.same_numbers(b)
    assert not a.diverged and a.final_accuracy >= 0.8


def test_vectorized_engine_refuses_scaffold():
    with pytest.raises(ValueError, match="scaffold=True"):
        fl.Simulation(fl.FLConfig(scaffold=True, engine="vectorized"))
