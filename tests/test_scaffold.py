"""SCAFFOLD (Karimireddy et al. 2020, option II): the per-client engine against hand-derived
identities, and the vectorised engine against the per-client one."""
import numpy as np
import pytest

import fedlearn_edu as fl

from helpers import run_both_engines  # noqa: E402


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


@pytest.mark.parametrize("changes", [
    dict(),
    dict(partition="dirichlet", alpha=0.3, fraction=0.5, local_epochs=2),     # unequal sizes, partial
    dict(client_momentum=0.5, mu=0.05, batch_size=16),
    dict(partition="shards", server_optimizer="fedadam", server_learning_rate=0.05),
], ids=["iid", "dirichlet-partial-E2", "momentum-prox", "shards-fedadam"])
def test_vectorized_scaffold_matches_per_client(changes):
    config = fl.FLConfig(n_clients=8, rounds=6, scaffold=True).replace(**changes)
    fast, slow = run_both_engines(config)
    np.testing.assert_allclose(fast.accuracy, slow.accuracy, atol=0.006)   # one test example in 200


def test_vectorized_scaffold_differs_from_fedavg_after_round_one():
    """The control variates start at zero (round 1 = FedAvg) and then change the path."""
    config = fl.FLConfig(n_clients=8, rounds=3, partition="shards", engine="vectorized")
    fedavg, scaffold = fl.run_experiment(config), fl.run_experiment(config.replace(scaffold=True))
    first = fl.run_experiment(config.replace(rounds=1)), fl.run_experiment(config.replace(rounds=1, scaffold=True))
    for a, b in zip(*(h.final_weights for h in first)):
        np.testing.assert_array_equal(a, b)
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(fedavg.final_weights, scaffold.final_weights)) > 1e-3
