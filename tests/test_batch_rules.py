"""DP-FedAvg and the poisoning runs in the batched engine: every experiment of a mixed batch equals
its per-client run (the NumPy hooks of Simulation.run_round), and the graph's rules equal NumPy's."""
from __future__ import annotations

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import aggregate, privacy
from fedlearn_edu import poisoning as po
from fedlearn_edu._tf import tf
from fedlearn_edu.round_plan import RoundPlan, padded_rounds
from fedlearn_edu.vectorized import tracing_count
from fedlearn_edu.vectorized_rules import (
    attacked_updates,
    clipped_updates,
    median_of_sorted,
    sorted_by_experiment,
    trimmed_mean_of_sorted,
)

TOL = 1e-5


# -- the rules on their own, against fedlearn_edu.aggregate / privacy / poisoning ---------------------------
@pytest.fixture(scope="module")
def ragged_updates():
    """Three experiments with 5, 1 and 4 slots; slot 3 of the first and slot 1 of the third did not arrive."""
    rng = np.random.default_rng(7)
    updates = rng.normal(0, 1, (10, 6)).astype(np.float32)
    updates[2] *= 1e3                                               # an outlier the robust rules must resist
    experiment = np.array([0, 0, 0, 0, 0, 1, 2, 2, 2, 2], np.int64)
    arrived = np.array([1, 1, 1, 0, 1, 1, 1, 0, 1, 1], bool)
    return updates, experiment, arrived


def test_median_and_trimmed_mean_equal_numpy_per_experiment(ragged_updates):
    updates, experiment, arrived = ragged_updates
    ordered, counts = sorted_by_experiment(tf.constant(updates), tf.constant(arrived), tf.constant(experiment),
                                           tf.constant(3, tf.int64))
    assert counts.numpy().tolist() == [4, 1, 3]
    median = median_of_sorted(ordered, counts).numpy()
    trimmed = trimmed_mean_of_sorted(ordered, counts, tf.constant([1, 0, 1], tf.int64)).numpy()
    for x, trim in zip(range(3), (1, 0, 1), strict=True):
        rows = updates[(experiment == x) & arrived]
        np.testing.assert_allclose(median[x], aggregate.coordinate_median(rows), rtol=TOL)
        np.testing.assert_allclose(trimmed[x], aggregate.trimmed_mean(rows, trim), rtol=TOL)


def test_clipping_equals_clip_to_norm_even_for_huge_updates():
    updates = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0], [3e30, 4e30]], np.float32)
    clipped, norms = clipped_updates(tf.constant(updates), tf.constant([1.0, 1.0, 1.0, 2.0]))
    np.testing.assert_allclose(norms.numpy(), [5.0, 0.5, 0.0, 5e30], rtol=TOL)
    np.testing.assert_allclose(clipped.numpy()[:3], privacy.clip_to_norm(updates[:3].astype(np.float64), 1.0),
                               rtol=TOL)
    np.testing.assert_allclose(clipped.numpy()[3], [1.2, 1.6], rtol=TOL)      # float32 would overflow ||u||^2


def test_attacks_scale_only_the_attackers():
    updates = tf.ones([4, 3])
    sent = attacked_updates(updates, attack_code=tf.constant([1, 2, 3, 1], tf.int64),
                            attack_factor=tf.constant([10.0, 5.0, 7.0, 10.0]),
                            attacker=tf.constant([True, True, True, False])).numpy()
    assert sent[:, 0].tolist() == [10.0, -5.0, 1.0, 1.0]   # scaled, sign-flipped, label flipper, honest


def test_padded_rounds_never_repeat_a_client_and_pad_with_cap_zero():
    plans = [RoundPlan(round_index=r, sampled=np.array(s, np.int64), step_caps=np.full(len(s), 9, np.int64),
                       reached=len(s), bytes_down=0, bytes_up=0) for r, s in enumerate([[4, 1], [], [0, 2, 3]])]
    participants, caps = padded_rounds(plans, n_clients=5)
    assert participants.shape == (3, 3) and caps.tolist() == [[9, 9, 0], [0, 0, 0], [9, 9, 9]]
    assert participants[0, :2].tolist() == [4, 1] and participants[2].tolist() == [0, 2, 3]
    assert all(len(set(row)) == len(row) for row in participants.tolist())
    empty, empty_caps = padded_rounds(plans[1:2], n_clients=5)
    assert empty.shape == (1, 1) and empty_caps.tolist() == [[0]]


# -- whole runs: batched equals per-client ----------------------------------------------------------------
def _dp_config(**changes):
    base = dict(n_clients=20, fraction=0.2, rounds=8, client_learning_rate=0.5, hidden_units=(16,), batch_size=None)
    return fl.FLConfig(**{**base, **changes})


DP_SETTINGS = [
    dict(config=_dp_config(), noise_multiplier=1.0, clip_norm=0.5),
    dict(config=_dp_config(), noise_multiplier=0.0, clip_norm=1e9),                 # no DP
    dict(config=_dp_config(n_clients=50, seed=3), noise_multiplier=8.0, clip_norm=0.1),
    dict(config=_dp_config(fraction=0.05), noise_multiplier=2.0, clip_norm=1.0),    # rounds with nobody sampled
    dict(config=_dp_config(batch_size=10, local_epochs=2), noise_multiplier=0.5, clip_norm=2.0),
    dict(config=_dp_config(client_learning_rate=1e4), noise_multiplier=0.0, clip_norm=1e9),
]


def test_dp_runs_batched_equal_per_client_runs():
    settings = [privacy.DPSetting(**s) for s in DP_SETTINGS]
    batched = privacy.run_dp_experiments(settings)
    assert any(0 in run.participants for run in batched[3:4]), "a round with nobody sampled must be covered"
    for setting, run in zip(settings, batched, strict=True):
        alone = privacy.run_dp_fedavg(setting.config, setting.noise_multiplier, setting.clip_norm, setting.delta)
        assert run.diverged_at == alone.diverged_at
        np.testing.assert_allclose(run.accuracy, alone.accuracy, atol=TOL)
        assert run.participants.tolist() == alone.participants.tolist()
        assert run.clipped_fraction == pytest.approx(alone.clipped_fraction)
        assert run.epsilon == alone.epsilon and run.noise_std == alone.noise_std


def _poison_config(**changes):
    return fl.FLConfig(**{**dict(n_clients=10, rounds=6, client_learning_rate=0.1), **changes})


POISON_SETTINGS = [dict(config=_poison_config(), attack=attack, rule=rule, factor=factor)
                   for attack, factor in (("sign_flip", 10.0), ("scaled", 50.0), ("label_flip", 1.0), ("none", 1.0))
                   for rule in po.AGGREGATION_RULES] + [
    dict(config=_poison_config(n_clients=3, client_learning_rate=1.0), attack="sign_flip", rule="trimmed_mean"),
    dict(config=_poison_config(fraction=0.5, seed=2), attack="scaled", rule="median", n_attackers=2, factor=5.0),
    dict(config=_poison_config(batch_size=None, mu=0.1), attack="sign_flip", rule="clipped_mean", clip_norm=0.3),
    dict(config=_poison_config(client_learning_rate=1e4), attack="scaled", rule="fedavg", factor=50.0),  # diverges
]


def test_poisoning_runs_batched_equal_per_client_runs():
    settings = [po.PoisoningSetting(**s) for s in POISON_SETTINGS]
    batched = po.run_poisoning_experiments(settings)
    assert batched[-1].diverged_at is not None, "the batch must hold a run that diverges"
    for setting, run in zip(settings, batched, strict=True):
        alone = po.run_poisoned_fedavg(setting.config, setting.attack, setting.rule, n_attackers=setting.n_attackers,
                                       factor=setting.factor, trim=setting.trim, clip_norm=setting.clip_norm)
        assert run.diverged_at == alone.diverged_at, setting
        np.testing.assert_allclose(run.accuracy, alone.accuracy, atol=TOL, err_msg=str(setting))
        assert run.attackers == alone.attackers


def test_new_rules_and_attacks_do_not_trace_again():
    config = _poison_config(rounds=2)
    arch = fl.Simulation(config).architecture
    po.run_poisoning_experiments([po.PoisoningSetting(config, "sign_flip", "median")])
    before = tracing_count(arch)
    po.run_poisoning_experiments([po.PoisoningSetting(config, attack, rule) for attack in po.ATTACKS
                                  for rule in po.AGGREGATION_RULES])
    privacy.run_dp_experiments([privacy.DPSetting(config, 1.0, 0.5)])
    assert tracing_count(arch) == before


def test_bad_settings_are_named():
    config = _poison_config(n_clients=4)
    with pytest.raises(ValueError, match="trim"):
        po.run_poisoning_experiments([po.PoisoningSetting(config, "sign_flip", "trimmed_mean", trim=2)])
    with pytest.raises(ValueError, match="rule"):
        po.PoisoningSetting(config, "sign_flip", "mean")
    with pytest.raises(ValueError, match="n_attackers"):
        po.PoisoningSetting(config, n_attackers=5)
    with pytest.raises(ValueError, match="clip_norm"):
        privacy.DPSetting(config, 1.0, 0.0)
    with pytest.raises(ValueError, match="noise_multiplier"):
        privacy.DPSetting(config, -1.0, 1.0)
    with pytest.raises(TypeError, match="config"):
        privacy.DPSetting({"n_clients": 4}, 1.0, 1.0)
    with pytest.raises(ValueError, match="simulations"):
        privacy.run_dp_experiments([privacy.DPSetting(config, 1.0, 1.0)], simulations=[])
