"""Aggregation: FedAvg weighted average, plain mean, the article's formula, robust rules."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import fedlearn_edu as fl

# three clients with two "layers": a (2, 2) kernel and a (2,) bias, flattened to P = 6
W1 = [np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), np.array([0.5, -1.0], np.float32)]
W2 = [np.array([[0.0, 0.0], [10.0, -2.0]], np.float32), np.array([1.5, 1.0], np.float32)]
W3 = [np.array([[-1.0, 4.0], [1.0, 0.0]], np.float32), np.array([-0.5, 3.0], np.float32)]
SIZES = [10, 30, 60]
# by hand: 0.1 * W1 + 0.3 * W2 + 0.6 * W3
EXPECTED = [np.array([[0.1 * 1 + 0.3 * 0 + 0.6 * -1, 0.1 * 2 + 0.3 * 0 + 0.6 * 4],
                      [0.1 * 3 + 0.3 * 10 + 0.6 * 1, 0.1 * 4 + 0.3 * -2 + 0.6 * 0]]),
            np.array([0.1 * 0.5 + 0.3 * 1.5 + 0.6 * -0.5, 0.1 * -1 + 0.3 * 1 + 0.6 * 3])]
#        = [[-0.5, 2.6], [3.9, -0.2]], [0.2, 2.0]


def _flat(w):
    return np.concatenate([np.ravel(a) for a in w])


def test_weighted_average_gives_the_numbers_worked_out_by_hand():
    """The kit's average against the literal numbers of the comment above (not against EXPECTED,
    which is computed the same way as the code under test)."""
    out = fl.weighted_average([W1, W2, W3], SIZES)
    np.testing.assert_allclose(out[0], [[-0.5, 2.6], [3.9, -0.2]], atol=1e-6)
    np.testing.assert_allclose(out[1], [0.2, 2.0], atol=1e-6)


def test_weighted_average_list_of_weight_lists():
    out = fl.weighted_average([W1, W2, W3], SIZES)
    assert isinstance(out, list) and len(out) == 2
    assert out[0].shape == (2, 2) and out[1].shape == (2,)
    assert out[0].dtype == np.float32
    for a, e in zip(out, EXPECTED, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6)


def test_weighted_average_matrix_input():
    matrix = np.stack([_flat(W1), _flat(W2), _flat(W3)])
    assert matrix.shape == (3, 6)
    out = fl.weighted_average(matrix, SIZES)
    assert isinstance(out, np.ndarray) and out.shape == (6,) and out.dtype == np.float32
    np.testing.assert_allclose(out, _flat(EXPECTED), rtol=1e-6, atol=1e-6)


def test_fedavg_coefficients():
    c = fl.fedavg_coefficients(SIZES)
    np.testing.assert_allclose(c, [0.1, 0.3, 0.6])
    rng = np.random.default_rng(0)
    for _ in range(5):
        n = rng.integers(1, 1000, size=rng.integers(1, 20))
        c = fl.fedavg_coefficients(n)
        assert c.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(c > 0)
        np.testing.assert_allclose(c, n / n.sum())


@pytest.mark.parametrize("bad", [[], [3, 0], [2, -1], [1.0, np.nan]])
def test_fedavg_coefficients_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="n_examples"):
        fl.fedavg_coefficients(bad)


def test_weighted_average_is_permutation_invariant():
    models, sizes = [W1, W2, W3], SIZES
    reference = _flat(fl.weighted_average(models, sizes))
    for perm in itertools.permutations(range(3)):
        out = fl.weighted_average([models[i] for i in perm], [sizes[i] for i in perm])
        np.testing.assert_allclose(_flat(out), reference, rtol=1e-6, atol=1e-7)


def test_equal_sizes_weighted_equals_unweighted_and_unequal_differs():
    equal = fl.weighted_average([W1, W2, W3], [5, 5, 5])
    plain = fl.unweighted_average([W1, W2, W3])
    for a, b in zip(equal, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(plain[1], (W1[1] + W2[1] + W3[1]) / 3, rtol=1e-6)
    weighted = fl.weighted_average([W1, W2, W3], SIZES)
    assert not np.allclose(_flat(weighted), _flat(plain))


def test_weighted_average_single_client_is_identity():
    out = fl.weighted_average([W2], [17])
    for a, b in zip(out, W2, strict=True):
        np.testing.assert_array_equal(a, b)


def test_weighted_average_errors():
    with pytest.raises(ValueError, match="one count per client model: 3 models, 2 counts"):
        fl.weighted_average([W1, W2, W3], [1, 2])
    with pytest.raises(ValueError, match=r"client_models\[1\] has a different structure"):
        fl.weighted_average([W1, [W2[0]], W3], SIZES)
    with pytest.raises(ValueError, match="at least one client model"):
        fl.weighted_average([], [])


# ---------------------------------------------------------------------------------------
# the article's formula, literally
GRADS = np.array([[1.0, -2.0, 0.5], [4.0, 0.0, -1.0], [0.3, 0.3, 0.3]])
COUNTS = [2, 4, 10]


@pytest.mark.parametrize("beta", [0.0, 0.1, 0.5, 0.9, 0.99, 1.0, 2.0, -3.0])
def test_seed_formula_second_line_is_identity(beta):
    theta_t, theta_t1 = fl.seed_formula(np.zeros(3), GRADS, COUNTS, alpha=0.1, beta=beta)
    np.testing.assert_allclose(theta_t1, theta_t, rtol=1e-12, atol=1e-15)


def test_seed_formula_hand_numbers():
    theta_t, _ = fl.seed_formula(np.zeros(3), GRADS, COUNTS, alpha=0.1, beta=0.9)
    expected = 0.1 * (GRADS[0] / 2 + GRADS[1] / 4 + GRADS[2] / 10)
    np.testing.assert_allclose(theta_t, expected, rtol=1e-12)
    np.testing.assert_allclose(theta_t, [0.1 * (0.5 + 1.0 + 0.03), 0.1 * (-1.0 + 0.0 + 0.03),
                                         0.1 * (0.25 - 0.25 + 0.03)], rtol=1e-12)


def test_seed_formula_ignores_theta_previous():
    a = fl.seed_formula(np.zeros(3), GRADS, COUNTS, alpha=0.1, beta=0.9)
    b = fl.seed_formula(np.array([100.0, -5.0, 3.0]), GRADS, COUNTS, alpha=0.1, beta=0.9)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_seed_formula_gives_small_clients_the_most_say():
    # two clients with the same-size gradient on different coordinates: n=1 vs n=100
    grads = np.array([[1.0, 0.0], [0.0, 1.0]])
    theta_t, _ = fl.seed_formula(np.zeros(2), grads, [1, 100], alpha=1.0, beta=0.5)
    np.testing.assert_allclose(theta_t, [1.0, 0.01], rtol=1e-12)
    assert theta_t[0] / theta_t[1] == pytest.approx(100.0)
    # FedAvg weights the other way round
    np.testing.assert_allclose(fl.fedavg_coefficients([1, 100]), [1 / 101, 100 / 101])


def test_seed_formula_bad_counts():
    with pytest.raises(ValueError, match="n_examples must hold 3 positive counts"):
        fl.seed_formula(np.zeros(3), GRADS, [1, 2], alpha=0.1, beta=0.5)
    with pytest.raises(ValueError, match="n_examples must hold 3 positive counts"):
        fl.seed_formula(np.zeros(3), GRADS, [1, 0, 2], alpha=0.1, beta=0.5)


# ---------------------------------------------------------------------------------------
# robust aggregation
def test_coordinate_median_hand_example():
    models = np.array([[1.0, 10.0, -3.0], [2.0, -5.0, 7.0], [100.0, 0.0, 4.0]])
    np.testing.assert_array_equal(fl.coordinate_median(models), [2.0, 0.0, 4.0])
    # even K: mean of the two middle values
    models4 = np.array([[1.0], [2.0], [4.0], [1000.0]])
    np.testing.assert_array_equal(fl.coordinate_median(models4), [3.0])
    # weight lists in, weight lists out
    out = fl.coordinate_median([W1, W2, W3])
    np.testing.assert_array_equal(out[0], [[0.0, 2.0], [3.0, 0.0]])
    np.testing.assert_array_equal(out[1], [0.5, 1.0])


def test_trimmed_mean_hand_example():
    models = np.array([[1.0, 0.0], [2.0, 10.0], [3.0, 20.0], [100.0, -50.0]])
    # column 0 sorted 1,2,3,100 -> mean(2,3) = 2.5; column 1 sorted -50,0,10,20 -> mean(0,10) = 5
    np.testing.assert_allclose(fl.trimmed_mean(models, trim=1), [2.5, 5.0])
    np.testing.assert_allclose(fl.trimmed_mean(models, trim=0), models.mean(axis=0))
    five = np.array([[1.0], [2.0], [3.0], [4.0], [1e6]])
    np.testing.assert_allclose(fl.trimmed_mean(five, trim=2), [3.0])


@pytest.mark.parametrize("trim, exc, match", [
    (2, ValueError, r"trim must be less than half the number of clients \(4\), got 2"),
    (5, ValueError, r"got 5"),
    (-1, ValueError, r"trim must be an integer >= 0, got -1"),
    (1.5, TypeError, r"trim must be an integer, got 1.5"),
])
def test_trimmed_mean_bad_trim(trim, exc, match):
    with pytest.raises(exc, match=match):
        fl.trimmed_mean(np.ones((4, 3)), trim=trim)
