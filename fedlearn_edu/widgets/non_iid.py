"""Notebook 11: non-IID data against four algorithms (FedAvg, FedProx, FedAvgM, SCAFFOLD).

The yardstick is *rounds to a target accuracy* on digits split across clients by a
Dirichlet(alpha) label skew. Each figure has a ``compute_*`` function (runs the
experiments, returns numbers, draws nothing) and a ``show_*`` function (calls it,
prints, draws, calls ``plt.show()`` and returns the same numbers):

* :func:`compute_drift_grid` -- client drift made visible: local models trained from one
  global model on skewed data lose test accuracy and point in different directions;
* :func:`compute_algorithms` -- the slider callback: the four algorithms at one setting;
* :func:`compute_alpha_sweep` -- rounds to target against alpha, median over seeds.

Every run goes through the batched engine (:func:`fedlearn_edu.batch.run_cached`: the four
algorithms, or a whole alpha x algorithm x seed grid, in one compiled call) and is cached by
its :class:`~fedlearn_edu.FLConfig` (a frozen, hashable dataclass), so moving one slider
re-runs only the algorithms whose configuration changed. (SCAFFOLD runs on either
engine: the vectorised engine keeps the control variates in its compiled graph.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from .. import batch
from .._validate import check_float, check_int, check_positive, check_seed
from ..algorithms import ALGORITHMS as REGISTRY
from ..algorithms import algorithm_changes
from ..client import LocalTrainer, client_update
from ..data import cached_dataset
from ..i18n import N_, tr, tr_figure
from ..model import build_model, flatten_weights
from ..partition import label_distribution, make_partition, non_iid_score
from ..simulation import FLConfig, History
from ..style import pyplot
from ..sweeps import format_median_rounds, median_or_inf
from .tables import pad as _pad

__all__ = ["ALGORITHMS", "SETTINGS", "algorithm_fields", "base_config", "run_cached", "update_agreement",
           "format_reached", "format_optional", "diverged_line",
           "DriftGridResult", "compute_drift_grid", "show_drift", "AlgorithmsResult", "compute_algorithms",
           "PRESETS", "show_algorithms", "SweepResult", "compute_alpha_sweep", "show_alpha_sweep"]

#: the four algorithms, in the order of every table and figure
ALGORITHMS = ("FedAvg", "FedProx", "FedAvgM", "SCAFFOLD")

#: the federation every experiment of notebook 11 shares (the sliders change the rest):
#: digits, full participation, E = 5 local epochs of mini-batches of 64, 20 rounds, target 95%
SETTINGS = dict(dataset="digits", local_epochs=5, batch_size=64, rounds=20, target=0.95)

_COLORS = {"FedAvg": "C0", "FedProx": "C1", "FedAvgM": "C2", "SCAFFOLD": "C3"}


def _check_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    algorithms = tuple(algorithms)
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown or not algorithms:
        raise ValueError(f"algorithms must be a non-empty selection of {', '.join(ALGORITHMS)}, "
                         f"got {list(algorithms)}")
    return algorithms


def algorithm_fields(name: str, mu: float = 0.01, server_momentum: float = 0.5, *,
                     server_learning_rate: float = 1.0) -> dict:
    """The FLConfig fields that turn FedAvg into ``name``.

    Parameters
    ----------
    name : one of :data:`ALGORITHMS`
    mu : float >= 0, FedProx's proximal coefficient
    server_momentum : float in [0, 1), FedAvgM's beta
    server_learning_rate : float > 0, FedAvgM's η_g (w_{t+1} = w_t - η_g v)
    """
    _check_algorithms([name])
    knobs = {"mu": check_float("mu", mu, low=0.0),
             "server_momentum": check_float("server_momentum", server_momentum, low=0.0, high=1.0,
                                            high_inclusive=False),
             "server_learning_rate": check_positive("server_learning_rate", server_learning_rate)}
    if knobs["server_learning_rate"] == 1.0:
        del knobs["server_learning_rate"]         # FedAvgM's default η_g: the same FLConfig as before, the same cache
    return algorithm_changes(name, **{k: v for k, v in knobs.items() if k in REGISTRY[name].knobs})


def base_config(alpha: float, n_clients: int = 10, client_learning_rate: float = 0.3, *,
                local_epochs: int = SETTINGS["local_epochs"], batch_size: int = SETTINGS["batch_size"],
                rounds: int = SETTINGS["rounds"], seed: int = 0) -> FLConfig:
    """The FedAvg configuration of notebook 11 on digits split by Dirichlet(alpha).

    ``n_clients`` may be at most half the training examples (each client holds >= 2).
    """
    alpha = check_positive("alpha", alpha)
    n_train = len(cached_dataset(SETTINGS["dataset"]).y_train)
    n_clients = check_int("n_clients", n_clients, minimum=1, maximum=n_train // 2)
    return FLConfig(n_clients=n_clients, rounds=rounds, local_epochs=local_epochs, batch_size=batch_size,
                    client_learning_rate=client_learning_rate, partition="dirichlet", alpha=alpha,
                    dataset=SETTINGS["dataset"], seed=seed)


def run_cached(config: FLConfig) -> History:
    """``run_experiment(config)`` on the preloaded data set, computed once per configuration
    (:func:`fedlearn_edu.batch.run_cached`, which a figure's whole sweep shares).

    The returned History is shared between callers: read it, do not change it.
    """
    return batch.run_cached([config], progress=False)[0]


def format_reached(reached: int | None, max_rounds: int) -> str:
    """A first round at the target for a table: the round, or ``>R`` when it was never reached."""
    return format_median_rounds(math.inf if reached is None else reached, max_rounds)


def format_optional(value: float | None, spec: str = ".2f") -> str:
    """``value`` formatted with ``spec``, or "never" for None (a target never reached)."""
    return tr("never") if value is None else format(value, spec)




def diverged_line(name: str, width: int, diverged_at: int) -> str:
    """The table row of a run that diverged."""
    return (_pad(name, width, "<") + " "
            + tr("DIVERGED in round {round}: lower the client learning rate").format(round=diverged_at))


def _with_initial(history: History) -> np.ndarray:
    """Test accuracy from round 0 (the initial model) to the last round, shape (R + 1,)."""
    return np.concatenate([[history.initial_accuracy], history.accuracy])


# -- client drift -------------------------------------------------------------------------

def update_agreement(updates: np.ndarray, weights: np.ndarray) -> float:
    """How much the clients' updates point the same way.

    ``|| sum_k p_k Delta_k || / sum_k p_k || Delta_k ||`` with p_k = n_k / n: 1 when every
    client moves in the same direction, close to 0 when their moves cancel in the average.

    Parameters
    ----------
    updates : ndarray (K, P), one update Delta_k = w_k - w_global per client
    weights : ndarray (K,), the clients' example counts n_k (or their shares)
    """
    updates = np.asarray(updates, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if updates.ndim != 2 or weights.shape != (updates.shape[0],):
        raise ValueError(f"updates must be (K, P) and weights (K,), got {updates.shape} and {weights.shape}")
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    p = weights / weights.sum()
    lengths = np.linalg.norm(updates, axis=1)
    if np.sum(p * lengths) == 0:
        return 1.0
    return float(np.linalg.norm(p @ updates) / np.sum(p * lengths))


@dataclass
class DriftGridResult:
    """One round of local training from a shared global model, on each split and for each E.

    Attributes
    ----------
    alphas : list of float (rows)
    epochs : list of int, local epochs E (columns)
    start_accuracy : float, test accuracy of the shared global model
    client_accuracy : ndarray (A, len(epochs)), mean test accuracy of the client models
        after local training (weighted by n_k)
    agreement : ndarray (A, len(epochs)), :func:`update_agreement` of the client updates
    scores : list of float, non-IID score of each split
    per_client : dict (alpha, E) -> ndarray (K,), each client's test accuracy
    """

    alphas: list
    epochs: list
    start_accuracy: float
    client_accuracy: np.ndarray
    agreement: np.ndarray
    scores: list
    per_client: dict = field(default_factory=dict, repr=False)

    def _cell(self, alpha: float, epochs: int) -> tuple[int, int]:
        return self.alphas.index(alpha), self.epochs.index(epochs)

    def accuracy_of(self, alpha: float, epochs: int) -> float:
        return float(self.client_accuracy[self._cell(alpha, epochs)])

    def agreement_of(self, alpha: float, epochs: int) -> float:
        return float(self.agreement[self._cell(alpha, epochs)])

    def table(self) -> str:
        header = [_pad(tr("split"), 12, "<"), _pad(tr("score"), 5), "  E", _pad(tr("client test acc"), 15),
                  _pad(tr("agreement"), 9)]
        lines = [tr("global model before local training: test accuracy {accuracy}").format(
                     accuracy=f"{self.start_accuracy:.3f}"), " ".join(header)]
        for i, a in enumerate(self.alphas):
            for j, e in enumerate(self.epochs):
                lines.append(f"{f'Dir({a:g})':<12} {self.scores[i]:>5.2f} {e:>3} "
                             f"{self.client_accuracy[i, j]:>15.3f} {self.agreement[i, j]:>9.3f}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


@lru_cache(maxsize=4)
def _trainer(n_features: int, n_classes: int) -> LocalTrainer:
    """One compiled local trainer for the notebook's MLP (its variables are scratch space)."""
    return LocalTrainer(build_model(n_features, n_classes, FLConfig().hidden_units))


def compute_drift_grid(alphas: Sequence[float] = (0.05, 100.0), epochs: Sequence[int] = (1, 5, 20),
                  n_clients: int = 10, client_learning_rate: float = 0.3, warmup_rounds: int = 5,
                  seed: int = 0) -> DriftGridResult:
    """Client drift, measured; no drawing.

    Loops over ``alphas`` × ``epochs`` (default 2 splits × 3 values of E), one seed: for each pair,
    every client trains a copy of the shared warm-up model once (no federated rounds).

    A global model is first trained for ``warmup_rounds`` rounds of FedAvg on IID data.
    Then every client of each Dirichlet(alpha) split trains a copy of it for E local epochs
    (nothing is averaged back): how good is each client model on the balanced test set,
    and how well do the client updates agree?

    Parameters
    ----------
    alphas : Dirichlet concentrations, each > 0
    epochs : local epoch counts E, each >= 1
    n_clients, client_learning_rate : the federation (batch size as in :data:`SETTINGS`)
    warmup_rounds : int >= 1, rounds of IID FedAvg that make the shared global model
    seed : int >= 0
    """
    alphas = [check_positive("alpha", a) for a in alphas]
    epochs = [check_int("local_epochs", e, minimum=1) for e in epochs]
    warmup_rounds = check_int("warmup_rounds", warmup_rounds, minimum=1)
    if not alphas or not epochs:
        raise ValueError("alphas and epochs must each hold at least one value")
    warm = base_config(1.0, n_clients, client_learning_rate, rounds=warmup_rounds,
                       seed=check_seed("seed", seed)).replace(partition="iid")
    start = run_cached(warm).final_weights
    data = cached_dataset(SETTINGS["dataset"])
    trainer = _trainer(data.n_features, data.n_classes)
    start_accuracy = trainer.evaluate(start, data.X_test, data.y_test)[1]
    x = flatten_weights(start)
    shape = (len(alphas), len(epochs))
    accuracy, agreement = np.zeros(shape), np.zeros(shape)
    scores, per_client = [], {}
    for i, alpha in enumerate(alphas):
        parts = make_partition(data.y_train, warm.n_clients, "dirichlet", alpha=alpha, min_size=warm.min_size,
                               seed=seed)
        sizes = np.array([len(p) for p in parts])
        scores.append(non_iid_score(label_distribution(data.y_train, parts, data.n_classes)))
        for j, e in enumerate(epochs):
            results = [client_update(trainer, start, data.X_train[p], data.y_train[p], epochs=e,
                                     batch_size=warm.batch_size, client_learning_rate=warm.client_learning_rate,
                                     seed=seed, client_id=k) for k, p in enumerate(parts)]
            client_acc = np.array([trainer.evaluate(r.weights, data.X_test, data.y_test)[1] for r in results])
            per_client[(alpha, e)] = client_acc
            accuracy[i, j] = float(np.average(client_acc, weights=sizes))
            updates = np.stack([flatten_weights(r.weights) - x for r in results])
            agreement[i, j] = update_agreement(updates, sizes)
    return DriftGridResult(alphas=alphas, epochs=epochs, start_accuracy=float(start_accuracy), client_accuracy=accuracy,
                           agreement=agreement, scores=scores, per_client=per_client)


def show_drift(alphas: Sequence[float] = (0.05, 100.0), epochs: Sequence[int] = (1, 5, 20),
               n_clients: int = 10, client_learning_rate: float = 0.3, warmup_rounds: int = 5,
               seed: int = 0) -> DriftGridResult:
    """:func:`compute_drift_grid`, its table, and two panels against E: the client models' test
    accuracy and the agreement of their updates, one line per split.

    Loops over ``alphas`` × ``epochs``, one seed (see :func:`compute_drift_grid`)."""
    result = compute_drift_grid(alphas=alphas, epochs=epochs, n_clients=n_clients,
                                client_learning_rate=client_learning_rate, warmup_rounds=warmup_rounds, seed=seed)
    print(result.table())
    plt = pyplot()
    _, (ax_acc, ax_agree) = plt.subplots(1, 2, figsize=(8, 3.2))
    for i, a in enumerate(result.alphas):
        label = tr_figure("Dir({alpha}), score {score}").format(alpha=f"{a:g}", score=f"{result.scores[i]:.2f}")
        ax_acc.plot(result.epochs, result.client_accuracy[i], marker="o", label=label)
        ax_agree.plot(result.epochs, result.agreement[i], marker="o", label=label)
    ax_acc.axhline(result.start_accuracy, color="gray", linestyle=":", linewidth=1, label=tr_figure("global model"))
    ax_acc.set_ylabel(tr_figure("client models' test accuracy"))
    ax_agree.set_ylabel(tr_figure("agreement of the updates"))
    ax_agree.set_ylim(0, 1)
    for ax in (ax_acc, ax_agree):
        ax.set_xscale("log")
        ax.set_xticks(result.epochs)
        ax.set_xticklabels([str(e) for e in result.epochs])
        ax.set_xlabel(tr_figure("local epochs E"))
        ax.grid(alpha=0.3)
    ax_acc.set_title(tr_figure("client models on all ten digits"))
    ax_agree.set_title(tr_figure("do the clients' updates agree?"))
    ax_acc.legend()
    plt.show()
    return result


# -- the slider callback: four algorithms at one setting ------------------------------------

@dataclass
class AlgorithmsResult:
    """The four algorithms on one Dirichlet(alpha) federation (one seed).

    Attributes
    ----------
    config : FLConfig of the FedAvg run (the others change only their own fields)
    mu, server_momentum, server_learning_rate : the FedProx and FedAvgM settings
    non_iid_score : float, how skewed the split is (0: IID)
    target : float
    rounds : dict algorithm -> int or None, first round at the target
    final_accuracy : dict algorithm -> float
    diverged_at : dict algorithm -> int or None
    curves : dict algorithm -> ndarray (rounds + 1,), test accuracy from round 0
    engines : dict algorithm -> str, the engine that ran it
    megabytes_per_round : dict algorithm -> float, MB down + up per round (SCAFFOLD: twice FedAvg's)
    megabytes : dict algorithm -> float or None, MB moved until the target was reached
    """

    config: FLConfig
    mu: float
    server_momentum: float
    non_iid_score: float
    target: float
    rounds: dict
    final_accuracy: dict
    diverged_at: dict
    curves: dict = field(repr=False)
    engines: dict = field(repr=False)
    megabytes_per_round: dict = field(repr=False)
    megabytes: dict = field(repr=False)
    server_learning_rate: float = 1.0

    def speedup(self, algorithm: str) -> float:
        """Rounds of FedAvg divided by rounds of ``algorithm`` (a run that never reaches the
        target counts as one round more than the run had; >1: fewer rounds than FedAvg)."""
        def count(name):
            r = self.rounds[name]
            return self.config.rounds + 1 if r is None else r
        return count("FedAvg") / count(algorithm)

    def summary(self) -> str:
        c = self.config
        server = ("" if self.server_learning_rate == 1
                  else tr(", server lr {rate}").format(rate=f"{self.server_learning_rate:.3g}"))
        target = format(self.target, ".0%")
        lines = [tr("Dir({alpha}) (non-IID score {score}), K={clients} clients, client lr {rate}, E={epochs}, "
                    "B={batch}; FedProx mu={mu}, FedAvgM beta={beta}{server}").format(
                     alpha=f"{c.alpha:.3g}", score=f"{self.non_iid_score:.2f}", clients=c.n_clients,
                     rate=f"{c.client_learning_rate:.3g}", epochs=c.local_epochs, batch=c.batch_size,
                     mu=f"{self.mu:.3g}", beta=f"{self.server_momentum:.2f}", server=server),
                 " ".join([_pad(tr("algorithm"), 9, "<"), _pad(tr("rounds to {target}").format(target=target), 15),
                           _pad(tr("final acc"), 9), _pad(tr("MB/round"), 8),
                           _pad(tr("MB to {target}").format(target=target), 9), " " + tr("engine")])]
        for name in self.rounds:
            if self.diverged_at[name] is not None:
                lines.append(diverged_line(name, 9, self.diverged_at[name]))
                continue
            lines.append(f"{name:<9} {format_reached(self.rounds[name], c.rounds):>15} "
                         f"{self.final_accuracy[name]:>9.3f} {self.megabytes_per_round[name]:>8.3f} "
                         f"{format_optional(self.megabytes[name]):>9}  {self.engines[name]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def compute_algorithms(alpha: float = 0.1, n_clients: int = 10, client_learning_rate: float = 0.3,
                       mu: float = 0.01, server_momentum: float = 0.5, *, server_learning_rate: float = 1.0,
                       seed: int = 0, target: float = SETTINGS["target"], rounds: int = SETTINGS["rounds"],
                       algorithms: Sequence[str] = ALGORITHMS) -> AlgorithmsResult:
    """The four algorithms with the slider values; no drawing. Cached on the arguments
    (and every run on its FLConfig), so returning to a setting costs nothing.

    Loops over ``algorithms`` only (default the four :data:`ALGORITHMS`), one seed: one run per
    algorithm, ``run_cached(base_config(alpha, n_clients, client_learning_rate, rounds=rounds,
    seed=seed).replace(**algorithm_fields(name, mu, server_momentum)))``.

    Parameters
    ----------
    alpha : float > 0, Dirichlet concentration (small: each client holds few classes)
    n_clients : int, 1..718 (half the training examples), K; all clients take part in every round
    client_learning_rate : float > 0
    mu : float >= 0, FedProx's proximal coefficient
    server_momentum : float in [0, 1), FedAvgM's beta
    server_learning_rate : float > 0, FedAvgM's η_g
    seed : int >= 0
    target : float in [0, 1]
    rounds : int >= 1
    algorithms : a selection of :data:`ALGORITHMS`
    """
    alpha = check_positive("alpha", alpha)
    server_learning_rate = check_positive("server_learning_rate", server_learning_rate)
    client_learning_rate = check_positive("client_learning_rate", client_learning_rate)
    mu = check_float("mu", mu, low=0.0)
    server_momentum = check_float("server_momentum", server_momentum, low=0.0, high=1.0, high_inclusive=False)
    target = check_float("target", target, low=0.0, high=1.0)
    n_clients = check_int("n_clients", n_clients, minimum=1)
    return _compute_algorithms(alpha=alpha, n_clients=n_clients, client_learning_rate=client_learning_rate, mu=mu,
                               server_momentum=server_momentum, server_learning_rate=server_learning_rate,
                               seed=check_seed("seed", seed), target=target,
                               rounds=check_int("rounds", rounds, minimum=1), algorithms=_check_algorithms(algorithms))


@lru_cache(maxsize=128)
def _compute_algorithms(alpha, n_clients, client_learning_rate, mu, server_momentum, server_learning_rate, seed,
                        target, rounds, algorithms) -> AlgorithmsResult:
    config = base_config(alpha, n_clients, client_learning_rate, rounds=rounds, seed=seed)
    configs = [config.replace(**algorithm_fields(name, mu, server_momentum, server_learning_rate=server_learning_rate))
               for name in algorithms]
    histories = dict(zip(algorithms, batch.run_cached(configs, progress=False), strict=True))   # one batched call
    return AlgorithmsResult(
        config=config, mu=mu, server_momentum=server_momentum, server_learning_rate=server_learning_rate,
        non_iid_score=non_iid_score(next(iter(histories.values())).label_counts), target=target,
        rounds={k: h.rounds_to_accuracy(target) for k, h in histories.items()},
        final_accuracy={k: h.final_accuracy for k, h in histories.items()},
        diverged_at={k: h.diverged_at for k, h in histories.items()},
        curves={k: _with_initial(h) for k, h in histories.items()},
        engines={k: h.engine for k, h in histories.items()},
        megabytes_per_round={k: float(h.bytes_down[0] + h.bytes_up[0]) / 1e6 if h.rounds_completed else 0.0
                             for k, h in histories.items()},
        megabytes={k: h.megabytes_to_accuracy(target) for k, h in histories.items()})


#: classroom presets of notebook 11's panel (each changes only what it names)
PRESETS: dict[str, dict] = {
    N_("near-IID data: α_D = 100"): dict(alpha=100.0),
    N_("too much server momentum: β = 0.9"): dict(server_momentum=0.9),
    N_("a half server step: η_g = 0.5"): dict(server_learning_rate=0.5),
    N_("strong FedProx: μ = 1"): dict(mu=1.0),
    N_("another seed: 1"): dict(seed=1),
    N_("more clients: K = 30"): dict(n_clients=30),
}


def show_algorithms(alpha: float = 0.1, n_clients: int = 10, client_learning_rate: float = 0.3,
                    mu: float = 0.01, server_momentum: float = 0.5, *, server_learning_rate: float = 1.0,
                    seed: int = 0, target: float = SETTINGS["target"], rounds: int = SETTINGS["rounds"],
                    algorithms: Sequence[str] = ALGORITHMS) -> AlgorithmsResult:
    """The slider callback: :func:`compute_algorithms`, its summary, and two panels
    (test accuracy against the round; rounds to the target, bars).

    Loops over ``algorithms`` (default the four :data:`ALGORITHMS`) at one setting and one seed."""
    result = compute_algorithms(alpha, n_clients, client_learning_rate, mu, server_momentum,
                                server_learning_rate=server_learning_rate, seed=seed, target=target, rounds=rounds,
                                algorithms=algorithms)
    print(result.summary())
    plt = pyplot()
    _, (ax_curve, ax_bars) = plt.subplots(1, 2, figsize=(8.5, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    for name, curve in result.curves.items():
        ax_curve.plot(np.arange(len(curve)), curve, marker="o", markersize=2, label=name, color=_COLORS[name])
    ax_curve.axhline(result.target, color="gray", linestyle=":", linewidth=1)
    ax_curve.set_ylim(max(0.0, result.target - 0.35), 1.0)
    ax_curve.set_xlabel(tr_figure("round"))
    ax_curve.set_ylabel(tr_figure("test accuracy"))
    ax_curve.legend()
    names = list(result.rounds)
    heights = [result.config.rounds + 1 if result.rounds[n] is None else result.rounds[n] for n in names]
    bars = ax_bars.bar(range(len(names)), heights, color=[_COLORS[n] for n in names])
    for bar, name in zip(bars, names, strict=True):
        if result.rounds[name] is None:
            bar.set_hatch("//")
            bar.set_alpha(0.5)
    ax_bars.set_xticks(range(len(names)))
    ax_bars.set_xticklabels(names)
    reach = f"{result.target:.0%}"
    ax_bars.set_ylabel(tr_figure("rounds to {target} (hatched: not reached)").format(target=reach))
    ax_curve.set_title(tr_figure("test accuracy, Dirichlet α_D = {alpha}, seed {seed}").format(alpha=f"{alpha:g}",
                                                                                               seed=seed))
    ax_bars.set_title(tr_figure("rounds to {target}").format(target=reach))
    ax_bars.set_xlabel(tr_figure("algorithm"))
    for ax in (ax_curve, ax_bars):
        ax.grid(alpha=0.3)
    plt.show()
    return result


# -- rounds to target against alpha, over seeds ---------------------------------------------

@dataclass
class SweepResult:
    """Median rounds to target for every (alpha, algorithm), over seeds.

    Attributes
    ----------
    alphas : list of float (rows, increasing)
    algorithms : list of str (columns)
    rounds : ndarray (A, G), median rounds to target (inf: most seeds never reached it)
    final_accuracy : ndarray (A, G), median final accuracy
    per_seed : ndarray (A, G, S) of rounds (inf: not reached)
    target : float
    max_rounds : int
    seeds : tuple of int
    """

    alphas: list
    algorithms: list
    rounds: np.ndarray
    final_accuracy: np.ndarray
    per_seed: np.ndarray
    target: float
    max_rounds: int
    seeds: tuple

    def rounds_of(self, alpha: float, algorithm: str = "FedAvg") -> float:
        return float(self.rounds[self.alphas.index(alpha), self.algorithms.index(algorithm)])

    def table(self) -> str:
        lines = [tr("median rounds to {target} over {seeds} seeds ({rounds} rounds per run)").format(
                     target=f"{self.target:.0%}", seeds=len(self.seeds), rounds=self.max_rounds),
                 f"{'alpha':>7}" + "".join(f"{a:>10}" for a in self.algorithms)]
        for i, alpha in enumerate(self.alphas):
            lines.append(f"{alpha:>7g}" + "".join(f"{format_median_rounds(v, self.max_rounds):>10}"
                                                  for v in self.rounds[i]))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def compute_alpha_sweep(alphas: Sequence[float] = (0.05, 0.1, 0.3, 1.0, 10.0, 100.0),
                        algorithms: Sequence[str] = ALGORITHMS, n_clients: int = 10,
                        client_learning_rate: float = 0.3, mu: float = 0.01, server_momentum: float = 0.5,
                        seeds: Sequence[int] = (0, 1, 2), target: float = SETTINGS["target"],
                        rounds: int = SETTINGS["rounds"], *, server_learning_rate: float = 1.0) -> SweepResult:
    """Every (alpha, algorithm, seed); no drawing. Each run is cached on its FLConfig.

    Loops over ``alphas`` × ``algorithms`` × ``seeds`` (default 6 × 4 × 3 = 72 runs), each
    ``run_cached(base_config(alpha, n_clients, client_learning_rate, rounds=rounds,
    seed=seed).replace(**algorithm_fields(name, mu, server_momentum)))``; the table keeps the median
    over seeds.

    Parameters as in :func:`compute_algorithms`; ``alphas`` are sorted increasingly.
    """
    alphas = sorted(check_positive("alpha", a) for a in alphas)
    algorithms = _check_algorithms(algorithms)
    seeds = tuple(check_seed("seed", s) for s in seeds)
    if not alphas or not seeds:
        raise ValueError("alphas and seeds must each hold at least one value")
    target = check_float("target", target, low=0.0, high=1.0)
    per_seed = np.zeros((len(alphas), len(algorithms), len(seeds)))
    final = np.zeros((len(alphas), len(algorithms)))
    cells = [(i, j) for i in range(len(alphas)) for j in range(len(algorithms))]
    fields = [algorithm_fields(name, mu, server_momentum, server_learning_rate=server_learning_rate)
              for name in algorithms]
    configs = [base_config(alphas[i], n_clients, client_learning_rate, rounds=rounds, seed=s).replace(**fields[j])
               for i, j in cells for s in seeds]
    runs = batch.run_cached(configs, progress=False)                   # the whole grid in one batched call
    for c, (i, j) in enumerate(cells):
        histories = runs[c * len(seeds):(c + 1) * len(seeds)]
        reached = [h.rounds_to_accuracy(target) for h in histories]
        per_seed[i, j] = [math.inf if r is None else r for r in reached]
        final[i, j] = float(np.median([h.final_accuracy for h in histories]))
    rounds_median = np.array([[median_or_inf(list(per_seed[i, j])) for j in range(len(algorithms))]
                              for i in range(len(alphas))])
    return SweepResult(alphas=alphas, algorithms=list(algorithms), rounds=rounds_median, final_accuracy=final,
                       per_seed=per_seed, target=target, max_rounds=rounds, seeds=seeds)


def show_alpha_sweep(alphas: Sequence[float] = (0.05, 0.1, 0.3, 1.0, 10.0, 100.0),
                     algorithms: Sequence[str] = ALGORITHMS, n_clients: int = 10,
                     client_learning_rate: float = 0.3, mu: float = 0.01, server_momentum: float = 0.5,
                     seeds: Sequence[int] = (0, 1, 2), target: float = SETTINGS["target"],
                     rounds: int = SETTINGS["rounds"], *, server_learning_rate: float = 1.0) -> SweepResult:
    """:func:`compute_alpha_sweep`, its table, and rounds to target against alpha (log axis),
    one line per algorithm; a target never reached is drawn on the dotted line above.

    Loops over ``alphas`` × ``algorithms`` × ``seeds`` (see :func:`compute_alpha_sweep`)."""
    result = compute_alpha_sweep(alphas=alphas, algorithms=algorithms, n_clients=n_clients,
                                 client_learning_rate=client_learning_rate, mu=mu, server_momentum=server_momentum,
                                 seeds=seeds, target=target, rounds=rounds, server_learning_rate=server_learning_rate)
    print(result.table())
    plt = pyplot()
    _, ax = plt.subplots(figsize=(6, 3.5))
    for j, name in enumerate(result.algorithms):
        y = np.where(np.isinf(result.rounds[:, j]), result.max_rounds + 1, result.rounds[:, j])
        ax.plot(result.alphas, y, marker="o", label=name, color=_COLORS[name])
    ax.axhline(result.max_rounds + 1, color="gray", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    reach = f"{result.target:.0%}"
    ax.set_xlabel(tr_figure("Dirichlet concentration α_D (left: more skewed)"))
    ax.set_ylabel(tr_figure("rounds to {target} (median)").format(target=reach))
    ax.set_title(tr_figure("rounds to {target} against the label skew, median of {seeds} seeds").format(
        target=reach, seeds=len(result.seeds)))
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
    return result
