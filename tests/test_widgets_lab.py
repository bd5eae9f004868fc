"""The lab's plain functions over a grid of control values, and the dashboard's behaviour."""
import itertools
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fedlearn_edu.widgets import lab  # noqa: E402


@pytest.mark.parametrize("algorithm, partition", list(itertools.product(lab.ALGORITHMS, lab.LAB_PARTITIONS)))
def test_run_lab_over_algorithms_and_partitions(algorithm, partition):
    result = lab.run_lab(algorithm=algorithm, partition=partition, rounds=4, n_clients=8, alpha=0.3,
                         server_learning_rate=0.03 if algorithm in ("FedAdam", "FedYogi", "FedAdagrad") else 1.0)
    h = result.history
    assert h.rounds_completed == 4 and not h.diverged
    assert result.client_accuracy.shape == (8,)
    assert np.all((result.client_accuracy >= 0) & (result.client_accuracy <= 1))
    assert h.final_accuracy > 0.5, f"{algorithm}/{partition} should learn something in 4 rounds"
    assert result.baseline.config.n_clients == 1
    svg = lab.lab_svg(result)
    root = ET.fromstring(svg)                     # well-formed
    assert root.tag.endswith("svg") and svg.count("<polyline") >= 4
    text = lab.lab_summary(result)
    assert f"{algorithm} on article: 8 clients" in text


@pytest.mark.parametrize("n_clients, fraction, dataset", [(1, 1.0, "article"), (100, 0.05, "article"),
                                                        (100, 1.0, "digits"), (5, 0.4, "breast_cancer")])
def test_run_lab_at_the_slider_ends(n_clients, fraction, dataset):
    result = lab.run_lab(n_clients=n_clients, fraction=fraction, dataset=dataset, rounds=3)
    expected = max(1, int(np.floor(fraction * n_clients + 1e-9)))
    assert all(len(p) == expected for p in result.history.participants)
    assert result.history.label_counts.shape[0] == n_clients


def test_algorithm_menu_maps_to_the_right_config():
    fedsgd = lab.settings_to_config(lab.LabSettings(algorithm="FedSGD", local_epochs=5, batch_size=8))
    assert fedsgd.local_epochs == 1 and fedsgd.batch_size is None and fedsgd.mu == 0
    prox = lab.settings_to_config(lab.LabSettings(algorithm="FedProx", mu=0.3))
    assert prox.mu == 0.3 and prox.server_optimizer == "fedavg"
    assert lab.settings_to_config(lab.LabSettings(algorithm="FedAvg", mu=0.3)).mu == 0.0
    assert lab.settings_to_config(lab.LabSettings(algorithm="FedAvgM")).server_optimizer == "fedavgm"
    assert lab.settings_to_config(lab.LabSettings(batch_size="full")).batch_size is None


@pytest.mark.parametrize("field, value", [("n_clients", 0), ("n_clients", 101), ("fraction", 0.0),
                                          ("client_learning_rate", -1.0), ("algorithm", "SGD"),
                                          ("partition", "quantity"), ("alpha", 0.0)])
def test_lab_settings_reject_bad_values(field, value):
    with pytest.raises((ValueError, TypeError), match=field):
        lab.LabSettings(**{field: value})


def test_preset_claims():
    names = list(lab.PRESETS)
    results = {n: lab.run_lab(lab.LabSettings(**lab.PRESETS[n])) for n in names}
    assert results[names[3]].history.diverged
    assert results[names[4]].history.final_accuracy > results[names[2]].history.final_accuracy
    assert results[names[1]].history.label_counts is not None
    assert lab.lab_summary(results[names[3]]).count("DIVERGED") == 1


def test_dashboard_follows_its_controls():
    dashboard = lab.FederatedLab()
    assert dashboard.generation == 1 and dashboard.last_result.settings == lab.LabSettings()
    dashboard.controls["n_clients"].value = 25
    assert dashboard.generation == 2 and dashboard.last_result.settings.n_clients == 25
    assert "25 clients" in dashboard.summary.value
    assert 'data-generation="2"' in dashboard.figure.value
    dashboard.controls["algorithm"].value = "FedProx"
    assert not dashboard.controls["mu"].disabled and dashboard.controls["server_momentum"].disabled
    dashboard.controls["preset"].value = "too high a learning rate: client lr = 10"
    assert dashboard.generation == 4, "a preset changes many controls but runs once"
    assert dashboard.last_result.history.diverged and "DIVERGED" in dashboard.summary.value
    dashboard.controls["seed"].value = 3
    assert dashboard.controls["preset"].value == "(custom)"
    assert dashboard._repr_mimebundle_()["text/plain"] == "FederatedLab(15 controls)"


def test_dashboard_reset_and_what_changed():
    """A lecturer's controls: one line of what differs from the defaults, and reset brings them all back."""
    dashboard = lab.FederatedLab()
    assert "defaults" in dashboard.changes.value and "done" not in dashboard.status.value
    assert "computed in" in dashboard.status.value
    dashboard.apply(n_clients=25, client_learning_rate=1.0)
    changes = dashboard.changes.value
    assert "clients K 10 → 25" in changes and "client learning rate η_l 0.1 → 1" in changes
    dashboard.controls["preset"].value = "too high a learning rate: client lr = 10"
    generation = dashboard.generation
    dashboard.reset()
    assert dashboard.generation == generation + 1, "reset runs once"
    assert dashboard.settings() == lab.LabSettings() and dashboard.controls["preset"].value == "(custom)"
    assert "defaults" in dashboard.changes.value and not dashboard.last_result.history.diverged


def test_dashboard_shows_busy_while_it_runs(monkeypatch):
    dashboard = lab.FederatedLab()
    seen = []
    real = lab.run_lab
    monkeypatch.setattr(lab, "run_lab", lambda settings: seen.append(dashboard.status.value) or real(settings))
    dashboard.controls["seed"].value = 4
    assert seen and "running" in seen[0]
    assert "running" not in dashboard.status.value and "computed in" in dashboard.status.value


def test_dashboard_shows_failures_instead_of_raising(monkeypatch):
    dashboard = lab.FederatedLab()

    def broken(settings):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(lab, "run_lab", broken)
    dashboard.controls["seed"].value = 1
    assert "The run failed: RuntimeError: simulated failure" in dashboard.summary.value
    assert "Traceback" in dashboard.summary.value and dashboard.figure.value == ""

    def invalid(settings):
        raise ValueError("n_clients must be at most 5, got 9")

    monkeypatch.setattr(lab, "run_lab", invalid)
    dashboard.controls["seed"].value = 2
    assert "These settings cannot run: n_clients must be at most 5" in dashboard.summary.value


def test_the_static_figure_is_readable_on_a_projector():
    """The lab's matplotlib figure (the static fallback of notebook 06): 100 dpi, titled, labelled axes."""
    import matplotlib.pyplot as plt
    fig = lab.draw_lab(lab.run_lab(rounds=5))
    assert fig.dpi >= 100
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), ax
    plt.close("all")


@pytest.mark.parametrize("name", list(lab.LISTING_PRESETS))
def test_every_listing_preset_draws(name, capsys):
    import matplotlib.pyplot as plt
    values = dict(n_clients=5, rounds=3, client_learning_rate=0.01, server_learning_rate=0.01)
    values.update(lab.LISTING_PRESETS[name])
    listing, usual = lab.show_listing(**values)
    assert listing.config.server_learning_rate == values["server_learning_rate"]
    assert usual.config.client_learning_rate == 0.1 and usual.config.server_learning_rate == 1.0
    assert "test accuracy" in capsys.readouterr().out and plt.gcf().axes[0].get_title()
    plt.close("all")


def test_the_listing_as_printed_barely_learns():
    listing, usual = lab.show_listing()
    assert listing.final_accuracy < usual.final_accuracy - 0.2


@pytest.mark.parametrize("kwargs, name", [(dict(server_learning_rate=0.0), "server_learning_rate"),
                                          (dict(rounds=0), "rounds"), (dict(n_clients=0), "n_clients")])
def test_the_listing_panel_names_a_bad_value(kwargs, name):
    with pytest.raises(ValueError, match=name):
        lab.show_listing(**kwargs)
