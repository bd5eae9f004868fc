"""One round body (Simulation.run_round) and one plan (RoundPlan) for both engines."""
import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu.model import flatten_weights
from fedlearn_edu.round_plan import NO_STEP_CAP

SMALL = dict(n_clients=6, rounds=3, fraction=0.5, engine="per_client")


@pytest.mark.parametrize("compression", ["none", "int8", "int4", "topk"])
@pytest.mark.parametrize("scaffold", [False, True])
def test_planned_bytes_are_what_the_encoders_send(compression, scaffold):
    """The plan's bytes up come from Compressor.bytes_per_upload; the encoders count their own."""
    sim = fl.Simulation(fl.FLConfig(compression=compression, scaffold=scaffold, topk_fraction=0.03, **SMALL))
    plan = sim.plan_round(0)
    results = [sim.train_client(int(k), 0) for k in plan.clients]
    sent = sim.compress(results, 0)                       # the real encoders' byte counts
    model_bytes = 4 * sim.n_parameters
    extra = len(plan.clients) * model_bytes if scaffold else 0     # SCAFFOLD's delta c_k
    assert plan.bytes_up == sent + extra
    assert plan.bytes_down == (2 if scaffold else 1) * len(plan.sampled) * model_bytes


def test_plan_follows_devices_and_the_local_step_cap():
    sim = fl.Simulation(fl.FLConfig(n_clients=12, fraction=0.5, devices=True, dropout=0.3, deadline=1.0,
                                    straggler_policy="partial", local_steps=4, seed=3))
    plans = [sim.plan_round(r) for r in range(10)]
    caps = np.concatenate([p.step_caps for p in plans])
    assert caps.max() <= 4 and (caps == 0).any(), caps            # the cap holds; someone misses a round
    for p in plans:
        assert p.reached <= len(p.sampled)
        assert np.array_equal(p.clients, p.sampled[p.step_caps > 0])
        assert p.simulated_seconds is not None and p.simulated_seconds > 0
    free = fl.Simulation(fl.FLConfig(**SMALL)).plan_round(0)
    assert (free.step_caps == NO_STEP_CAP).all() and free.step_cap(int(free.sampled[0])) is None


def test_history_bytes_come_from_the_plans_in_both_engines():
    config = fl.FLConfig(n_clients=8, rounds=4, fraction=0.5, compression="int4", scaffold=True,
                         devices=True, dropout=0.2, seed=1)
    per_client = fl.run_experiment(config, engine="per_client")
    vectorized = fl.run_experiment(config, engine="vectorized")
    sim = fl.Simulation(config.replace(engine="per_client"))
    plans = [sim.plan_round(r) for r in range(config.rounds)]
    for history in (per_client, vectorized):
        assert history.bytes_up.tolist() == [p.bytes_up for p in plans]
        assert history.bytes_down.tolist() == [p.bytes_down for p in plans]
        assert history.simulated_seconds.tolist() == [p.simulated_seconds for p in plans]


def test_run_is_its_rounds():
    sim = fl.Simulation(fl.FLConfig(**SMALL))
    history = sim.run()
    sim.reset()
    outcomes = [sim.run_round(r) for r in range(3)]
    assert [o.accuracy for o in outcomes] == history.accuracy.tolist()
    assert all(np.array_equal(o.plan.clients, p) for o, p in zip(outcomes, history.participants, strict=True))


def test_hook_path_with_identity_hooks_matches_fedavg():
    """transform_updates/aggregate combine w_k - w in float64: identity hooks give FedAvg again."""
    sim = fl.Simulation(fl.FLConfig(**SMALL))
    plain = sim.run_round(0)
    sim.reset()
    calls = []

    def identity(updates, clients, round_index):
        calls.append((updates.shape, tuple(clients), round_index))
        return updates

    hooked = sim.run_round(0, transform_updates=identity)
    assert calls == [((len(plain.plan.clients), sim.n_parameters), tuple(plain.plan.clients), 0)]
    for a, b in zip(plain.new_weights, hooked.new_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-7)
    assert not np.array_equal(flatten_weights(plain.new_weights), flatten_weights(plain.previous_weights))


def test_aggregate_hook_replaces_the_average_and_runs_without_clients():
    sim = fl.Simulation(fl.FLConfig(**SMALL))
    before = flatten_weights(sim.global_weights)
    seen = []

    def push(updates, weights):
        seen.append(len(updates))
        return np.full(updates.shape[1], 0.01)

    outcome = sim.run_round(0, clients=[], aggregate=push)     # nobody sampled: the hook still runs
    assert seen == [0] and outcome.results == []
    np.testing.assert_allclose(flatten_weights(sim.global_weights) - before, 0.01, atol=1e-6)


def test_a_diverging_round_keeps_the_model_and_says_why():
    sim = fl.Simulation(fl.FLConfig(client_learning_rate=1e4, **SMALL))
    before = [w.copy() for w in sim.global_weights]
    outcome = None
    for r in range(3):
        outcome = sim.run_round(r)
        if outcome.diverged:
            break
    assert outcome.diverged and "client_learning_rate" in outcome.message
    assert all(np.array_equal(a, b) for a, b in zip(before, sim.global_weights, strict=True)) or r > 0
    assert all(np.all(np.isfinite(w)) for w in sim.global_weights)
