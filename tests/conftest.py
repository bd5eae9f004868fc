"""Shared, session-scoped fixtures for the fedlearn_edu test suite.

Everything heavy (data sets, a compiled trainer) is built once per session.
"""
from __future__ import annotations

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


def figure_problems(figure) -> list[str]:
    """What keeps a figure from the kit's style: an axes with data but no title (its own or the figure's) or
    without a label on an axis whose ticks it shows. Colour bars and axes turned off are skipped."""
    problems = []
    suptitle = figure._suptitle.get_text() if figure._suptitle is not None else ""
    for index, ax in enumerate(figure.axes):
        if not ax.axison or ax.get_label() == "<colorbar>":
            continue
        if not (ax.lines or ax.patches or ax.collections or ax.images or ax.texts):
            continue
        name = f"axes {index} ({ax.get_title() or 'untitled'})"
        if not (ax.get_title() or suptitle):
            problems.append(f"{name}: no title")
        shows_x = any(t.get_visible() and t.get_text() for t in ax.get_xticklabels())
        shows_y = any(t.get_visible() and t.get_text() for t in ax.get_yticklabels())
        shared_x = [other for other in ax.get_shared_x_axes().get_siblings(ax) if other is not ax]
        shared_y = [other for other in ax.get_shared_y_axes().get_siblings(ax) if other is not ax]
        if shows_x and not ax.get_xlabel() and not any(o.get_xlabel() for o in shared_x):
            problems.append(f"{name}: no x label")
        if shows_y and not ax.get_ylabel() and not any(o.get_ylabel() for o in shared_y):
            problems.append(f"{name}: no y label")
    return problems


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    """Check every figure the kit shows against the style (title, labelled axes), then close the figures a
    test drew (the widget callbacks draw with matplotlib)."""
    import matplotlib.pyplot as pyplot  # imported here, so the audit also covers a test that imports it first
    problems = []
    real_show = pyplot.show

    def audited_show(*args, **kwargs):
        for number in pyplot.get_fignums():
            problems.extend(figure_problems(pyplot.figure(number)))
        return real_show(*args, **kwargs)
    monkeypatch.setattr(pyplot, "show", audited_show)
    yield
    pyplot.close("all")
    assert not problems, f"a figure the kit showed breaks its style: {sorted(set(problems))}"
