"""Notebook 14's callbacks (fedlearn_edu.widgets.paper) over a grid of slider values."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fedlearn_edu import paper  # noqa: E402
from fedlearn_edu.widgets import paper as pw  # noqa: E402

TINY = dict(hidden_units=(16, 16), rounds=3)     # the plumbing, fast


@pytest.mark.parametrize("fraction", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("local_epochs, batch_size", [(1, None), (20, 10), (5, 50)])
@pytest.mark.parametrize("partition", ["iid", "shards"])
def test_compute_curve_over_the_slider_grid(fraction, local_epochs, batch_size, partition):
    r = pw.compute_curve(fraction, 0.3, local_epochs, batch_size, partition, **TINY)
    assert r.fedavg_accuracy.shape == r.fedsgd_accuracy.shape == (3,)
    assert np.all((r.fedavg_accuracy >= 0) & (r.fedavg_accuracy <= 1))
    assert r.clients_per_round == {0.0: 1, 0.1: 10, 1.0: 100}[fraction]
    steps = {(1, None): 1.0, (20, 10): 40.0, (5, 50): 5.0}[(local_epochs, batch_size)]  # B=50 > n_k: full batch
    assert r.local_steps == steps
    assert (r.speedup is None) == (r.fedavg_rounds is None or r.fedsgd_rounds is None)


@pytest.mark.parametrize("rate", [0.01, 3.16])          # the ends of the learning-rate slider
def test_fedsgd_cell_is_its_own_baseline(rate):
    r = pw.compute_curve(0.1, rate, 1, "∞", "iid", fedsgd_learning_rate=rate, **TINY)
    assert r.config.is_fedsgd
    assert np.array_equal(r.fedavg_accuracy, r.fedsgd_accuracy)


def test_more_local_computation_learns_more_per_round():
    r = pw.compute_curve(0.1, 0.1, 5, 10, "iid", fedsgd_learning_rate=0.1, **TINY)
    assert r.local_steps == 10.0
    assert r.fedavg_accuracy[-1] > r.fedsgd_accuracy[-1] + 0.1


@pytest.mark.parametrize("n_clients", [10, 100])          # the ends of the client-count slider
def test_client_count_sets_the_local_steps(n_clients):
    r = pw.compute_curve(0.5, 0.1, 1, 10, "iid", n_clients=n_clients, **TINY)
    assert r.clients_per_round == n_clients // 2
    assert r.local_steps == (15.0 if n_clients == 10 else 2.0)      # ceil(n_k / 10): 144 or 14 images


def test_speedup_and_rounds_with_a_low_target():
    r = pw.compute_curve(0.1, 0.3, 5, 10, "iid", fedsgd_learning_rate=1.0, target=0.3, **TINY)
    assert r.fedavg_rounds is not None and r.fedsgd_rounds is not None
    assert r.speedup == r.fedsgd_rounds / r.fedavg_rounds
    assert "speed-up" in r.summary()


@pytest.mark.parametrize("kwargs, name", [
    (dict(partition="dirichlet"), "partition"), (dict(client_learning_rate=0.0), "client_learning_rate"),
    (dict(fraction=2.0), "fraction"), (dict(local_epochs=0), "local_epochs"),
    (dict(batch_size=0), "batch_size"), (dict(rounds=0), "rounds"),
    (dict(fedsgd_learning_rate=-1.0), "fedsgd_learning_rate"), (dict(target=1.5), "target"),
    (dict(n_clients=0), "n_clients")])
def test_bad_values_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        pw.compute_curve(**{**dict(hidden_units=(16, 16), rounds=2), **kwargs})


def test_show_curve_draws_both_curves_and_returns_the_numbers(capsys):
    r = pw.show_curve(0.1, 0.3, 5, 10, "shards", **TINY)
    assert isinstance(r, pw.CurveResult)
    ax = plt.gcf().axes[0]
    assert len(ax.get_lines()) >= 3                     # FedSGD, FedAvg, target line
    assert "FedAvg" in capsys.readouterr().out


def test_sliders_match_the_callback_and_release_only():
    s = pw.sliders()
    assert set(s) == {"n_clients", "fraction", "client_learning_rate", "local_epochs", "batch_size", "partition",
                      "seed"}
    assert list(s["fraction"].options) == list(paper.FRACTIONS) and s["n_clients"].value == 100
    for name in ("n_clients", "fraction", "client_learning_rate", "local_epochs", "batch_size"):
        assert s[name].continuous_update is False


def test_rounds_vs_u_reads_the_table_and_plots():
    rows = [
        {"K": 100, "partition": "iid", "C": 0.1, "E": 1, "B": None, "u": 1.0, "rounds": 20, "speedup": 1.0,
         "speedup_vs_C0": None},
        {"K": 100, "partition": "iid", "C": 0.1, "E": 20, "B": 10, "u": 28.7, "rounds": 4, "speedup": 5.0,
         "speedup_vs_C0": None},
        {"K": 100, "partition": "iid", "C": 0.1, "E": 5, "B": 10, "u": 7.2, "rounds": None, "speedup": None,
         "speedup_vs_C0": None},
    ]
    u, rounds = pw.rounds_vs_u(rows, 100, 0.1, "iid")
    assert u.tolist() == [1.0, 28.7] and rounds.tolist() == [20.0, 4.0]     # "—" cells left out
    axes = pw.plot_rounds_vs_u(rows)
    assert len(axes) == 2 and len(axes[1].get_lines()) == 2                   # the paper's IID and non-IID


def test_sliders_start_at_the_given_values_and_infinity_is_the_full_batch():
    s = pw.sliders(10, 0.5, 0.1, 20, None, "shards", 3)
    assert {k: w.value for k, w in s.items()} == dict(n_clients=10, fraction=0.5, client_learning_rate=0.1,
                                                      local_epochs=20, batch_size=float("inf"),
                                                      partition="shards", seed=3)
    r = pw.compute_curve(0.1, 0.3, 1, s["batch_size"].value, "iid", **TINY)     # the slider's ∞
    assert r.config.batch_size is None and r.local_steps == 1.0


@pytest.mark.parametrize("name", list(pw.PRESETS))
def test_every_preset_is_a_value_its_controls_accept(name):
    from fedlearn_edu.widgets.classroom import ControlPanel
    panel = ControlPanel(lambda **values: values, pw.sliders(), presets=pw.PRESETS, run_now=False)
    panel.preset.value = name
    for control, value in pw.PRESETS[name].items():
        assert panel.controls[control].value == value
    values = {k: w.value for k, w in panel.controls.items()}
    r = pw.compute_curve(values["fraction"], values["client_learning_rate"], values["local_epochs"],
                         values["batch_size"], values["partition"], n_clients=values["n_clients"],
                         seed=values["seed"], **TINY)
    assert r.fedavg_accuracy.shape == (3,)


def test_the_fedsgd_preset_is_fedsgd():
    preset = pw.PRESETS["FedSGD: E = 1, B = ∞"]
    r = pw.compute_curve(0.1, preset["client_learning_rate"], preset["local_epochs"], preset["batch_size"], "iid",
                         **TINY)
    assert r.config.is_fedsgd and np.array_equal(r.fedavg_accuracy, r.fedsgd_accuracy)
