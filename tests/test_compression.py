"""Compression of client updates: error bounds, unbiasedness, exact bytes, error feedback."""
import numpy as np
import pytest
from helpers import run_both_engines  # noqa: E402

import fedlearn_edu as fl
from fedlearn_edu.compression import Compressor, densify, dequantize, quantize, top_k


@pytest.mark.parametrize("bits", [8, 4, 2])
def test_quantisation_error_is_bounded_by_one_step(bits):
    rng = np.random.default_rng(0)
    x = rng.normal(size=1539).astype(np.float32)
    q = quantize(x, bits, rng)
    step = (x.max() - x.min()) / (2 ** bits - 1)
    assert np.max(np.abs(dequantize(q) - x)) <= step * (1 + 1e-5)
    assert q.codes.max() <= 2 ** bits - 1
    assert q.n_bytes == int(np.ceil(1539 * bits / 8)) + 8


def test_quantisation_is_unbiased():
    x = np.array([0.0, 0.1, 0.33, 0.5, 0.77, 1.0], dtype=np.float32)
    rng = np.random.default_rng(1)
    mean = np.mean([dequantize(quantize(x, 2, rng)) for _ in range(20000)], axis=0)
    # one step is 1/3; the standard error of a mean of 20,000 draws is below 0.0024
    np.testing.assert_allclose(mean, x, atol=0.01)
    assert np.max(np.abs(dequantize(quantize(x, 2, rng)) - x)) > 0.01   # a single draw is not exact


def test_constant_vector_round_trips_exactly():
    x = np.full(10, 0.25, dtype=np.float32)
    np.testing.assert_array_equal(dequantize(quantize(x, 4, np.random.default_rng(0))), x)


def test_top_k_keeps_the_largest_magnitudes():
    x = np.array([0.1, -5.0, 0.2, 3.0, -0.05, 4.0], dtype=np.float32)
    s = top_k(x, 3)
    np.testing.assert_array_equal(s.indices, [1, 3, 5])
    np.testing.assert_array_equal(densify(s), [0, -5.0, 0, 3.0, 0, 4.0])
    assert s.n_bytes == 3 * 8
    with pytest.raises(ValueError, match="k"):
        top_k(x, 7)


@pytest.mark.parametrize("scheme", ["topk", "int4"])
def test_error_feedback_loses_nothing_for_good(scheme):
    rng = np.random.default_rng(2)
    updates = [rng.normal(size=200).astype(np.float32) for _ in range(30)]
    compressor = Compressor(scheme, topk_fraction=0.05, error_feedback=True, seed=3)
    sent = sum(compressor(u, client_id=7, round_index=r)[0] for r, u in enumerate(updates))
    np.testing.assert_allclose(sent + compressor.residuals[7], sum(updates), atol=1e-4)
    without = Compressor(scheme, topk_fraction=0.05, error_feedback=False, seed=3)
    sent_without = sum(without(u, client_id=7, round_index=r)[0] for r, u in enumerate(updates))
    assert np.linalg.norm(sent - sum(updates)) < np.linalg.norm(sent_without - sum(updates))


def test_compression_is_deterministic_for_a_seed():
    u = np.linspace(-1, 1, 50).astype(np.float32)
    a, _ = Compressor("int8", seed=5)(u, 1, 2)
    b, _ = Compressor("int8", seed=5)(u, 1, 2)
    c, _ = Compressor("int8", seed=6)(u, 1, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("scheme, bits_per_parameter", [("int8", 8), ("int4", 4), ("topk", 6.4)])
def test_federated_run_with_compression(scheme, bits_per_parameter):
    config = fl.FLConfig(rounds=15, compression=scheme, topk_fraction=0.1)
    h = fl.run_experiment(config)
    plain = fl.run_experiment(fl.FLConfig(rounds=15))
    assert h.engine == "vectorized"
    P = 1539
    expected_up = {"int8": P + 8, "int4": int(np.ceil(P / 2)) + 8, "topk": round(0.1 * P) * 8}[scheme]
    assert np.all(h.bytes_up == 10 * expected_up)
    assert np.all(h.bytes_down == plain.bytes_down)
    # int8 sends 1/4, int4 1/8 (plus the range), top-10% sends 10% as (index, value) pairs: 1/5
    assert h.bytes_up.sum() / plain.bytes_up.sum() == pytest.approx(bits_per_parameter / 32, rel=0.02)
    assert h.final_accuracy >= 0.85, f"{scheme} with error feedback still learns the article's task"


def test_bad_compression_settings():
    with pytest.raises(ValueError, match="compression"):
        fl.FLConfig(compression="zip")
    with pytest.raises(ValueError, match="topk_fraction"):
        fl.FLConfig(compression="topk", topk_fraction=0.0)


@pytest.mark.parametrize("changes", [
    dict(compression="int8", rounds=2),
    dict(compression="int4"),
    dict(compression="int4", error_feedback=False),
    dict(compression="topk", topk_fraction=0.05),
    dict(compression="topk", topk_fraction=0.01, error_feedback=False, partition="dirichlet", alpha=0.3,
         fraction=0.5),
    dict(compression="topk", topk_fraction=0.2, client_momentum=0.5, server_optimizer="fedadam",
         server_learning_rate=0.05, scaffold=True),
], ids=["int8-2-rounds", "int4-ef", "int4", "topk5-ef", "topk1-dirichlet-partial", "topk20-momentum-fedadam-scaffold"])
def test_vectorized_compression_matches_per_client(changes):
    config = fl.FLConfig(n_clients=8, rounds=8).replace(**changes)
    run_both_engines(config)


def test_vectorized_int8_long_run_parts_only_by_rounding_flips():
    """Stochastic rounding is a step function: after a few rounds the engines' ~1e-7 float
    differences flip a handful of roundings by one quantisation step each (first 2 rounds:
    equal to 1e-5, see above); training and error feedback then carry those small steps on."""
    config = fl.FLConfig(n_clients=8, rounds=8, compression="int8")
    fast = fl.run_experiment(config.replace(engine="vectorized"))
    slow = fl.run_experiment(config.replace(engine="per_client"))
    diff = np.concatenate([(a - b).ravel() for a, b in zip(fast.final_weights, slow.final_weights, strict=True)])
    scale = max(float(np.max(np.abs(w))) for w in slow.final_weights)
    assert np.max(np.abs(diff)) < 5e-3 * scale          # a few quantisation steps, not a different run
    assert abs(fast.final_accuracy - slow.final_accuracy) <= 0.01
    np.testing.assert_array_equal(fast.bytes_up, slow.bytes_up)


def test_large_quantised_runs_go_per_client():
    from fedlearn_edu.simulation import MAX_VECTORIZED_DRAWS
    config = fl.FLConfig(n_clients=100, rounds=200, compression="int8", hidden_units=(600,))
    assert config.rounds * 100 * (20 * 600 + 600 + 600 * 3 + 3) > MAX_VECTORIZED_DRAWS
    assert fl.Simulation(config).engine == "per_client"
    with pytest.raises(ValueError, match="compression='int8'"):
        fl.Simulation(config.replace(engine="vectorized"))
