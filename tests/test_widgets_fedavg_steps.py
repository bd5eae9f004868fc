"""Notebook 04's plain functions (fedlearn_edu.widgets.fedavg_steps): one round, the stopping
rule, the loop, and the slider callback over a grid of slider values."""
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fedlearn_edu as fl  # noqa: E402
from fedlearn_edu.widgets import fedavg_steps as fs  # noqa: E402

CONFIG = fs.BASE_CONFIG


# -- the stopping rule ----------------------------------------------------------------
def test_stopping_round_on_a_worked_example():
    losses = [0.80, 0.60, 0.50, 0.497, 0.490, 0.488, 0.487, 0.486]
    assert fs.stopping_round(losses) == 8
    assert fs.stopping_round(losses[:7]) is None
    assert fs.stopping_round(losses, tolerance=0.0) is None       # every round improves a little
    assert fs.stopping_round(losses, patience=1) == 4
    assert fs.stopping_round([]) is None


def test_stopping_round_counts_from_the_initial_loss():
    assert fs.stopping_round([1.0, 1.0, 1.0], initial_loss=1.0) == 3
    assert fs.stopping_round([1.0, 1.0, 1.0]) is None             # round 1 is the first best


def test_stopping_round_stops_at_a_nan():
    assert fs.stopping_round([0.9, 0.5, float("nan"), 0.1]) == 3


@pytest.mark.parametrize("kwargs, name", [(dict(tolerance=-0.1), "tolerance"), (dict(patience=0), "patience")])
def test_stopping_round_rejects_bad_settings(kwargs, name):
    with pytest.raises(ValueError, match=name):
        fs.stopping_round([1.0], **kwargs)


# -- one round and the loop ------------------------------------------------------------
@pytest.fixture(scope="module")
def sim():
    return fl.Simulation(CONFIG)


def test_a_round_by_hand_equals_the_engines(sim):
    sim.reset()
    record = fs.fedavg_round(sim, 0)
    for engine in ("per_client", "vectorized"):
        history = fl.run_experiment(CONFIG.replace(rounds=1, engine=engine), progress=False)
        assert history.engine == engine
        gap = max(np.abs(a - b).max() for a, b in zip(history.final_weights, record.new_weights, strict=True))
        assert gap < 1e-5, engine
        assert history.bytes_up[0] == record.bytes_up == 5 * 1539 * 4
        assert history.loss[0] == pytest.approx(record.loss, abs=1e-5)


def test_round_record_is_consistent(sim):
    sim.reset()
    record = fs.fedavg_round(sim, 0)
    assert record.clients.tolist() == sim.sample_clients(0).tolist()
    assert record.coefficients.sum() == pytest.approx(1.0)
    assert [r.client_id for r in record.results] == record.clients.tolist()
    assert all(np.array_equal(a, b) for a, b in zip(sim.global_weights, record.new_weights, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(sim.initial_weights, record.previous_weights, strict=True))
    assert record.loss < sim.evaluate(sim.initial_weights)[0]


def test_three_rounds_by_hand_equal_three_rounds_of_run(sim):
    sim.reset()
    losses = [fs.fedavg_round(sim, r).loss for r in range(3)]
    history = fl.run_experiment(CONFIG.replace(rounds=3, engine="per_client"), progress=False)
    assert np.allclose(losses, history.loss, atol=1e-6)


def test_run_until_converged_uses_the_stated_rule(sim):
    run = fs.run_until_converged(sim)
    assert run.converged and run.rounds < 100
    assert fs.stopping_round(run.loss, initial_loss=run.initial_loss) == run.rounds
    assert fs.stopping_round(run.loss[:-1], initial_loss=run.initial_loss) is None
    assert run.final_accuracy >= 0.85
    curve = fs.compute_learning_curve(10, 0.1, 100)
    assert curve.stop_round == run.rounds
    assert np.allclose(curve.loss[1:run.rounds + 1], run.loss, atol=1e-5)


def test_run_until_converged_max_rounds_and_target(sim):
    short = fs.run_until_converged(sim, max_rounds=2)
    assert short.rounds == 2 and not short.converged and "max_rounds" in short.reason
    target = fs.run_until_converged(sim, target_accuracy=0.8)
    assert target.converged and target.final_accuracy >= 0.8
    assert np.all(target.accuracy[:-1] < 0.8)


@pytest.fixture(scope="module")
def diverging():
    return fl.Simulation(CONFIG.replace(client_learning_rate=10.0, engine="per_client"))


def test_a_growing_loss_stops_the_rule_but_is_not_convergence(diverging):
    run = fs.run_until_converged(diverging, max_rounds=30)
    assert run.rounds == 3 and run.loss[-1] > run.initial_loss
    assert not run.converged and "training failed" in run.reason


def test_run_until_converged_reports_divergence(diverging):
    run = fs.run_until_converged(diverging, patience=100, max_rounds=50)
    assert not run.converged and "diverged" in run.reason
    assert np.all(np.isfinite(run.loss))
    assert all(np.all(np.isfinite(w)) for w in run.final_weights)


@pytest.mark.parametrize("kwargs, name", [(dict(max_rounds=0), "max_rounds"),
                                          (dict(target_accuracy=1.5), "target_accuracy"),
                                          (dict(patience=0), "patience")])
def test_run_until_converged_rejects_bad_settings(sim, kwargs, name):
    with pytest.raises(ValueError, match=name):
        fs.run_until_converged(sim, **kwargs)


# -- the slider --------------------------------------------------------------------------
K_VALUES = (1, 10, 100)           # client slider: its ends and the default
LR_VALUES = (0.001, 0.1, 10.0)    # learning-rate slider: its ends and the default
ROUND_VALUES = (5, 100)


@pytest.fixture(scope="module")
def curves():
    return {(k, lr, r): fs.compute_learning_curve(k, lr, r)
            for k, lr, r in itertools.product(K_VALUES, LR_VALUES, ROUND_VALUES)}


def test_curves_have_the_requested_length(curves):
    for (k, _lr, r), curve in curves.items():
        assert curve.rounds == r and len(curve.accuracy) == r + 1
        assert curve.clients_per_round == max(1, k // 2)
        assert curve.stop_round is None or 1 <= curve.stop_round <= r


def test_a_shorter_run_is_a_prefix_of_a_longer_one(curves):
    for k, lr in itertools.product(K_VALUES, (0.001, 0.1)):
        short, long = curves[(k, lr, 5)], curves[(k, lr, 100)]
        assert np.allclose(short.loss, long.loss[:6], atol=1e-6), (k, lr)


def test_default_learning_rate_converges_for_every_client_count(curves):
    for k in K_VALUES:
        curve = curves[(k, 0.1, 100)]
        assert curve.diverged_at is None and curve.stop_round is not None, k
        assert curve.accuracy_at_stop >= 0.85 and not curve.failed, k


def test_largest_learning_rate_diverges(curves):
    for k in K_VALUES:
        curve = curves[(k, 10.0, 100)]
        assert curve.diverged_at is not None, k
        assert curve.stop_round is None or curve.stop_round < curve.diverged_at
        assert curve.accuracy_at_stop < 0.85, k


def test_smallest_learning_rate_learns_slowly(curves):
    slow, default = curves[(10, 0.001, 100)], curves[(10, 0.1, 100)]
    assert slow.stop_round is None
    assert slow.accuracy[-1] < default.accuracy_at_stop - 0.1
    assert slow.loss[-1] < slow.loss[0]       # it does learn, slowly


@pytest.mark.parametrize("kwargs, name", [(dict(n_clients=0), "n_clients"), (dict(rounds=0), "rounds"),
                                          (dict(client_learning_rate=0.0), "client_learning_rate")])
def test_bad_slider_values_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        fs.compute_learning_curve(**kwargs)


@pytest.mark.parametrize("k, lr, r", [(10, 0.1, 50), (1, 10.0, 100), (100, 0.001, 5)])
def test_show_learning_curve(k, lr, r, capsys):
    curve = fs.show_learning_curve(k, lr, r)
    assert isinstance(curve, fs.LearningCurve) and curve.rounds == r
    assert plt.get_fignums()
    out = capsys.readouterr().out
    if curve.diverged_at is not None:
        assert "diverged" in out
    else:
        assert "criterion" in out
    plt.close("all")


@pytest.mark.parametrize("fraction, local_epochs, batch_size", [
    (0.1, 1, 8), (1.0, 1, None), (0.5, 20, 8), (1.0, 20, None), (0.1, 5, 32)])
def test_fraction_epochs_and_batch_size_reach_the_run(fraction, local_epochs, batch_size):
    """The C, E and B sliders: the curve is the run of exactly that configuration."""
    curve = fs.compute_learning_curve(10, 0.1, 10, fraction=fraction, local_epochs=local_epochs, batch_size=batch_size)
    config = fs.BASE_CONFIG.replace(n_clients=10, rounds=10, fraction=fraction, local_epochs=local_epochs,
                                    batch_size=batch_size)
    history = fl.run_experiment(config, progress=False)
    assert curve.clients_per_round == config.clients_per_round == max(1, int(10 * fraction + 1e-9))
    np.testing.assert_allclose(curve.loss[1:], history.loss, rtol=0, atol=0)
    assert curve.diverged_at is None and curve.loss[-1] < curve.loss[0]


def test_fedsgd_needs_more_rounds_than_more_local_work():
    fedsgd = fs.compute_learning_curve(10, 0.1, 100, **fs.PRESETS["FedSGD: E = 1, B = ∞, every client"])
    local = fs.compute_learning_curve(10, 0.1, 100, **fs.PRESETS["more local work: E = 5, B = 8"])
    assert fedsgd.stop_round is not None and local.stop_round is not None
    assert local.stop_round < fedsgd.stop_round


@pytest.mark.parametrize("name", list(fs.PRESETS))
def test_every_preset_draws_and_says_what_happened(name, capsys):
    curve = fs.show_learning_curve(10, rounds=30, **{"client_learning_rate": 0.1, **fs.PRESETS[name]})
    out = capsys.readouterr().out
    assert ("diverged" in out) == (curve.diverged_at is not None)
    assert plt.gcf().texts or plt.gcf()._suptitle is not None
    plt.close("all")


@pytest.mark.parametrize("kwargs, name", [(dict(fraction=0.0), "fraction"), (dict(local_epochs=0), "local_epochs"),
                                          (dict(batch_size=0), "batch_size")])
def test_bad_c_e_b_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        fs.compute_learning_curve(**kwargs)


def test_a_run_that_diverges_in_round_1_still_has_a_final_loss():
    sim = fl.Simulation(fs.BASE_CONFIG.replace(n_clients=50, fraction=1.0, local_epochs=20, batch_size=None,
                                               client_learning_rate=10.0, alpha=100.0, seed=20))
    run = fs.run_until_converged(sim)
    assert run.rounds == 0 and "diverged in round 1" in run.reason
    assert run.final_loss == run.initial_loss and run.final_accuracy == run.initial_accuracy
