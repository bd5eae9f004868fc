"""Figures that read a History or a partition; they never train anything."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .i18n import tr_figure
from .style import pyplot


def plot_label_distribution(counts: np.ndarray, ax=None, title: str | None = None,
                            class_names: Sequence[str] | None = None):
    """Heatmap of a label-distribution matrix (clients x classes), with the counts written in.

    Parameters
    ----------
    counts : ndarray (n_clients, n_classes), from :func:`fedlearn_edu.partition.label_distribution`
    ax : matplotlib Axes, optional
    """
    from .partition import non_iid_score
    plt = pyplot()
    counts = np.asarray(counts)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(3.0, 0.5 * counts.shape[1] + 2), max(2.5, 0.25 * counts.shape[0] + 1.2)))
    image = ax.imshow(counts, aspect="auto", cmap="Blues", vmin=0)
    ax.set_xlabel(tr_figure("class"))
    ax.set_ylabel(tr_figure("client"))
    ax.set_xticks(range(counts.shape[1]))
    if class_names is not None:
        ax.set_xticklabels([tr_figure(name) for name in class_names])   # breast cancer's names translated
    if counts.shape[0] <= 20:
        ax.set_yticks(range(counts.shape[0]))
    if counts.size <= 200:
        for (k, c), value in np.ndenumerate(counts):
            ax.text(c, k, str(value), ha="center", va="center", fontsize=7,
                    color="white" if value > counts.max() / 2 else "black")
    ax.set_title(title or tr_figure("labels per client (non-IID score {score})").format(
        score=f"{non_iid_score(counts):.2f}"))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def _metric_labels(metric: str) -> tuple[str, str]:
    """The y label and default title of :func:`plot_history` for ``metric``, in the kit's language."""
    if metric == "accuracy":
        return tr_figure("test accuracy"), tr_figure("test accuracy per round")
    if metric == "loss":
        return tr_figure("test loss"), tr_figure("test loss per round")
    return f"test {metric}", f"test {metric} per round"


def plot_history(histories, labels: Sequence[str] | None = None, ax=None, metric: str = "accuracy",
                 baseline: float | None = None, target: float | None = None, title: str | None = None):
    """Learning curves: test ``metric`` ("accuracy" or "loss") against the round.

    Parameters
    ----------
    histories : History or list of History
    labels : one label per History
    baseline : draw a horizontal line (e.g. a centrally trained model's accuracy)
    target : draw a dotted target line
    title : the axes' title (default: "test <metric> per round")
    """
    plt = pyplot()
    if not isinstance(histories, (list, tuple)):
        histories = [histories]
    labels = labels or [f"{h.config.server_optimizer}, {h.config.partition}" for h in histories]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for h, label in zip(histories, labels, strict=True):
        initial = h.initial_accuracy if metric == "accuracy" else h.initial_loss
        values = np.concatenate([[initial], getattr(h, metric)])
        line, = ax.plot(np.arange(len(values)), values, marker="o", markersize=3, label=label)
        if h.diverged:
            ax.axvline(h.diverged_at, color=line.get_color(), linestyle=":", linewidth=1)
    if baseline is not None:
        ax.axhline(baseline, color="gray", linestyle="--", linewidth=1, label=tr_figure("central baseline"))
    if target is not None:
        ax.axhline(target, color="gray", linestyle=":", linewidth=1,
                   label=tr_figure("target {target}").format(target=f"{target:g}"))
    ax.set_xlabel(tr_figure("round"))
    ylabel, default_title = _metric_labels(metric)
    ax.set_ylabel(ylabel)
    ax.set_title(title or default_title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
