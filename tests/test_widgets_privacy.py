"""Notebook 09's callbacks (fedlearn_edu.widgets.privacy) over a grid of slider values."""
from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from fedlearn_edu.widgets import privacy as pw

# (noise multiplier z, clip norm S, clients K, client learning rate): slider ends and the default
DP_GRID = [(0.0, 0.1, 20, 1.0), (0.0, 2.0, 20, 1.0), (8.0, 2.0, 20, 1.0), (8.0, 0.1, 20, 0.1),
           (1.0, 0.5, 50, 0.5), (8.0, 2.0, 200, 1.0)]


@pytest.fixture(scope="module")
def dp_results():
    return {values: pw.compute_dp_tradeoff(*values) for values in DP_GRID}


@pytest.mark.parametrize("values", DP_GRID, ids=lambda v: f"z{v[0]}-S{v[1]}-K{v[2]}-lr{v[3]}")
def test_dp_grid_properties(dp_results, values):
    z, S, K, lr = values
    t = dp_results[values]
    r = t.run
    assert r.accuracy.shape == (pw.DP_ROUNDS,) and np.all((r.accuracy >= 0) & (r.accuracy <= 1))
    assert r.expected_clients == pytest.approx(pw.DP_SAMPLING_PROBABILITY * K)
    assert r.noise_std == pytest.approx(z * S / (pw.DP_SAMPLING_PROBABILITY * K))
    assert (r.epsilon == np.inf) == (z == 0)
    assert r.delta == pw.DP_DELTA and 0 <= r.clipped_fraction <= 1
    assert t.non_private.epsilon == np.inf and t.non_private.clipped_fraction == 0
    assert len(t.reference) == len(pw.REFERENCE_NOISE_MULTIPLIERS)


def test_reference_curve_trades_privacy_for_accuracy(dp_results):
    t = dp_results[(1.0, 0.5, 50, 0.5)]
    eps = [run.epsilon for run in t.reference]
    assert all(a > b for a, b in itertools.pairwise(eps)), "more noise, smaller epsilon"
    by_z = {run.noise_multiplier: run for run in t.reference}
    no_dp = t.non_private.late_accuracy
    assert by_z[1.0].epsilon < 10 and by_z[1.0].late_accuracy >= no_dp - 0.05
    assert by_z[8.0].epsilon < 0.5 and by_z[8.0].late_accuracy <= no_dp - 0.1
    assert t.run is by_z[1.0], "the default setting is a point of the reference curve (cached run)"


def test_huge_noise_with_few_clients_ruins_accuracy(dp_results):
    t = dp_results[(8.0, 2.0, 20, 1.0)]
    assert t.run.noise_std == pytest.approx(4.0)
    assert t.accuracy_cost >= 0.2


def test_smaller_clip_norm_clips_more_updates(dp_results):
    assert dp_results[(0.0, 0.1, 20, 1.0)].run.clipped_fraction > dp_results[(0.0, 2.0, 20, 1.0)].run.clipped_fraction


def test_epsilon_does_not_depend_on_clip_norm_or_clients(dp_results):
    # epsilon is a function of (q, z, rounds, delta) only
    assert dp_results[(8.0, 2.0, 20, 1.0)].run.epsilon == dp_results[(8.0, 0.1, 20, 0.1)].run.epsilon
    assert dp_results[(8.0, 2.0, 20, 1.0)].run.epsilon == dp_results[(8.0, 2.0, 200, 1.0)].run.epsilon


@pytest.mark.parametrize("kwargs, name", [
    (dict(noise_multiplier=-0.5), "noise_multiplier"), (dict(noise_multiplier=10.5), "noise_multiplier"),
    (dict(clip_norm=0.0), "clip_norm"), (dict(clip_norm=11.0), "clip_norm"), (dict(n_clients=19), "n_clients"),
    (dict(n_clients=401), "n_clients"), (dict(n_clients=50.5), "n_clients"),
    (dict(client_learning_rate=0.0), "client_learning_rate"),
])
def test_bad_dp_slider_values_name_the_parameter(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        pw.compute_dp_tradeoff(**kwargs)


def test_show_dp_returns_the_computed_numbers(capsys):
    import matplotlib.pyplot as plt
    shown = pw.show_dp_tradeoff(1.0, 0.5, 50, 0.5)
    computed = pw.compute_dp_tradeoff(1.0, 0.5, 50, 0.5)
    assert np.array_equal(shown.run.accuracy, computed.run.accuracy)
    out = capsys.readouterr().out
    assert "epsilon" in out and "no DP" in out and "0x" not in repr(shown)
    plt.close("all")


# -- poisoning -------------------------------------------------------------------------------------
# (attack factor, clients, client learning rate, attack): slider ends and the default
POISON_GRID = [(1.0, 3, 0.01, "sign_flip"), (50.0, 3, 1.0, "sign_flip"), (50.0, 20, 0.1, "scaled"),
               (10.0, 10, 0.1, "sign_flip"), (10.0, 10, 0.1, "label_flip")]


@pytest.fixture(scope="module")
def poison_results():
    return {values: pw.compute_poisoning(*values) for values in POISON_GRID}


@pytest.mark.parametrize("values", POISON_GRID, ids=lambda v: f"f{v[0]}-K{v[1]}-lr{v[2]}-{v[3]}")
def test_poisoning_grid_properties(poison_results, values):
    factor, n_clients, lr, attack = values
    s = poison_results[values]
    assert set(s.runs) == {"fedavg", "median", "trimmed_mean", "clipped_mean"}
    for run in [*s.runs.values(), s.clean]:
        if run.diverged_at is None:
            assert run.accuracy.shape == (pw.POISONING_ROUNDS,)
        else:       # the run stopped in the round that blew the model up; it had completed the ones before
            assert run.accuracy.shape == (run.diverged_at - 1,) and run.final_accuracy == 0.0
        assert np.all((run.accuracy >= 0) & (run.accuracy <= 1))
    assert s.clean.attackers == () and all(run.attackers == (0,) for run in s.runs.values())


def test_default_sign_flip_wrecks_fedavg_only(poison_results):
    s = poison_results[(10.0, 10, 0.1, "sign_flip")]
    assert s.final_accuracy("fedavg") <= s.clean.final_accuracy - 0.3
    assert min(s.final_accuracy("median"), s.final_accuracy("trimmed_mean")) >= s.clean.final_accuracy - 0.03
    assert s.final_accuracy("clipped_mean") >= s.clean.final_accuracy - 0.1


def test_median_of_three_beats_fedavg_against_a_strong_attacker(poison_results):
    # with 3 clients the median is one honest client's value per coordinate: noisier than the mean
    # of all honest clients, but far from the attacker
    s = poison_results[(50.0, 3, 1.0, "sign_flip")]
    assert s.final_accuracy("fedavg") <= s.clean.final_accuracy - 0.3
    assert s.final_accuracy("median") >= s.final_accuracy("fedavg") + 0.15


def test_one_label_flipper_among_ten_barely_matters(poison_results):
    s = poison_results[(10.0, 10, 0.1, "label_flip")]
    assert all(run.final_accuracy >= s.clean.final_accuracy - 0.05 for run in s.runs.values())


@pytest.mark.parametrize("kwargs, name", [
    (dict(factor=0.0), "factor"), (dict(factor=101.0), "factor"), (dict(n_clients=2), "n_clients"),
    (dict(n_clients=41), "n_clients"), (dict(client_learning_rate=-1.0), "client_learning_rate"),
    (dict(attack="none"), "attack"),
])
def test_bad_poisoning_slider_values_name_the_parameter(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        pw.compute_poisoning(**kwargs)


def test_show_poisoning_returns_the_computed_numbers(capsys):
    import matplotlib.pyplot as plt
    shown = pw.show_poisoning(10.0, 10, 0.1, "sign_flip")
    assert shown.final_accuracy("median") == pw.compute_poisoning(10.0, 10, 0.1, "sign_flip").final_accuracy("median")
    out = capsys.readouterr().out
    assert "median" in out and "no attacker" in out and "0x" not in repr(shown)
    plt.close("all")


def test_show_poisoning_draws_a_diverged_run(poison_results, capsys):
    import matplotlib
    matplotlib.use("Agg")
    study = pw.show_poisoning(50.0, 3, 1.0, "sign_flip")
    out = capsys.readouterr().out
    diverged = [rule for rule, run in study.runs.items() if run.diverged_at is not None]
    assert diverged, "this setting blows FedAvg up: the test needs a diverged run"
    assert all(f"{rule} diverged in round" in out for rule in diverged)


# -- the accounting panel: ε from (q, rounds, z, δ), no training -----------------------------------------------------
# (sampling rate q, rounds, noise multiplier z, δ): the ends of every slider's range, mixed, and the default
EPSILON_GRID = [(0.01, 1, 0.0, 1e-9), (1.0, 500, 8.0, 1e-3), (0.01, 500, 0.1, 1e-9), (1.0, 1, 0.1, 1e-3),
                (0.01, 1, 8.0, 1e-3), (1.0, 500, 0.0, 1e-9), (0.2, 15, 1.0, 1e-5)]


@pytest.mark.parametrize("values", EPSILON_GRID, ids=lambda v: f"q{v[0]}-R{v[1]}-z{v[2]}-d{v[3]:g}")
def test_epsilon_grid_is_the_accountants(values):
    from fedlearn_edu import privacy
    q, rounds, z, delta = values
    b = pw.compute_epsilon(q, rounds, z, delta)
    assert b.rounds[0] == 1 and b.rounds[-1] == rounds and np.all(np.diff(b.rounds) > 0)
    assert len(b.curve) == len(b.rounds) == len(b.reference)
    if z == 0:
        assert b.epsilon == np.inf and np.all(np.isinf(b.curve))
    else:
        assert b.epsilon == pytest.approx(privacy.dp_epsilon(z, q, rounds, delta), rel=1e-9)
        assert np.all(np.isfinite(b.curve)) and np.all(np.diff(b.curve) >= 0), "ε never shrinks with rounds"
    assert b.reference[-1] == pytest.approx(privacy.dp_epsilon(1.0, pw.DP_SAMPLING_PROBABILITY, rounds,
                                                               pw.DP_DELTA), rel=1e-9)


def test_epsilon_moves_the_way_the_notebook_says():
    base = pw.compute_epsilon(0.2, 15, 1.0, 1e-5).epsilon
    assert base == pytest.approx(pw.compute_dp_tradeoff(1.0, 0.5, 50, 0.5).run.epsilon, rel=1e-9)
    assert pw.compute_epsilon(1.0, 15, 1.0, 1e-5).epsilon > base            # q = 1: every client every round
    assert pw.compute_epsilon(0.2, 500, 1.0, 1e-5).epsilon > base           # more rounds
    assert pw.compute_epsilon(0.2, 15, 1.0, 1e-7).epsilon > base            # a stricter δ
    assert pw.compute_epsilon(0.2, 15, 0.5, 1e-5).epsilon > base            # less noise
    four_times = pw.compute_epsilon(0.2, 60, 1.0, 1e-5).epsilon / base
    assert 1.6 < four_times < 2.4, "four times the rounds, about twice the ε"


@pytest.mark.parametrize("kwargs, name", [
    (dict(sampling_probability=0.0), "sampling_probability"), (dict(sampling_probability=1.5), "sampling_probability"),
    (dict(rounds=0), "rounds"), (dict(rounds=501), "rounds"), (dict(noise_multiplier=-1.0), "noise_multiplier"),
    (dict(noise_multiplier=9.0), "noise_multiplier"), (dict(delta=0.0), "delta"), (dict(delta=0.01), "delta"),
])
def test_bad_epsilon_slider_values_name_the_parameter(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        pw.compute_epsilon(**kwargs)


def test_show_epsilon_prints_and_draws(capsys):
    import matplotlib.pyplot as plt
    shown = pw.show_epsilon(0.2, 15, 1.0, 1e-5)
    assert "after 15 rounds 6.7" in capsys.readouterr().out and "0x" not in repr(shown)
    ax = plt.gcf().axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    pw.show_epsilon(0.01, 1, 0.0, 1e-9)
    assert "no guarantee" in capsys.readouterr().out
    plt.close("all")


@pytest.mark.parametrize("presets, limits", [
    (pw.EPSILON_PRESETS, pw.EPSILON_LIMITS),
    (pw.DP_PRESETS, dict(noise_multiplier=(0.0, 8.0), clip_norm=(0.1, 2.0), n_clients=(20, 200),
                         client_learning_rate=(0.1, 1.0))),
    (pw.POISONING_PRESETS, dict(factor=(1.0, 50.0), n_clients=(3, 20), client_learning_rate=(0.01, 1.0),
                                attack=("sign_flip", "scaled", "label_flip"))),
])
def test_presets_stay_inside_the_sliders(presets, limits):
    """Every preset names only controls of its panel, at values its slider can show (the notebooks' ranges)."""
    for name, values in presets.items():
        assert set(values) <= set(limits), name
        for control, value in values.items():
            allowed = limits[control]
            if isinstance(value, str):
                assert value in allowed, name
            else:
                assert allowed[0] <= value <= allowed[1], name
