"""fedlearn_edu.secure_aggregation: masks cancel exactly, look uniform, and survive a dropout."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from fedlearn_edu import secure_aggregation as sa


@pytest.fixture(scope="module")
def updates():
    return np.random.default_rng(0).normal(0, 0.05, (6, 2000))


def _byte_p(vector):
    return chisquare(np.bincount(np.asarray(vector, np.uint32).view(np.uint8), minlength=256)).pvalue


# -- quantisation ---------------------------------------------------------------------------------
def test_quantise_round_trip_within_half_a_step():
    x = np.linspace(-0.99, 0.99, 1001)
    back = sa.dequantize(sa.quantize(x))
    assert np.abs(back - x).max() <= 0.5 / sa.DEFAULT_SCALE + 1e-15


def test_quantise_clips_and_wraps_negatives():
    q = sa.quantize(np.array([-5.0, -1.0, 0.0, 1.0, 5.0]), clip_range=1.0, scale=4)
    assert q.dtype == np.uint32
    assert q.tolist() == [2 ** 32 - 4, 2 ** 32 - 4, 0, 4, 4]
    assert sa.dequantize(q, scale=4).tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("kwargs, name", [(dict(clip_range=0.0), "clip_range"), (dict(scale=0), "scale"),
                                          (dict(clip_range=2.0 ** 16, scale=2 ** 16), "clip_range")])
def test_quantise_checks_its_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sa.quantize(np.zeros(3), **kwargs)


# -- masks cancel ------------------------------------------------------------------------------------
def test_pairwise_seeds_agree_and_differ_between_pairs():
    clients = sa.make_clients(4, threshold=3, seed=5)
    s01 = sa.pairwise_seed(clients[0].private_key, clients[1].public_key)
    assert s01 == sa.pairwise_seed(clients[1].private_key, clients[0].public_key)
    assert s01 != sa.pairwise_seed(clients[0].private_key, clients[2].public_key)
    assert len(s01) == 32


def test_masks_sum_to_zero_mod_2_32():
    clients = sa.make_clients(7, threshold=4, seed=2)
    keys = {c.client_id: c.public_key for c in clients}
    total = np.zeros(300, dtype=np.uint64)
    for c in clients:
        mask = sa.client_mask(c, keys, 300)
        assert np.count_nonzero(mask) > 290
        total += mask
    assert np.all(total % sa.MODULUS == 0)


def test_server_sum_equals_the_quantised_sum_bit_for_bit(updates):
    result = sa.secure_sum(updates, seed=0)
    expected = (result.quantised.astype(np.uint64).sum(axis=0) % sa.MODULUS).astype(np.uint32)
    assert result.exact and np.array_equal(result.recovered_sum, expected)
    assert np.array_equal(result.naive_sum, expected)
    assert np.abs(result.decoded - updates.sum(axis=0)).max() <= 6 * 0.5 / sa.DEFAULT_SCALE + 1e-12
    assert not np.any(np.all(result.masked == result.quantised, axis=1)), "no client sends its update in clear"


def test_one_masked_vector_looks_uniform_but_the_update_does_not(updates):
    result = sa.secure_sum(updates, seed=0)
    assert _byte_p(result.masked[0]) > 0.01              # chi-square on 8,000 bytes, fixed seed
    assert _byte_p(result.quantised[0]) < 1e-10
    # and the masked vector is unrelated to the update: correlation near 0
    r = np.corrcoef(result.masked[0].astype(np.float64), updates[0])[0, 1]
    assert abs(r) < 0.1


def test_prg_is_deterministic_and_seed_dependent():
    a = sa.prg_uint32(b"\x01" * 32, 10)
    assert np.array_equal(a, sa.prg_uint32(b"\x01" * 32, 10))
    assert not np.array_equal(a, sa.prg_uint32(b"\x02" * 32, 10))
    with pytest.raises(ValueError, match="seed"):
        sa.prg_uint32(b"short", 10)


# -- Shamir -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, t", [(3, 2), (5, 3), (10, 6)])
def test_shamir_round_trip_from_any_t_shares(n, t):
    rng = np.random.default_rng(n)
    secret = int.from_bytes(rng.bytes(32), "big")
    shares = sa.shamir_split(secret, n, t, rng)
    assert len(shares) == n
    for start in range(n - t + 1):
        assert sa.shamir_reconstruct(shares[start:start + t], t) == secret
    assert sa.shamir_reconstruct(shares[::-1], t) == secret


def test_shamir_refuses_t_minus_1_shares_and_they_point_elsewhere():
    rng = np.random.default_rng(1)
    secret = 123456789
    shares = sa.shamir_split(secret, 5, 3, rng)
    with pytest.raises(ValueError, match="threshold=3"):
        sa.shamir_reconstruct(shares[:2], 3)
    assert sa.shamir_reconstruct(shares[:2], 2) != secret       # interpolating t-1 points gives garbage
    with pytest.raises(ValueError, match="distinct"):
        sa.shamir_reconstruct([shares[0], shares[0], shares[1]], 3)
    with pytest.raises(ValueError, match="threshold"):
        sa.shamir_split(secret, 3, 4, rng)


# -- dropout ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dropped", [[0], [3], [5], [1, 4]])
def test_dropout_recovered_exactly_with_t_shares(updates, dropped):
    result = sa.secure_sum(updates, dropped=dropped, threshold=3, seed=1)
    assert not np.array_equal(result.naive_sum, result.true_sum), "without recovery the masks remain"
    assert result.exact
    survivors = [k for k in range(6) if k not in dropped]
    assert np.abs(result.decoded - updates[survivors].sum(axis=0)).max() <= 6 * 0.5 / sa.DEFAULT_SCALE + 1e-12


def test_dropout_recovery_refused_with_t_minus_1_shares(updates):
    n, t = 6, 4
    clients = sa.make_clients(n, t, seed=3)
    keys = {c.client_id: c.public_key for c in clients}
    quantised = [sa.quantize(u) for u in updates]
    survivors = [0, 1, 3, 4, 5]
    total = (np.sum([sa.mask_update(clients[k], quantised[k], keys) for k in survivors], axis=0,
                    dtype=np.uint64) % sa.MODULUS).astype(np.uint32)
    shares = [clients[j].shares_held[2] for j in survivors]
    recovered = sa.unmask_dropped(total, 2, shares[:t], threshold=t, public_keys=keys, survivors=survivors)
    expected = (np.sum([quantised[k] for k in survivors], axis=0, dtype=np.uint64) % sa.MODULUS).astype(np.uint32)
    assert np.array_equal(recovered, expected)
    with pytest.raises(ValueError, match="threshold"):
        sa.unmask_dropped(total, 2, shares[:t - 1], threshold=t, public_keys=keys, survivors=survivors)
    forged = [(x, (y + 1) % sa.SHAMIR_PRIME) for x, y in shares[:t]]
    with pytest.raises(ValueError, match="forged"):
        sa.unmask_dropped(total, 2, forged, threshold=t, public_keys=keys, survivors=survivors)


def test_too_many_dropouts_abort_the_round(updates):
    with pytest.raises(ValueError, match="dropped"):
        sa.secure_sum(updates, dropped=[0, 1, 2, 3], threshold=3)
    with pytest.raises(ValueError, match="updates"):
        sa.secure_sum(updates[:1])
    with pytest.raises(ValueError, match="threshold"):
        sa.make_clients(4, threshold=4)
