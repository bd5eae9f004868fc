"""The data sets of the kit: the article's synthetic data, digits and breast cancer.

Everything here is generated or ships inside scikit-learn's wheel, so nothing is
downloaded at run time.

The article (section 4.1) calls::

    make_classification(n_samples=1000, n_features=20, n_informative=2,
                        n_redundant=10, n_classes=3, random_state=42)

which raises ``ValueError: n_classes(3) * n_clusters_per_class(2) must be smaller or
equal 2**n_informative(2)=4``. :func:`make_seed_dataset` keeps every argument and adds
``n_clusters_per_class=1``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ._validate import check_choice, check_features, check_float, check_labels, check_seed
from .i18n import N_

#: The article's call, argument for argument (section 4.1).
ARTICLE_MAKE_CLASSIFICATION_KWARGS = dict(
    n_samples=1000, n_features=20, n_informative=2, n_redundant=10, n_classes=3, random_state=42,
)

DATASETS = ("article", "digits", "breast_cancer")

#: breast cancer's class names as scikit-learn gives them (``target_names``): marked for the catalogue, so a
#: figure that draws them (:func:`fedlearn_edu.plots.plot_label_distribution`, notebook 08's hospitals) shows
#: them translated. The digits' names "0" .. "9" need no translation.
BREAST_CANCER_CLASS_NAMES = (N_("malignant"), N_("benign"))


@dataclass(frozen=True)
class Dataset:
    """A train/test split ready for federated training.

    Attributes
    ----------
    X_train : ndarray, shape (n_train, n_features), float32
        Standardised with the mean and scale of the training part only.
    y_train : ndarray, shape (n_train,), int64
    X_test : ndarray, shape (n_test, n_features), float32
    y_test : ndarray, shape (n_test,), int64
    n_classes : int
    name : str
    class_names : tuple of str
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str
    class_names: tuple = field(default=())

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self.y_train)} train / {len(self.y_test)} test, "
                f"{self.n_features} features, {self.n_classes} classes)")


def article_make_classification() -> tuple[np.ndarray, np.ndarray]:
    """Run the article's ``make_classification`` call exactly as printed.

    Raises
    ------
    ValueError
        Always, with scikit-learn's own message: 3 classes x 2 clusters per class
        (the default) need 6 corners of a hypercube, but 2 informative features give
        only 2**2 = 4.
    """
    return make_classification(**ARTICLE_MAKE_CLASSIFICATION_KWARGS)


def make_seed_arrays(random_state: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """The article's raw arrays, fixed: every argument kept, ``n_clusters_per_class=1`` added.

    Why the fix: ``make_classification`` places each cluster on a corner of an
    ``n_informative``-dimensional hypercube, so it needs
    ``n_classes * n_clusters_per_class <= 2**n_informative``. The article asks for
    3 classes with the default 2 clusters each (6 corners) in 2 informative
    dimensions (4 corners). One cluster per class needs 3 <= 4 corners.

    Returns
    -------
    X : ndarray, shape (1000, 20), float64
    y : ndarray, shape (1000,), int64, labels 0..2
    """
    kwargs = dict(ARTICLE_MAKE_CLASSIFICATION_KWARGS, random_state=check_seed("random_state", random_state))
    X, y = make_classification(**kwargs, n_clusters_per_class=1)
    return X, y.astype(np.int64)


def split_and_standardise(X, y, *, test_size: float = 0.2, seed: int = 0, name: str = "custom",
                          n_classes: int | None = None, class_names: tuple = ()) -> Dataset:
    """Stratified train/test split, then standardisation fitted on the training part only.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    y : array-like, shape (n_samples,), integer labels 0..n_classes-1
    test_size : float in (0, 1)
    seed : int >= 0, seeds the split
    """
    X = check_features("X", X)
    y = check_labels("y", y, n_samples=X.shape[0], n_classes=n_classes)
    test_size = check_float("test_size", test_size, low=0.0, high=1.0,
                            low_inclusive=False, high_inclusive=False)
    seed = check_seed("seed", seed)
    n_classes = int(n_classes if n_classes is not None else y.max() + 1)
    counts = np.bincount(y, minlength=n_classes)
    if np.any(counts < 2):
        raise ValueError(f"y must hold at least 2 samples of every class for a stratified split, "
                         f"got class counts {counts.tolist()}")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return Dataset(
        X_train=scaler.transform(X_train).astype(np.float32),
        y_train=y_train.astype(np.int64),
        X_test=scaler.transform(X_test).astype(np.float32),
        y_test=y_test.astype(np.int64),
        n_classes=n_classes, name=name,
        class_names=tuple(class_names) or tuple(str(c) for c in range(n_classes)),
    )


def make_seed_dataset(test_size: float = 0.2, seed: int = 0) -> Dataset:
    """The article's data set (section 4.1), fixed, split 80/20 and standardised.

    Keeps every argument of the article's ``make_classification`` call
    (1000 samples, 20 features, 2 informative, 10 redundant, 3 classes,
    ``random_state=42``) and adds ``n_clusters_per_class=1``, without which the call
    raises ``ValueError`` (3 classes x 2 clusters need 6 > 2**2 hypercube corners).
    See :func:`make_seed_arrays`.
    """
    X, y = make_seed_arrays()
    return split_and_standardise(X, y, test_size=test_size, seed=seed, name="article", n_classes=3)


def load_digits_dataset(test_size: float = 0.2, seed: int = 0) -> Dataset:
    """Handwritten digits shipped with scikit-learn: 1797 images of 8x8 pixels, 10 classes."""
    bunch = load_digits()
    return split_and_standardise(bunch.data, bunch.target, test_size=test_size, seed=seed,
                                 name="digits", n_classes=10,
                                 class_names=tuple(str(d) for d in range(10)))


def load_breast_cancer_dataset(test_size: float = 0.2, seed: int = 0) -> Dataset:
    """Wisconsin breast cancer (569 patients, 30 features, malignant=0 / benign=1).

    The article's medical example: split the patients across clients and call the
    clients "hospitals" (a cross-silo federation).
    """
    bunch = load_breast_cancer()
    return split_and_standardise(bunch.data, bunch.target, test_size=test_size, seed=seed,
                                 name="breast_cancer", n_classes=2,
                                 class_names=tuple(bunch.target_names))


def load_dataset(name: str = "article", test_size: float = 0.2, seed: int = 0) -> Dataset:
    """Load one of :data:`DATASETS` by name: ``"article"``, ``"digits"`` or ``"breast_cancer"``."""
    check_choice("dataset", name, DATASETS)
    loader = {"article": make_seed_dataset, "digits": load_digits_dataset,
              "breast_cancer": load_breast_cancer_dataset}[name]
    return loader(test_size=test_size, seed=seed)


@lru_cache(maxsize=None)
def cached_dataset(name: str = "article") -> Dataset:
    """:func:`load_dataset` with the default split, loaded once per process and read-only.

    Every slider callback and every :class:`~fedlearn_edu.Simulation` without a ``dataset``
    shares it, so moving a slider never reloads or re-standardises the data. Its arrays
    cannot be written to (``ValueError: assignment destination is read-only``): copy one
    before changing it.
    """
    check_choice("dataset", name, DATASETS)
    data = load_dataset(name)
    for array in (data.X_train, data.y_train, data.X_test, data.y_test):
        array.setflags(write=False)
    return data
