"""Partitions: coverage, disjointness, seeding, label skew, shards, quantity skew, scores."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import js_distance_base2

import fedlearn_edu as fl
from fedlearn_edu.partition import (
    PARTITIONS,
    dirichlet_partition,
    iid_partition,
    label_distribution,
    make_partition,
    non_iid_score,
    quantity_skew_partition,
    shard_partition,
)

CASES = [(1, 0), (3, 1), (10, 0), (10, 5), (37, 2), (100, 3)]


@pytest.fixture(scope="module")
def all_partitions(article_labels):
    """Every scheme for every (n_clients, seed) in CASES, computed once."""
    return {(scheme, k, seed): make_partition(article_labels, k, scheme, seed=seed)
            for scheme in PARTITIONS for k, seed in CASES}


@pytest.mark.parametrize("scheme", PARTITIONS)
@pytest.mark.parametrize("n_clients, seed", CASES)
def test_partition_covers_every_sample_once(all_partitions, article_labels, scheme, n_clients, seed):
    parts = all_partitions[(scheme, n_clients, seed)]
    assert isinstance(parts, list) and len(parts) == n_clients
    everything = np.concatenate(parts)
    # coverage and disjointness together: the sorted concatenation is exactly 0..n-1
    np.testing.assert_array_equal(np.sort(everything), np.arange(len(article_labels)))
    # disjointness, pairwise and explicitly
    for a, b in itertools.combinations(parts[:12], 2):
        assert np.intersect1d(a, b).size == 0
    for p in parts:
        assert p.dtype == np.int64
        assert len(p) >= 1, "a client got no data"
        assert np.all(np.diff(p) > 0), "indices must be sorted and unique"


@pytest.mark.parametrize("scheme", PARTITIONS)
@pytest.mark.parametrize("n_clients, seed", [(3, 1), (10, 0), (37, 2)])
def test_partition_is_seeded(all_partitions, article_labels, scheme, n_clients, seed):
    first = all_partitions[(scheme, n_clients, seed)]
    again = make_partition(article_labels, n_clients, scheme, seed=seed)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = make_partition(article_labels, n_clients, scheme, seed=seed + 11)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_make_partition_dispatches(article_labels):
    y = article_labels
    for a, b in zip(make_partition(y, 7, "iid", seed=3), iid_partition(y, 7, seed=3), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(make_partition(y, 7, "dirichlet", alpha=0.3, min_size=4, seed=3),
                    dirichlet_partition(y, 7, alpha=0.3, min_size=4, seed=3), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(make_partition(y, 7, "shards", shards_per_client=3, seed=3),
                    shard_partition(y, 7, shards_per_client=3, seed=3), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(make_partition(y, 7, "quantity", alpha=0.3, min_size=4, seed=3),
                    quantity_skew_partition(y, 7, alpha=0.3, min_size=4, seed=3), strict=True):
        np.testing.assert_array_equal(a, b)


def test_iid_sizes_differ_by_at_most_one(article_labels):
    sizes = [len(p) for p in iid_partition(article_labels, 7, seed=0)]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 800


def _score(y, parts):
    return non_iid_score(label_distribution(y, parts, 3))


def test_dirichlet_large_alpha_is_close_to_iid(article_labels):
    y = article_labels
    iid = np.mean([_score(y, iid_partition(y, 10, seed=s)) for s in range(3)])
    near_iid = np.mean([_score(y, dirichlet_partition(y, 10, alpha=1000, seed=s)) for s in range(3)])
    skewed = np.mean([_score(y, dirichlet_partition(y, 10, alpha=0.1, seed=s)) for s in range(3)])
    assert near_iid < 0.1 and iid < 0.1
    # a random IID split has some sampling noise (about 0.05-0.07 here); Dir(1000) splits
    # every class almost evenly, so it is at least as close to the global mix
    assert near_iid <= iid + 0.02
    assert abs(near_iid - iid) < 0.1 < skewed


def test_dirichlet_score_rises_as_alpha_falls(article_labels):
    y = article_labels
    alphas = [100, 1, 0.1]
    scores = [np.mean([_score(y, dirichlet_partition(y, 10, alpha=a, seed=s)) for s in range(4)])
              for a in alphas]
    assert scores[0] < scores[1] < scores[2], scores
    assert scores[2] > 0.4        # strong label skew at alpha = 0.1


def test_dirichlet_small_alpha_gives_few_classes_per_client(article_labels):
    counts = label_distribution(article_labels, dirichlet_partition(article_labels, 10, alpha=0.05, seed=0), 3)
    dominant_share = counts.max(axis=1) / counts.sum(axis=1)
    assert np.median(dominant_share) > 0.8


def test_dirichlet_repair_path_keeps_min_size(article_labels):
    # 100 clients x 3 classes with alpha=0.05: every one of the 100 draws leaves some
    # client short, so the repair step runs
    parts = dirichlet_partition(article_labels, 100, alpha=0.05, min_size=2, seed=0)
    sizes = np.array([len(p) for p in parts])
    assert len(parts) == 100
    assert sizes.min() >= 2
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(800))
    # a repaired client is filled up to exactly min_size
    assert np.sum(sizes == 2) >= 1


def test_dirichlet_repair_path_really_runs(article_labels):
    # with max_tries=1 the single draw is repaired; min_size=5 is far above what
    # alpha=0.05 gives most of the 100 clients
    parts = dirichlet_partition(article_labels, 100, alpha=0.05, min_size=5, seed=1, max_tries=1)
    sizes = np.array([len(p) for p in parts])
    assert sizes.min() >= 5
    assert np.sum(sizes == 5) > 10          # many clients were topped up to min_size exactly
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(800))


def test_dirichlet_min_size_too_large(article_labels):
    with pytest.raises(ValueError, match=r"min_size=9 with n_clients=100 needs 900 samples"):
        dirichlet_partition(article_labels, 100, min_size=9)


def test_shards_two_per_client_gives_at_most_two_classes_mostly(article_labels):
    for seed in range(3):
        parts = shard_partition(article_labels, 10, shards_per_client=2, seed=seed)
        counts = label_distribution(article_labels, parts, 3)
        classes_seen = (counts > 0).sum(axis=1)
        assert np.mean(classes_seen <= 2) >= 0.8, classes_seen
        sizes = [len(p) for p in parts]
        assert sizes == [80] * 10            # 20 shards of 40 samples, 2 each
        iid = _score(article_labels, iid_partition(article_labels, 10, seed=seed))
        assert non_iid_score(counts) > 3 * iid


def test_shards_too_many(article_labels):
    with pytest.raises(ValueError, match=r"n_clients \* shards_per_client.*400 \* 3 = 1200"):
        shard_partition(article_labels, 400, shards_per_client=3)


def test_quantity_skew_sizes_unequal_labels_iid(article_labels):
    y = article_labels
    parts = quantity_skew_partition(y, 10, alpha=0.5, min_size=2, seed=0)
    sizes = np.array([len(p) for p in parts])
    assert sizes.min() >= 2 and sizes.sum() == 800
    assert sizes.max() >= 3 * sizes.min()             # clearly unequal
    assert sizes.std() > 20
    # labels still drawn IID: on the big clients each class holds roughly a third
    counts = label_distribution(y, parts, 3)
    big = sizes >= 100
    assert big.any()
    shares = counts[big] / sizes[big, None]
    np.testing.assert_allclose(shares, 1 / 3, atol=0.12)
    assert non_iid_score(counts) < 0.15


def test_quantity_skew_smaller_alpha_is_more_unequal(article_labels):
    def spread(alpha):
        return np.mean([np.std([len(p) for p in quantity_skew_partition(article_labels, 10, alpha=alpha, seed=s)])
                        for s in range(4)])
    assert spread(0.1) > spread(100.0)


def test_label_distribution_row_sums_are_client_sizes(all_partitions, article_labels):
    for (_scheme, k, _seed), parts in all_partitions.items():
        counts = label_distribution(article_labels, parts, 3)
        assert counts.shape == (k, 3) and counts.dtype == np.int64
        np.testing.assert_array_equal(counts.sum(axis=1), [len(p) for p in parts])
        np.testing.assert_array_equal(counts.sum(axis=0), np.bincount(article_labels, minlength=3))


def test_label_distribution_hand_example():
    y = np.array([0, 0, 1, 2, 2, 2])
    counts = label_distribution(y, [np.array([0, 2]), np.array([1, 3, 4, 5])])
    np.testing.assert_array_equal(counts, [[1, 1, 0], [1, 0, 3]])
    # n_classes pads missing classes
    assert label_distribution(y, [np.arange(6)], n_classes=5).shape == (1, 5)


def test_non_iid_score_identical_rows_is_zero():
    assert non_iid_score(np.array([[5, 3, 2]] * 4)) == pytest.approx(0.0, abs=1e-12)
    assert non_iid_score(np.array([[10, 6, 4], [5, 3, 2]])) == pytest.approx(0.0, abs=1e-12)


def test_non_iid_score_matches_js_distance_formula():
    # a general example against an independent JS-distance (base 2) implementation
    counts = np.array([[8, 1, 1], [2, 6, 2], [0, 0, 5]])
    global_dist = counts.sum(axis=0) / counts.sum()
    sizes = counts.sum(axis=1)
    expected = sum(s * js_distance_base2(row / s, global_dist)
                   for row, s in zip(counts, sizes, strict=True)) / sizes.sum()
    assert non_iid_score(counts) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_non_iid_score_disjoint_one_class_clients(k):
    # k clients, each holding one class, equal sizes: every client is (1, 0, ..., 0) against
    # the uniform global mix. JS distance base 2, by hand:
    #   KL(p||m) = log2(2k / (k + 1)),   KL(u||m) = (1/k) log2(2 / (k + 1)) + (k - 1) / k
    kl_p = np.log2(2 * k / (k + 1))
    kl_u = np.log2(2 / (k + 1)) / k + (k - 1) / k
    expected = np.sqrt(0.5 * kl_p + 0.5 * kl_u)
    score = non_iid_score(np.eye(k) * 40)
    assert score == pytest.approx(expected, rel=1e-12)
    if k == 3:
        assert score == pytest.approx(0.6776, abs=1e-4)
    assert 0.5 < score < 1.0          # maximal skew for k classes, yet below 1


def test_non_iid_score_rejects_bad_counts():
    with pytest.raises(ValueError, match="empty client"):
        non_iid_score(np.array([[1, 2], [0, 0]]))
    with pytest.raises(ValueError, match="non-negative 2-D"):
        non_iid_score(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="non-negative 2-D"):
        non_iid_score(np.array([[1, -2]]))


def test_partition_is_exposed_at_top_level():
    assert fl.PARTITIONS == ("iid", "dirichlet", "shards", "quantity")
