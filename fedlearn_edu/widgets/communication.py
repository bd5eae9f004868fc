"""Notebook 12: communication cost, exact bytes and update compression.

Every run records the bytes it moved: ``History.bytes_down`` (server -> clients, the
float32 model) and ``History.bytes_up`` (clients -> server, what
:mod:`fedlearn_edu.compression` made of each update). This module compares five ways
of sending the update up (:data:`SCHEMES`) in accuracy against megabytes:

* :func:`upload_bytes_per_client` -- the exact byte formula of each scheme;
* :func:`compute_communication` -- the slider callback: every scheme at one setting;
* :func:`compute_seeds` -- the same over several seeds (medians for the notebook's claims);
* :func:`compute_topk_sweep` -- top-k with and without error feedback over the kept fraction.

Runs are cached on their :class:`~fedlearn_edu.FLConfig` (:func:`fedlearn_edu.batch.run_cached`)
and run together: the schemes of one setting, or the whole grid of seeds or kept fractions, in
one call of the batched engine (compression runs in its compiled graph, with the per-client
engine's rounding draws).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from .. import batch
from .._validate import check_float, check_int, check_positive, check_seed
from ..compression import BYTES_PER_FLOAT
from ..data import cached_dataset
from ..i18n import N_, tr, tr_figure
from ..simulation import FLConfig, History
from ..style import pyplot
from ..sweeps import format_median_rounds, settled_accuracy
from .non_iid import format_reached, run_cached  # noqa: F401  (notebook 12 calls run_cached)
from .tables import diverged_row as _diverged_row
from .tables import never_or as _never_or
from .tables import table_header as _header
from .tables import table_row as _table_row

__all__ = ["SCHEMES", "scheme_fields", "upload_bytes_per_client", "base_config", "curve",
           "CommunicationResult", "compute_communication", "PRESETS", "show_communication",
           "SeedsResult", "compute_seeds", "TopkResult", "compute_topk_sweep", "show_topk_sweep"]

#: the five ways a client sends its update, in the order of every table and figure
SCHEMES = ("none", "int8", "int4", "top-k + EF", "top-k")

_COLORS = {"none": "C0", "int8": "C1", "int4": "C2", "top-k + EF": "C3", "top-k": "C4"}
_INDEX_BYTES = 4        # top-k sends an int32 index with every kept value














def _check_schemes(schemes: Sequence[str]) -> tuple[str, ...]:
    schemes = tuple(schemes)
    if not schemes or any(s not in SCHEMES for s in schemes):
        raise ValueError(f"schemes must be a non-empty selection of {', '.join(map(repr, SCHEMES))}, "
                         f"got {list(schemes)}")
    return schemes


def scheme_fields(name: str, topk_fraction: float = 0.05) -> dict:
    """The FLConfig fields of one scheme (``topk_fraction`` is used by the two top-k schemes)."""
    _check_schemes([name])
    topk_fraction = check_float("topk_fraction", topk_fraction, low=0.0, high=1.0, low_inclusive=False)
    return {"none": {}, "int8": {"compression": "int8"}, "int4": {"compression": "int4"},
            "top-k + EF": {"compression": "topk", "topk_fraction": topk_fraction, "error_feedback": True},
            "top-k": {"compression": "topk", "topk_fraction": topk_fraction, "error_feedback": False}}[name]


def upload_bytes_per_client(name: str, n_parameters: int, topk_fraction: float = 0.05) -> int:
    """Bytes one client sends up in one round.

    * none: 4 P (float32);
    * int8 / int4: ceil(P b / 8) packed codes + 8 bytes for the range (two float32);
    * top-k: k = max(1, round(f P)) pairs of an int32 index and a float32 value, 8 k.

    Parameters
    ----------
    name : one of :data:`SCHEMES`
    n_parameters : int >= 1, P
    topk_fraction : float in (0, 1], f
    """
    fields = scheme_fields(name, topk_fraction)
    p = check_int("n_parameters", n_parameters, minimum=1)
    scheme = fields.get("compression", "none")
    if scheme == "none":
        return BYTES_PER_FLOAT * p
    if scheme in ("int8", "int4"):
        bits = 8 if scheme == "int8" else 4
        return math.ceil(p * bits / 8) + 2 * BYTES_PER_FLOAT
    k = max(1, int(round(topk_fraction * p)))
    return (_INDEX_BYTES + BYTES_PER_FLOAT) * k


def base_config(n_clients: int = 10, client_learning_rate: float = 0.1, local_epochs: int = 1, *,
                rounds: int = 20, seed: int = 0) -> FLConfig:
    """FedAvg on IID digits, every client in every round, mini-batches of 32."""
    n_train = len(cached_dataset("digits").y_train)
    return FLConfig(n_clients=check_int("n_clients", n_clients, minimum=1, maximum=n_train // 2),
                    rounds=rounds, local_epochs=local_epochs,
                    client_learning_rate=check_positive("client_learning_rate", client_learning_rate),
                    dataset="digits", seed=seed)


def curve(history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cumulative MB up, cumulative MB down + up, accuracy), each (R + 1,) from round 0."""
    up, total = history.cumulative_megabytes(up_only=True), history.cumulative_megabytes()
    return up, total, np.concatenate([[history.initial_accuracy], history.accuracy])


# -- the slider callback ------------------------------------------------------------------

@dataclass
class CommunicationResult:
    """Every scheme on one federation (one seed).

    Attributes
    ----------
    config : FLConfig of the uncompressed run
    topk_fraction : float
    target : float
    bytes_up_per_round, bytes_down_per_round : dict scheme -> int, bytes of one full round
    rounds : dict scheme -> int or None, first round at the target
    megabytes_up, megabytes_total : dict scheme -> float or None, MB up (down + up) until the target
    final_accuracy, settled : dict scheme -> float (settled: mean of the last 5 rounds)
    diverged_at : dict scheme -> int or None
    curves : dict scheme -> (MB up, MB total, accuracy), see :func:`curve`
    """

    config: FLConfig
    topk_fraction: float
    target: float
    bytes_up_per_round: dict
    bytes_down_per_round: dict
    rounds: dict
    megabytes_up: dict
    megabytes_total: dict
    final_accuracy: dict
    settled: dict
    diverged_at: dict
    curves: dict = field(repr=False)

    def upload_ratio(self, scheme: str) -> float:
        """Bytes up per round of ``scheme`` divided by those of the uncompressed update."""
        return self.bytes_up_per_round[scheme] / self.bytes_up_per_round["none"]

    def summary(self) -> str:
        c = self.config
        head = tr("K={clients} clients, client lr {rate}, E={epochs}, top-k keeps {fraction} of the coordinates; "
                  "down: {megabytes} MB per round for every scheme").format(
            clients=c.n_clients, rate=f"{c.client_learning_rate:.3g}", epochs=c.local_epochs,
            fraction=f"{self.topk_fraction:.3g}",
            megabytes=f"{next(iter(self.bytes_down_per_round.values())) / 1e6:.3f}")
        target = format(self.target, ".0%")
        header, widths = _header([("scheme", tr("scheme")), ("up/round MB", tr("up/round MB")), ("x none", "x none"),
                                  ("final", tr("final")), ("settled", tr("settled")),
                                  ("rounds to " + target, tr("rounds to {target}").format(target=target)),
                                  ("MB up", tr("MB up")), ("MB total", tr("MB total"))], (11, 11, 6, 6, 7, 12, 6, 8))
        lines = [head, header]
        for s in self.rounds:
            if self.diverged_at[s] is not None:
                lines.append(_diverged_row(s, widths[0], self.diverged_at[s]))
                continue
            lines.append(_table_row([s, f"{self.bytes_up_per_round[s] / 1e6:.3f}", f"{self.upload_ratio(s):.3f}",
                                     f"{self.final_accuracy[s]:.3f}", f"{self.settled[s]:.3f}",
                                     format_reached(self.rounds[s], c.rounds), _never_or(self.megabytes_up[s]),
                                     _never_or(self.megabytes_total[s])], widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def compute_communication(n_clients: int = 10, client_learning_rate: float = 0.1, topk_fraction: float = 0.05,
                          local_epochs: int = 1, *, rounds: int = 20, target: float = 0.9, seed: int = 0,
                          schemes: Sequence[str] = SCHEMES) -> CommunicationResult:
    """Every scheme with the slider values; no drawing. Cached on the arguments (and each
    run on its FLConfig: moving the top-k slider re-runs only the two top-k schemes).

    Loops over ``schemes`` only (default all five of :data:`SCHEMES`): one run per scheme, each
    ``run_experiment(base_config(n_clients, client_learning_rate, local_epochs, rounds=rounds,
    seed=seed).replace(**scheme_fields(scheme, topk_fraction)))``, one seed.

    Parameters
    ----------
    n_clients : int, 1..718, K (all clients take part in every round)
    client_learning_rate : float > 0
    topk_fraction : float in (0, 1], share of coordinates top-k sends
    local_epochs : int >= 1, E
    rounds : int >= 1
    target : float in [0, 1]
    seed : int >= 0
    schemes : a selection of :data:`SCHEMES`
    """
    topk_fraction = check_float("topk_fraction", topk_fraction, low=0.0, high=1.0, low_inclusive=False)
    return _compute(n_clients=check_int("n_clients", n_clients, minimum=1),
                    client_learning_rate=check_positive("client_learning_rate", client_learning_rate),
                    topk_fraction=topk_fraction, local_epochs=check_int("local_epochs", local_epochs, minimum=1),
                    rounds=check_int("rounds", rounds, minimum=1),
                    target=check_float("target", target, low=0.0, high=1.0), seed=check_seed("seed", seed),
                    schemes=_check_schemes(schemes))


@lru_cache(maxsize=128)
def _compute(n_clients, client_learning_rate, topk_fraction, local_epochs, rounds, target, seed,
             schemes) -> CommunicationResult:
    config = base_config(n_clients, client_learning_rate, local_epochs, rounds=rounds, seed=seed)
    configs = [config.replace(**scheme_fields(s, topk_fraction)) for s in schemes]
    runs = dict(zip(schemes, batch.run_cached(configs, progress=False), strict=True))   # one batched call
    m = config.clients_per_round
    n_parameters = int(sum(np.size(w) for w in next(iter(runs.values())).final_weights))
    return CommunicationResult(
        config=config, topk_fraction=topk_fraction, target=target,
        bytes_up_per_round={s: m * upload_bytes_per_client(s, n_parameters, topk_fraction) for s in schemes},
        bytes_down_per_round={s: m * BYTES_PER_FLOAT * n_parameters for s in schemes},
        rounds={s: h.rounds_to_accuracy(target) for s, h in runs.items()},
        megabytes_up={s: h.megabytes_to_accuracy(target, up_only=True) for s, h in runs.items()},
        megabytes_total={s: h.megabytes_to_accuracy(target) for s, h in runs.items()},
        final_accuracy={s: h.final_accuracy for s, h in runs.items()},
        settled={s: settled_accuracy(h, last=5) for s, h in runs.items()},
        diverged_at={s: h.diverged_at for s, h in runs.items()},
        curves={s: curve(h) for s, h in runs.items()})


#: classroom presets of notebook 12's panel (each changes only what it names)
PRESETS: dict[str, dict] = {
    N_("top-k keeps 0.5%"): dict(topk_fraction=0.005),
    N_("more local work: E = 5"): dict(local_epochs=5),
    N_("a large learning rate: η_l = 1"): dict(client_learning_rate=1.0),
    N_("30 clients"): dict(n_clients=30),
}


def show_communication(n_clients: int = 10, client_learning_rate: float = 0.1, topk_fraction: float = 0.05,
                       local_epochs: int = 1, *, rounds: int = 20, target: float = 0.9, seed: int = 0,
                       schemes: Sequence[str] = SCHEMES) -> CommunicationResult:
    """The slider callback: :func:`compute_communication`, its table, and test accuracy against
    MB sent up (left) and MB sent down + up (right), one curve per scheme.

    Loops over ``schemes`` (default all five of :data:`SCHEMES`) at one setting and one seed: one
    run of ``base_config(...).replace(**scheme_fields(scheme, topk_fraction))`` per curve."""
    result = compute_communication(n_clients, client_learning_rate, topk_fraction, local_epochs, rounds=rounds,
                                   target=target, seed=seed, schemes=schemes)
    print(result.summary())
    plt = pyplot()
    _, (ax_up, ax_total) = plt.subplots(1, 2, figsize=(8.5, 3.3), sharey=True)
    for s, (up, total, accuracy) in result.curves.items():
        style = dict(marker="o", markersize=2, label=s, color=_COLORS[s])
        ax_up.plot(up, accuracy, **style)
        ax_total.plot(total, accuracy, **style)
    for ax, xlabel in ((ax_up, tr_figure("MB sent up (clients to server)")),
                       (ax_total, tr_figure("MB sent down + up"))):
        ax.axhline(result.target, color="gray", linestyle=":", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    ax_up.set_ylim(max(0.0, result.target - 0.4), 1.0)
    ax_up.set_ylabel(tr_figure("test accuracy"))
    ax_up.set_title(tr_figure("accuracy against the upload"))
    ax_total.set_title(tr_figure("accuracy against all traffic"))
    ax_up.legend()
    plt.show()
    return result


# -- over seeds -------------------------------------------------------------------------------

@dataclass
class SeedsResult:
    """Every scheme over several seeds.

    Attributes
    ----------
    schemes : list of str (columns)
    seeds : tuple of int (rows)
    settled : ndarray (S, G), mean test accuracy of the last 5 rounds
    rounds : ndarray (S, G), rounds to target (inf: not reached)
    megabytes_up : ndarray (S, G), MB up to target (inf: not reached)
    upload_ratio : dict scheme -> float, bytes up per round / uncompressed
    target : float
    max_rounds : int
    """

    schemes: list
    seeds: tuple
    settled: np.ndarray
    rounds: np.ndarray
    megabytes_up: np.ndarray
    upload_ratio: dict
    target: float
    max_rounds: int

    def _col(self, scheme: str) -> int:
        return self.schemes.index(scheme)

    def median_settled(self, scheme: str) -> float:
        return float(np.median(self.settled[:, self._col(scheme)]))

    def median_rounds(self, scheme: str) -> float:
        return float(np.median(self.rounds[:, self._col(scheme)]))

    def median_megabytes_up(self, scheme: str) -> float:
        return float(np.median(self.megabytes_up[:, self._col(scheme)]))

    def table(self) -> str:
        header, widths = _header([("scheme", tr("scheme")), ("up x none", tr("up x none")),
                                  ("settled", tr("settled")), ("rounds", tr("rounds")), ("MB up", tr("MB up"))],
                                 (11, 9, 8, 7, 7))
        lines = [tr("medians over {seeds} seeds, target {target}").format(seeds=len(self.seeds),
                                                                           target=f"{self.target:.0%}"), header]
        for s in self.schemes:
            mb = self.median_megabytes_up(s)
            lines.append(_table_row([s, f"{self.upload_ratio[s]:.3f}", f"{self.median_settled(s):.3f}",
                                     format_median_rounds(self.median_rounds(s), self.max_rounds),
                                     _never_or(mb)], widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def _run_together(configs: Sequence[FLConfig]) -> None:
    """Run every config not remembered yet in one batched call (the cache then answers
    :func:`compute_communication` for each)."""
    batch.run_cached(configs, progress=False)


def compute_seeds(seeds: Sequence[int] = (0, 1, 2), n_clients: int = 10, client_learning_rate: float = 0.1,
                  topk_fraction: float = 0.05, local_epochs: int = 1, *, rounds: int = 20, target: float = 0.9,
                  schemes: Sequence[str] = SCHEMES) -> SeedsResult:
    """:func:`compute_communication` once per seed, collected; no drawing.

    Loops over ``seeds`` × ``schemes`` (default 3 seeds × the five :data:`SCHEMES`), every run at the
    same setting: ``base_config(n_clients, client_learning_rate, local_epochs, rounds=rounds,
    seed=seed).replace(**scheme_fields(scheme, topk_fraction))``."""
    seeds = tuple(check_seed("seed", s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got an empty sequence")
    _run_together([base_config(n_clients, client_learning_rate, local_epochs, rounds=rounds, seed=s)
                   .replace(**scheme_fields(name, topk_fraction)) for s in seeds for name in _check_schemes(schemes)])
    results = [compute_communication(n_clients, client_learning_rate, topk_fraction, local_epochs, rounds=rounds,
                                     target=target, seed=s, schemes=schemes) for s in seeds]
    names = list(results[0].rounds)
    inf = math.inf
    return SeedsResult(
        schemes=names, seeds=seeds,
        settled=np.array([[r.settled[s] for s in names] for r in results]),
        rounds=np.array([[inf if r.rounds[s] is None else r.rounds[s] for s in names] for r in results], float),
        megabytes_up=np.array([[inf if r.megabytes_up[s] is None else r.megabytes_up[s] for s in names]
                               for r in results], float),
        upload_ratio={s: results[0].upload_ratio(s) for s in names}, target=results[0].target,
        max_rounds=results[0].config.rounds)


# -- top-k: how much error feedback matters ------------------------------------------------------

@dataclass
class TopkResult:
    """Top-k with and without error feedback, for several kept fractions (one seed).

    Attributes
    ----------
    fractions : list of float (increasing)
    with_feedback, without_feedback : ndarray (F,), settled accuracy (last 5 rounds)
    uncompressed : float, settled accuracy without compression
    """

    fractions: list
    with_feedback: np.ndarray
    without_feedback: np.ndarray
    uncompressed: float

    def gap(self, fraction: float) -> float:
        """Settled accuracy with error feedback minus without, at ``fraction``."""
        i = self.fractions.index(fraction)
        return float(self.with_feedback[i] - self.without_feedback[i])

    def table(self) -> str:
        header, widths = _header([("fraction", tr("fraction")), ("with EF", tr("with EF")), ("without", tr("without")),
                                  ("gap", tr("gap"))], (8, 8, 8, 6), first=">")
        lines = [tr("settled accuracy (last 5 rounds); uncompressed {accuracy}").format(
                     accuracy=f"{self.uncompressed:.3f}"), header]
        for i, f in enumerate(self.fractions):
            lines.append(_table_row([f"{f:.3g}", f"{self.with_feedback[i]:.3f}", f"{self.without_feedback[i]:.3f}",
                                     f"{self.with_feedback[i] - self.without_feedback[i]:.3f}"], widths, first=">"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def compute_topk_sweep(fractions: Sequence[float] = (0.01, 0.05, 0.3), n_clients: int = 10,
                       client_learning_rate: float = 0.1, local_epochs: int = 1, *, rounds: int = 20,
                       seed: int = 0) -> TopkResult:
    """Settled accuracy of top-k with and without error feedback per kept fraction; no drawing.

    Loops over ``fractions`` × ("top-k + EF", "top-k"), one seed, plus one uncompressed run ("none",
    the same for every fraction): :func:`compute_communication` with ``schemes=("none", "top-k + EF",
    "top-k")`` once per fraction."""
    fractions = sorted(check_float("topk_fraction", f, low=0.0, high=1.0, low_inclusive=False) for f in fractions)
    if not fractions:
        raise ValueError("fractions must hold at least one value")
    base = base_config(n_clients, client_learning_rate, local_epochs, rounds=rounds, seed=seed)
    _run_together([base.replace(**scheme_fields(name, f)) for f in fractions
                   for name in ("none", "top-k + EF", "top-k")])
    results = [compute_communication(n_clients, client_learning_rate, f, local_epochs, rounds=rounds, seed=seed,
                                     schemes=("none", "top-k + EF", "top-k")) for f in fractions]
    return TopkResult(fractions, np.array([r.settled["top-k + EF"] for r in results]),
                      np.array([r.settled["top-k"] for r in results]), results[0].settled["none"])


def show_topk_sweep(fractions: Sequence[float] = (0.01, 0.05, 0.3), n_clients: int = 10,
                    client_learning_rate: float = 0.1, local_epochs: int = 1, *, rounds: int = 20,
                    seed: int = 0) -> TopkResult:
    """:func:`compute_topk_sweep`, its table, and settled accuracy against the kept fraction.

    Loops over ``fractions`` × ("top-k + EF", "top-k"), one seed, plus one uncompressed run."""
    result = compute_topk_sweep(fractions, n_clients, client_learning_rate, local_epochs, rounds=rounds, seed=seed)
    print(result.table())
    plt = pyplot()
    _, ax = plt.subplots(figsize=(6, 3.3))
    ax.plot(result.fractions, result.with_feedback, marker="o", label=tr_figure("top-k + error feedback"),
            color=_COLORS["top-k + EF"])
    ax.plot(result.fractions, result.without_feedback, marker="o", label="top-k", color=_COLORS["top-k"])
    ax.axhline(result.uncompressed, color=_COLORS["none"], linestyle=":", label=tr_figure("uncompressed"))
    ax.set_xscale("log")
    ax.set_xlabel(tr_figure("fraction of coordinates sent"))
    ax.set_ylabel(tr_figure("settled test accuracy"))
    ax.set_title(tr_figure("top-k with and without error feedback"))
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
    return result
