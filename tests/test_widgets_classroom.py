"""The classroom panel: presets, reset, busy state, what changed, errors as one line."""
import re

import ipywidgets as widgets
import pytest

from fedlearn_edu.widgets.classroom import ControlPanel, describe_changes, log_value_slider, log_values


def _panel(calls, **kwargs):
    def callback(local_epochs, client_learning_rate):
        calls.append((local_epochs, client_learning_rate))
        if client_learning_rate > 5:
            raise ValueError(f"client_learning_rate must be <= 5, got {client_learning_rate}")
        return local_epochs * client_learning_rate
    controls = {"local_epochs": widgets.IntSlider(value=1, min=1, max=20, description="local epochs E"),
                "client_learning_rate": log_value_slider(0.3, 0.001, 10, "client learning rate")}
    presets = {"more local work": {"local_epochs": 5}, "too large": {"client_learning_rate": 10.0}}
    return ControlPanel(callback, controls, presets=presets, **kwargs)


def test_log_values_hold_round_numbers_and_the_default():
    values = log_values(0.001, 10, include=(0.3, 0.25))
    assert values[0] == 0.001 and values[-1] == 10.0 and 0.3 in values and 0.25 in values and 0.5 in values
    assert list(values) == sorted(set(values))
    assert log_values(0.01, 1) == (0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


@pytest.mark.parametrize("low, high", [(0, 1), (1, 0.1), (-1, 1), (float("nan"), 1)])
def test_log_values_refuse_bad_ranges(low, high):
    with pytest.raises(ValueError, match="0 < low <= high"):
        log_values(low, high)


def test_a_log_slider_returns_exactly_to_its_default():
    slider = log_value_slider(0.3, 0.001, 10, "client learning rate")
    slider.value = 3.0
    slider.value = 0.3
    assert slider.value == 0.3 and slider.continuous_update is False


def test_the_panel_runs_once_at_start_and_once_per_change():
    calls = []
    panel = _panel(calls)
    assert calls == [(1, 0.3)] and panel.generation == 1 and panel.last_result == pytest.approx(0.3)
    panel.controls["local_epochs"].value = 4
    assert calls[-1] == (4, 0.3) and panel.generation == 2
    assert panel.summary.value.endswith("changed: local epochs E 1 → 4</span>")
    assert "done in" in panel.busy.value and 'data-generation="2"' in panel.busy.value


def test_a_preset_changes_only_what_it_names_and_runs_once():
    calls = []
    panel = _panel(calls)
    panel.controls["client_learning_rate"].value = 0.01
    panel.preset.value = "more local work"
    assert calls[-1] == (5, 0.3), "a preset starts from the defaults"
    assert len(calls) == 3
    panel.controls["local_epochs"].value = 6
    assert panel.preset.value == "(custom)"


def test_reset_restores_every_default_in_one_run():
    calls = []
    panel = _panel(calls)
    panel.apply(local_epochs=7, client_learning_rate=1.0)
    panel.preset.value = "more local work"
    before = len(calls)
    panel.reset()
    assert calls[-1] == (1, 0.3) and len(calls) == before + 1
    assert panel.values() == panel.defaults and panel.preset.value == "(custom)"
    assert "the notebook's defaults" in panel.summary.value


def test_an_error_is_one_line_and_the_panel_stays_usable(capsys):
    calls = []
    panel = _panel(calls)
    panel.preset.value = "too large"
    assert "error" in panel.busy.value and panel.last_result == pytest.approx(0.3)
    assert "These settings cannot run: client_learning_rate must be <= 5, got 10" in capsys.readouterr().out
    panel.reset()
    assert "done in" in panel.busy.value


def test_describe_changes():
    assert describe_changes({"a": 1}, {"a": 1}) == "the notebook's defaults"
    assert describe_changes({"a": 2, "b": 0.5}, {"a": 1, "b": 0.5}, {"a": "E"}) == "changed: E 1 → 2"


def test_presets_must_name_controls():
    with pytest.raises(ValueError, match="'typo' sets \\['epochs'\\], which are not controls"):
        ControlPanel(lambda x: x, {"x": widgets.IntSlider(value=1)}, presets={"typo": {"epochs": 2}})


def test_a_static_viewer_reads_what_the_sliders_are():
    bundle = _panel([])._repr_mimebundle_()
    assert bundle["text/plain"] == ("[sliders: local epochs E, client learning rate; "
                                    "they move when the notebook runs in Jupyter]")
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_batch_size_slider_ends_with_the_full_batch():
    import math

    import fedlearn_edu as fl
    from fedlearn_edu.widgets import batch_size_slider
    slider = batch_size_slider(None)
    assert slider.value == math.inf and slider.options[-1] == ("∞", math.inf) and slider.continuous_update is False
    assert fl.FLConfig(batch_size=slider.value).batch_size is None       # ∞ is the full batch
    assert batch_size_slider(48).value == 48 and ("48", 48) in batch_size_slider(48).options


def test_a_preset_the_controls_cannot_show_is_refused_by_name():
    """A preset that sets a selection to a value it does not offer (None where ∞ is math.inf) or a slider beyond
    its range would fail inside a widget observer, where the student sees nothing: refuse it when the panel is made."""
    from fedlearn_edu.widgets import batch_size_slider
    controls = dict(batch_size=batch_size_slider(32), local_epochs=widgets.IntSlider(value=1, min=1, max=20),
                    alpha=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2))
    for preset, words in (({"batch_size": None}, "batch_size = None"), ({"local_epochs": 50}, "1 .. 20"),
                          ({"alpha": 1000.0}, "0.01 .. 100")):
        with pytest.raises(ValueError, match=re.escape(words)):
            ControlPanel(lambda **values: None, controls, presets={"bad": preset}, run_now=False)
    panel = ControlPanel(lambda **values: None, controls, run_now=False,
                                   presets={"FedSGD": {"batch_size": float("inf"), "local_epochs": 1},
                                            "near-IID": {"alpha": 100.0}})
    panel.preset.value = "FedSGD"
    assert panel.values()["batch_size"] == float("inf") and panel.generation == 1


@pytest.mark.parametrize("clients", [1, 10, 100, 800])
def test_the_environment_check_of_notebook_00(clients, capsys):
    from fedlearn_edu.widgets import ENVIRONMENT_PRESETS, client_slider, show_examples_per_client
    assert show_examples_per_client(clients) == 800 // clients
    assert f"{clients} clients would each hold about {800 // clients} of the 800" in capsys.readouterr().out
    panel = ControlPanel(show_examples_per_client, dict(clients=client_slider(10)), presets=ENVIRONMENT_PRESETS)
    assert panel.last_result == 80 and panel.generation == 1


@pytest.mark.parametrize("bad", [0, 801, 2.5, True])
def test_the_environment_check_names_a_bad_client_count(bad):
    from fedlearn_edu.widgets import show_examples_per_client
    with pytest.raises(ValueError, match="clients must be an integer in 1 .. 800"):
        show_examples_per_client(bad)
