"""SCAFFOLD (Karimireddy et al. 2020, option II): the per-client engine against hand-derived
identities, and the vectorised engine against the per-client one."""
import numpy as np
import pytest
from helpers import run_both_engines  # noqa: E402

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
    for a, b in zip(fedavg.final_weights, scaffold.final_weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert scaffold.engine == "per_client"
    np.testing.assert_array_equal(scaffold.bytes_up, 2 * fedavg.bytes_up)
    np.testing.assert_array_equal(scaffold.bytes_down, 2 * fedavg.bytes_down)


def test_control_variates_after_one_round_are_the_mean_gradients():
    # With c = c_k = 0 and plain SGD, y_k = x - lr * sum_j g_j, so c_k+ = (x - y_k)/(K lr) = mean_j g_j,
    # and c = sum_k p_k c_k+ over the round's clients, p_k = n_k / n (client_weighting="examples").
    config = fl.FLConfig(n_clients=4, rounds=1, batch_size=16, scaffold=True, client_learning_rate=0.05)
    sim, clients, results = _first_round(config)
    x = fl.flatten_weights(sim.global_weights)
    sim.update_controls(results)
    for res in results:
        expected = (x - fl.flatten_weights(res.weights)) / (res.n_steps * 0.05)
        np.testing.assert_allclose(sim.client_controls[res.client_id], expected, rtol=1e-5, atol=1e-6)
        assert res.n_steps == int(np.ceil(len(sim.partitions[res.client_id]) / 16))
    p = sim.client_sizes / sim.client_sizes.sum()
    np.testing.assert_allclose(sim.server_control, p @ sim.client_controls, rtol=1e-5, atol=1e-7)
    uniform = fl.Simulation(config.replace(client_weighting="uniform"))
    uniform.update_controls(results)
    np.testing.assert_allclose(uniform.server_control, uniform.client_controls.sum(axis=0) / 4,
                               rtol=1e-5, atol=1e-7)


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
    dict(partition="dirichlet", alpha=0.1, client_weighting="uniform", fraction=0.5),
], ids=["iid", "dirichlet-partial-E2", "momentum-prox", "shards-fedadam", "uniform-weighting"])
def test_vectorized_scaffold_matches_per_client(changes):
    config = fl.FLConfig(n_clients=8, rounds=6, scaffold=True).replace(**changes)
    fast, slow = run_both_engines(config)
    np.testing.assert_allclose(fast.accuracy, slow.accuracy, atol=0.006)   # one test example in 200


def test_vectorized_scaffold_differs_from_fedavg_after_round_one():
    """The control variates start at zero (round 1 = FedAvg) and then change the path."""
    config = fl.FLConfig(n_clients=8, rounds=3, partition="shards", engine="vectorized")
    fedavg, scaffold = fl.run_experiment(config), fl.run_experiment(config.replace(scaffold=True))
    first = fl.run_experiment(config.replace(rounds=1)), fl.run_experiment(config.replace(rounds=1, scaffold=True))
    for a, b in zip(*(h.final_weights for h in first), strict=True):
        np.testing.assert_array_equal(a, b)
    pairs = zip(fedavg.final_weights, scaffold.final_weights, strict=True)
    assert max(float(np.max(np.abs(a - b))) for a, b in pairs) > 1e-3


# ---------------------------------------------------------------------------------------------
# SCAFFOLD's fixed point is the minimiser of the objective its average minimises.
#
# On a convex problem (softmax regression: no hidden layer) with full-batch local steps, a
# SCAFFOLD run settles where every c_k = grad F_k(x) and c = sum_k p_k c_k = grad F(x) = 0, i.e. at
# the minimiser of F(w) = sum_k p_k F_k(w) with the p_k of the control-variate update. If the
# average used other weights than c (n_k/n for the model, 1/N for c), SCAFFOLD would land on the
# minimiser of the uniform objective while FedAvg and FedProx chase the weighted one. FedAvg with
# many local steps misses both (client drift). The minimisers are computed centrally in float64.
FIXED_POINT = fl.FLConfig(n_clients=5, rounds=150, partition="dirichlet", alpha=0.05, seed=1,
                          hidden_units=(), batch_size=None, local_epochs=20, client_learning_rate=0.3)


def _centred(vector, n_features, n_classes):
    """Softmax regression is unchanged by adding one vector to every class's weights; both runs and
    minimiser are compared with that direction removed (the class mean subtracted)."""
    W = vector[:n_features * n_classes].reshape(n_features, n_classes)
    b = vector[n_features * n_classes:]
    return np.concatenate([(W - W.mean(axis=1, keepdims=True)).ravel(), b - b.mean()])


def _central_minimiser(sim, p):
    """argmin_w sum_k p_k F_k(w), F_k client k's mean cross-entropy, by L-BFGS in float64."""
    from scipy.optimize import minimize
    d = sim.dataset
    D, C = d.n_features, d.n_classes
    clients = [(d.X_train[idx].astype(np.float64), d.y_train[idx]) for idx in sim.partitions]

    def objective(w):
        W, b = w[:D * C].reshape(D, C), w[D * C:]
        value, grad_W, grad_b = 0.0, np.zeros((D, C)), np.zeros(C)
        for p_k, (X, y) in zip(p, clients, strict=True):
            z = X @ W + b
            z -= z.max(axis=1, keepdims=True)
            probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            value -= p_k * np.mean(np.log(probs[np.arange(len(y)), y]))
            probs[np.arange(len(y)), y] -= 1.0
            grad_W += p_k * X.T @ probs / len(y)
            grad_b += p_k * probs.mean(axis=0)
        return value, np.concatenate([grad_W.ravel(), grad_b])

    start = fl.flatten_weights(sim.initial_weights).astype(np.float64)
    result = minimize(objective, start, jac=True, method="L-BFGS-B",
                      options=dict(gtol=1e-12, ftol=0.0, maxiter=20_000))
    assert np.linalg.norm(result.jac) < 1e-7, "the central problem has no finite minimiser (separable data?)"
    return _centred(result.x, D, C)


@pytest.fixture(scope="module")
def minimisers():
    sim = fl.Simulation(FIXED_POINT)
    n = sim.client_sizes
    assert n.max() >= 10 * n.min(), f"client sizes {n.tolist()} are not unequal enough for this test"
    found = {"examples": _central_minimiser(sim, n / n.sum()),
             "uniform": _central_minimiser(sim, np.full(len(n), 1.0 / len(n)))}
    assert np.linalg.norm(found["examples"] - found["uniform"]) > 0.3    # the two objectives differ
    return found, sim.dataset.n_features, sim.dataset.n_classes


def _distances(config, minimisers):
    found, D, C = minimisers
    final = _centred(fl.flatten_weights(fl.run_experiment(config).final_weights).astype(np.float64), D, C)
    return {name: float(np.linalg.norm(final - w)) for name, w in found.items()}


@pytest.mark.parametrize("engine", ["vectorized", "per_client"])
@pytest.mark.parametrize("weighting", ["examples", "uniform"])
def test_scaffold_fixed_point_is_the_minimiser_of_its_objective(minimisers, weighting, engine):
    other = {"examples": "uniform", "uniform": "examples"}[weighting]
    config = FIXED_POINT.replace(client_weighting=weighting, engine=engine)
    scaffold = _distances(config.replace(scaffold=True), minimisers)
    fedavg = _distances(config, minimisers)
    assert scaffold[weighting] < 1e-4, scaffold            # on the minimiser (float32 tolerance)
    assert scaffold[other] > 0.3, scaffold                 # not on the other objective's
    assert fedavg[weighting] > 0.1, fedavg                 # FedAvg's fixed point drifts off it


@pytest.mark.parametrize("weighting", ["examples", "uniform"])
def test_fedsgd_heads_for_the_minimiser_of_the_chosen_weighting(minimisers, weighting):
    """One full-batch step per round: the average is a gradient step on the chosen objective."""
    other = {"examples": "uniform", "uniform": "examples"}[weighting]
    fedsgd = _distances(FIXED_POINT.replace(client_weighting=weighting, local_epochs=1, rounds=400,
                                            client_learning_rate=1.0), minimisers)
    assert fedsgd[weighting] < 0.1 * fedsgd[other], fedsgd


def test_scaffold_controls_come_from_the_clients_own_models():
    """With compression, c_k+ uses the client's own y_k, not what the server decodes from its upload."""
    config = fl.FLConfig(n_clients=4, rounds=1, batch_size=16, scaffold=True, compression="int4",
                         client_learning_rate=0.05, engine="per_client")
    sim = fl.Simulation(config)
    sim.run(progress=False)
    controls = sim.client_controls.copy()
    sim.reset()                                                  # zero controls, the initial model again
    x = fl.flatten_weights(sim.initial_weights)
    for k in sim.sample_clients(0):
        own = sim.train_client(k, 0)                             # the same batches as in the run
        expected = (x - fl.flatten_weights(own.weights)) / (own.n_steps * 0.05)
        np.testing.assert_allclose(controls[k], expected, rtol=1e-5, atol=1e-6)
        decoded = sim.compress([own], 0)
        assert decoded > 0 and not np.allclose((x - fl.flatten_weights(own.weights)) / (own.n_steps * 0.05),
                                               expected, atol=1e-3)   # int4 decoding moves the model


@pytest.mark.parametrize("compression, rounds", [("int8", 2), ("topk", 5)])
def test_scaffold_with_compression_agrees_on_both_engines(compression, rounds):
    """Both engines take c_k+ from the clients' own models (int8: two rounds, before stochastic
    rounding flips part the engines, see test_compression)."""
    config = fl.FLConfig(n_clients=6, rounds=rounds, partition="dirichlet", alpha=0.3, scaffold=True,
                         compression=compression)
    run_both_engines(config)
