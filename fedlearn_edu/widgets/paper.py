"""Notebook 14: one cell of the FedAvg paper's grid against FedSGD, as a learning curve.

:func:`compute_curve` runs one configuration (partition, client fraction C, client
learning rate, local epochs E, batch size B) and the FedSGD baseline (E = 1, B = ∞, at
the same C) on digits with the paper's 2NN, and returns the two accuracy curves and the
rounds each needs to reach the target. :func:`show_curve` draws them. The sliders come
from :func:`sliders`.
"""
from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as ipw
import numpy as np

from .. import batch, paper
from .._validate import check_choice, check_float, check_int, check_positive
from ..data import Dataset, cached_dataset
from ..i18n import N_, tr, tr_figure
from ..style import pyplot
from . import batch_size_slider, int_slider
from .classroom import log_value_slider

__all__ = ["CurveResult", "compute_curve", "show_curve", "plot_curve", "sliders", "FEDSGD_LEARNING_RATE",
           "CURVE_ROUNDS", "CLIENT_COUNTS", "BATCH_SIZES", "PRESETS", "rounds_vs_u", "plot_rounds_vs_u"]

#: FedSGD's client learning rate in the slider figure: the best of the grid for FedSGD at
#: C = 0.1 in the full benchmark (both partitions).
FEDSGD_LEARNING_RATE = 1.0
#: rounds drawn by the slider figure
CURVE_ROUNDS = 30
#: the client counts K the slider offers (K = 100 is the paper's; 10 gives each client ~144 images)
CLIENT_COUNTS = (10, 20, 50, 100)
#: the batch sizes B the slider offers besides ∞ (the paper's grid)
BATCH_SIZES = (10, 50)

#: presets of notebook 14's panel (each starts from the notebook's settings and changes what it names);
#: B = ∞ is ``float("inf")``, the value the batch-size slider holds for the full batch
PRESETS: dict[str, dict] = {
    N_("FedSGD: E = 1, B = ∞"): dict(local_epochs=1, batch_size=float("inf"), client_learning_rate=1.0),
    N_("the paper's best: E = 20, B = 10"): dict(local_epochs=20, batch_size=10, client_learning_rate=0.1),
    N_("fewer, bigger clients: K = 10, C = 0.5"): dict(n_clients=10, fraction=0.5, client_learning_rate=0.1),
    N_("pathological non-IID: shards"): dict(partition="shards"),
    N_("one client per round: C = 0"): dict(fraction=0.0),
    N_("too-large learning rate: η_l = 3"): dict(client_learning_rate=3.0),
    N_("another seed: 1"): dict(seed=1),
}


@dataclass
class CurveResult:
    """What the slider figure shows.

    Attributes
    ----------
    config : paper.PaperConfig, the FedAvg cell
    fedavg_accuracy, fedsgd_accuracy : ndarray (R,), test accuracy after each round
    fedavg_rounds, fedsgd_rounds : int or None, rounds to the target (None: not within R)
    speedup : fedsgd_rounds / fedavg_rounds, or None
    clients_per_round : m
    local_steps : mean local steps per client and round of the FedAvg cell
    target : float
    """

    config: paper.PaperConfig
    fedavg_accuracy: np.ndarray
    fedsgd_accuracy: np.ndarray
    fedavg_rounds: int | None
    fedsgd_rounds: int | None
    speedup: float | None
    clients_per_round: int
    local_steps: float
    target: float

    def __repr__(self) -> str:
        return f"CurveResult({self.summary()})"

    def summary(self) -> str:
        return tr("{config}: {clients} client(s) per round, {steps} local steps each; rounds to {target}: "
                  "FedAvg {fedavg}, FedSGD {fedsgd} -> speed-up {speedup}").format(
            config=self.config.label, clients=self.clients_per_round, steps=f"{self.local_steps:.1f}",
            target=f"{self.target:.0%}", fedavg=paper.format_table_rounds(self.fedavg_rounds),
            fedsgd=paper.format_table_rounds(self.fedsgd_rounds), speedup=paper.format_speedup(self.speedup))


def _batch(batch_size) -> int | None:
    if batch_size is None or (isinstance(batch_size, str) and batch_size in ("inf", "∞")) \
            or (isinstance(batch_size, float) and np.isinf(batch_size)):
        return None
    return check_int("batch_size", batch_size, minimum=1)


def compute_curve(fraction: float = 0.1, client_learning_rate: float = 0.3, local_epochs: int = 5,
                  batch_size: int | str | None = 10, partition: str = "iid", rounds: int = CURVE_ROUNDS,
                  fedsgd_learning_rate: float = FEDSGD_LEARNING_RATE, target: float = paper.TARGET_ACCURACY,
                  n_clients: int = paper.N_CLIENTS, hidden_units: tuple = paper.HIDDEN_UNITS,
                  seed: int = paper.SEED, dataset: Dataset | None = None) -> CurveResult:
    """Run one FedAvg cell and FedSGD at the same C for ``rounds`` rounds (no drawing).

    Parameters
    ----------
    fraction : C in [0, 1]; 0 means one client per round
    client_learning_rate : float > 0, of the FedAvg cell
    local_epochs : E >= 1
    batch_size : B >= 1, or None / "∞" / float("inf") (the slider's ∞) for the full batch
    partition : "iid" or "shards"
    rounds : int >= 1
    fedsgd_learning_rate : float > 0, FedSGD's client learning rate
    target : float in [0, 1]
    n_clients : K, 1..1437
    """
    check_choice("partition", partition, paper.PARTITIONS)
    client_learning_rate = check_positive("client_learning_rate", client_learning_rate)
    fedsgd_learning_rate = check_positive("fedsgd_learning_rate", fedsgd_learning_rate)
    rounds = check_int("rounds", rounds, minimum=1)
    target = check_float("target", target, low=0.0, high=1.0)
    cell = paper.PaperConfig(partition, fraction, local_epochs, _batch(batch_size))
    data = dataset if dataset is not None else cached_dataset("digits")
    configs = [c.fl_config(rate, rounds, n_clients=n_clients, seed=seed, hidden_units=hidden_units)
               for c, rate in ((cell, client_learning_rate),
                               (paper.fedsgd(partition, cell.fraction), fedsgd_learning_rate))]
    # FedAvg and FedSGD in one batched call; on the shipped digits, remembered (FedSGD stays when E or B moves);
    # a setting that trains for about a second or more shows a progress bar over its rounds
    avg, sgd = (batch.run_cached(configs, progress="long") if dataset is None
                else batch.run_experiments(configs, dataset=data, progress="long"))
    avg_rounds = paper.first_round_reaching(avg.accuracy, target)
    sgd_rounds = paper.first_round_reaching(sgd.accuracy, target)
    return CurveResult(
        config=cell, fedavg_accuracy=avg.accuracy, fedsgd_accuracy=sgd.accuracy,
        fedavg_rounds=avg_rounds, fedsgd_rounds=sgd_rounds,
        speedup=None if avg_rounds is None or sgd_rounds is None else sgd_rounds / avg_rounds,
        clients_per_round=paper.clients_per_round(cell.fraction, n_clients),
        local_steps=paper.updates_per_round(avg.client_sizes, cell.local_epochs, cell.batch_size),
        target=target)


def plot_curve(result: CurveResult, ax=None):
    """Both learning curves, the target line and where each curve first reaches it."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    c = result.config
    for acc, rounds, label, style in (
            (result.fedsgd_accuracy, result.fedsgd_rounds, "FedSGD (E=1, B=∞)", "--"),
            (result.fedavg_accuracy, result.fedavg_rounds,
             f"FedAvg (E={c.local_epochs}, B={paper.format_batch(c.batch_size)})", "-")):
        line, = ax.plot(np.arange(1, len(acc) + 1), acc, style, label=label)
        if rounds is not None:
            ax.plot([rounds], [acc[rounds - 1]], "o", color=line.get_color())
    ax.axhline(result.target, color="grey", linestyle=":",
               label=tr_figure("target {target}").format(target=f"{result.target:.0%}"))
    ax.set_xlabel(tr_figure("communication round"))
    ax.set_ylabel(tr_figure("test accuracy"))
    ax.set_ylim(max(0.0, min(0.5, float(np.min(result.fedsgd_accuracy)))), 1.0)
    ax.set_title(tr_figure("{partition}, C={fraction}: speed-up {speedup}").format(
        partition=c.partition, fraction=f"{c.fraction:g}", speedup=paper.format_speedup(result.speedup)))
    ax.legend(loc="lower right")
    return ax


def show_curve(fraction: float = 0.1, client_learning_rate: float = 0.3, local_epochs: int = 5,
               batch_size: int | str | None = 10, partition: str = "iid", n_clients: int = paper.N_CLIENTS,
               **kwargs) -> CurveResult:
    """The slider callback: :func:`compute_curve`, print its summary, draw, ``plt.show()``."""
    plt = pyplot()
    result = compute_curve(fraction, client_learning_rate, local_epochs, batch_size, partition,
                           n_clients=n_clients, **kwargs)
    print(result.summary())
    plot_curve(result)
    plt.show()
    return result


def sliders(n_clients: int = paper.N_CLIENTS, fraction: float = 0.1, client_learning_rate: float = 0.3,
            local_epochs: int = 5, batch_size: int | None = 10, partition: str = "iid",
            seed: int = paper.SEED) -> dict:
    """The controls of the figure, keyed by :func:`show_curve`'s argument names, starting at the given
    values (notebook 14's parameters cell). ``batch_size=None`` starts at ∞ (the full batch)."""
    return {
        "n_clients": ipw.SelectionSlider(options=list(CLIENT_COUNTS), value=n_clients,
                                         description=tr("clients K"), continuous_update=False,
                                         style={"description_width": "initial"}),
        "fraction": ipw.SelectionSlider(options=list(paper.FRACTIONS), value=fraction,
                                        description=tr("fraction C"),
                                        continuous_update=False, style={"description_width": "initial"}),
        "client_learning_rate": log_value_slider(client_learning_rate, 0.01, 3.0, N_("client learning rate η_l")),
        "local_epochs": int_slider(local_epochs, 1, 20, N_("local epochs E")),
        "batch_size": batch_size_slider(batch_size, sizes=BATCH_SIZES),
        "partition": ipw.ToggleButtons(options=list(paper.PARTITIONS), value=partition,
                                       description=tr("partition")),
        "seed": int_slider(seed, 0, 20, N_("seed")),
    }


def rounds_vs_u(rows, n_clients: int, fraction: float, partition: str) -> tuple[np.ndarray, np.ndarray]:
    """(u, rounds) of the measured Table 2 cells of one K, C and partition that reached the
    target, sorted by u; cells with the same u keep their fewest rounds. Shapes (n,), (n,)."""
    best: dict = {}
    for r in paper.comparison(rows, "2", n_clients, fraction):
        if r["partition"] == partition and r["rounds"] is not None:
            best[r["u"]] = min(best.get(r["u"], r["rounds"]), r["rounds"])
    u = np.array(sorted(best), dtype=np.float64)
    return u, np.array([best[x] for x in u], dtype=np.float64)


def plot_rounds_vs_u(rows, axes=None):
    """Rounds to the target against u for IID and non-IID: digits with K = 100 (C = 0.1) and
    K = 10 (C = 0.5) on the left, the paper's MNIST CNN (C = 0.1) on the right (the fewest
    rounds where several cells share a u); log-log."""
    plt = pyplot()
    from matplotlib import ticker
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    styles = {"iid": "-o", "shards": "--s"}
    for (k, c), color in (((paper.N_CLIENTS, 0.1), "C0"), ((paper.BIG_CLIENTS, paper.BIG_FRACTION), "C1")):
        for partition, style in styles.items():
            u, rounds = rounds_vs_u(rows, k, c, partition)
            axes[0].plot(u, rounds, style, color=color, label=f"K={k}, {partition}")
    for partition, style in styles.items():
        fewest: dict = {}
        for r in paper.published("2", partition):
            fewest[r.u] = min(fewest.get(r.u, r.rounds), r.rounds)
        u = sorted(fewest)
        axes[1].plot(u, [fewest[x] for x in u], style, color="C2", label=partition)
    titles = (tr_figure("digits, target {target}").format(target=f"{paper.TARGET_ACCURACY:.0%}"),
              tr_figure("paper: MNIST CNN, target 99%"))
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.ScalarFormatter())
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel(tr_figure("u = local updates per round"))
        ax.set_ylabel(tr_figure("rounds to target"))
        ax.set_title(title)
        ax.legend()
    return axes
