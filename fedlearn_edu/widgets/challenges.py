"""Notebook 07: the article's three challenges, measured.

Section 5 of the article names three open problems of federated learning in one
sentence: model convergence (模型收敛性), communication overhead (通信开销) and limited
device resources (设备资源有限). Each gets a ``compute_*`` function that runs the
experiments and returns numbers (no drawing) and a ``show_*`` function that calls it,
draws, calls ``plt.show()`` and returns the same numbers:

* :func:`compute_convergence_grid` -- rounds to a target accuracy for every
  (partition, algorithm) pair, median over seeds;
* :func:`compute_local_epochs` -- what more local computation E buys in rounds and bytes;
* :func:`compute_participation` -- fewer clients per round: fewer bytes, noisier progress;
* :func:`compute_stragglers` -- wait for slow devices, drop them, or accept partial work;
* :func:`compute_challenge_lab` -- the slider callback: IID against Dirichlet(alpha).

Every run goes through the batched engine (:func:`fedlearn_edu.run_experiments`: a whole
grid of partitions x algorithms x seeds in one compiled call, each run equal to
:func:`fedlearn_edu.run_experiment`) with a preloaded :class:`~fedlearn_edu.Dataset`;
nothing here trains by itself. A run that never reaches
the target counts as ``inf`` rounds, so a median over seeds is ``inf`` only when most
seeds missed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .._validate import check_choice, check_float, check_int, check_positive, check_seed
from ..algorithms import algorithm_changes
from ..batch import run_experiments
from ..data import DATASETS, Dataset, cached_dataset
from ..i18n import N_, tr, tr_figure
from ..simulation import BYTES_PER_PARAMETER, FLConfig, History
from ..style import pyplot
from ..sweeps import (  # noqa: F401
    SETTLE_ROUNDS,
    format_median_rounds,
    jitter,
    median_or_inf,
    median_rounds_to_accuracy,
    run_seeds,
    run_seeds_grid,
    settled_accuracy,
)
from .tables import columns, diverged_row, never_or, pad, table_header, table_row

__all__ = ["ALGORITHMS", "STRAGGLER_POLICIES", "PartitionSpec", "partition_spec", "run_seeds",
           "median_or_inf", "median_rounds_to_accuracy", "settled_accuracy", "jitter",
           "bytes_per_round", "format_median_rounds", "partition_summary",
           "GridResult", "compute_convergence_grid", "show_convergence_grid", "plot_convergence_grid",
           "plot_settled", "EpochsResult", "compute_local_epochs", "show_local_epochs",
           "plot_accuracy_vs_megabytes", "ParticipationResult", "compute_participation", "show_participation",
           "StragglerResult", "full_local_steps", "straggler_configs", "compute_stragglers", "show_stragglers",
           "LabResult", "compute_challenge_lab", "show_challenge_lab", "PRESETS", "presets_for"]

#: The remedies compared with FedAvg: FLConfig fields each one changes (from the registry,
#: :data:`fedlearn_edu.algorithms.ALGORITHMS`). FedProx with mu = 1; FedAvgM with beta 0.9 and
#: server learning rate 1; FedAdam with server learning rate 0.03 (the package default 0.01 is
#: slower on these data).
ALGORITHMS: dict[str, dict] = {
    "FedAvg": algorithm_changes("FedAvg"),
    "FedProx mu=1": algorithm_changes("FedProx", mu=1.0),
    "FedAvgM": algorithm_changes("FedAvgM", server_momentum=0.9),
    "FedAdam": algorithm_changes("FedAdam", server_learning_rate=0.03),
}

#: the three answers to slow devices compared by :func:`compute_stragglers` (keys; shown translated)
STRAGGLER_POLICIES = (N_("wait for all"), N_("drop stragglers"), N_("accept partial work"))
#: the policies as the bar charts' tick labels, on two lines
_TICK_LABELS = {"wait for all": N_("wait\nfor all"), "drop stragglers": N_("drop\nstragglers"),
                "accept partial work": N_("accept\npartial work")}


# -- small helpers ----------------------------------------------------------------------

@dataclass(frozen=True)
class PartitionSpec:
    """One way of splitting the data: a scheme and its parameter.

    Attributes
    ----------
    scheme : "iid", "dirichlet" or "shards"
    alpha : float, Dirichlet concentration (used by "dirichlet")
    shards_per_client : int (used by "shards")
    """

    scheme: str
    alpha: float = 0.5
    shards_per_client: int = 2

    @property
    def label(self) -> str:
        if self.scheme == "dirichlet":
            return f"Dir({self.alpha:g})"
        if self.scheme == "shards":
            return f"shards({self.shards_per_client})"
        return self.scheme.upper() if self.scheme == "iid" else self.scheme

    def shown(self, translate=tr) -> str:
        """:attr:`label` as a student reads it, in the kit's language (``translate`` is :func:`tr`, or
        :func:`tr_figure` in a figure); :attr:`label` stays the key of the results."""
        if self.scheme == "shards":
            return translate(N_("shards({shards})")).format(shards=self.shards_per_client)
        return self.label

    def fields(self) -> dict:
        """The FLConfig fields of this partition."""
        return {"partition": self.scheme, "alpha": self.alpha, "shards_per_client": self.shards_per_client}


def partition_spec(spec) -> PartitionSpec:
    """Turn ``"iid"``, ``"shards"``, a float alpha (Dirichlet) or a PartitionSpec into a PartitionSpec."""
    if isinstance(spec, PartitionSpec):
        return spec
    if isinstance(spec, str):
        check_choice("partition", spec, ("iid", "shards"))
        return PartitionSpec(spec)
    return PartitionSpec("dirichlet", alpha=check_positive("alpha", spec))


def _dataset_of(data: Dataset | str) -> Dataset:
    if isinstance(data, Dataset):
        return data
    return cached_dataset(data)


def bytes_per_round(n_parameters: int, clients_per_round: int) -> int:
    """Bytes one round moves: the model down to m clients and m updates up,
    2 * m * parameters * 4 bytes (float32)."""
    n_parameters = check_int("n_parameters", n_parameters, minimum=1)
    clients_per_round = check_int("clients_per_round", clients_per_round, minimum=1)
    return 2 * clients_per_round * n_parameters * BYTES_PER_PARAMETER


def _check_target(target: float) -> float:
    return check_float("target", target, low=0.0, high=1.0)


def _seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    seeds = tuple(check_seed("seed", s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got an empty sequence")
    return seeds


# -- challenge 1: convergence on non-IID data -------------------------------------------

@dataclass
class GridResult:
    """Rounds to a target and settled accuracy for every (partition, algorithm) pair.

    Attributes
    ----------
    partitions : list of PartitionSpec (rows)
    algorithms : list of str (columns), keys of :data:`ALGORITHMS`
    rounds : ndarray (P, A), median rounds to ``target`` (inf: not reached by most seeds)
    settled : ndarray (P, A), median settled accuracy (mean of the last 10 rounds)
    target : float
    max_rounds : int, rounds per run
    seeds : tuple of int
    """

    partitions: list
    algorithms: list
    rounds: np.ndarray
    settled: np.ndarray
    target: float
    max_rounds: int
    seeds: tuple

    def _row(self, partition) -> int:
        spec = partition_spec(partition)
        return [p.label for p in self.partitions].index(spec.label)

    def rounds_of(self, partition, algorithm: str = "FedAvg") -> float:
        """Median rounds to target of one cell; ``partition`` as in :func:`partition_spec`."""
        return float(self.rounds[self._row(partition), self.algorithms.index(algorithm)])

    def settled_of(self, partition, algorithm: str = "FedAvg") -> float:
        """Median settled accuracy of one cell."""
        return float(self.settled[self._row(partition), self.algorithms.index(algorithm)])

    def table(self, what: str = "rounds") -> str:
        """Rows partitions, columns algorithms; ``what`` is "rounds" or "settled"."""
        check_choice("what", what, ("rounds", "settled"))
        width = max(13, *(len(a) + 1 for a in self.algorithms))
        head = (tr("median rounds to {target}").format(target=f"{self.target:.0%}") if what == "rounds" else
                tr("median settled accuracy (last {rounds} rounds)").format(rounds=SETTLE_ROUNDS))
        first = max(12, columns(tr("partition")))
        lines = [tr("{head}, {seeds} seeds, {rounds} rounds per run").format(
                     head=head, seeds=len(self.seeds), rounds=self.max_rounds),
                 pad(tr("partition"), first, "<") + "".join(pad(a, width) for a in self.algorithms)]
        for i, p in enumerate(self.partitions):
            cells = (format_median_rounds(v, self.max_rounds) if what == "rounds" else f"{v:.3f}"
                     for v in (self.rounds[i] if what == "rounds" else self.settled[i]))
            lines.append(pad(p.shown(), first, "<") + "".join(pad(c, width) for c in cells))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def compute_convergence_grid(data: Dataset | str, base: FLConfig, partitions: Sequence,
                             algorithms: Sequence[str] | Mapping[str, dict] = tuple(ALGORITHMS),
                             seeds: Sequence[int] = (0, 1, 2), target: float = 0.9) -> GridResult:
    """Run every (partition, algorithm, seed) combination; no drawing.

    Loops over ``partitions`` × ``algorithms`` × ``seeds``: each cell is
    ``run_experiment(base.replace(**partition_spec(p).fields(), **changes, seed=s), dataset=data)``
    for every seed s, with ``changes`` the algorithm's FLConfig fields (:data:`ALGORITHMS` or the
    mapping given); the cell holds the median over the seeds of the rounds to ``target`` and of
    the settled accuracy. ``len(partitions) * len(algorithms) * len(seeds)`` runs in all.

    Parameters
    ----------
    data : Dataset or data set name
    base : FLConfig, the shared settings (clients, rounds, E, learning rate, ...)
    partitions : sequence of "iid", "shards", a float alpha (Dirichlet) or PartitionSpec
    algorithms : names from :data:`ALGORITHMS`, or a mapping column name -> FLConfig changes
        (e.g. ``{"E=1": {"local_epochs": 1}}``)
    seeds : seeds to run; the tables report medians
    target : float in [0, 1]

    Returns
    -------
    GridResult with arrays of shape (len(partitions), len(algorithms))
    """
    data = _dataset_of(data)
    specs = [partition_spec(p) for p in partitions]
    variants = _variants(algorithms)
    seeds, target = _seeds(seeds), _check_target(target)
    rounds = np.zeros((len(specs), len(variants)))
    settled = np.zeros_like(rounds)
    runs = run_seeds_grid({(i, j): base.replace(**spec.fields(), **changes) for i, spec in enumerate(specs)
                           for j, changes in enumerate(variants.values())}, data, seeds)
    for (i, j), histories in runs.items():
        rounds[i, j] = median_rounds_to_accuracy(histories, target)
        settled[i, j] = float(np.median([settled_accuracy(h) for h in histories]))
    return GridResult(partitions=specs, algorithms=list(variants), rounds=rounds, settled=settled, target=target,
                      max_rounds=base.rounds, seeds=seeds)


def _variants(algorithms: Sequence[str] | Mapping[str, dict]) -> dict[str, dict]:
    """Names of :data:`ALGORITHMS`, or a mapping column name -> FLConfig changes."""
    if isinstance(algorithms, Mapping):
        variants = {str(k): dict(v) for k, v in algorithms.items()}
    else:
        variants = {check_choice("algorithm", a, tuple(ALGORITHMS)): ALGORITHMS[a] for a in algorithms}
    if not variants:
        raise ValueError("algorithms must name at least one algorithm, got none")
    return variants


def show_convergence_grid(data: Dataset | str, base: FLConfig, partitions: Sequence,
                          algorithms: Sequence[str] | Mapping[str, dict] = tuple(ALGORITHMS),
                          seeds: Sequence[int] = (0, 1, 2), target: float = 0.9,
                          what: str = "rounds") -> GridResult:
    """:func:`compute_convergence_grid` (partitions × algorithms × seeds, one run each), then its
    table and a figure: with ``what="rounds"``
    rounds to target against the partition, one line per algorithm (targets never reached
    drawn above the dotted line); with ``what="settled"`` bars of the settled accuracy."""
    check_choice("what", what, ("rounds", "settled"))
    result = compute_convergence_grid(data=data, base=base, partitions=partitions, algorithms=algorithms, seeds=seeds,
                                      target=target)
    print(result.table(what))
    (plot_convergence_grid if what == "rounds" else plot_settled)(result)
    pyplot().show()
    return result


def plot_convergence_grid(result: GridResult, ax=None):
    """Rounds to target per partition (x, from IID-like to most skewed), one line per algorithm."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(result.partitions))
    for j, name in enumerate(result.algorithms):
        y = np.where(np.isinf(result.rounds[:, j]), result.max_rounds + 1, result.rounds[:, j])
        ax.plot(x, y, marker="o", label=name)
    ax.axhline(result.max_rounds + 1, color="gray", linestyle=":", linewidth=1)
    ax.set_xticks(x)
    ax.set_xticklabels([p.shown(tr_figure) for p in result.partitions])
    ax.set_xlabel(tr_figure("partition (more skewed to the right)"))
    ax.set_ylabel(tr_figure("rounds to {target} (median)").format(target=f"{result.target:.0%}"))
    ax.set_title(tr_figure("rounds to {target} by partition, median of {seeds} seeds").format(
        target=f"{result.target:.0%}", seeds=len(result.seeds)))
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_settled(result: GridResult, ax=None):
    """Grouped bars: settled accuracy of every column (x) for every partition (one colour each)."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(result.algorithms))
    width = 0.8 / len(result.partitions)
    for i, spec in enumerate(result.partitions):
        ax.bar(x + (i - (len(result.partitions) - 1) / 2) * width, result.settled[i], width,
               label=spec.shown(tr_figure))
    low = max(0.0, float(np.min(result.settled)) - 0.05)
    ax.set_ylim(low, min(1.0, float(np.max(result.settled)) + 0.03))
    ax.set_xticks(x)
    ax.set_xticklabels([a.replace(" ", "\n", 1) for a in result.algorithms])
    ax.set_ylabel(tr_figure("settled accuracy (last {rounds} rounds)").format(rounds=SETTLE_ROUNDS))
    ax.set_xlabel(tr_figure("algorithm or setting"))
    ax.set_title(tr_figure("settled accuracy, median of {seeds} seeds").format(seeds=len(result.seeds)))
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return ax


def partition_summary(data: Dataset | str, n_clients: int, partitions: Sequence, seed: int = 0) -> dict:
    """How skewed each partition is, before any training.

    Returns
    -------
    dict label -> (non-IID score in [0, 1], median number of classes a client holds,
    size of the largest client)
    """
    from ..partition import label_distribution, make_partition, non_iid_score
    data = _dataset_of(data)
    summary = {}
    for spec in (partition_spec(p) for p in partitions):
        parts = make_partition(data.y_train, n_clients, spec.scheme, alpha=spec.alpha,
                               shards_per_client=spec.shards_per_client, seed=seed)
        counts = label_distribution(data.y_train, parts, data.n_classes)
        summary[spec.label] = (non_iid_score(counts), float(np.median((counts > 0).sum(axis=1))),
                               int(max(len(p) for p in parts)))
    return summary


# -- challenge 2: communication -----------------------------------------------------------

@dataclass
class EpochsResult:
    """What more local computation E buys, per partition.

    Attributes
    ----------
    epochs : list of int, the E values (columns)
    partitions : list of PartitionSpec (rows)
    rounds : ndarray (P, len(epochs)), median rounds to target
    megabytes : ndarray (P, len(epochs)), median MB to target (inf: not reached)
    settled : ndarray (P, len(epochs)), median settled accuracy
    megabytes_per_round : float
    target : float
    max_rounds : int
    curves : dict (partition label, E) -> (cumulative MB, accuracy), the first seed's run,
        both starting at (0, initial accuracy)
    """

    epochs: list
    partitions: list
    rounds: np.ndarray
    megabytes: np.ndarray
    settled: np.ndarray
    megabytes_per_round: float
    target: float
    max_rounds: int
    curves: dict = field(default_factory=dict, repr=False)

    def _row(self, partition) -> int:
        return [p.label for p in self.partitions].index(partition_spec(partition).label)

    def rounds_of(self, partition, epochs: int) -> float:
        return float(self.rounds[self._row(partition), self.epochs.index(epochs)])

    def megabytes_of(self, partition, epochs: int) -> float:
        return float(self.megabytes[self._row(partition), self.epochs.index(epochs)])

    def settled_of(self, partition, epochs: int) -> float:
        return float(self.settled[self._row(partition), self.epochs.index(epochs)])

    def speedup(self, partition) -> float:
        """Rounds to target with the smallest E divided by rounds with the largest E."""
        i = self._row(partition)
        return float(self.rounds[i, 0] / self.rounds[i, -1])

    def table(self) -> str:
        header, widths = table_header([("partition", tr("partition")), ("E", "E"), ("rounds", tr("rounds")),
                                       ("MB", "MB"), ("settled acc", tr("settled acc"))], (12, 3, 7, 8, 12))
        lines = [tr("{megabytes} MB per round; medians over seeds, target {target}").format(
                     megabytes=f"{self.megabytes_per_round:.3f}", target=f"{self.target:.0%}"),
                 header]
        for i, p in enumerate(self.partitions):
            for j, e in enumerate(self.epochs):
                lines.append(table_row([p.shown(), str(e), format_median_rounds(self.rounds[i, j], self.max_rounds),
                                        never_or(self.megabytes[i, j], ".2f"), f"{self.settled[i, j]:.3f}"], widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def _curve(history: History) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative MB, accuracy), starting at (0, initial accuracy)."""
    return history.cumulative_megabytes(), np.concatenate([[history.initial_accuracy], history.accuracy])


def compute_local_epochs(data: Dataset | str, base: FLConfig, epochs: Sequence[int] = (1, 2, 5, 10),
                         partitions: Sequence = ("iid", 0.1), seeds: Sequence[int] = (0, 1, 2),
                         target: float = 0.9) -> EpochsResult:
    """Rounds, megabytes and settled accuracy for each local epoch count E; no drawing.

    More local epochs cost the devices more computation but no extra bytes per round,
    so fewer rounds to the target means fewer bytes.

    Loops over ``partitions`` × ``epochs`` × ``seeds``: each cell is
    ``run_experiment(base.replace(local_epochs=E, **partition_spec(p).fields(), seed=s))``; rounds,
    megabytes and settled accuracy are medians over the seeds, the curves those of the first seed.

    Parameters
    ----------
    data : Dataset or name
    base : FLConfig (everything but E and the partition)
    epochs : increasing E values, each >= 1
    partitions : as in :func:`compute_convergence_grid`
    seeds, target : as in :func:`compute_convergence_grid`
    """
    data = _dataset_of(data)
    epochs = [check_int("local_epochs", e, minimum=1) for e in epochs]
    specs = [partition_spec(p) for p in partitions]
    seeds, target = _seeds(seeds), _check_target(target)
    shape = (len(specs), len(epochs))
    rounds, megabytes, settled = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    curves = {}
    per_round = 0.0
    runs = run_seeds_grid({(i, j): base.replace(local_epochs=e, **spec.fields()) for i, spec in enumerate(specs)
                           for j, e in enumerate(epochs)}, data, seeds)
    for (i, j), histories in runs.items():
        spec, e = specs[i], epochs[j]
        rounds[i, j] = median_rounds_to_accuracy(histories, target)
        megabytes[i, j] = median_or_inf([h.megabytes_to_accuracy(target) for h in histories])
        settled[i, j] = float(np.median([settled_accuracy(h) for h in histories]))
        curves[(spec.label, e)] = _curve(histories[0])
        per_round = float(histories[0].bytes_down[0] + histories[0].bytes_up[0]) / 1e6
    return EpochsResult(epochs=epochs, partitions=specs, rounds=rounds, megabytes=megabytes, settled=settled,
                        megabytes_per_round=per_round, target=target, max_rounds=base.rounds, curves=curves)


def plot_accuracy_vs_megabytes(result: EpochsResult, axes=None):
    """One panel per partition: test accuracy against MB communicated, one curve per E."""
    plt = pyplot()
    if axes is None:
        _, axes = plt.subplots(1, len(result.partitions), figsize=(4 * len(result.partitions), 3.3),
                               sharey=True, squeeze=False)
        axes = axes[0]
    for ax, spec in zip(axes, result.partitions, strict=True):
        for e in result.epochs:
            megabytes, accuracy = result.curves[(spec.label, e)]
            ax.plot(megabytes, accuracy, marker="o", markersize=2, label=f"E={e}")
        ax.axhline(result.target, color="gray", linestyle=":", linewidth=1)
        ax.set_title(spec.shown(tr_figure))
        ax.set_ylim(max(0.0, result.target - 0.4), 1.0)
        ax.set_xlabel(tr_figure("MB communicated"))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(tr_figure("test accuracy"))
    axes[0].legend()
    return axes


def show_local_epochs(data: Dataset | str, base: FLConfig, epochs: Sequence[int] = (1, 2, 5, 10),
                      partitions: Sequence = ("iid", 0.1), seeds: Sequence[int] = (0, 1, 2),
                      target: float = 0.9) -> EpochsResult:
    """:func:`compute_local_epochs` (partitions × epochs × seeds, one run each), its table, and
    accuracy against MB communicated (first seed)."""
    result = compute_local_epochs(data=data, base=base, epochs=epochs, partitions=partitions, seeds=seeds,
                                  target=target)
    print(result.table())
    plot_accuracy_vs_megabytes(result)
    pyplot().show()
    return result


# -- challenge 3: limited devices ---------------------------------------------------------

@dataclass
class ParticipationResult:
    """Fewer clients per round: bytes, rounds and noise for each participation fraction C.

    Attributes
    ----------
    fractions : list of float, C
    clients_per_round : list of int, m = max(1, floor(C K))
    megabytes_per_round : ndarray
    rounds : ndarray, median rounds to target
    megabytes : ndarray, median MB to target (inf: not reached)
    jitter : ndarray, median of :func:`jitter` (mean |accuracy change| per round, second half)
    settled : ndarray, median settled accuracy
    target : float
    max_rounds : int
    histories : dict C -> History of the first seed
    """

    fractions: list
    clients_per_round: list
    megabytes_per_round: np.ndarray
    rounds: np.ndarray
    megabytes: np.ndarray
    jitter: np.ndarray
    settled: np.ndarray
    target: float
    max_rounds: int
    histories: dict = field(default_factory=dict, repr=False)

    def table(self) -> str:
        header, widths = table_header([("C", "C"), ("m", "m"), ("MB/round", tr("MB/round")), ("rounds", tr("rounds")),
                                       ("MB", "MB"), ("jitter", tr("jitter")), ("settled", tr("settled"))],
                                      (5, 3, 9, 7, 8, 7, 8), first=">")
        lines = [tr("medians over seeds, target {target}").format(target=f"{self.target:.0%}"), header]
        for i, c in enumerate(self.fractions):
            lines.append(table_row([f"{c:.2f}", str(self.clients_per_round[i]), f"{self.megabytes_per_round[i]:.3f}",
                                    format_median_rounds(self.rounds[i], self.max_rounds),
                                    never_or(self.megabytes[i], ".2f"), f"{self.jitter[i]:.3f}",
                                    f"{self.settled[i]:.3f}"], widths, first=">"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def compute_participation(data: Dataset | str, base: FLConfig,
                          fractions: Sequence[float] = (0.1, 0.2, 0.5, 1.0), seeds: Sequence[int] = (0, 1, 2),
                          target: float = 0.9) -> ParticipationResult:
    """Run the same federation with each participation fraction C; no drawing.

    Loops over ``fractions`` × ``seeds``: each cell is
    ``run_experiment(base.replace(fraction=C, seed=s))``; rounds, megabytes, jitter and settled
    accuracy are medians over the seeds, the history kept for the figure is the first seed's.

    Parameters
    ----------
    data : Dataset or name
    base : FLConfig (partition, clients, E, ... ; ``fraction`` is replaced)
    fractions : C values in (0, 1]
    seeds, target : as in :func:`compute_convergence_grid`
    """
    data = _dataset_of(data)
    fractions = [check_float("fraction", c, low=0.0, high=1.0, low_inclusive=False) for c in fractions]
    seeds, target = _seeds(seeds), _check_target(target)
    n = len(fractions)
    per_round, rounds, megabytes, noise, settled = (np.zeros(n) for _ in range(5))
    clients, histories = [], {}
    grid = run_seeds_grid({i: base.replace(fraction=c) for i, c in enumerate(fractions)}, data, seeds)
    for i, c in enumerate(fractions):
        runs = grid[i]
        clients.append(runs[0].config.clients_per_round)
        per_round[i] = float(runs[0].bytes_down[0] + runs[0].bytes_up[0]) / 1e6
        rounds[i] = median_rounds_to_accuracy(runs, target)
        megabytes[i] = median_or_inf([h.megabytes_to_accuracy(target) for h in runs])
        noise[i] = float(np.median([jitter(h) for h in runs]))
        settled[i] = float(np.median([settled_accuracy(h) for h in runs]))
        histories[c] = runs[0]
    return ParticipationResult(fractions=fractions, clients_per_round=clients, megabytes_per_round=per_round,
                               rounds=rounds, megabytes=megabytes, jitter=noise, settled=settled, target=target,
                               max_rounds=base.rounds, histories=histories)


def show_participation(data: Dataset | str, base: FLConfig,
                       fractions: Sequence[float] = (0.1, 0.2, 0.5, 1.0), seeds: Sequence[int] = (0, 1, 2),
                       target: float = 0.9) -> ParticipationResult:
    """:func:`compute_participation` (fractions × seeds, one run each), its table, and the
    learning curves of the first seed."""
    result = compute_participation(data, base, fractions, seeds, target)
    print(result.table())
    plt = pyplot()
    _, ax = plt.subplots(figsize=(6, 3.5))
    for c, h in result.histories.items():
        ax.plot(np.arange(h.rounds_completed + 1), np.concatenate([[h.initial_accuracy], h.accuracy]),
                marker="o", markersize=2, label=f"C={c:g} (m={h.config.clients_per_round})")
    ax.axhline(result.target, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel(tr_figure("round"))
    ax.set_ylabel(tr_figure("test accuracy"))
    first_seed = next(iter(result.histories.values())).config.seed
    ax.set_title(tr_figure("fewer clients per round (fraction C), seed {seed}").format(seed=first_seed))
    ax.set_ylim(max(0.0, result.target - 0.3), 1.0)
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
    return result


@dataclass
class StragglerResult:
    """Three answers to slow devices, compared in rounds, time and bytes.

    Time is counted in *deadline units*: one unit is what a fast device needs for its full
    local work (E epochs). A straggler needs ``slowdown`` units for the same work.

    Attributes
    ----------
    policies : tuple of str, :data:`STRAGGLER_POLICIES`
    configs : dict policy -> FLConfig that models it
    round_time : dict policy -> float, deadline units per round
    rounds, megabytes, time, settled : dict policy -> float, medians over seeds
        (rounds, MB and time to target are inf when not reached)
    straggler_share : float, share of devices that are slow
    slowdown : float
    full_steps : int, local steps of full work (E epochs of a typical client)
    partial_steps : int, steps a straggler finishes by the deadline
    target : float
    max_rounds : int
    """

    policies: tuple
    configs: dict
    round_time: dict
    rounds: dict
    megabytes: dict
    time: dict
    settled: dict
    straggler_share: float
    slowdown: float
    full_steps: int
    partial_steps: int
    target: float
    max_rounds: int

    def table(self) -> str:
        header, widths = table_header([("policy", tr("policy")), ("clients", tr("clients")), ("steps", tr("steps")),
                                       ("rounds", tr("rounds")), ("time units", tr("time units")), ("MB", "MB"),
                                       ("settled", tr("settled"))], (20, 7, 6, 7, 10, 7, 8))
        lines = [tr("{share} of devices are {slowdown}x slower; full work {full} steps, a straggler finishes "
                    "{partial} by the deadline").format(share=f"{self.straggler_share:.0%}",
                                                        slowdown=f"{self.slowdown:g}", full=self.full_steps,
                                                        partial=self.partial_steps),
                 header]
        for p in self.policies:
            c = self.configs[p]
            steps = self.full_steps if c.local_steps is None else c.local_steps
            lines.append(table_row([tr(p), str(c.clients_per_round), str(steps),
                                    format_median_rounds(self.rounds[p], self.max_rounds),
                                    never_or(self.time[p], ".0f"), never_or(self.megabytes[p], ".2f"),
                                    f"{self.settled[p]:.3f}"], widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def full_local_steps(base: FLConfig, n_train: int) -> int:
    """Local steps of E epochs for a client of average size: E * ceil((n_train / K) / B)."""
    size = max(1, n_train // base.n_clients)
    batch = size if base.batch_size is None else min(base.batch_size, size)
    return base.local_epochs * math.ceil(size / batch)


def straggler_configs(base: FLConfig, n_train: int, straggler_share: float = 0.5,
                      slowdown: float = 5.0) -> tuple[dict, dict, int, int]:
    """The FLConfig and round time (deadline units) of each policy in :data:`STRAGGLER_POLICIES`.

    * wait for all: every device does its full E epochs; a round lasts as long as the
      slowest device, ``slowdown`` units;
    * drop stragglers: the server keeps only the fast devices' updates, modelled as a
      participation fraction C = 1 - straggler_share; a round lasts 1 unit;
    * accept partial work: every device reports what it finished by the deadline. The
      engine has one step cap (``local_steps``) for all clients, so here *every* device
      stops after ``full_steps / slowdown`` steps: the pessimistic end of partial work
      (as if every device were slow); a round lasts 1 unit.

    Returns
    -------
    configs, round_time : dicts keyed by policy
    full_steps, partial_steps : int
    """
    straggler_share = check_float("straggler_share", straggler_share, low=0.0, high=1.0,
                                  low_inclusive=False, high_inclusive=False)
    slowdown = check_float("slowdown", slowdown, low=1.0)
    full = full_local_steps(base, n_train)
    partial = max(1, int(full // slowdown))
    configs = {
        STRAGGLER_POLICIES[0]: base.replace(fraction=1.0, local_steps=None),
        STRAGGLER_POLICIES[1]: base.replace(fraction=1.0 - straggler_share, local_steps=None),
        STRAGGLER_POLICIES[2]: base.replace(fraction=1.0, local_steps=partial),
    }
    round_time = {STRAGGLER_POLICIES[0]: slowdown, STRAGGLER_POLICIES[1]: 1.0, STRAGGLER_POLICIES[2]: 1.0}
    return configs, round_time, full, partial


def compute_stragglers(data: Dataset | str, base: FLConfig, straggler_share: float = 0.5,
                       slowdown: float = 5.0, seeds: Sequence[int] = (0, 1, 2),
                       target: float = 0.9) -> StragglerResult:
    """Wait for stragglers, drop them, or accept their partial work; no drawing.

    Loops over the three :data:`STRAGGLER_POLICIES` × ``seeds``: each cell is
    ``run_experiment(configs[policy].replace(seed=s))`` with the configs of
    :func:`straggler_configs` (wait: C = 1, full E; drop: C = 1 - straggler_share, full E;
    partial: C = 1, ``local_steps`` = full steps // slowdown). Rounds, megabytes and settled
    accuracy are medians over the seeds; time = median rounds × the policy's round time.

    Parameters
    ----------
    data : Dataset or name
    base : FLConfig with the full local work (E) and the partition
    straggler_share : float in (0, 1), share of slow devices
    slowdown : float >= 1, how many times slower a straggler is
    seeds, target : as in :func:`compute_convergence_grid`
    """
    data = _dataset_of(data)
    seeds, target = _seeds(seeds), _check_target(target)
    configs, round_time, full, partial = straggler_configs(base, len(data.y_train), straggler_share, slowdown)
    rounds, megabytes, time, settled = {}, {}, {}, {}
    grid = run_seeds_grid(configs, data, seeds)
    for policy in configs:
        runs = grid[policy]
        rounds[policy] = median_rounds_to_accuracy(runs, target)
        megabytes[policy] = median_or_inf([h.megabytes_to_accuracy(target) for h in runs])
        time[policy] = rounds[policy] * round_time[policy]
        settled[policy] = float(np.median([settled_accuracy(h) for h in runs]))
    return StragglerResult(policies=STRAGGLER_POLICIES, configs=configs, round_time=round_time, rounds=rounds,
                           megabytes=megabytes, time=time, settled=settled, straggler_share=float(straggler_share),
                           slowdown=float(slowdown), full_steps=full, partial_steps=partial, target=target,
                           max_rounds=base.rounds)


def show_stragglers(data: Dataset | str, base: FLConfig, straggler_share: float = 0.5, slowdown: float = 5.0,
                    seeds: Sequence[int] = (0, 1, 2), target: float = 0.9) -> StragglerResult:
    """:func:`compute_stragglers` (3 policies × seeds, one run each), its table, and bars of
    rounds, time and MB to target."""
    result = compute_stragglers(data=data, base=base, straggler_share=straggler_share, slowdown=slowdown, seeds=seeds,
                                target=target)
    print(result.table())
    plt = pyplot()
    _, axes = plt.subplots(1, 3, figsize=(9, 3))
    panels = ((tr_figure("rounds to target"), tr_figure("rounds"), result.rounds),
              (tr_figure("time units to target"), tr_figure("time units"), result.time),
              (tr_figure("MB to target"), "MB", result.megabytes))
    for ax, (title, ylabel, values) in zip(axes, panels, strict=True):
        heights = [0.0 if math.isinf(values[p]) else values[p] for p in result.policies]
        ax.bar(range(len(result.policies)), heights, color=["C0", "C1", "C2"])
        ax.set_xticks(range(len(result.policies)))
        ax.set_xticklabels([tr_figure(_TICK_LABELS.get(p, p.replace(" ", "\n", 1))) for p in result.policies])
        ax.set_xlabel(tr_figure("policy"))
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3, axis="y")
    plt.show()
    return result


# -- the slider callback ------------------------------------------------------------------

#: the lab's presets for a lecturer: each changes only the controls it names (notebooks 07 and 07b)
PRESETS: dict[str, dict] = {
    N_("IID against nearly IID: α_D = 100"): dict(alpha=100.0),
    N_("extreme non-IID: α_D = 0.01"): dict(alpha=0.01),
    N_("FedAdam, the grid's η_g = 0.03"): dict(algorithm="FedAdam", server_learning_rate=0.03),
    N_("FedAdam, the package's η_g = 0.01"): dict(algorithm="FedAdam", server_learning_rate=0.01),
    N_("FedAvgM: β = 0.9"): dict(algorithm="FedAvgM"),
    N_("FedProx: μ = 1"): dict(algorithm="FedProx mu=1"),
    N_("more local work: E = 10"): dict(local_epochs=10),
    N_("few clients per round: C = 0.1"): dict(fraction=0.1),
    N_("too-large learning rate: η_l = 3"): dict(client_learning_rate=3.0),
    N_("another seed: 1"): dict(seed=1),
}


def presets_for(controls: Mapping) -> dict[str, dict]:
    """The :data:`PRESETS` that set only the given controls (a lab with fewer controls, as in 07b)."""
    return {name: values for name, values in PRESETS.items() if set(values) <= set(controls)}


@dataclass
class LabResult:
    """One slider setting: an algorithm on IID data against the same on Dirichlet(alpha) data.

    Attributes
    ----------
    config : FLConfig of the Dirichlet run (the IID run differs only in ``partition``)
    clients_per_round : int, m
    megabytes_per_round : float, 2 m P 4 bytes / 1e6
    rounds : dict "IID"/"Dir(alpha)" -> int or None, first round at the target
    megabytes : dict -> float or None, MB to target
    final_accuracy : dict -> float
    diverged_at : dict -> int or None
    histories : dict -> History
    """

    config: FLConfig
    clients_per_round: int
    megabytes_per_round: float
    rounds: dict
    megabytes: dict
    final_accuracy: dict
    diverged_at: dict
    target: float
    histories: dict = field(default_factory=dict, repr=False)
    algorithm: str = "FedAvg"

    def summary(self) -> str:
        c = self.config
        lines = [tr("{algorithm}, K={clients} clients, C={fraction} -> m={m} per round, E={epochs}, η_l={rate}, "
                    "η_g={server_rate}, seed {seed}: {megabytes} MB per round").format(
                     algorithm=self.algorithm, clients=c.n_clients, fraction=f"{c.fraction:.2f}",
                     m=self.clients_per_round, epochs=c.local_epochs, rate=f"{c.client_learning_rate:.3g}",
                     server_rate=f"{c.server_learning_rate:.3g}", seed=c.seed,
                     megabytes=f"{self.megabytes_per_round:.3f}")]
        for label in self.rounds:
            if self.diverged_at[label] is not None:
                lines.append(diverged_row(label, 10, self.diverged_at[label]))
                continue
            reached = (tr("never reached") if self.rounds[label] is None else
                       tr("round {round}, {megabytes} MB").format(round=f"{self.rounds[label]:>2}",
                                                                  megabytes=f"{self.megabytes[label]:.2f}"))
            lines.append(pad(label, 10, "<") + " " + tr("final accuracy {accuracy}; {target}: {reached}").format(
                accuracy=f"{self.final_accuracy[label]:.3f}", target=f"{self.target:.0%}", reached=reached))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def compute_challenge_lab(alpha: float = 0.05, n_clients: int = 20, client_learning_rate: float = 0.1,
                          local_epochs: int = 2, fraction: float = 0.5, *, algorithm: str = "FedAvg",
                          server_learning_rate: float = 1.0, data: Dataset | str = "digits",
                          rounds: int = 30, target: float = 0.9, seed: int = 0) -> LabResult:
    """One algorithm with the slider values on IID and on Dirichlet(alpha) data; no drawing.

    Parameters
    ----------
    alpha : float > 0, Dirichlet concentration α_D (small: each client holds few classes)
    n_clients : int, 1..n_train, K
    client_learning_rate : float > 0, η_l
    local_epochs : int >= 1, E
    fraction : float in (0, 1], C
    algorithm : one of :data:`ALGORITHMS` ("FedAvg", "FedProx mu=1", "FedAvgM", "FedAdam")
    server_learning_rate : float > 0, η_g: the server's step on the averaged update (replaces the
        algorithm's own value; FedAvg and FedAvgM use 1, the grid's FedAdam 0.03)
    data : Dataset or name (default digits, 10 classes)
    rounds : int >= 1
    target : float in [0, 1]
    seed : int >= 0
    """
    data = _dataset_of(data)
    alpha = check_positive("alpha", alpha)
    n_clients = check_int("n_clients", n_clients, minimum=1, maximum=len(data.y_train))
    algorithm = check_choice("algorithm", algorithm, tuple(ALGORITHMS))
    server_learning_rate = check_positive("server_learning_rate", server_learning_rate)
    config = FLConfig(n_clients=n_clients, rounds=rounds, fraction=fraction, local_epochs=local_epochs,
                      client_learning_rate=client_learning_rate, partition="dirichlet", alpha=alpha,
                      dataset=data.name if data.name in DATASETS else "article", seed=seed,
                      **{**ALGORITHMS[algorithm], "server_learning_rate": server_learning_rate})
    target = _check_target(target)
    runs = {"IID": config.replace(partition="iid"), f"Dir({alpha:.3g})": config}
    histories = dict(zip(runs, run_experiments(list(runs.values()), dataset=data, progress=False), strict=True))
    any_run = next(iter(histories.values()))
    return LabResult(
        config=config, clients_per_round=config.clients_per_round,
        megabytes_per_round=bytes_per_round(_n_parameters(any_run), config.clients_per_round) / 1e6,
        rounds={k: h.rounds_to_accuracy(target) for k, h in histories.items()},
        megabytes={k: h.megabytes_to_accuracy(target) for k, h in histories.items()},
        final_accuracy={k: h.final_accuracy for k, h in histories.items()},
        diverged_at={k: h.diverged_at for k, h in histories.items()},
        target=target, histories=histories, algorithm=algorithm)


def _n_parameters(history: History) -> int:
    return int(sum(np.size(w) for w in history.final_weights))


def show_challenge_lab(alpha: float = 0.05, n_clients: int = 20, client_learning_rate: float = 0.1,
                       local_epochs: int = 2, fraction: float = 0.5, *, algorithm: str = "FedAvg",
                       server_learning_rate: float = 1.0, data: Dataset | str = "digits",
                       rounds: int = 30, target: float = 0.9, seed: int = 0) -> LabResult:
    """The slider callback: :func:`compute_challenge_lab`, a summary, and two panels
    (accuracy against rounds, accuracy against MB communicated)."""
    result = compute_challenge_lab(alpha, n_clients, client_learning_rate, local_epochs, fraction,
                                   algorithm=algorithm, server_learning_rate=server_learning_rate,
                                   data=data, rounds=rounds, target=target, seed=seed)
    print(result.summary())
    plt = pyplot()
    _, (ax_rounds, ax_bytes) = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    for label, h in result.histories.items():
        megabytes, accuracy = _curve(h)
        ax_rounds.plot(np.arange(len(accuracy)), accuracy, marker="o", markersize=2, label=label)
        ax_bytes.plot(megabytes, accuracy, marker="o", markersize=2, label=label)
    for ax, xlabel in ((ax_rounds, tr_figure("round")), (ax_bytes, tr_figure("MB communicated"))):
        ax.axhline(result.target, color="gray", linestyle=":", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    ax_rounds.set_ylabel(tr_figure("test accuracy"))
    ax_rounds.set_title(tr_figure("accuracy per round"))
    ax_bytes.set_title(tr_figure("accuracy per megabyte"))
    ax_rounds.legend()
    plt.gcf().suptitle(tr_figure("{algorithm} on IID and on Dirichlet(α_D = {alpha}) data, seed {seed}").format(
        algorithm=result.algorithm, alpha=f"{result.config.alpha:.3g}", seed=result.config.seed))
    plt.show()
    return result
