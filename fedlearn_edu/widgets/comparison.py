"""Notebook 01: centralised training, distributed SGD and FedAvg side by side.

Two questions, two pairs of functions (``compute_*`` returns numbers and draws
nothing; ``show_*`` calls it, draws, calls ``plt.show()`` and returns the numbers):

* :func:`compute_comparison` / :func:`show_comparison` -- train the three ways on the
  same data with the same amount of computation and count the bytes each moves;
* :func:`compute_bytes_crossover` / :func:`show_bytes_crossover` -- when does sending
  model updates cost less than uploading the raw data once?

Byte counts use 4 bytes per float32 number and per int32 label, like
:func:`fedlearn_edu.baselines.raw_data_bytes` and :attr:`fedlearn_edu.History.total_bytes`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_float, check_int, check_positive, check_seed
from ..baselines import BYTES_PER_FEATURE, BYTES_PER_LABEL, distributed_sgd, raw_data_bytes, train_centralised
from ..data import Dataset, cached_dataset
from ..i18n import N_, tr, tr_figure
from ..simulation import BYTES_PER_PARAMETER, FLConfig, History, run_experiment
from ..style import pyplot
from .tables import columns as _columns
from .tables import pad as _pad

__all__ = ["MethodResult", "ComparisonResult", "CrossoverResult", "equal_compute_steps",
           "summarise_methods", "compute_comparison", "show_comparison", "plot_accuracy_vs_bytes",
           "bytes_per_example", "raw_bytes_per_client", "update_bytes_per_client", "crossover_samples",
           "compute_bytes_crossover", "show_bytes_crossover", "PRESETS", "CROSSOVER_PRESETS"]

#: the three ways of training compared in notebook 01, in display order
METHODS = (N_("centralised"), N_("distributed SGD"), "FedAvg")






# -- accuracy and bytes of the three methods ----------------------------------------------

@dataclass(frozen=True)
class MethodResult:
    """One way of training, summarised.

    Attributes
    ----------
    name : str, one of :data:`METHODS`
    accuracy : float, final test accuracy
    bytes_moved : int, every byte that crossed the network during the whole run
    bytes_to_target : int or None, bytes moved until the test accuracy first reached the target
    communication_rounds : int, how many times the clients talked to the server
        (1 for centralised training: one upload of the data, then no more traffic)
    diverged_at : int or None, round (or step) in which the run diverged
    """

    name: str
    accuracy: float
    bytes_moved: int
    bytes_to_target: int | None
    communication_rounds: int
    diverged_at: int | None = None


@dataclass(frozen=True)
class ComparisonResult:
    """The three methods trained on the same data with the same computation.

    Attributes
    ----------
    n_clients : int, clients (FedAvg) = workers (distributed SGD)
    client_learning_rate : float, the SGD learning rate of all three
    rounds : int, FedAvg rounds = epochs of centralised training; distributed SGD
        gets the same number of passes over the data (:func:`equal_compute_steps`)
    target : float, the accuracy used for ``bytes_to_target``
    centralised, distributed, fedavg : MethodResult
    histories : dict name -> History (not shown in the repr)
    """

    n_clients: int
    client_learning_rate: float
    rounds: int
    target: float
    centralised: MethodResult
    distributed: MethodResult
    fedavg: MethodResult
    histories: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def methods(self) -> tuple[MethodResult, MethodResult, MethodResult]:
        return (self.centralised, self.distributed, self.fedavg)

    def table(self) -> str:
        """Accuracy and megabytes of the three methods, one line each."""
        headers = (tr("method"), tr("accuracy"), tr("MB moved"),
                   tr("MB to {target}").format(target=f"{self.target:.0%}"), tr("exchanges"))
        widths = [max(width, _columns(h)) for width, h in zip((16, 8, 9, 10, 9), headers, strict=True)]
        lines = [tr("{clients} clients, client learning rate {rate}, {rounds} passes over the data each").format(
                     clients=self.n_clients, rate=f"{self.client_learning_rate:.3g}", rounds=self.rounds),
                 " ".join([_pad(headers[0], widths[0], "<")]
                          + [_pad(h, w, ">") for h, w in zip(headers[1:], widths[1:], strict=True)])]
        for m in self.methods:
            to_target = tr("never") if m.bytes_to_target is None else f"{m.bytes_to_target / 1e6:.3f}"
            note = "  " + tr("(diverged at {round})").format(round=m.diverged_at) if m.diverged_at else ""
            cells = (_pad(tr(m.name), widths[0], "<"), _pad(f"{m.accuracy:.3f}", widths[1], ">"),
                     _pad(f"{m.bytes_moved / 1e6:.3f}", widths[2], ">"), _pad(to_target, widths[3], ">"),
                     _pad(str(m.communication_rounds), widths[4], ">"))
            lines.append(" ".join(cells) + note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def equal_compute_steps(n_clients: int, rounds: int, n_examples: int = 800, batch_size: int = 32) -> int:
    """Steps of distributed SGD that match FedAvg's local computation.

    In one FedAvg round with E = 1 every client makes one pass over its data:
    ceil(n_k / B) mini-batch steps for the largest client (n_k = ceil(n / K) for an IID split).
    Distributed SGD makes one step per communication, so it needs
    ``rounds * ceil(ceil(n / K) / B)`` steps for the same number of passes.

    Parameters
    ----------
    n_clients : int >= 1, K
    rounds : int >= 1
    n_examples : int >= n_clients, training examples in total
    batch_size : int >= 1, B
    """
    n_clients = check_int("n_clients", n_clients, minimum=1)
    rounds = check_int("rounds", rounds, minimum=1)
    n_examples = check_int("n_examples", n_examples, minimum=n_clients)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    largest_client = math.ceil(n_examples / n_clients)
    return rounds * math.ceil(largest_client / batch_size)


def summarise_methods(dataset: Dataset, centralised: History, distributed: History, fedavg: History,
                      target: float = 0.85) -> ComparisonResult:
    """Put the three runs side by side.

    Centralised training moves the raw training data once (:func:`raw_data_bytes`) and
    then nothing; its History's own byte counts (one model to itself) are ignored.
    Distributed SGD and FedAvg move what their Histories count: a model down and an
    update up per participating client per round.
    """
    target = check_float("target", target, low=0.0, high=1.0)
    raw = raw_data_bytes(dataset)
    central = MethodResult(name=METHODS[0], accuracy=centralised.final_accuracy, bytes_moved=raw,
                           bytes_to_target=raw if centralised.rounds_to_accuracy(target) else None,
                           communication_rounds=1, diverged_at=centralised.diverged_at)
    results = [MethodResult(name=name, accuracy=h.final_accuracy, bytes_moved=h.total_bytes,
                            bytes_to_target=h.bytes_to_accuracy(target), communication_rounds=h.rounds_completed,
                            diverged_at=h.diverged_at)
               for name, h in zip(METHODS[1:], (distributed, fedavg), strict=True)]
    return ComparisonResult(
        n_clients=fedavg.config.n_clients, client_learning_rate=fedavg.config.client_learning_rate,
        rounds=fedavg.config.rounds, target=target, centralised=central, distributed=results[0],
        fedavg=results[1],
        histories={METHODS[0]: centralised, METHODS[1]: distributed, METHODS[2]: fedavg})


def compute_comparison(n_clients: int = 10, client_learning_rate: float = 0.1, rounds: int = 20,
                       target: float = 0.85, dataset: Dataset | None = None, seed: int = 0) -> ComparisonResult:
    """Train centrally, by distributed SGD and by FedAvg on the same data; no drawing.

    All three use mini-batches of 32, the same learning rate and the same number of passes
    over the data (``rounds``): centralised training runs ``rounds`` epochs, FedAvg runs
    ``rounds`` rounds of one local epoch, distributed SGD runs :func:`equal_compute_steps`
    synchronous steps on ``n_clients`` workers.

    Parameters
    ----------
    n_clients : int, 1..n_train, clients of FedAvg and workers of distributed SGD
    client_learning_rate : float > 0
    rounds : int >= 1
    target : float in [0, 1], accuracy for the "bytes to target" column
    dataset : Dataset, default the article's (800 train / 200 test, 20 features)
    seed : int >= 0

    Returns
    -------
    ComparisonResult (its repr is a small table)
    """
    dataset = dataset or cached_dataset("article")
    n_train = len(dataset.y_train)
    n_clients = check_int("n_clients", n_clients, minimum=1, maximum=n_train)
    client_learning_rate = check_positive("client_learning_rate", client_learning_rate)
    rounds = check_int("rounds", rounds, minimum=1)
    target = check_float("target", target, low=0.0, high=1.0)
    seed = check_seed("seed", seed)
    central = train_centralised(dataset, epochs=rounds, learning_rate=client_learning_rate, seed=seed)
    steps = equal_compute_steps(n_clients, rounds, n_train)
    distributed = distributed_sgd(dataset, n_workers=n_clients, steps=steps,
                                  learning_rate=client_learning_rate, seed=seed)
    fedavg = run_experiment(FLConfig(n_clients=n_clients, rounds=rounds,
                                     client_learning_rate=client_learning_rate, seed=seed),
                            dataset=dataset, progress=False)
    return summarise_methods(dataset, central, distributed, fedavg, target)


def plot_accuracy_vs_bytes(result: ComparisonResult, ax=None):
    """Test accuracy against megabytes moved so far (log scale), one curve per method.

    Centralised training is a single point: it has moved the raw data before its
    first step and reaches its final accuracy without further traffic.
    """
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    central = result.histories[METHODS[0]]
    ax.scatter([result.centralised.bytes_moved / 1e6], [central.final_accuracy], marker="*", s=120,
               color="black", zorder=3, label=tr_figure("centralised (upload the data once)"))
    for name in METHODS[1:]:
        h = result.histories[name]
        ax.plot(h.cumulative_megabytes()[1:], h.accuracy, marker="o", markersize=2, label=tr_figure(name))
    ax.axhline(result.target, color="gray", linestyle=":", linewidth=1,
               label=tr_figure("target {target}").format(target=f"{result.target:.0%}"))
    ax.set_xscale("log")
    ax.set_xlabel(tr_figure("megabytes moved so far (log scale)"))
    ax.set_ylabel(tr_figure("test accuracy"))
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return ax


#: presets of notebook 01's comparison panel (section 3): each changes only what it names
PRESETS: dict[str, dict] = {
    N_("the article's data: K = 10, η_l = 0.1, 20 passes"): dict(n_clients=10, client_learning_rate=0.1,
                                                                  rounds=20),
    N_("many clients with little data: K = 50"): dict(n_clients=50),
    N_("one mini-batch per client: K = 25"): dict(n_clients=25),
    N_("too-small learning rate: η_l = 0.001"): dict(client_learning_rate=0.001),
    N_("too-large learning rate: η_l = 10"): dict(client_learning_rate=10.0),
    N_("few passes over the data: 3"): dict(rounds=3),
}


def show_comparison(n_clients: int = 10, client_learning_rate: float = 0.1, rounds: int = 20,
                    target: float = 0.85, *, show_table: bool = True) -> ComparisonResult:
    """Slider callback: :func:`compute_comparison`, its table (``show_table``), then accuracy-vs-bytes and a
    bar chart of bytes."""
    plt = pyplot()
    result = compute_comparison(n_clients, client_learning_rate, rounds, target)
    if show_table:
        print(result.table())
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    plot_accuracy_vs_bytes(result, left)
    left.set_title(tr_figure("K = {clients}, learning rate {rate}").format(
        clients=result.n_clients, rate=f"{result.client_learning_rate:.3g}"))
    megabytes = [m.bytes_moved / 1e6 for m in result.methods]
    bars = right.bar([tr_figure("raw data\n(centralised)"), tr_figure("distributed\nSGD"), "FedAvg"], megabytes,
                     color=["black", "C0", "C1"])
    right.bar_label(bars, labels=[f"{mb:.3f} MB" for mb in megabytes])
    right.set_yscale("log")
    right.set_ylim(top=max(megabytes) * 3)
    right.set_ylabel(tr_figure("megabytes moved (log scale)"))
    right.set_title(tr_figure("whole run: {passes} passes over the data").format(passes=result.rounds))
    right.set_xlabel(tr_figure("method"))
    plt.show()
    return result


# -- when do model updates cost less than the data? ----------------------------------------

def bytes_per_example(n_features: int, bytes_per_feature: int = BYTES_PER_FEATURE,
                      bytes_per_label: int = BYTES_PER_LABEL) -> int:
    """Bytes of one training example: its features plus its label (20 float32 + 1 int32 = 84)."""
    n_features = check_int("n_features", n_features, minimum=1)
    bytes_per_feature = check_int("bytes_per_feature", bytes_per_feature, minimum=1)
    bytes_per_label = check_int("bytes_per_label", bytes_per_label, minimum=0)
    return n_features * bytes_per_feature + bytes_per_label


def raw_bytes_per_client(samples_per_client: float, example_bytes: int) -> float:
    """Bytes one client uploads to send its raw data once: n_k * bytes per example."""
    samples_per_client = check_float("samples_per_client", samples_per_client, low=0.0)
    example_bytes = check_int("example_bytes", example_bytes, minimum=1)
    return samples_per_client * example_bytes


def update_bytes_per_client(n_parameters: int, rounds: int, fraction: float = 1.0) -> float:
    """Expected bytes one client exchanges in FedAvg: a model down and an update up
    (4 bytes per parameter each way) in each of the ``fraction * rounds`` rounds it takes part in."""
    n_parameters = check_int("n_parameters", n_parameters, minimum=1)
    rounds = check_int("rounds", rounds, minimum=1)
    fraction = check_float("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
    return 2.0 * BYTES_PER_PARAMETER * n_parameters * rounds * fraction


def crossover_samples(n_parameters: int, rounds: int, example_bytes: int, fraction: float = 1.0) -> float:
    """Samples per client at which uploading the raw data once costs as much as FedAvg's traffic.

    n* = 2 * 4 * P * R * C / (bytes per example). Below n* uploading the data moves fewer
    bytes; above it FedAvg does. The number of clients cancels: both grow linearly with K.
    """
    return update_bytes_per_client(n_parameters, rounds, fraction) / check_int(
        "example_bytes", example_bytes, minimum=1)


@dataclass(frozen=True)
class CrossoverResult:
    """Raw-data upload versus FedAvg traffic for one client.

    Attributes
    ----------
    samples_per_client : int, n_k
    rounds : int, R
    fraction : float, C, share of clients per round (a client takes part in C * R rounds)
    n_parameters : int, P
    example_bytes : int, bytes of one training example
    raw_bytes : float, n_k * example_bytes
    update_bytes : float, 2 * 4 * P * R * C
    crossover_samples : float, n* where the two are equal
    """

    samples_per_client: int
    rounds: int
    fraction: float
    n_parameters: int
    example_bytes: int
    raw_bytes: float
    update_bytes: float
    crossover_samples: float

    @property
    def federated_moves_less(self) -> bool:
        """True when FedAvg's traffic is smaller than uploading the data once."""
        return self.update_bytes < self.raw_bytes

    @property
    def ratio(self) -> float:
        """raw bytes / FedAvg bytes (> 1: FedAvg moves less)."""
        return self.raw_bytes / self.update_bytes

    def __repr__(self) -> str:
        winner = tr("FedAvg moves less") if self.federated_moves_less else tr("uploading the data moves less")
        costs = tr("per client: raw data {raw} MB ({examples} examples x {example_bytes} B) vs FedAvg {fedavg} MB "
                   "({rounds} rounds x {fraction} x 2 x {parameters} parameters x 4 B)").format(
            raw=f"{self.raw_bytes / 1e6:.3f}", examples=self.samples_per_client, example_bytes=self.example_bytes,
            fedavg=f"{self.update_bytes / 1e6:.3f}", rounds=self.rounds, fraction=f"{self.fraction:.3g}",
            parameters=self.n_parameters)
        crossover = tr("crossover at about {examples} examples per client; {winner} (raw / FedAvg = {ratio})").format(
            examples=round(self.crossover_samples), winner=winner, ratio=f"{self.ratio:.3f}")
        return costs + "\n" + crossover


def compute_bytes_crossover(samples_per_client: int = 80, rounds: int = 20, n_parameters: int = 1539,
                            example_bytes: int = 84, fraction: float = 1.0) -> CrossoverResult:
    """Raw-data bytes and FedAvg bytes for one client, and where they cross; no drawing.

    Defaults are the article's: 80 examples per client (800 over 10 clients) of
    20 float32 features and an int32 label (84 bytes), the 20-64-3 network (1539 parameters),
    20 rounds with every client in every round.
    """
    samples_per_client = check_int("samples_per_client", samples_per_client, minimum=1)
    raw = raw_bytes_per_client(samples_per_client, example_bytes)
    updates = update_bytes_per_client(n_parameters, rounds, fraction)
    return CrossoverResult(samples_per_client=samples_per_client, rounds=int(rounds), fraction=float(fraction),
                           n_parameters=int(n_parameters), example_bytes=int(example_bytes), raw_bytes=raw,
                           update_bytes=updates,
                           crossover_samples=crossover_samples(n_parameters, rounds, example_bytes, fraction))


#: presets of notebook 01's crossover panel (section 4), for the article's model and examples
CROSSOVER_PRESETS: dict[str, dict] = {
    N_("the article's clients: 80 examples, R = 20"): dict(samples_per_client=80, rounds=20),
    N_("just past the crossover: 2940 examples"): dict(samples_per_client=2940),
    N_("big clients: 10000 examples"): dict(samples_per_client=10000),
    N_("long training: R = 200"): dict(rounds=200),
    N_("a single round: R = 1"): dict(rounds=1),
}


def show_bytes_crossover(samples_per_client: int = 80, rounds: int = 20, n_parameters: int = 1539,
                         example_bytes: int = 84, fraction: float = 1.0, *,
                         show_summary: bool = True) -> CrossoverResult:
    """Slider callback: the summary line (``show_summary``), then both byte counts against samples per client
    (log-log), crossover marked."""
    plt = pyplot()
    result = compute_bytes_crossover(samples_per_client, rounds, n_parameters, example_bytes, fraction)
    if show_summary:
        print(result)
    low = max(1.0, min(samples_per_client, result.crossover_samples) / 100)
    high = max(samples_per_client, result.crossover_samples) * 100
    samples = np.logspace(np.log10(low), np.log10(high), 200)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(samples, samples * result.example_bytes / 1e6, color="black", label=tr_figure("upload the raw data once"))
    share = "" if result.fraction == 1.0 else f" x C = {result.fraction:g}"
    ax.axhline(result.update_bytes / 1e6, color="C1",
               label=tr_figure("FedAvg, {rounds} rounds").format(rounds=result.rounds) + share)
    ax.axvline(result.crossover_samples, color="gray", linestyle=":", linewidth=1,
               label=tr_figure("crossover: {examples} examples").format(examples=f"{result.crossover_samples:.0f}"))
    ax.scatter([samples_per_client], [result.raw_bytes / 1e6], color="black", zorder=3)
    ax.scatter([samples_per_client], [result.update_bytes / 1e6], color="C1", zorder=3,
               label=tr_figure("your client: {examples} examples").format(examples=samples_per_client))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(tr_figure("examples per client (log scale)"))
    ax.set_ylabel(tr_figure("MB per client (log scale)"))
    ax.set_title(tr_figure("upload the data once, or train with FedAvg?"))
    ax.grid(alpha=0.3)
    ax.legend()
    plt.show()
    return result
