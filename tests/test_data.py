"""Data sets: the article's broken call, the fixed seed data set, digits, breast cancer."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import fedlearn_edu as fl
from fedlearn_edu.data import ARTICLE_MAKE_CLASSIFICATION_KWARGS


def test_article_make_classification_raises_the_documented_error():
    with pytest.raises(ValueError, match=r"n_classes\(3\) \* n_clusters_per_class\(2\)"):
        fl.article_make_classification()


def test_article_kwargs_are_the_articles_call():
    assert ARTICLE_MAKE_CLASSIFICATION_KWARGS == dict(
        n_samples=1000, n_features=20, n_informative=2, n_redundant=10, n_classes=3, random_state=42)


def test_seed_arrays_shape_and_labels(article_arrays):
    X, y = article_arrays
    assert X.shape == (1000, 20)
    assert y.shape == (1000,)
    assert y.dtype == np.int64
    assert set(np.unique(y).tolist()) == {0, 1, 2}
    # seeded: a second call gives the very same arrays
    X2, y2 = fl.make_seed_arrays()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_seed_dataset_shapes_and_types(article):
    assert article.X_train.shape == (800, 20)
    assert article.X_test.shape == (200, 20)
    assert article.y_train.shape == (800,)
    assert article.y_test.shape == (200,)
    assert article.n_features == 20
    assert article.n_classes == 3
    assert article.X_train.dtype == np.float32 and article.X_test.dtype == np.float32
    assert article.y_train.dtype == np.int64 and article.y_test.dtype == np.int64
    assert article.name == "article"
    assert "800 train / 200 test" in repr(article)


def test_seed_dataset_split_is_stratified(article, article_arrays):
    _, y_all = article_arrays
    train = np.bincount(article.y_train, minlength=3)
    test = np.bincount(article.y_test, minlength=3)
    np.testing.assert_array_equal(train + test, np.bincount(y_all, minlength=3))
    ratio = len(article.y_test) / len(article.y_train)
    # every class is split in the same proportion, up to one sample of rounding
    assert np.all(np.abs(test - train * ratio) <= 1.0), (train, test)


def test_standardisation_is_fitted_on_the_training_part_only(article):
    mean = article.X_train.astype(np.float64).mean(axis=0)
    std = article.X_train.astype(np.float64).std(axis=0)
    np.testing.assert_allclose(mean, 0.0, atol=1e-5)
    np.testing.assert_allclose(std, 1.0, atol=1e-4)
    test_mean = article.X_test.astype(np.float64).mean(axis=0)
    assert np.all(test_mean != 0.0)
    assert np.max(np.abs(test_mean)) > 1e-3          # not re-centred on the test part



@pytest.mark.parametrize("seed", [0, 42])
def test_standardisation_reproduced_by_hand(article_arrays, seed):
    # the same pipeline by hand: stratified split with the seed, scaler fitted on the training rows
    ds = fl.make_seed_dataset(seed=seed)
    X, y = article_arrays
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    np.testing.assert_array_equal(ds.y_train, y_tr)
    np.testing.assert_array_equal(ds.y_test, y_te)
    scaler = StandardScaler().fit(X_tr)
    np.testing.assert_allclose(ds.X_train, scaler.transform(X_tr), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ds.X_test, scaler.transform(X_te), rtol=1e-5, atol=1e-5)
    # ... while a scaler fitted on all the data (leaking the test set) gives other numbers
    leaky = StandardScaler().fit(X)
    assert not np.allclose(ds.X_test, leaky.transform(X_te), rtol=1e-5, atol=1e-5)


def test_split_depends_on_seed():
    a = fl.make_seed_dataset(seed=42)
    b = fl.make_seed_dataset(seed=42)
    c = fl.make_seed_dataset(seed=7)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.y_train, c.y_train)


@pytest.mark.parametrize("name, n_train, n_test, n_features, n_classes", [
    ("digits", 1437, 360, 64, 10),
    ("breast_cancer", 455, 114, 30, 2),
])
def test_bundled_datasets(name, n_train, n_test, n_features, n_classes):
    ds = fl.load_dataset(name)
    assert ds.name == name
    assert ds.X_train.shape == (n_train, n_features)
    assert ds.X_test.shape == (n_test, n_features)
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
    assert ds.n_features == n_features and ds.n_classes == n_classes
    assert len(ds.class_names) == n_classes
    assert np.all(np.isfinite(ds.X_train)) and np.all(np.isfinite(ds.X_test))
    assert set(np.unique(ds.y_train).tolist()) == set(range(n_classes))
    assert set(np.unique(ds.y_test).tolist()) == set(range(n_classes))
    # scaled on the training part: mean 0 per feature (digits has constant pixels: std 0 there)
    np.testing.assert_allclose(ds.X_train.astype(np.float64).mean(axis=0), 0.0, atol=1e-5)
    std = ds.X_train.astype(np.float64).std(axis=0)
    assert np.all((np.abs(std - 1.0) < 1e-3) | (std == 0.0))


def test_load_dataset_article_is_make_seed_dataset(article):
    ds = fl.load_dataset("article")
    np.testing.assert_array_equal(ds.X_train, article.X_train)
    np.testing.assert_array_equal(ds.y_test, article.y_test)


def test_breast_cancer_class_names():
    ds = fl.load_breast_cancer_dataset()
    assert ds.class_names == ("malignant", "benign")


def test_load_dataset_bad_name_message():
    with pytest.raises(ValueError) as info:
        fl.load_dataset("mnist")
    message = str(info.value)
    assert "dataset" in message
    assert "'mnist'" in message
    for allowed in fl.DATASETS:
        assert repr(allowed) in message


def test_split_and_standardise_needs_two_samples_per_class():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.array([0] * 9 + [1])
    with pytest.raises(ValueError, match=r"at least 2 samples of every class.*\[9, 1\]"):
        fl.split_and_standardise(X, y)


def test_split_and_standardise_custom_data():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(100, 4))
    y = np.repeat([0, 1], 50)
    ds = fl.split_and_standardise(X, y, test_size=0.25, seed=1)
    assert ds.X_train.shape == (75, 4) and ds.X_test.shape == (25, 4)
    assert ds.n_classes == 2 and ds.class_names == ("0", "1")
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-5)


def test_cached_dataset_is_loaded_once_and_read_only():
    digits = fl.cached_dataset("digits")
    assert digits is fl.cached_dataset("digits")
    np.testing.assert_array_equal(digits.X_train, fl.load_dataset("digits").X_train)
    with pytest.raises(ValueError, match="read-only"):
        digits.X_train[0, 0] = 1.0
    with pytest.raises(ValueError, match="dataset"):
        fl.cached_dataset("mnist")
    assert fl.Simulation(fl.FLConfig(dataset="digits")).dataset is digits     # the Simulation's default
