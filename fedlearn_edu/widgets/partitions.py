"""Notebook 02: the article's data and how it is split across clients.

Pairs of functions (``compute_*`` returns numbers and draws nothing; ``show_*`` calls
it, draws, calls ``plt.show()`` and returns the numbers):

* :func:`compute_partition` / :func:`show_partition` -- one split: labels per client,
  client sizes, non-IID score;
* :func:`compute_score_vs_alpha` / :func:`show_score_vs_alpha` -- how the Dirichlet
  concentration alpha controls label skew;
* :func:`compute_fedavg_on_partition` / :func:`show_fedavg_on_partition` -- FedAvg
  trained on the chosen split, next to the same run on an IID split.

Plus :func:`feature_roles`, which finds the informative, redundant and noise columns
of the article's (shuffled) feature matrix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import ipywidgets as widgets
import numpy as np
from sklearn.datasets import make_classification

from .._validate import check_choice, check_int, check_labels, check_positive, check_seed
from ..batch import run_experiments
from ..data import ARTICLE_MAKE_CLASSIFICATION_KWARGS, cached_dataset
from ..i18n import N_, tr, tr_figure
from ..partition import PARTITIONS, label_distribution, make_partition, non_iid_score
from ..plots import plot_history, plot_label_distribution
from ..simulation import FLConfig
from ..style import pyplot

__all__ = ["feature_roles", "plot_informative_features", "alpha_slider", "scheme_dropdown",
           "PartitionResult", "compute_partition", "show_partition", "plot_schemes",
           "ScoreCurve", "compute_score_vs_alpha", "show_score_vs_alpha",
           "TrainingResult", "compute_fedavg_on_partition", "show_fedavg_on_partition", "PRESETS",
           "TRAINING_PRESETS"]

SCHEME_LABELS = {"iid": N_("IID"), "dirichlet": N_("Dirichlet label skew"), "shards": N_("shards (2 per client)"),
                 "quantity": N_("quantity skew")}

#: the default grid of Dirichlet concentrations: 0.01 .. 1000, two points per decade
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-2, 3, 11))


# -- the features of make_classification ---------------------------------------------------

def feature_roles(X: np.ndarray, random_state: int = 42) -> dict[str, np.ndarray]:
    """Which columns of the article's feature matrix are informative, redundant or noise.

    ``make_classification`` builds its columns in the order informative, redundant,
    repeated, noise, then (``shuffle=True``, the default) permutes the rows and the columns.
    Regenerating with ``shuffle=False`` gives the unpermuted columns; a column keeps its
    multiset of values under a row permutation, so sorted columns identify each other.

    Parameters
    ----------
    X : ndarray, shape (1000, 20), from :func:`fedlearn_edu.make_seed_arrays` with ``random_state``
    random_state : int >= 0

    Returns
    -------
    dict with int arrays "informative" (2 columns), "redundant" (10) and "noise" (8), each in
    the order make_classification created them.
    """
    X = np.asarray(X)
    kwargs = dict(ARTICLE_MAKE_CLASSIFICATION_KWARGS, random_state=check_seed("random_state", random_state))
    if X.shape != (kwargs["n_samples"], kwargs["n_features"]):
        raise ValueError(f"X must be the (1000, 20) array of make_seed_arrays(), got shape {X.shape}")
    unshuffled, _ = make_classification(**kwargs, n_clusters_per_class=1, shuffle=False)
    sorted_x, sorted_u = np.sort(X, axis=0), np.sort(unshuffled, axis=0)
    position = np.full(X.shape[1], -1)
    for original in range(X.shape[1]):
        hits = np.flatnonzero(np.all(sorted_x == sorted_u[:, [original]], axis=0))
        if hits.size != 1:
            raise ValueError("X must be the array returned by make_seed_arrays(random_state) "
                             f"with random_state={random_state}; its columns do not match")
        position[original] = hits[0]
    n_inf, n_red = kwargs["n_informative"], kwargs["n_redundant"]
    return {"informative": position[:n_inf], "redundant": position[n_inf:n_inf + n_red],
            "noise": position[n_inf + n_red:]}


def plot_informative_features(X: np.ndarray, y: np.ndarray, columns: Sequence[int], ax=None):
    """Scatter of two feature columns, one colour per class."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    y = check_labels("y", y, n_samples=len(X))
    a, b = int(columns[0]), int(columns[1])
    for c in np.unique(y):
        ax.scatter(X[y == c, a], X[y == c, b], s=6, alpha=0.6, label=tr_figure("class {c}").format(c=c))
    ax.set_xlabel(tr_figure("column {column} (informative)").format(column=a))
    ax.set_ylabel(tr_figure("column {column} (informative)").format(column=b))
    ax.legend(markerscale=2)
    ax.grid(alpha=0.3)
    return ax


# -- sliders that fedlearn_edu.widgets does not have ------------------------------------------

def alpha_slider(value: float = 0.5, description: str = "Dirichlet alpha") -> widgets.FloatLogSlider:
    """Dirichlet concentration on a log scale, 0.01 .. 1000, released value only."""
    return widgets.FloatLogSlider(value=value, base=10, min=-2, max=3, step=0.1, description=description,
                                  continuous_update=False, readout_format=".3g",
                                  style={"description_width": "initial"})


def scheme_dropdown(value: str = "dirichlet") -> widgets.Dropdown:
    """The four partition schemes of :data:`fedlearn_edu.PARTITIONS`."""
    return widgets.Dropdown(options=[(tr(SCHEME_LABELS[s]), s) for s in PARTITIONS], value=value,
                            description=tr("split"), style={"description_width": "initial"})


# -- one split ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PartitionResult:
    """One split of the training labels across clients.

    Attributes
    ----------
    n_clients : int, K
    scheme : str, one of PARTITIONS
    alpha : float, Dirichlet concentration (used by "dirichlet" and "quantity" only)
    counts : ndarray (K, n_classes) int64, counts[k, c] = examples of class c on client k
    score : float, non-IID score in [0, 1] (0: every client has the global label mix)
    """

    n_clients: int
    scheme: str
    alpha: float
    counts: np.ndarray = field(compare=False)
    score: float

    @property
    def sizes(self) -> np.ndarray:
        """n_k, examples per client, shape (K,)."""
        return self.counts.sum(axis=1)

    @property
    def classes_per_client(self) -> np.ndarray:
        """How many classes each client holds at least one example of, shape (K,)."""
        return (self.counts > 0).sum(axis=1)

    def __repr__(self) -> str:
        uses_alpha = self.scheme in ("dirichlet", "quantity")
        alpha = f", alpha {self.alpha:.3g}" if uses_alpha else ""
        return tr("{scheme}, {clients} clients{alpha}: non-IID score {score}; client sizes {sizes}; "
                  "classes per client {classes}").format(
            scheme=tr(SCHEME_LABELS[self.scheme]), clients=self.n_clients, alpha=alpha, score=f"{self.score:.3f}",
            sizes=f"{int(self.sizes.min())}..{int(self.sizes.max())}",
            classes=f"{int(self.classes_per_client.min())}..{int(self.classes_per_client.max())}")


def compute_partition(n_clients: int = 10, scheme: str = "dirichlet", alpha: float = 0.5,
                      seed: int = 0, y: np.ndarray | None = None) -> PartitionResult:
    """Split the labels ``y`` (default: the article's 800 training labels) and measure the split.

    Parameters
    ----------
    n_clients : int, 1..len(y) (shards need 2 per client, Dirichlet and quantity 2 examples per client)
    scheme : one of "iid", "dirichlet", "shards", "quantity"
    alpha : float > 0, Dirichlet concentration for "dirichlet" and "quantity"
    seed : int >= 0
    y : array (n_samples,) of integer labels, optional
    """
    y = cached_dataset("article").y_train if y is None else check_labels("y", y)
    n_clients = check_int("n_clients", n_clients, minimum=1, maximum=len(y))
    scheme = check_choice("scheme", scheme, PARTITIONS)
    alpha = check_positive("alpha", alpha)
    parts = make_partition(y, n_clients, scheme, alpha=alpha, seed=check_seed("seed", seed))
    counts = label_distribution(y, parts, int(y.max()) + 1)
    return PartitionResult(n_clients, scheme, alpha, counts, non_iid_score(counts))


def _colour_from_zero(ax, counts: np.ndarray) -> None:
    """Start the heatmap's colour scale at 0, so that an even split looks even."""
    ax.images[0].set_clim(0, max(1, int(np.max(counts))))


def _draw_partition(result: PartitionResult, heat_ax, size_ax) -> None:
    plot_label_distribution(result.counts, ax=heat_ax,
                            title=tr_figure("{scheme}: score {score}").format(
                                scheme=tr_figure(SCHEME_LABELS[result.scheme]), score=f"{result.score:.2f}"))
    _colour_from_zero(heat_ax, result.counts)
    n_classes = result.counts.shape[1]
    left = np.zeros(result.n_clients)
    for c in range(n_classes):
        size_ax.barh(np.arange(result.n_clients), result.counts[:, c], left=left,
                     label=tr_figure("class {c}").format(c=c))
        left += result.counts[:, c]
    size_ax.invert_yaxis()
    size_ax.set_xlabel(tr_figure("examples"))
    size_ax.set_ylabel(tr_figure("client"))
    size_ax.set_title(tr_figure("client sizes, by class"))
    size_ax.legend()


#: presets of notebook 02's split panel (section 6; controls n_clients, scheme, alpha, seed)
PRESETS: dict[str, dict] = {
    N_("IID baseline"): dict(scheme="iid"),
    N_("extreme non-IID: α_D = 0.05"): dict(scheme="dirichlet", alpha=0.05),
    N_("nearly IID: α_D = 100"): dict(scheme="dirichlet", alpha=100.0),
    N_("shards (McMahan et al.)"): dict(scheme="shards"),
    N_("quantity skew: α_D = 0.1"): dict(scheme="quantity", alpha=0.1),
    N_("small clients: K = 100, IID"): dict(scheme="iid", n_clients=100),
    N_("another seed: 1"): dict(seed=1),
}

#: presets of notebook 02's training panel (section 7): the split presets and the learning rate
TRAINING_PRESETS: dict[str, dict] = {
    N_("IID baseline"): dict(scheme="iid"),
    N_("extreme non-IID: α_D = 0.05"): dict(scheme="dirichlet", alpha=0.05),
    N_("shards (McMahan et al.)"): dict(scheme="shards"),
    N_("big local steps on skewed data: α_D = 0.1, η_l = 1"): dict(scheme="dirichlet", alpha=0.1,
                                                                 client_learning_rate=1.0),
    N_("too-large learning rate: η_l = 10"): dict(client_learning_rate=10.0),
    N_("another seed: 1"): dict(seed=1),
}


def show_partition(n_clients: int = 10, scheme: str = "dirichlet", alpha: float = 0.5,
                   seed: int = 0, *, show_summary: bool = True) -> PartitionResult:
    """Slider callback: the split's counts and score (``show_summary``), a heatmap of labels per client and a bar
    chart of client sizes."""
    plt = pyplot()
    result = compute_partition(n_clients, scheme, alpha, seed)
    if show_summary:
        print(result)
    fig, (heat, sizes) = plt.subplots(1, 2, figsize=(9, 3.5))
    _draw_partition(result, heat, sizes)
    plt.show()
    return result


def plot_schemes(n_clients: int = 10, alpha: float = 0.5, seed: int = 0) -> list[PartitionResult]:
    """The four schemes side by side as heatmaps (labels per client); returns their results."""
    plt = pyplot()
    results = [compute_partition(n_clients, s, alpha, seed) for s in PARTITIONS]
    fig, axes = plt.subplots(1, len(results), figsize=(12, 3.5))
    for r, ax in zip(results, axes, strict=True):
        plot_label_distribution(r.counts, ax=ax, title=tr_figure("{scheme}\nscore {score}").format(
            scheme=tr_figure(SCHEME_LABELS[r.scheme]), score=f"{r.score:.2f}"))
        _colour_from_zero(ax, r.counts)
    return results


# -- score against alpha ----------------------------------------------------------------------

@dataclass(frozen=True)
class ScoreCurve:
    """Non-IID score of Dirichlet splits over a grid of alpha, averaged over seeds.

    Attributes
    ----------
    alphas : ndarray (A,)
    mean, low, high : ndarray (A,), mean, min and max score over the seeds
    iid : float, mean score of IID splits over the same seeds (sampling noise only)
    shards : float, mean score of shard splits (2 shards per client)
    n_clients : int
    n_seeds : int
    """

    alphas: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    iid: float
    shards: float
    n_clients: int
    n_seeds: int

    def table(self) -> str:
        lines = [tr("{clients} clients, mean over {seeds} seeds").format(clients=self.n_clients, seeds=self.n_seeds),
                 f"{'alpha':>9} {'score':>6} {'min':>6} {'max':>6}"]
        for a, m, lo, hi in zip(self.alphas, self.mean, self.low, self.high, strict=True):
            lines.append(f"{a:>9.3g} {m:>6.3f} {lo:>6.3f} {hi:>6.3f}")
        lines.append(tr("IID split: {iid}; shards: {shards}").format(iid=f"{self.iid:.3f}",
                                                                     shards=f"{self.shards:.3f}"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def compute_score_vs_alpha(alphas: Sequence[float] = DEFAULT_ALPHAS, n_clients: int = 10, n_seeds: int = 5,
                           y: np.ndarray | None = None) -> ScoreCurve:
    """Non-IID score of Dirichlet splits for each alpha (seeds 0..n_seeds-1); no drawing."""
    y = cached_dataset("article").y_train if y is None else check_labels("y", y)
    n_seeds = check_int("n_seeds", n_seeds, minimum=1)
    alphas = np.array([check_positive("alpha", a) for a in alphas], dtype=np.float64)
    if alphas.size == 0:
        raise ValueError("alphas must hold at least one value")

    def score(scheme, alpha, seed):
        return compute_partition(n_clients, scheme, alpha, seed, y).score

    scores = np.array([[score("dirichlet", a, s) for s in range(n_seeds)] for a in alphas])
    return ScoreCurve(alphas=alphas, mean=scores.mean(axis=1), low=scores.min(axis=1), high=scores.max(axis=1),
                      iid=float(np.mean([score("iid", 1.0, s) for s in range(n_seeds)])),
                      shards=float(np.mean([score("shards", 1.0, s) for s in range(n_seeds)])),
                      n_clients=int(n_clients), n_seeds=n_seeds)


def show_score_vs_alpha(alphas: Sequence[float] = DEFAULT_ALPHAS, n_clients: int = 10,
                        n_seeds: int = 5) -> ScoreCurve:
    """Score against alpha (log scale), the seed range shaded, IID and shards as lines."""
    plt = pyplot()
    curve = compute_score_vs_alpha(alphas, n_clients, n_seeds)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.fill_between(curve.alphas, curve.low, curve.high, alpha=0.2,
                    label=tr_figure("min..max over {seeds} seeds").format(seeds=n_seeds))
    ax.plot(curve.alphas, curve.mean, marker="o", label=tr_figure("Dirichlet split"))
    ax.axhline(curve.shards, color="C3", linestyle="--", linewidth=1, label=tr_figure("shards (2 per client)"))
    ax.axhline(curve.iid, color="gray", linestyle=":", linewidth=1, label=tr_figure("IID split"))
    ax.set_xscale("log")
    ax.set_xlabel(tr_figure("Dirichlet concentration α_D (log scale)"))
    ax.set_ylabel(tr_figure("non-IID score"))
    ax.set_title(tr_figure("how skewed a Dirichlet split is"))
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    plt.show()
    return curve


# -- FedAvg on the chosen split -----------------------------------------------------------------

@dataclass(frozen=True)
class TrainingResult:
    """FedAvg on one split, and the same run on an IID split.

    Attributes
    ----------
    partition : PartitionResult of the chosen split
    client_learning_rate : float
    rounds : int
    accuracy : float, final test accuracy on the chosen split
    iid_accuracy : float, final test accuracy on an IID split (same K, learning rate, rounds, seed)
    diverged_at : int or None, on the chosen split
    histories : dict "split" / "iid" -> History (not in the repr)
    """

    partition: PartitionResult
    client_learning_rate: float
    rounds: int
    accuracy: float
    iid_accuracy: float
    diverged_at: int | None
    histories: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def gap(self) -> float:
        """IID accuracy minus the chosen split's accuracy (> 0: the split costs accuracy)."""
        return self.iid_accuracy - self.accuracy

    def __repr__(self) -> str:
        diverged = tr(" (diverged in round {round})").format(round=self.diverged_at) if self.diverged_at else ""
        return f"{self.partition!r}\n" + tr(
            "FedAvg, learning rate {rate}, {rounds} rounds: test accuracy {accuracy}{diverged} vs {iid} on an IID "
            "split (gap {gap})").format(rate=f"{self.client_learning_rate:.3g}", rounds=self.rounds,
                                        accuracy=f"{self.accuracy:.3f}", diverged=diverged,
                                        iid=f"{self.iid_accuracy:.3f}", gap=f"{self.gap:.3f}")


def compute_fedavg_on_partition(n_clients: int = 10, scheme: str = "dirichlet", alpha: float = 0.5,
                                client_learning_rate: float = 0.1, rounds: int = 10,
                                seed: int = 0) -> TrainingResult:
    """Train FedAvg on the chosen split of the article's data and on an IID split; no drawing.

    Parameters
    ----------
    n_clients : int, 1..800
    scheme : one of "iid", "dirichlet", "shards", "quantity"
    alpha : float > 0
    client_learning_rate : float > 0
    rounds : int >= 1
    seed : int >= 0, seeds the split, the initial model and the batch order
    """
    partition = compute_partition(n_clients, scheme, alpha, seed)
    config = FLConfig(n_clients=partition.n_clients, rounds=rounds, partition=partition.scheme,
                      alpha=partition.alpha, client_learning_rate=client_learning_rate, seed=seed)
    configs = [config] if config.partition == "iid" else [config, config.replace(partition="iid")]
    runs = run_experiments(configs, dataset=cached_dataset("article"), progress=False)     # one batched call
    split, iid = runs[0], runs[-1]
    return TrainingResult(partition=partition, client_learning_rate=config.client_learning_rate, rounds=config.rounds,
                          accuracy=split.final_accuracy, iid_accuracy=iid.final_accuracy, diverged_at=split.diverged_at,
                          histories={"split": split, "iid": iid})


def show_fedavg_on_partition(n_clients: int = 10, scheme: str = "dirichlet", alpha: float = 0.5,
                             client_learning_rate: float = 0.1, rounds: int = 10, seed: int = 0) -> TrainingResult:
    """Slider callback: the result (printed), then learning curves on the chosen split and on an IID split."""
    plt = pyplot()
    result = compute_fedavg_on_partition(n_clients, scheme, alpha, client_learning_rate, rounds=rounds, seed=seed)
    print(result)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    plot_history([result.histories["split"], result.histories["iid"]],
                 [tr_figure("{scheme} (score {score})").format(scheme=tr_figure(SCHEME_LABELS[result.partition.scheme]),
                                                               score=f"{result.partition.score:.2f}"),
                  tr_figure("IID split")], ax=ax)
    ax.set_ylim(0, 1)
    ax.set_title(tr_figure("FedAvg, K = {clients}, learning rate {rate}").format(
        clients=result.partition.n_clients, rate=f"{result.client_learning_rate:.3g}"))
    plt.show()
    return result
