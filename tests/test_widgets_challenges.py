"""Notebook 07's callbacks (fedlearn_edu.widgets.challenges) over a grid of slider values."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fedlearn_edu as fl  # noqa: E402
from fedlearn_edu.widgets import challenges as ch  # noqa: E402

DIGITS_PARAMETERS = 64 * 64 + 64 + 64 * 10 + 10      # the digits MLP: 4810
ARTICLE_PARAMETERS = 20 * 64 + 64 + 64 * 3 + 3       # the article's MLP: 1539


@pytest.fixture(scope="module")
def digits():
    return fl.cached_dataset("digits")


@pytest.fixture(scope="module")
def small_base():
    """A short digits federation for the grid functions."""
    return fl.FLConfig(n_clients=20, fraction=0.5, local_epochs=2, rounds=25, dataset="digits")


# -- helpers ------------------------------------------------------------------------------

def test_bytes_per_round_is_two_m_p_four():
    assert ch.bytes_per_round(DIGITS_PARAMETERS, 10) == 2 * 10 * 4810 * 4 == 384_800
    assert ch.bytes_per_round(ARTICLE_PARAMETERS, 10) == 123_120
    with pytest.raises(ValueError, match="clients_per_round"):
        ch.bytes_per_round(10, 0)
    with pytest.raises(ValueError, match="n_parameters"):
        ch.bytes_per_round(0, 1)


def test_median_or_inf_counts_none_as_never():
    assert ch.median_or_inf([3, None, 5]) == 5
    assert math.isinf(ch.median_or_inf([3, None, None]))
    assert ch.median_or_inf([4]) == 4


def test_format_rounds():
    assert ch.format_median_rounds(12.0, 25) == "12"
    assert ch.format_median_rounds(math.inf, 25) == ">25"


def test_partition_spec():
    assert ch.partition_spec("iid").label == "IID"
    assert ch.partition_spec(0.05).label == "Dir(0.05)"
    assert ch.partition_spec("shards").fields()["partition"] == "shards"
    with pytest.raises(ValueError, match="partition"):
        ch.partition_spec("banana")
    with pytest.raises(ValueError, match="alpha"):
        ch.partition_spec(-1.0)


def test_partition_summary_orders_the_skew(digits):
    summary = ch.partition_summary(digits, 20, ["iid", 1.0, 0.05, "shards"])
    scores = [summary[k][0] for k in ("IID", "Dir(1)", "Dir(0.05)")]
    assert scores == sorted(scores)                  # smaller alpha, more skew
    assert summary["IID"][1] == 10 and summary["shards(2)"][1] == 2


# -- the slider callback over a grid of slider values ------------------------------------

DEFAULTS = dict(alpha=0.05, n_clients=20, client_learning_rate=0.1, local_epochs=2, fraction=0.5)
SLIDER_ENDS = [("alpha", 0.01), ("alpha", 100.0), ("n_clients", 2), ("n_clients", 100),
               ("client_learning_rate", 0.001), ("client_learning_rate", 10.0),
               ("local_epochs", 1), ("local_epochs", 10), ("fraction", 0.05), ("fraction", 1.0)]


@pytest.fixture(scope="module")
def lab_grid(digits):
    """The lab at its defaults and at each slider end (the others at their defaults)."""
    results = {("default", None): ch.compute_challenge_lab(**DEFAULTS, data=digits)}
    for name, value in SLIDER_ENDS:
        results[(name, value)] = ch.compute_challenge_lab(**{**DEFAULTS, name: value}, data=digits)
    return results


@pytest.mark.parametrize("key", [("default", None)] + SLIDER_ENDS, ids=str)
def test_lab_bytes_follow_the_formula(lab_grid, key):
    result = lab_grid[key]
    c = result.config
    m = max(1, int(np.floor(c.fraction * c.n_clients + 1e-9)))
    assert result.clients_per_round == m
    assert result.megabytes_per_round == pytest.approx(2 * m * DIGITS_PARAMETERS * 4 / 1e6)
    for label, h in result.histories.items():
        assert np.all(h.bytes_down + h.bytes_up == 2 * m * DIGITS_PARAMETERS * 4)
        if result.rounds[label] is not None:
            assert result.megabytes[label] == pytest.approx(result.rounds[label] * result.megabytes_per_round)
        else:
            assert result.megabytes[label] is None
    assert "MB per round" in result.summary()


def test_lab_default_skew_costs_rounds(lab_grid):
    result = lab_grid[("default", None)]
    iid, skewed = result.rounds.values()
    assert iid is not None and skewed is not None and skewed >= iid + 3


def test_lab_alpha_ends(lab_grid):
    """alpha = 0.01 (about one class per client) is slower than alpha = 100 (close to IID)."""
    low, high = lab_grid[("alpha", 0.01)], lab_grid[("alpha", 100.0)]
    skewed_low = low.rounds["Dir(0.01)"]
    skewed_high = high.rounds["Dir(100)"]
    assert skewed_high is not None
    assert skewed_low is None or skewed_low > skewed_high
    assert low.rounds["IID"] == high.rounds["IID"]          # the IID run does not depend on alpha


def test_lab_learning_rate_ends(lab_grid):
    slow, wild = lab_grid[("client_learning_rate", 0.001)], lab_grid[("client_learning_rate", 10.0)]
    assert all(r is None for r in slow.rounds.values())           # too small: never reaches 90% in 30 rounds
    assert all(d is None for d in slow.diverged_at.values())
    assert any(d is not None for d in wild.diverged_at.values())  # too large: diverges
    assert "DIVERGED" in wild.summary()


def test_lab_local_epochs_ends(lab_grid):
    one, ten = lab_grid[("local_epochs", 1)], lab_grid[("local_epochs", 10)]
    assert ten.rounds["IID"] < one.rounds["IID"]
    assert ten.megabytes["IID"] < one.megabytes["IID"]
    assert ten.megabytes_per_round == one.megabytes_per_round     # E costs computation, not bytes


def test_lab_fraction_and_clients_ends(lab_grid):
    few, all_ = lab_grid[("fraction", 0.05)], lab_grid[("fraction", 1.0)]
    assert few.clients_per_round == 1 and all_.clients_per_round == 20
    assert all_.megabytes_per_round == pytest.approx(20 * few.megabytes_per_round)
    assert lab_grid[("n_clients", 2)].clients_per_round == 1
    assert lab_grid[("n_clients", 100)].clients_per_round == 50


@pytest.mark.parametrize("name, value", [("alpha", 0.0), ("n_clients", 0), ("n_clients", 5000),
                                         ("client_learning_rate", -0.1), ("local_epochs", 0),
                                         ("fraction", 0.0), ("fraction", 1.5)])
def test_lab_bad_value_names_the_parameter(digits, name, value):
    with pytest.raises(ValueError, match=name):
        ch.compute_challenge_lab(**{**DEFAULTS, name: value}, data=digits)


def test_lab_bad_target_names_it(digits):
    with pytest.raises(ValueError, match="target"):
        ch.compute_challenge_lab(**DEFAULTS, data=digits, target=1.5)


def test_show_lab_draws_and_returns_the_numbers(digits, capsys):
    shown = ch.show_challenge_lab(**DEFAULTS, data=digits)
    computed = ch.compute_challenge_lab(**DEFAULTS, data=digits)
    assert shown.rounds == computed.rounds and shown.final_accuracy == computed.final_accuracy
    assert "Dir(0.05)" in capsys.readouterr().out
    figure = plt.gcf()
    assert len(figure.axes) == 2 and all(ax.get_title() and ax.get_xlabel() for ax in figure.axes)
    assert "FedAvg" in figure._suptitle.get_text()


@pytest.mark.parametrize("algorithm", list(ch.ALGORITHMS))
@pytest.mark.parametrize("server_learning_rate", [0.001, 3.0])
def test_lab_algorithm_and_server_learning_rate_ends(digits, algorithm, server_learning_rate):
    """Every algorithm at both ends of the η_g slider: a result, never a traceback; the config carries both."""
    result = ch.compute_challenge_lab(**DEFAULTS, algorithm=algorithm, server_learning_rate=server_learning_rate,
                                      data=digits, rounds=5)
    assert result.algorithm == algorithm and result.config.server_learning_rate == server_learning_rate
    assert result.config.mu == ch.ALGORITHMS[algorithm].get("mu", 0.0)
    assert algorithm in result.summary() and f"η_g={server_learning_rate:g}" in result.summary()


def test_lab_server_learning_rate_changes_fedadam(digits):
    """FedAdam's step is about η_g per coordinate: 0.03 reaches the target sooner than the package's 0.01."""
    slow, fast = (ch.compute_challenge_lab(**DEFAULTS, algorithm="FedAdam", server_learning_rate=lr, data=digits)
                  for lr in (0.01, 0.03))
    assert fast.rounds["IID"] is not None
    assert slow.rounds["IID"] is None or fast.rounds["IID"] < slow.rounds["IID"]


def test_lab_seed_changes_the_run_and_repeats_it(digits):
    runs = [ch.compute_challenge_lab(**DEFAULTS, data=digits, rounds=5, seed=s) for s in (0, 20, 20)]
    assert runs[1].final_accuracy == runs[2].final_accuracy
    assert runs[0].final_accuracy != runs[1].final_accuracy


def test_lab_bad_algorithm_and_server_rate_name_the_parameter(digits):
    with pytest.raises(ValueError, match="algorithm.*FedAvg"):
        ch.compute_challenge_lab(**DEFAULTS, algorithm="FedSGD", data=digits)
    with pytest.raises(ValueError, match="server_learning_rate"):
        ch.compute_challenge_lab(**DEFAULTS, server_learning_rate=0.0, data=digits)


@pytest.mark.parametrize("preset", list(ch.PRESETS))
def test_every_lab_preset_runs(digits, preset):
    values = {**DEFAULTS, "algorithm": "FedAvg", "server_learning_rate": 1.0, "seed": 0, **ch.PRESETS[preset]}
    result = ch.compute_challenge_lab(**values, data=digits, rounds=5)
    assert result.config.seed == values["seed"] and result.algorithm == values["algorithm"]


def test_convergence_grid_shards_slower_than_iid(digits, small_base):
    grid = ch.compute_convergence_grid(digits, small_base, ["iid", "shards"], ["FedAvg", "FedAvgM"],
                                       seeds=(0,), target=0.93)     # 13/8 rounds IID, 16/11 on shards
    assert grid.rounds.shape == (2, 2)
    assert grid.rounds_of("shards") > grid.rounds_of("iid")
    assert grid.rounds_of("shards", "FedAvgM") < grid.rounds_of("shards", "FedAvg")
    assert "FedAvgM" in grid.table() and "settled" in grid.table("settled")


def test_convergence_grid_accepts_variants_and_rejects_unknown(digits, small_base):
    grid = ch.compute_convergence_grid(digits, small_base.replace(rounds=3), ["iid"],
                                       {"E=1": {"local_epochs": 1}}, seeds=(0,), target=0.99)
    assert grid.algorithms == ["E=1"] and math.isinf(grid.rounds_of("iid", "E=1"))
    assert ">3" in grid.table()
    with pytest.raises(ValueError, match="algorithm"):
        ch.compute_convergence_grid(digits, small_base, ["iid"], ["FedNothing"], seeds=(0,))
    with pytest.raises(ValueError, match="seeds"):
        ch.compute_convergence_grid(digits, small_base, ["iid"], ["FedAvg"], seeds=())


def test_show_convergence_grid_both_figures(digits, small_base):
    base = small_base.replace(rounds=4)
    for what in ("rounds", "settled"):
        result = ch.show_convergence_grid(digits, base, ["iid"], ["FedAvg"], seeds=(0,), target=0.5, what=what)
        assert result.rounds.shape == (1, 1)
    with pytest.raises(ValueError, match="what"):
        ch.show_convergence_grid(digits, base, ["iid"], ["FedAvg"], seeds=(0,), what="bytes")


def test_local_epochs_cut_rounds_and_megabytes_on_iid(digits, small_base):
    result = ch.compute_local_epochs(digits, small_base, epochs=(1, 5), partitions=("iid",), seeds=(0,))
    assert result.rounds_of("iid", 5) < result.rounds_of("iid", 1)
    assert result.megabytes_of("iid", 5) < 0.5 * result.megabytes_of("iid", 1)
    for e in (1, 5):     # MB to target = rounds to target x MB per round
        assert result.megabytes_of("iid", e) == pytest.approx(result.rounds_of("iid", e) * result.megabytes_per_round)
    megabytes, accuracy = result.curves[("IID", 5)]
    assert megabytes[0] == 0 and len(megabytes) == len(accuracy) == small_base.rounds + 1
    assert result.speedup("iid") > 1
    with pytest.raises(ValueError, match="local_epochs"):
        ch.compute_local_epochs(digits, small_base, epochs=(0,), seeds=(0,))


def test_participation_bytes_scale_with_m(digits, small_base):
    result = ch.compute_participation(digits, small_base.replace(rounds=8), fractions=(0.1, 1.0), seeds=(0,))
    assert result.clients_per_round == [2, 20]
    assert result.megabytes_per_round[1] == pytest.approx(10 * result.megabytes_per_round[0])
    assert np.all(result.jitter >= 0)
    with pytest.raises(ValueError, match="fraction"):
        ch.compute_participation(digits, small_base, fractions=(0.0,), seeds=(0,))


def test_straggler_configs(small_base):
    base = small_base.replace(local_epochs=5)
    configs, round_time, full, partial = ch.straggler_configs(base, 1437, straggler_share=0.5, slowdown=3)
    wait, drop, accept = ch.STRAGGLER_POLICIES
    assert full == 5 * 3 and partial == 5                       # 71 examples per client: 3 batches of 32
    assert configs[wait].clients_per_round == 20 and configs[wait].local_steps is None
    assert configs[drop].clients_per_round == 10 and configs[drop].local_steps is None
    assert configs[accept].clients_per_round == 20 and configs[accept].local_steps == 5
    assert round_time == {wait: 3.0, drop: 1.0, accept: 1.0}
    with pytest.raises(ValueError, match="straggler_share"):
        ch.straggler_configs(base, 1437, straggler_share=1.0)
    with pytest.raises(ValueError, match="slowdown"):
        ch.straggler_configs(base, 1437, slowdown=0.5)


def test_stragglers_trade_rounds_for_time(digits, small_base):
    result = ch.compute_stragglers(digits, small_base.replace(local_epochs=5), straggler_share=0.5, slowdown=3,
                                   seeds=(0,), target=0.9)
    wait, drop, accept = ch.STRAGGLER_POLICIES
    assert result.rounds[wait] <= result.rounds[drop] < result.rounds[accept]   # full work: fewest rounds
    assert result.time[drop] < result.time[wait]                                 # but waiting is slow
    assert result.megabytes[drop] < result.megabytes[wait]                       # half the clients, fewer MB
    assert result.time[wait] == 3 * result.rounds[wait]
    assert "accept partial work" in result.table()


def test_presets_for_a_smaller_lab_keep_only_its_controls():
    controls = dict.fromkeys(["alpha", "local_epochs", "fraction", "n_clients", "client_learning_rate"])
    chosen = ch.presets_for(controls)
    assert chosen and all(set(values) <= set(controls) for values in chosen.values())
    assert not any("algorithm" in values for values in chosen.values())
    only_algorithm = ch.presets_for({"algorithm": None})
    assert "FedAvgM: β = 0.9" in only_algorithm and not any("FedAdam" in name for name in only_algorithm)
