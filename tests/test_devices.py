"""Devices: profiles, the simulated wall clock, dropouts and the deadline for stragglers."""
import numpy as np
import pytest
from helpers import run_both_engines  # noqa: E402

import fedlearn_edu as fl
from fedlearn_edu.devices import DeviceProfile, make_device_profiles, plan_round

FAST = DeviceProfile(examples_per_second=100.0, bytes_per_second=6156.0)
SLOW = DeviceProfile(examples_per_second=10.0, bytes_per_second=6156.0)
SIZES = {0: np.array([32, 32, 16]), 1: np.array([32, 32, 16])}      # 80 examples, B = 32, E = 1


def test_wall_clock_by_hand():
    # fast client: 1 s down + 80/100 s training + 1 s up = 2.8 s; slow: 1 + 8 + 1 = 10 s
    plan = plan_round([FAST, SLOW], [0, 1], batch_sizes=SIZES, model_bytes=6156, upload_bytes=6156)
    assert plan.clients.tolist() == [0, 1] and plan.seconds == pytest.approx(10.0)
    assert plan.max_steps == {0: None, 1: None}


def test_deadline_drops_stragglers():
    plan = plan_round([FAST, SLOW], [0, 1], batch_sizes=SIZES, model_bytes=6156, upload_bytes=6156,
                      deadline=5.0, policy="drop")
    assert plan.clients.tolist() == [0] and plan.stragglers.tolist() == [1]
    assert plan.seconds == 5.0, "the server waits until the deadline for the missing client"


def test_deadline_accepts_partial_work():
    # slow client: 2 s of transfers leave 3 s = 30 examples: not even one batch of 32 fits...
    plan = plan_round([FAST, SLOW], [0, 1], batch_sizes=SIZES, model_bytes=6156, upload_bytes=6156,
                      deadline=5.0, policy="partial")
    assert plan.clients.tolist() == [0]
    # ...but with 6.5 s, 45 examples fit: one step of 32
    plan = plan_round([FAST, SLOW], [0, 1], batch_sizes=SIZES, model_bytes=6156, upload_bytes=6156,
                      deadline=6.5, policy="partial")
    assert plan.clients.tolist() == [0, 1] and plan.max_steps == {0: None, 1: 1}
    assert plan.seconds == 6.5


def test_dropout_is_seeded():
    profiles = [DeviceProfile(100.0, 6156.0, 0.5)] * 40
    sizes = {k: np.array([10]) for k in range(40)}
    a = plan_round(profiles, range(40), batch_sizes=sizes, model_bytes=100, upload_bytes=100, seed=1, round_index=3)
    b = plan_round(profiles, range(40), batch_sizes=sizes, model_bytes=100, upload_bytes=100, seed=1, round_index=3)
    c = plan_round(profiles, range(40), batch_sizes=sizes, model_bytes=100, upload_bytes=100, seed=1, round_index=4)
    assert a.dropped_out.tolist() == b.dropped_out.tolist() != c.dropped_out.tolist()
    assert 8 <= len(a.dropped_out) <= 32


def test_profiles_spread_and_seed():
    same = make_device_profiles(5, seed=0, speed_spread=0.0)
    assert len({p.examples_per_second for p in same}) == 1
    spread = make_device_profiles(200, seed=0, speed_spread=1.0)
    speeds = np.array([p.examples_per_second for p in spread])
    assert 50 < np.median(speeds) < 200 and speeds.max() / speeds.min() > 20
    assert make_device_profiles(5, seed=3) == make_device_profiles(5, seed=3) != make_device_profiles(5, seed=4)


def test_federated_run_with_devices_is_deterministic():
    config = fl.FLConfig(rounds=8, devices=True, deadline=3.0, dropout=0.2, straggler_policy="partial", seed=2)
    a, b = fl.run_experiment(config), fl.run_experiment(config)
    assert a.same_numbers(b) and np.array_equal(a.simulated_seconds, b.simulated_seconds)
    assert a.engine == "vectorized" and np.all(a.simulated_seconds <= 3.0)
    assert any(len(p) < 10 for p in a.participants)


@pytest.mark.parametrize("engine", ["vectorized", "per_client"])
def test_nobody_delivers_keeps_the_global_model(engine):
    config = fl.FLConfig(rounds=3, dropout=1.0, server_optimizer="fedavgm", server_momentum=0.9, engine=engine)
    h = fl.run_experiment(config)
    assert all(len(p) == 0 for p in h.participants) and np.all(h.bytes_down == 0) and np.all(h.bytes_up == 0)
    assert np.all(h.accuracy == h.initial_accuracy)
    for w, w0 in zip(h.final_weights, fl.Simulation(config).initial_weights, strict=True):
        np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("changes", [
    dict(devices=True),
    dict(dropout=0.3),
    dict(deadline=2.0),
    dict(deadline=2.0, straggler_policy="partial", speed_spread=1.5),
    dict(dropout=0.5, deadline=1.0, straggler_policy="partial", scaffold=True, partition="dirichlet",
         alpha=0.3, fraction=0.5),
    dict(dropout=0.6, server_optimizer="fedavgm", server_momentum=0.9, client_momentum=0.5, local_steps=2),
], ids=["profiles", "dropout", "deadline-drop", "deadline-partial", "partial-scaffold-dirichlet", "dropout-momentum"])
def test_vectorized_devices_match_per_client(changes):
    """The device plan is made on the host and passed to the fast engine as step caps: same
    participants, bytes, simulated seconds, client metrics and (to float tolerance) weights."""
    config = fl.FLConfig(n_clients=8, rounds=6).replace(**changes)
    fast, slow = run_both_engines(config, client_metrics=True)
    assert [p.tolist() for p in fast.participants] == [p.tolist() for p in slow.participants]
    np.testing.assert_array_equal(fast.simulated_seconds, slow.simulated_seconds)
    for x, y in zip(fast.client_metrics, slow.client_metrics, strict=True):
        np.testing.assert_array_equal(x["ids"], y["ids"])
        np.testing.assert_allclose(x["loss"], y["loss"], rtol=1e-4, atol=1e-5)


def test_dropping_stragglers_saves_time():
    wait = fl.run_experiment(fl.FLConfig(rounds=10, devices=True))
    drop = fl.run_experiment(fl.FLConfig(rounds=10, devices=True, deadline=2.0))
    assert drop.simulated_seconds.sum() < wait.simulated_seconds.sum() / 2
    assert drop.final_accuracy >= 0.85


@pytest.mark.parametrize("field, value", [("dropout", 1.5), ("deadline", 0.0), ("straggler_policy", "wait"),
                                          ("speed_spread", -1.0)])
def test_bad_device_settings(field, value):
    with pytest.raises(ValueError, match=field):
        fl.FLConfig(**{field: value})
