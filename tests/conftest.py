"""Shared, session-scoped fixtures for the fedlearn_edu test suite.

Everything heavy (data sets, a compiled trainer) is built once per session.
"""
from __future__ import annotations

import sys

import pytest

import fedlearn_edu as fl


@pytest.fixture(scope="session")
def article():
    """The article's data set, fixed and split: 800 train / 200 test, 20 features, 3 classes."""
    return fl.make_seed_dataset()


@pytest.fixture(scope="session")
def article_arrays():
    """The raw (unsplit, unscaled) arrays behind ``article``."""
    return fl.make_seed_arrays()


@pytest.fixture(scope="session")
def article_labels(article):
    """Training labels of the article data (800 labels in 0..2)."""
    return article.y_train


@pytest.fixture(scope="session")
def article_trainer():
    """One compiled LocalTrainer for the article model, shared by tests that pass weights
    explicitly (its variables are only scratch space)."""
    return fl.LocalTrainer(fl.build_article_model(seed=0))


@pytest.fixture(scope="session")
def article_initial_weights():
    """Initial weights of the article model built with seed 0."""
    return fl.get_weights(fl.build_article_model(seed=0))


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test drew (the widget callbacks draw with matplotlib)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
