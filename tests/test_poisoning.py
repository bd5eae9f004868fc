"""fedlearn_edu.poisoning: attacks, and robust rules that bound one attacker as their definitions say."""
from __future__ import annotations

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import poisoning as po

F32 = 1e-6     # the aggregate module returns float32: compare to that precision


def _honest(m, p=40, seed=0):
    return np.random.default_rng(seed).normal(0.1, 0.05, (m, p))


ATTACKERS = {
    "huge": lambda h: np.full(h.shape[1], 1e6),
    "huge negative": lambda h: np.full(h.shape[1], -1e6),
    "sign flip x50": lambda h: po.sign_flipped_update(h[0], 50),
    "mixed": lambda h: np.where(np.arange(h.shape[1]) % 2, 1e4, -1e4),
}


# -- attacks ------------------------------------------------------------------------------------
def test_attacks_do_what_they_say():
    u = np.array([1.0, -2.0])
    assert po.scaled_update(u, 10).tolist() == [10.0, -20.0]
    assert po.sign_flipped_update(u, 3).tolist() == [-3.0, 6.0]
    assert po.flip_labels(np.array([0, 1, 2, 2]), 3).tolist() == [1, 2, 0, 0]
    with pytest.raises(ValueError, match="factor"):
        po.sign_flipped_update(u, 0.0)
    with pytest.raises(ValueError, match="y"):
        po.flip_labels(np.array([0, 3]), 3)


# -- bounds ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [3, 5, 10])
@pytest.mark.parametrize("attack", list(ATTACKERS))
def test_median_stays_within_the_honest_range_with_one_attacker(m, attack):
    honest = _honest(m - 1, seed=m)
    out = po.aggregate_updates(np.vstack([honest, ATTACKERS[attack](honest)]), "median")
    assert np.all(out >= honest.min(axis=0) - F32) and np.all(out <= honest.max(axis=0) + F32)


@pytest.mark.parametrize("n_attackers, trim, m", [(1, 1, 5), (1, 2, 7), (2, 2, 8), (3, 3, 10)])
@pytest.mark.parametrize("attack", list(ATTACKERS))
def test_trimmed_mean_with_trim_at_least_the_attackers_stays_within_the_honest_range(n_attackers, trim, m, attack):
    honest = _honest(m - n_attackers, seed=m)
    attackers = np.vstack([ATTACKERS[attack](honest)] * n_attackers)
    out = po.aggregate_updates(np.vstack([honest, attackers]), "trimmed_mean", trim=trim)
    assert np.all(out >= honest.min(axis=0) - F32) and np.all(out <= honest.max(axis=0) + F32)


def test_trimmed_mean_with_too_small_a_trim_is_dragged_out():
    honest = _honest(6)
    attackers = np.vstack([ATTACKERS["huge"](honest)] * 2)
    out = po.aggregate_updates(np.vstack([honest, attackers]), "trimmed_mean", trim=1)
    assert np.all(out > honest.max(axis=0))


@pytest.mark.parametrize("m, S", [(5, 0.1), (10, 0.5), (20, 2.0)])
@pytest.mark.parametrize("attack", list(ATTACKERS))
def test_clipping_bounds_the_attacker_by_S_over_m_or_2S_over_m_by_baseline(m, S, attack):
    honest = _honest(m - 1, seed=m)
    attacker = ATTACKERS[attack](honest)
    with_attacker = po.clipped_mean(np.vstack([honest, attacker]), S)
    # baseline 1: the same client sends nothing (a zero update) -> at most S / m
    attacker_silent = po.clipped_mean(np.vstack([honest, np.zeros_like(attacker)]), S)
    assert np.linalg.norm(with_attacker - attacker_silent) <= S / m + 1e-12
    # baseline 2: an honest client in its place (attacker_shift) -> at most 2 S / m
    assert po.attacker_shift(honest, attacker, "clipped_mean", clip_norm=S) <= 2 * S / m + 1e-12


def test_the_2S_over_m_bound_is_reached_by_an_update_opposite_the_honest_one():
    """Two clipped updates of norm S pointing opposite ways: the bound against an honest client is tight."""
    S, m = 0.5, 4
    honest = np.tile(np.array([1.0, 0.0]), (m - 1, 1))           # every honest update the same, norm 1 > S
    shift = po.attacker_shift(honest, np.array([-5.0, 0.0]), "clipped_mean", clip_norm=S)
    assert shift == pytest.approx(2 * S / m)


def test_fedavg_shift_grows_with_the_attackers_factor_and_robust_rules_do_not():
    honest = _honest(9)
    shifts = {f: {r: po.attacker_shift(honest, po.scaled_update(honest[0], f), r, clip_norm=0.5)
                  for r in po.AGGREGATION_RULES} for f in (10, 100, 1000)}
    assert shifts[1000]["fedavg"] > 50 * shifts[10]["fedavg"]
    assert shifts[1000]["fedavg"] == pytest.approx(shifts[100]["fedavg"] * 1000 / 100, rel=0.02)
    spread = np.linalg.norm(honest.max(axis=0) - honest.min(axis=0))
    for rule in ("median", "trimmed_mean"):
        assert max(shifts[f][rule] for f in shifts) <= spread
    assert max(shifts[f]["clipped_mean"] for f in shifts) <= 2 * 0.5 / 10 + 1e-12


def test_honest_attacker_moves_nothing_under_fedavg():
    honest = _honest(5)
    assert po.attacker_shift(honest, honest.mean(axis=0), "fedavg") == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("kwargs, name", [(dict(rule="mean"), "rule"), (dict(trim=3), "trim"),
                                          (dict(rule="clipped_mean", clip_norm=0.0), "clip_norm")])
def test_aggregate_arguments_are_checked(kwargs, name):
    args = dict(rule="trimmed_mean") | kwargs
    with pytest.raises(ValueError, match=name):
        po.aggregate_updates(_honest(5), **args)


def test_aggregate_fedavg_is_the_weighted_average():
    u = _honest(3)
    assert np.allclose(po.aggregate_updates(u, "fedavg", n_examples=[1, 1, 2]), (u[0] + u[1] + 2 * u[2]) / 4)


# -- a federation -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_federation():
    config = fl.FLConfig(n_clients=6, rounds=8, engine="per_client")
    return config, fl.Simulation(config)


def test_sign_flipper_wrecks_fedavg_but_not_the_median(small_federation):
    config, sim = small_federation
    clean = po.run_poisoned_fedavg(config, "none", "fedavg", simulation=sim)
    attacked = po.run_poisoned_fedavg(config, "sign_flip", "fedavg", factor=10, simulation=sim)
    median = po.run_poisoned_fedavg(config, "sign_flip", "median", factor=10, simulation=sim)
    assert attacked.final_accuracy <= clean.final_accuracy - 0.2
    assert median.final_accuracy >= clean.final_accuracy - 0.05
    assert attacked.attackers == (0,) and clean.attackers == ()
    assert attacked.accuracy.shape == (8,) and "0x" not in repr(attacked)


def test_label_flipper_trains_on_flipped_labels(small_federation):
    config, sim = small_federation
    run = po.run_poisoned_fedavg(config, "label_flip", "fedavg", simulation=sim)
    assert run.accuracy.shape == (8,) and np.all(np.isfinite(run.accuracy))
    with pytest.raises(ValueError, match="attack"):
        po.run_poisoned_fedavg(config, "backdoor", simulation=sim)
