"""Callbacks of notebook 01 (fedlearn_edu.widgets.comparison) over a grid of slider values."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from helpers import ARTICLE_N_PARAMETERS  # noqa: E402

import fedlearn_edu as fl  # noqa: E402
from fedlearn_edu.widgets import comparison  # noqa: E402

CLIENTS = (1, 2, 10, 25, 100)            # slider ends, the default, and the one-batch threshold
LEARNING_RATES = (0.001, 0.1, 10.0)      # slider ends and the default
ARTICLE_EXAMPLE_BYTES = 20 * 4 + 4


@pytest.fixture(scope="module")
def grid(article):
    """compute_comparison over the slider grid, computed once."""
    return {(k, lr): comparison.compute_comparison(k, lr, dataset=article)
            for k in CLIENTS for lr in LEARNING_RATES}


@pytest.mark.parametrize("n_clients", CLIENTS)
@pytest.mark.parametrize("lr", LEARNING_RATES)
def test_raw_data_bytes_do_not_depend_on_the_sliders(grid, article, n_clients, lr):
    result = grid[(n_clients, lr)]
    assert result.centralised.bytes_moved == fl.baselines.raw_data_bytes(article) == 800 * ARTICLE_EXAMPLE_BYTES
    assert result.centralised.communication_rounds == 1


@pytest.mark.parametrize("n_clients", CLIENTS)
def test_fedavg_bytes_are_clients_times_rounds_times_two_models(grid, n_clients):
    result = grid[(n_clients, 0.1)]
    assert result.fedavg.diverged_at is None
    assert result.fedavg.bytes_moved == n_clients * 20 * 2 * 4 * ARTICLE_N_PARAMETERS


@pytest.mark.parametrize("n_clients", CLIENTS)
@pytest.mark.parametrize("lr", (0.001, 0.1))
def test_distributed_sgd_never_moves_fewer_bytes_than_fedavg(grid, n_clients, lr):
    result = grid[(n_clients, lr)]
    assert result.distributed.bytes_moved >= result.fedavg.bytes_moved
    one_batch = math.ceil(800 / n_clients) <= 32
    if one_batch:   # one mini-batch per client: a FedAvg round is one SGD step
        assert result.distributed.bytes_moved == result.fedavg.bytes_moved
        assert result.distributed.accuracy == pytest.approx(result.fedavg.accuracy, abs=1e-6)
    else:
        assert result.distributed.bytes_moved >= 2 * result.fedavg.bytes_moved


@pytest.mark.parametrize("n_clients", CLIENTS)
def test_default_learning_rate_reaches_target_everywhere(grid, n_clients):
    result = grid[(n_clients, 0.1)]
    for method in result.methods:
        assert method.accuracy >= 0.85, method
        assert method.bytes_to_target is not None and method.bytes_to_target <= method.bytes_moved
    assert result.fedavg.bytes_to_target <= result.distributed.bytes_to_target


def test_the_article_setting_tells_the_notebook_story(grid):
    result = grid[(10, 0.1)]
    raw = result.centralised.bytes_moved
    assert raw < result.fedavg.bytes_moved < result.distributed.bytes_moved
    assert result.fedavg.bytes_to_target < 0.75 * result.distributed.bytes_to_target
    assert result.fedavg.bytes_moved / raw > 30


@pytest.mark.parametrize("n_clients", CLIENTS)
def test_tiny_learning_rate_is_too_slow_for_the_federated_methods(grid, n_clients):
    slow, good = grid[(n_clients, 0.001)], grid[(n_clients, 0.1)]
    assert slow.fedavg.accuracy < good.fedavg.accuracy - 0.05
    assert slow.fedavg.bytes_to_target is None


@pytest.mark.parametrize("n_clients", CLIENTS)
def test_huge_learning_rate_diverges_and_is_reported(grid, n_clients):
    result = grid[(n_clients, 10.0)]
    assert any(m.diverged_at is not None for m in result.methods)
    assert all(m.accuracy < 0.85 for m in result.methods)
    assert "diverged" in repr(result)


def test_repr_is_a_table_with_three_decimals(grid):
    text = repr(grid[(10, 0.1)])
    assert text.splitlines()[2].startswith("centralised")
    assert "0x" not in text
    numbers = [tok for tok in text.split() if "." in tok and tok.replace(".", "").isdigit()]
    assert numbers and all(len(tok.split(".")[1]) <= 3 for tok in numbers)


@pytest.mark.parametrize("n_clients, rounds, expected", [(10, 20, 60), (25, 20, 20), (24, 20, 40),
                                                         (1, 3, 75), (100, 1, 1)])
def test_equal_compute_steps(n_clients, rounds, expected):
    assert comparison.equal_compute_steps(n_clients, rounds) == expected


def test_bytes_to_target_is_cumulative_bytes_at_first_hit(grid):
    h = grid[(10, 0.1)].histories["FedAvg"]
    first = h.rounds_to_accuracy(0.85)
    assert grid[(10, 0.1)].fedavg.bytes_to_target == first * 10 * 2 * 4 * ARTICLE_N_PARAMETERS


def test_show_comparison_draws_and_returns_the_same_numbers(grid):
    shown = comparison.show_comparison(10, 0.1)
    assert shown.methods == grid[(10, 0.1)].methods
    assert plt.get_fignums(), "a figure was drawn"


@pytest.mark.parametrize("bad, name", [(dict(n_clients=0), "n_clients"), (dict(n_clients=801), "n_clients"),
                                       (dict(client_learning_rate=0.0), "client_learning_rate"),
                                       (dict(client_learning_rate=-1.0), "client_learning_rate"),
                                       (dict(rounds=0), "rounds"), (dict(target=1.5), "target")])
def test_bad_slider_values_name_the_parameter(article, bad, name):
    with pytest.raises(ValueError, match=name):
        comparison.compute_comparison(**{**dict(n_clients=10, client_learning_rate=0.1), **bad}, dataset=article)


# -- the bytes crossover ---------------------------------------------------------------------

SAMPLES = (10, 80, 1000, 2931, 2932, 10000)   # slider ends, the article, around the crossover
ROUNDS = (1, 20, 200)


def test_article_crossover_value():
    result = comparison.compute_bytes_crossover()
    assert result.crossover_samples == pytest.approx(8 * ARTICLE_N_PARAMETERS * 20 / ARTICLE_EXAMPLE_BYTES)
    assert 2931 < result.crossover_samples < 2932
    assert not result.federated_moves_less
    assert result.raw_bytes * 10 == 67200 and result.update_bytes * 10 == 2462400


@pytest.mark.parametrize("samples", SAMPLES)
@pytest.mark.parametrize("rounds", ROUNDS)
def test_crossover_separates_the_two_regimes(samples, rounds):
    r = comparison.compute_bytes_crossover(samples, rounds)
    assert r.raw_bytes == samples * ARTICLE_EXAMPLE_BYTES
    assert r.update_bytes == 2 * 4 * ARTICLE_N_PARAMETERS * rounds
    assert r.federated_moves_less == (samples > r.crossover_samples)
    assert r.ratio == pytest.approx(samples / r.crossover_samples)
    at = comparison.raw_bytes_per_client(r.crossover_samples, ARTICLE_EXAMPLE_BYTES)
    assert at == pytest.approx(r.update_bytes)


def test_crossover_grows_with_rounds_and_parameters_and_shrinks_with_example_size():
    base = comparison.crossover_samples(1539, 20, 84)
    assert comparison.crossover_samples(1539, 40, 84) == pytest.approx(2 * base)
    assert comparison.crossover_samples(3078, 20, 84) == pytest.approx(2 * base)
    assert comparison.crossover_samples(1539, 20, 168) == pytest.approx(base / 2)
    assert comparison.crossover_samples(1539, 20, 84, fraction=0.1) == pytest.approx(base / 10)


def test_phone_example_favours_federated_learning():
    phone = comparison.compute_bytes_crossover(2000, 1000, 1_000_000, 224 * 224 * 3 + 4, 0.01)
    assert phone.federated_moves_less and phone.ratio > 3
    assert phone.update_bytes == pytest.approx(80e6)
    assert 500 < phone.crossover_samples < 600


@pytest.mark.parametrize("samples", (10, 80, 10000))
@pytest.mark.parametrize("rounds", (1, 200))
def test_show_bytes_crossover_draws_and_returns_numbers(samples, rounds):
    shown = comparison.show_bytes_crossover(samples, rounds)
    assert shown == comparison.compute_bytes_crossover(samples, rounds)
    assert "crossover at" in repr(shown) and "0x" not in repr(shown)


def test_bytes_per_example():
    assert comparison.bytes_per_example(20) == 84
    assert comparison.bytes_per_example(64) == 260


@pytest.mark.parametrize("call, name", [
    (lambda: comparison.compute_bytes_crossover(samples_per_client=0), "samples_per_client"),
    (lambda: comparison.compute_bytes_crossover(rounds=0), "rounds"),
    (lambda: comparison.compute_bytes_crossover(n_parameters=0), "n_parameters"),
    (lambda: comparison.compute_bytes_crossover(example_bytes=0), "example_bytes"),
    (lambda: comparison.compute_bytes_crossover(fraction=0.0), "fraction"),
    (lambda: comparison.compute_bytes_crossover(fraction=1.5), "fraction"),
    (lambda: comparison.bytes_per_example(0), "n_features"),
])
def test_bad_crossover_values_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def _comparison_controls():
    """The controls of notebook 01's comparison panel (section 3), at their defaults."""
    return dict(n_clients=fl.widgets.client_slider(10, min=2, max=50),
                client_learning_rate=fl.widgets.log_value_slider(0.1, 0.001, 10.0, "client learning rate η_l"),
                rounds=fl.widgets.int_slider(20, 1, 50, "passes over the data"))


def _crossover_controls():
    return dict(samples_per_client=fl.widgets.int_slider(80, 10, 10000, "examples per client", step=10),
                rounds=fl.widgets.int_slider(20, 1, 200, "rounds R"))


@pytest.mark.parametrize("presets, controls", [(comparison.PRESETS, _comparison_controls),
                                               (comparison.CROSSOVER_PRESETS, _crossover_controls)])
def test_presets_fit_the_notebook_controls(presets, controls):
    panel = fl.widgets.ControlPanel(lambda **values: None, controls(), presets=presets, run_now=False)
    assert len(presets) >= 4 and set(panel.presets) == set(presets)


def test_presets_show_what_they_say(grid):
    assert comparison.PRESETS["many clients with little data: K = 50"] == dict(n_clients=50)
    assert grid[(25, 0.1)].fedavg.bytes_moved == grid[(25, 0.1)].distributed.bytes_moved
    past = comparison.compute_bytes_crossover(**comparison.CROSSOVER_PRESETS["just past the crossover: 2940 examples"])
    article = comparison.compute_bytes_crossover(
        **comparison.CROSSOVER_PRESETS["the article's clients: 80 examples, R = 20"])
    assert past.federated_moves_less and not article.federated_moves_less


def test_show_comparison_prints_its_table_unless_asked_not_to(grid, capsys):
    comparison.show_comparison(10, 0.1)
    assert grid[(10, 0.1)].table() in capsys.readouterr().out
    comparison.show_comparison(10, 0.1, show_table=False)
    assert "passes over the data each" not in capsys.readouterr().out


def test_show_bytes_crossover_prints_its_summary_unless_asked_not_to(capsys):
    shown = comparison.show_bytes_crossover(80, 20)
    assert str(shown) in capsys.readouterr().out
    comparison.show_bytes_crossover(80, 20, show_summary=False)
    assert capsys.readouterr().out == ""


def test_the_article_crossover_and_its_neighbours():
    """Notebook 01, section 4: the formula against the runs' counts (moved here from the notebook)."""
    article = comparison.compute_bytes_crossover(80, 20, ARTICLE_N_PARAMETERS, ARTICLE_EXAMPLE_BYTES)
    assert 10 * article.raw_bytes == fl.baselines.raw_data_bytes(fl.load_dataset("article"))
    n_star = article.crossover_samples
    assert n_star == pytest.approx(8 * ARTICLE_N_PARAMETERS * 20 / ARTICLE_EXAMPLE_BYTES, abs=1e-9)
    below = comparison.compute_bytes_crossover(math.floor(n_star), 20, ARTICLE_N_PARAMETERS, ARTICLE_EXAMPLE_BYTES)
    above = comparison.compute_bytes_crossover(math.ceil(n_star), 20, ARTICLE_N_PARAMETERS, ARTICLE_EXAMPLE_BYTES)
    assert not below.federated_moves_less and above.federated_moves_less
