"""Notebook 13's callbacks (fedlearn_edu.widgets.stragglers) over a grid of slider values."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fedlearn_edu.devices import make_device_profiles  # noqa: E402
from fedlearn_edu.widgets import stragglers as st  # noqa: E402

WAIT, DROP, PARTIAL = st.POLICIES
DEFAULTS = dict(dropout=0.0, deadline=5.0, speed_spread=1.0, n_clients=20, client_learning_rate=0.1, correlated=True)
#: the notebook's slider ends (dropout 0..0.8, deadline 2.5..30 s, spread 0..2, K 2..50, lr 10**-2..1, the box)
SLIDER_ENDS = [("dropout", 0.8), ("deadline", 2.5), ("deadline", 30.0), ("speed_spread", 0.0),
               ("speed_spread", 2.0), ("n_clients", 2), ("n_clients", 50), ("client_learning_rate", 0.01),
               ("client_learning_rate", 1.0), ("correlated", False)]


@pytest.fixture(scope="module")
def grid():
    results = {("default", None): st.compute_devices(**DEFAULTS)}
    for name, value in SLIDER_ENDS:
        results[(name, value)] = st.compute_devices(**{**DEFAULTS, name: value})
    return results


# -- the slider callback -------------------------------------------------------------------------

@pytest.mark.parametrize("key", [("default", None)] + SLIDER_ENDS, ids=str)
def test_every_setting_keeps_the_clock(grid, key):
    result = grid[key]
    k = result.config.n_clients
    for p in st.POLICIES:
        minutes, accuracy = result.curves[p]
        round_seconds = np.diff(minutes) * 60
        assert 0 <= result.participants[p] <= k
        if p != WAIT:
            assert np.all(round_seconds <= result.deadline + 1e-9)                 # the deadline caps a round
        if result.diverged_at[p] is None:
            assert len(accuracy) == result.config.rounds + 1
            assert result.total_minutes[p] == pytest.approx(minutes[-1])
        if result.rounds[p] is None:
            assert result.minutes[p] is None
        else:
            assert result.minutes[p] == pytest.approx(minutes[result.rounds[p]])
    assert result.participants[DROP] <= result.participants[PARTIAL] <= result.participants[WAIT]
    if result.config.dropout == 0:
        assert result.participants[WAIT] == k                                      # nobody missing
    if all(result.diverged_at[p] is None for p in st.POLICIES):
        assert result.total_minutes[DROP] <= result.total_minutes[WAIT] + 1e-9
    assert "policy" in result.summary()


def test_default_drop_is_biased_partial_is_not(grid):
    r = grid[("default", None)]
    assert r.slow_class_accuracy[DROP] < r.slow_class_accuracy[WAIT] - 0.04
    assert r.slow_class_accuracy[DROP] < r.fast_class_accuracy[DROP] - 0.1
    assert r.slow_class_accuracy[PARTIAL] > r.slow_class_accuracy[DROP] + 0.1
    assert r.minutes[PARTIAL] < r.minutes[WAIT]


def test_correlation_moves_the_damage(grid):
    correlated, independent = grid[("default", None)], grid[("correlated", False)]
    assert correlated.final_accuracy[WAIT] == independent.final_accuracy[WAIT]      # no deadline: who is slow
    assert independent.fast_class_accuracy[DROP] < independent.slow_class_accuracy[DROP]   # does not matter


def test_generous_deadline_is_waiting(grid):
    r = grid[("deadline", 30.0)]                                                    # slower than every device
    assert r.rounds[WAIT] == r.rounds[DROP] == r.rounds[PARTIAL]
    assert r.final_accuracy[WAIT] == pytest.approx(r.final_accuracy[DROP], abs=1e-6)


def test_tight_deadline_starves_drop(grid):
    r = grid[("deadline", 2.5)]
    assert r.participants[DROP] < r.participants[PARTIAL]
    assert r.final_accuracy[DROP] < r.final_accuracy[WAIT]


def test_identical_devices_have_no_stragglers(grid):
    r = grid[("speed_spread", 0.0)]
    assert r.participants[DROP] == r.participants[WAIT] == 20
    assert r.rounds[DROP] == r.rounds[WAIT]
    wide = grid[("speed_spread", 2.0)]
    assert wide.total_minutes[WAIT] > r.total_minutes[WAIT]                      # a wider spread, a slower slowest


def test_dropout_end(grid):
    r = grid[("dropout", 0.8)]
    assert r.participants[WAIT] < 0.4 * 20
    assert r.total_minutes[WAIT] < grid[("default", None)].total_minutes[WAIT]


def test_client_count_and_learning_rate_ends(grid):
    assert grid[("n_clients", 2)].config.n_clients == 2 and grid[("n_clients", 50)].participants[WAIT] == 50
    slow = grid[("client_learning_rate", 0.01)]
    assert all(r is None for r in slow.rounds.values())
    assert grid[("client_learning_rate", 1.0)].rounds[WAIT] is not None


def test_results_are_cached(grid):
    assert st.compute_devices(**DEFAULTS) is grid[("default", None)]


@pytest.mark.parametrize("name, value", [("dropout", 1.5), ("deadline", 0.0), ("speed_spread", -1.0),
                                         ("n_clients", 0), ("n_clients", 5000), ("client_learning_rate", 0.0),
                                         ("target", 2.0), ("rounds", 0)])
def test_bad_value_names_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        st.compute_devices(**{**DEFAULTS, name: value})


def test_bad_policy():
    with pytest.raises(ValueError, match="policies"):
        st.compute_devices(policies=("pray",))
    with pytest.raises(ValueError, match="policy"):
        st.policy_fields("pray", 5.0)
    with pytest.raises(ValueError, match="deadline"):
        st.policy_fields(DROP, -1.0)


def test_show_devices_draws_and_returns_the_numbers(capsys):
    shown = st.show_devices(**DEFAULTS)
    assert shown is st.compute_devices(**DEFAULTS)
    assert "accept partial work" in capsys.readouterr().out
    assert len(plt.gcf().axes) == 2


# -- round times ----------------------------------------------------------------------------------

@pytest.mark.parametrize("spread, deadline", [(0.0, None), (1.0, None), (1.0, 5.0), (2.0, 2.5), (1.0, 30.0)])
def test_round_times(spread, deadline):
    times = st.compute_round_times(speed_spread=spread, deadline=deadline)
    assert times.seconds.shape == (20,) and np.all(times.seconds > 0)
    if deadline is None or times.stragglers == 0:
        assert times.round_seconds == pytest.approx(times.seconds.max())          # the slowest sets the pace
    else:
        assert times.round_seconds == deadline
    assert times.stragglers == (0 if deadline is None else int(np.sum(times.seconds > deadline)))
    if spread == 0.0:
        assert np.ptp(times.seconds) < 0.1


def test_round_time_matches_the_run():
    times = st.compute_round_times()
    history, per_class = st.run_devices(st.base_config())
    assert history.simulated_seconds[0] == pytest.approx(times.round_seconds)
    assert per_class.shape == (10,) and np.all((per_class >= 0) & (per_class <= 1))


def test_show_round_times_draws():
    result = st.show_round_times(deadline=5.0)
    assert len(plt.gcf().axes) == 1 and result.stragglers > 0
    with pytest.raises(ValueError, match="deadline"):
        st.compute_round_times(deadline=0.0)


# -- correlated profiles --------------------------------------------------------------------------

def test_correlate_profiles_deals_the_same_devices():
    profiles = make_device_profiles(4, seed=0, speed_spread=1.0)
    counts = np.array([[10, 0], [0, 10], [5, 5], [9, 1]])          # class 1 is "slow"
    dealt = st.correlate_profiles(profiles, counts, slow_classes=(1,))
    assert sorted(map(id, dealt)) == sorted(map(id, profiles))          # same devices, re-dealt
    slowness = [1 / p.examples_per_second + 1 / p.bytes_per_second for p in dealt]
    assert int(np.argmax(slowness)) == 1 and int(np.argmin(slowness)) == 0
    with pytest.raises(ValueError, match="label_counts"):
        st.correlate_profiles(profiles, counts[:3])
    with pytest.raises(ValueError, match="slow_classes"):
        st.correlate_profiles(profiles, counts, slow_classes=(7,))


def test_correlated_needs_devices():
    with pytest.raises(ValueError, match="devices"):
        st.make_simulation(st.base_config().replace(devices=False), correlated=True)


def test_over_seeds_and_table():
    runs = st.compute_over_seeds(seeds=(0, 1), **DEFAULTS)
    assert [r.config.seed for r in runs] == [0, 1]
    assert "acc 5-9" in st.seeds_table(runs)
    with pytest.raises(ValueError, match="seeds"):
        st.compute_over_seeds(seeds=())
    with pytest.raises(ValueError, match="seeds"):
        st.compute_over_seeds(seed=3)


@pytest.mark.parametrize("name", list(st.PRESETS))
def test_every_preset_of_the_panel_runs(name, capsys):
    values = dict(dropout=0.0, deadline=5.0, speed_spread=1.0, n_clients=6, client_learning_rate=0.1, correlated=True,
                  rounds=3)
    values.update(st.PRESETS[name])
    result = st.show_devices(**values)
    assert set(result.rounds) == set(st.POLICIES)
    assert plt.gcf().axes[0].get_title() and plt.gcf().axes[1].get_title()
    plt.close("all")
