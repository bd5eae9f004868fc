"""Notebook 12's callbacks (fedlearn_edu.widgets.communication) over a grid of slider values."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fedlearn_edu.simulation import ACCURACY_TOLERANCE  # noqa: E402
from fedlearn_edu.widgets import communication as cm  # noqa: E402

P = 64 * 64 + 64 + 64 * 10 + 10      # the digits MLP: 4810 parameters
DEFAULTS = dict(n_clients=10, client_learning_rate=0.1, topk_fraction=0.05, local_epochs=1)
#: the notebook's slider ends (K 2..30, lr 10**-2..1, fraction 10**-2.3..10**-0.3, E 1..5)
SLIDER_ENDS = [("n_clients", 2), ("n_clients", 30), ("client_learning_rate", 0.01), ("client_learning_rate", 1.0),
               ("topk_fraction", 10 ** -2.3), ("topk_fraction", 10 ** -0.3), ("local_epochs", 5)]


@pytest.fixture(scope="module")
def grid():
    results = {("default", None): cm.compute_communication(**DEFAULTS)}
    for name, value in SLIDER_ENDS:
        results[(name, value)] = cm.compute_communication(**{**DEFAULTS, name: value})
    return results


# -- byte formulas -----------------------------------------------------------------------------

def test_upload_bytes_formulas():
    assert cm.upload_bytes_per_client("none", P) == 4 * P == 19240
    assert cm.upload_bytes_per_client("int8", P) == P + 8
    assert cm.upload_bytes_per_client("int4", P) == 2405 + 8
    assert cm.upload_bytes_per_client("int4", 5) == 3 + 8                   # odd P: the last byte half full
    assert cm.upload_bytes_per_client("top-k", P, 0.05) == 8 * 240
    assert cm.upload_bytes_per_client("top-k + EF", P, 0.05) == 8 * 240
    assert cm.upload_bytes_per_client("top-k", 10, 0.001) == 8               # at least one coordinate
    assert cm.upload_bytes_per_client("top-k", P, 0.5) == 4 * P              # an index costs as much as a value


def test_scheme_fields_and_bad_names():
    assert cm.scheme_fields("none") == {}
    assert cm.scheme_fields("top-k", 0.2) == {"compression": "topk", "topk_fraction": 0.2, "error_feedback": False}
    with pytest.raises(ValueError, match="schemes"):
        cm.scheme_fields("zip")
    with pytest.raises(ValueError, match="topk_fraction"):
        cm.scheme_fields("top-k", 0.0)
    with pytest.raises(ValueError, match="n_parameters"):
        cm.upload_bytes_per_client("none", 0)


# -- the slider callback -----------------------------------------------------------------------

@pytest.mark.parametrize("key", [("default", None)] + SLIDER_ENDS, ids=str)
def test_recorded_bytes_follow_the_formulas(grid, key):
    result = grid[key]
    m = result.config.n_clients
    for s in cm.SCHEMES:
        expected_up = m * cm.upload_bytes_per_client(s, P, result.topk_fraction)
        assert result.bytes_up_per_round[s] == expected_up
        assert result.bytes_down_per_round[s] == m * 4 * P                  # the download is never compressed
        up, total, accuracy = result.curves[s]
        assert up[0] == total[0] == 0.0 and len(accuracy) == result.config.rounds + 1
        assert np.allclose(np.diff(up), expected_up / 1e6)
        assert np.allclose(np.diff(total), (expected_up + m * 4 * P) / 1e6)
        if result.rounds[s] is None:
            assert result.megabytes_up[s] is None and result.megabytes_total[s] is None
        else:
            assert result.megabytes_up[s] == pytest.approx(result.rounds[s] * expected_up / 1e6)
            assert accuracy[result.rounds[s]] >= result.target - ACCURACY_TOLERANCE   # float32 hit
    assert "MB up" in result.summary()


def test_default_quantisation_is_free_and_topk_needs_feedback(grid):
    r = grid[("default", None)]
    assert r.upload_ratio("int8") == pytest.approx(0.25, abs=0.001)
    assert abs(r.settled["int8"] - r.settled["none"]) < 0.02 and abs(r.settled["int4"] - r.settled["none"]) < 0.02
    assert r.settled["top-k + EF"] > r.settled["top-k"] + 0.03
    assert r.megabytes_up["int8"] < 0.3 * r.megabytes_up["none"]


def test_topk_fraction_ends(grid):
    tiny, half = grid[("topk_fraction", 10 ** -2.3)], grid[("topk_fraction", 10 ** -0.3)]
    assert tiny.settled["top-k + EF"] > tiny.settled["top-k"] + 0.1               # 0.5%: feedback matters a lot
    assert abs(half.settled["top-k + EF"] - half.settled["top-k"]) < 0.02          # 50%: hardly
    assert half.upload_ratio("top-k") > 1.0                                        # and no saving at all
    assert tiny.rounds["none"] == half.rounds["none"]                              # the fraction touches top-k only


def test_client_count_ends(grid):
    two, thirty = grid[("n_clients", 2)], grid[("n_clients", 30)]
    assert thirty.bytes_up_per_round["int8"] == 15 * two.bytes_up_per_round["int8"]
    assert all(r is not None for r in two.rounds.values())


def test_learning_rate_ends(grid):
    slow, fast = grid[("client_learning_rate", 0.01)], grid[("client_learning_rate", 1.0)]
    assert all(r is None for r in slow.rounds.values())
    assert all(d is None for d in fast.diverged_at.values())
    assert fast.rounds["none"] < grid[("default", None)].rounds["none"]


def test_more_local_epochs_fewer_megabytes(grid):
    one, five = grid[("default", None)], grid[("local_epochs", 5)]
    assert five.bytes_up_per_round == one.bytes_up_per_round                      # E costs no bytes per round
    assert five.megabytes_up["none"] * 3 <= one.megabytes_up["none"]


def test_results_are_cached(grid):
    assert cm.compute_communication(**DEFAULTS) is grid[("default", None)]


@pytest.mark.parametrize("name, value", [("n_clients", 0), ("n_clients", 5000), ("client_learning_rate", -1.0),
                                         ("topk_fraction", 0.0), ("topk_fraction", 1.5), ("local_epochs", 0),
                                         ("target", 2.0), ("rounds", 0)])
def test_bad_value_names_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        cm.compute_communication(**{**DEFAULTS, name: value})


def test_show_communication_draws_and_returns_the_numbers(capsys):
    shown = cm.show_communication(**DEFAULTS)
    assert shown is cm.compute_communication(**DEFAULTS)
    assert "top-k + EF" in capsys.readouterr().out
    assert len(plt.gcf().axes) == 2


# -- seeds and the top-k sweep ------------------------------------------------------------------

def test_seeds_collects_medians():
    seeds = cm.compute_seeds(seeds=(0, 1), schemes=("none", "int8"))
    assert seeds.settled.shape == seeds.rounds.shape == (2, 2)
    assert seeds.median_rounds("none") == np.median(seeds.rounds[:, 0])
    assert seeds.upload_ratio["int8"] == pytest.approx(0.25, abs=0.001)
    assert "int8" in seeds.table()
    with pytest.raises(ValueError, match="seeds"):
        cm.compute_seeds(seeds=())


def test_seeds_never_reached_is_inf():
    seeds = cm.compute_seeds(seeds=(0,), schemes=("none",), rounds=2)
    assert math.isinf(seeds.median_rounds("none")) and math.isinf(seeds.median_megabytes_up("none"))
    assert "never" in seeds.table()


def test_topk_sweep_gap_shrinks_with_the_fraction():
    topk = cm.compute_topk_sweep(fractions=(0.3, 0.01))
    assert topk.fractions == [0.01, 0.3]
    assert topk.gap(0.01) > topk.gap(0.3) + 0.1
    assert "with EF" in topk.table()
    with pytest.raises(ValueError, match="topk_fraction"):
        cm.compute_topk_sweep(fractions=(0.0,))


def test_show_topk_sweep_draws():
    result = cm.show_topk_sweep(fractions=(0.01, 0.3))
    assert len(plt.gcf().axes) == 1 and len(result.with_feedback) == 2


@pytest.mark.parametrize("name", list(cm.PRESETS))
def test_every_preset_of_the_panel_draws(name, capsys):
    values = dict(n_clients=10, client_learning_rate=0.1, topk_fraction=0.05, local_epochs=1, rounds=3)
    values.update(cm.PRESETS[name])
    result = cm.show_communication(**values)
    assert set(result.rounds) == set(cm.SCHEMES)
    assert all(ax.get_title() for ax in plt.gcf().axes)
    plt.close("all")
