"""The batched engine: a sweep in one compiled call equals its experiments' single runs."""
from __future__ import annotations

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import batch, paper
from fedlearn_edu.vectorized import Architecture, tracing_count


def _max_weight_error(a, b) -> float:
    """The largest difference between two models' weights, relative to the larger weight when
    that is above 1 (a diverged run's weights reach 1e11, where float32 keeps 7 digits)."""
    return max(float(np.max(np.abs(x - y)) / max(1.0, float(np.max(np.abs(y))))) for x, y in zip(a, b, strict=True))


def _assert_same(batched: fl.History, single: fl.History, atol: float = 1e-5) -> None:
    assert batched.engine == single.engine == "vectorized"
    assert batched.rounds_completed == single.rounds_completed
    assert batched.diverged_at == single.diverged_at
    np.testing.assert_allclose(batched.accuracy, single.accuracy, atol=atol)
    np.testing.assert_allclose(batched.loss, single.loss, rtol=1e-4, atol=atol)
    np.testing.assert_array_equal(batched.bytes_up, single.bytes_up)
    assert _max_weight_error(batched.final_weights, single.final_weights) < atol


BASE = fl.FLConfig(n_clients=8, rounds=6, partition="dirichlet", alpha=0.3, client_learning_rate=0.1)

#: four algorithms x three seeds: FedAvg, FedProx, FedAvgM and SCAFFOLD side by side
ALGORITHMS = [dict(), dict(mu=0.1), dict(server_optimizer="fedavgm", server_momentum=0.9, server_learning_rate=0.5),
              dict(scaffold=True)]
MIXED = [BASE.replace(seed=s, **a) for s in (0, 1, 2) for a in ALGORITHMS]

#: different sizes in one batch: K, C, E, B, R, partitions, server optimizers, compression, devices
RAGGED = [BASE,
          BASE.replace(n_clients=20, fraction=0.3, rounds=9),
          BASE.replace(local_epochs=3, batch_size=8, client_momentum=0.5),
          BASE.replace(batch_size=None, rounds=3, partition="iid"),
          BASE.replace(server_optimizer="fedadam", server_learning_rate=0.03),
          BASE.replace(server_optimizer="fedyogi", server_learning_rate=0.03, seed=4),
          BASE.replace(server_optimizer="fedadagrad", server_learning_rate=0.03, partition="shards"),
          BASE.replace(compression="topk", topk_fraction=0.1, error_feedback=True),
          BASE.replace(compression="topk", topk_fraction=0.3),
          BASE.replace(compression="int8"),
          BASE.replace(dropout=0.3, deadline=2.0, straggler_policy="partial"),
          BASE.replace(client_weighting="uniform", partition="quantity")]


@pytest.mark.parametrize("configs", [MIXED, RAGGED], ids=["seeds-x-algorithms", "ragged"])
def test_each_experiment_of_a_batch_equals_its_single_run(configs):
    histories = fl.run_experiments(configs, progress=False)
    for config, history in zip(configs, histories, strict=True):
        assert history.config == config
        _assert_same(history, fl.run_experiment(config, progress=False))


def test_alpha_grid_and_the_per_client_engine():
    """An alpha grid in one batch agrees with the per-client engine run by run (the engines' 1e-5)."""
    configs = [BASE.replace(alpha=a, rounds=4) for a in (0.05, 0.3, 1.0, 100.0)]
    for config, history in zip(configs, fl.run_experiments(configs, progress=False), strict=True):
        per_client = fl.run_experiment(config.replace(engine="per_client"), progress=False)
        assert _max_weight_error(history.final_weights, per_client.final_weights) < 1e-5


def test_the_papers_cells_batch_like_single_runs():
    """C, E and B cells of the FedAvg paper's grid (the 2NN on digits, shrunk) in one batch."""
    cells = [paper.PaperConfig("shards", c, e, b) for c, e, b in
             [(0.0, 1, None), (0.1, 1, 10), (0.2, 5, 50), (1.0, 1, None), (0.1, 5, 10)]]
    configs = [cell.fl_config(0.3, 5, n_clients=20, hidden_units=(32, 32)) for cell in cells]
    for config, history in zip(configs, fl.run_experiments(configs, progress=False), strict=True):
        _assert_same(history, fl.run_experiment(config, progress=False))


def test_a_diverging_experiment_stops_alone():
    configs = [BASE, BASE.replace(client_learning_rate=50.0), BASE.replace(seed=3)]
    histories = fl.run_experiments(configs, progress=False)
    assert histories[1].diverged and not histories[0].diverged and not histories[2].diverged
    for config, history in zip(configs, histories, strict=True):
        _assert_same(history, fl.run_experiment(config, progress=False))


def test_stop_accuracy_and_races():
    configs = [BASE.replace(rounds=30, client_learning_rate=lr) for lr in (0.01, 0.3, 1.0)]
    full = [fl.run_experiment(c, progress=False) for c in configs]
    target = 0.8
    reached = [h.rounds_to_accuracy(target) for h in full]
    alone = fl.run_experiments(configs, stop_accuracy=target, progress=False)
    for h_stop, h_full, r in zip(alone, full, reached, strict=True):
        expected = h_full.rounds_completed if r is None else r
        assert h_stop.rounds_completed == expected
        np.testing.assert_allclose(h_stop.accuracy, h_full.accuracy[:expected], atol=1e-6)
    raced = fl.run_experiments(configs, stop_accuracy=target, race_groups=[0, 0, 0], progress=False)
    first = min(r for r in reached if r is not None)
    assert [h.rounds_completed for h in raced] == [min(first, h.rounds_completed) for h in full]
    assert "stopped after" in raced[0].message


def test_chunks_give_the_same_answers(monkeypatch):
    """A sweep bigger than MAX_BATCH_BYTES is cut into calls; the answers do not change."""
    one_call = fl.run_experiments(MIXED[:6], progress=False)
    monkeypatch.setattr(batch, "MAX_BATCH_BYTES", 1)
    calls = []
    real = batch.run_batch
    monkeypatch.setattr(batch, "run_batch", lambda *a, **k: calls.append(len(a[2])) or real(*a, **k))
    cut = fl.run_experiments(MIXED[:6], progress=False)
    assert calls == [1] * 6
    for a, b in zip(one_call, cut, strict=True):
        _assert_same(a, b)


def test_other_models_and_client_metrics():
    configs = [BASE.replace(rounds=3), BASE.replace(rounds=3, engine="per_client")]
    histories = fl.run_experiments(configs, client_metrics=True, progress=False)
    assert [h.engine for h in histories] == ["vectorized", "per_client"]
    for a, b in zip(histories[0].client_metrics, histories[1].client_metrics, strict=True):
        np.testing.assert_array_equal(a["ids"], b["ids"])
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-4)


def test_no_new_trace_for_any_sweep():
    arch = Architecture((20, 64, 3), ("relu",))
    fl.run_experiments(MIXED[:2], progress=False)
    before = tracing_count(arch)
    fl.run_experiments(RAGGED, progress=False)
    fl.run_experiments([BASE.replace(n_clients=k) for k in (1, 2, 50)], progress=False)
    assert tracing_count(arch) == before


def test_run_cached_runs_only_what_it_has_not_seen(monkeypatch):
    batch.clear_cache()
    first = batch.run_cached(MIXED[:3])
    seen = []
    real = batch.run_experiments
    monkeypatch.setattr(batch, "run_experiments", lambda configs, **k: seen.append(list(configs)) or real(configs, **k))
    again = batch.run_cached(MIXED[1:5])
    assert seen == [MIXED[3:5]]
    assert again[0] is first[1] and again[1] is first[2]
    assert batch.cache_info()["size"] == 5


def test_bad_input_is_named():
    with pytest.raises(TypeError, match=r"configs\[1\] must be an FLConfig"):
        fl.run_experiments([BASE, {"rounds": 3}])
    with pytest.raises(ValueError, match="race_groups must hold one group per config"):
        fl.run_experiments([BASE, BASE], race_groups=[0])
    with pytest.raises(ValueError, match="stop_accuracy must be one value or one per config"):
        fl.run_experiments([BASE, BASE], stop_accuracy=[0.5])


@pytest.mark.parametrize("rounds_per_call", [1, 4])
def test_a_run_in_parts_equals_one_call(rounds_per_call):
    """A run cut into calls of a few rounds (for a progress bar) hands every piece of state on:
    models, server moments, SCAFFOLD's controls, error-feedback residuals, divergence, races."""
    from fedlearn_edu.simulation import Simulation
    from fedlearn_edu.vectorized import run_batch
    configs = RAGGED[:8] + [BASE.replace(scaffold=True), BASE.replace(client_learning_rate=50.0),
                            BASE.replace(rounds=9, server_optimizer="fedadam", server_learning_rate=0.03)]
    sims = [Simulation(c) for c in configs]
    plans = [[sim.plan_round(r) for r in range(sim.config.rounds)] for sim in sims]
    members = [sim.batch_member(p, stop_accuracy=0.9 if i == 1 else None)
               for i, (sim, p) in enumerate(zip(sims, plans, strict=True))]
    whole = run_batch(sims[0].architecture, sims[0].dataset, members)
    seen = []
    parts = run_batch(sims[0].architecture, sims[0].dataset, members, rounds_per_call=rounds_per_call,
                      on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (9, 9) and len(seen) == -(-9 // rounds_per_call)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    for a, b in zip(whole, parts, strict=True):
        assert a["rounds_run"] == b["rounds_run"] and a["diverged"] == b["diverged"]
        np.testing.assert_allclose(a["accuracy"], b["accuracy"], atol=1e-6)
        assert _max_weight_error(a["final"], b["final"]) < 1e-5


def test_a_long_sweep_shows_a_progress_bar_over_its_rounds(monkeypatch, capsys):
    """progress=True: a tqdm bar counts every experiment's rounds (the run goes in parts);
    progress="long" shows it only for a sweep of about a second or more."""
    updates = []

    class Bar:
        def __init__(self, total, **kwargs):
            self.total, self.n = total, 0

        def update(self, n):
            self.n += n
            updates.append(n)

        def close(self):
            updates.append("closed")

    import tqdm.auto
    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    configs = [BASE.replace(seed=s, rounds=10) for s in range(3)]
    histories = fl.run_experiments(configs, progress=True)
    assert sum(u for u in updates if u != "closed") == 30 and updates[-1] == "closed"
    assert len(updates) > 3                                   # it moved during the run, not once at the end
    for config, history in zip(configs, histories, strict=True):
        _assert_same(history, fl.run_experiment(config, progress=False))
    updates.clear()
    fl.run_experiments(configs, progress="long")              # 3 small runs: well under a second
    assert updates == []
    heavy = paper.PaperConfig("iid", 1.0, 20, 10).fl_config(0.1, 30, n_clients=100)    # notebook 14's heaviest
    assert batch.expected_work([fl.Simulation(heavy)]) > batch.LONG_WORK
