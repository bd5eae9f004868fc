"""Notebook 04: FedAvg step by step, then the loop until a stated convergence criterion.

The article's five steps (sections 3.1 and 3.2) map onto the methods of
:class:`fedlearn_edu.Simulation`, the same methods its own loop calls:

1. initialise and send     ``sim.global_weights``, ``sim.sample_clients(r)``
2. train locally           ``sim.train_client(k, r)`` -> :class:`fedlearn_edu.ClientResult`
3. send back               ``result.weights`` and ``result.n_examples`` (n_k)
4. aggregate               ``sim.aggregate(results)`` (sum_k n_k/n w_k), ``sim.server_update(...)``
5. repeat until converged  :func:`run_until_converged`

**Convergence criterion** (:func:`stopping_round`): stop after the first round in which
the test loss has failed, for ``patience`` rounds in a row, to improve on its best value
so far by at least ``tolerance`` (by default 0.005 for 3 rounds; the rule of Keras'
``EarlyStopping(min_delta=0.005, patience=3)``), or after ``max_rounds`` rounds, or
as soon as the test accuracy reaches ``target_accuracy`` if one is given.

The slider callback is :func:`show_learning_curve`; :func:`compute_learning_curve`
returns its numbers without drawing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .. import _tf  # noqa: F401  (silences TensorFlow before it is imported)
from .._validate import check_float, check_int, check_positive
from ..aggregate import fedavg_coefficients
from ..i18n import N_, tr, tr_figure
from ..simulation import FLConfig, Simulation, run_experiment
from ..style import pyplot

__all__ = ["BASE_CONFIG", "PRESETS", "ConvergenceRun", "LearningCurve", "RoundRecord", "compute_learning_curve",
           "fedavg_round", "run_until_converged", "show_learning_curve", "stopping_round"]

#: the federation of notebook 04: 10 clients with a mild label skew, half of them per round
BASE_CONFIG = FLConfig(n_clients=10, fraction=0.5, partition="dirichlet", alpha=1.0,
                       local_epochs=1, batch_size=32, client_learning_rate=0.1, seed=0)

#: the stated convergence criterion
TOLERANCE = 0.005
PATIENCE = 3


# -- the criterion ----------------------------------------------------------------------
def stopping_round(losses: Sequence[float], tolerance: float = TOLERANCE, patience: int = PATIENCE,
                   initial_loss: float | None = None) -> int | None:
    """The 1-based round after which the criterion stops, or None if it never does.

    A round "does not improve" when its loss is not below ``best - tolerance``, where
    ``best`` is the lowest loss so far that counted as an improvement (the initial
    loss, when given, is the first best). The run stops after ``patience``
    non-improving rounds in a row. A NaN or infinite loss stops at once.

    Parameters
    ----------
    losses : sequence of float, the test loss after rounds 1, 2, ...
    tolerance : float >= 0, the smallest improvement that counts
    patience : int >= 1, non-improving rounds in a row before stopping
    initial_loss : float, optional, the loss of the initial model (round 0)
    """
    tolerance = check_float("tolerance", tolerance, low=0.0)
    patience = check_int("patience", patience, minimum=1)
    best = np.inf if initial_loss is None else float(initial_loss)
    waiting = 0
    for r, loss in enumerate(np.asarray(losses, dtype=np.float64), start=1):
        if not np.isfinite(loss):
            return r
        if loss < best - tolerance:
            best, waiting = loss, 0
        else:
            waiting += 1
            if waiting >= patience:
                return r
    return None


# -- one round, from the Simulation's own step methods -----------------------------------
@dataclass
class RoundRecord:
    """Everything that happened in one FedAvg round.

    Attributes
    ----------
    round_index : int, 0-based
    clients : ndarray (m,), the sampled client ids (step 1)
    results : list of m ClientResult (steps 2 and 3)
    coefficients : ndarray (m,), n_k / n (step 4)
    averaged : list of ndarray, sum_k (n_k/n) w_k (step 4)
    previous_weights, new_weights : list of ndarray, the global model before and after
    loss, accuracy : float, the new global model on the test set
    bytes_up : int, what the clients sent: m * n_parameters * 4
    """

    round_index: int
    clients: np.ndarray
    results: list
    coefficients: np.ndarray
    averaged: list
    previous_weights: list
    new_weights: list
    loss: float
    accuracy: float
    bytes_up: int


def fedavg_round(sim: Simulation, round_index: int) -> RoundRecord:
    """Run steps 1-4 of one round on ``sim`` and make the result the new global model.

    It is :meth:`fedlearn_edu.Simulation.run_round`, the very round body that
    :meth:`fedlearn_edu.Simulation.run` loops over (per-client engine), so a round done here
    equals that round of ``sim.run()``.
    """
    round_index = check_int("round_index", round_index, minimum=0)
    outcome = sim.run_round(round_index)        # steps 1-4; the new model is sent out next round
    results = outcome.results
    return RoundRecord(round_index=round_index, clients=outcome.plan.clients, results=results,
                       coefficients=fedavg_coefficients([r.n_examples for r in results]), averaged=outcome.averaged,
                       previous_weights=outcome.previous_weights, new_weights=outcome.new_weights, loss=outcome.loss,
                       accuracy=outcome.accuracy, bytes_up=outcome.plan.bytes_up)


# -- step 5: the loop ------------------------------------------------------------------
@dataclass
class ConvergenceRun:
    """The record of :func:`run_until_converged`.

    Attributes
    ----------
    loss, accuracy : ndarray (R,), the global model on the test set after each round
    initial_loss, initial_accuracy : float, round 0
    rounds : int, R, rounds run
    converged : bool, stopped by the criterion (or the accuracy target) after the loss went below
        the initial loss; False after max_rounds, a divergence, or a loss that only grew
    reason : str
    final_weights : list of ndarray, the global model at the end
    """

    loss: np.ndarray
    accuracy: np.ndarray
    initial_loss: float
    initial_accuracy: float
    rounds: int
    converged: bool
    reason: str
    final_weights: list = field(repr=False)

    @property
    def final_accuracy(self) -> float:
        return float(self.accuracy[-1]) if self.rounds else self.initial_accuracy

    @property
    def final_loss(self) -> float:
        """Test loss of the last completed round (the initial loss if none completed, e.g. NaN in round 1)."""
        return float(self.loss[-1]) if self.rounds else self.initial_loss


def run_until_converged(sim: Simulation, tolerance: float = TOLERANCE, patience: int = PATIENCE,
                        max_rounds: int = 100, target_accuracy: float | None = None,
                        reset: bool = True) -> ConvergenceRun:
    """Repeat :func:`fedavg_round` until the stated criterion stops it (step 5).

    Parameters
    ----------
    sim : Simulation
    tolerance, patience : the criterion of :func:`stopping_round`
    max_rounds : int >= 1, stop here at the latest
    target_accuracy : float in (0, 1] or None, also stop once the test accuracy reaches it
    reset : start from the initial model (round 0); False continues from ``sim.global_weights``
        and still numbers the rounds from 0
    """
    tolerance = check_float("tolerance", tolerance, low=0.0)
    patience = check_int("patience", patience, minimum=1)
    max_rounds = check_int("max_rounds", max_rounds, minimum=1)
    if target_accuracy is not None:
        target_accuracy = check_float("target_accuracy", target_accuracy, low=0.0, high=1.0,
                                      low_inclusive=False)
    if reset:
        sim.reset()
    initial_loss, initial_accuracy = sim.evaluate()
    losses, accuracies = [], []
    converged, reason = False, f"reached max_rounds={max_rounds}"
    for r in range(max_rounds):
        record = fedavg_round(sim, r)
        if not np.isfinite(record.loss):
            reason = f"diverged in round {r + 1} (NaN loss): try a smaller client_learning_rate"
            break
        losses.append(record.loss)
        accuracies.append(record.accuracy)
        if target_accuracy is not None and record.accuracy >= target_accuracy:
            converged, reason = True, f"test accuracy reached {target_accuracy:.3f} in round {r + 1}"
            break
        if stopping_round(losses, tolerance, patience, initial_loss) == r + 1:
            reason = (f"test loss improved by less than {tolerance:g} for {patience} rounds in a row "
                      f"(round {r + 1})")
            converged = min(losses) < initial_loss
            if not converged:   # the rule also stops a run whose loss only grows: that is failure
                reason += ", but it never went below the initial loss: training failed"
            break
    return ConvergenceRun(loss=np.array(losses), accuracy=np.array(accuracies), initial_loss=initial_loss,
                          initial_accuracy=initial_accuracy, rounds=len(losses), converged=converged, reason=reason,
                          final_weights=[w.copy() for w in sim.global_weights])


# -- the slider ------------------------------------------------------------------------
@dataclass
class LearningCurve:
    """The numbers behind the slider's figure.

    Attributes
    ----------
    loss, accuracy : ndarray (R + 1,), the global model on the test set; index 0 is the
        initial model, index r the model after round r (NaN after a divergence)
    stop_round : int or None, where the convergence criterion stops (None: it does not within R,
        or training diverged before it could)
    diverged_at : int or None, the 1-based round in which training diverged
    clients_per_round : int, m
    """

    loss: np.ndarray
    accuracy: np.ndarray
    stop_round: int | None
    diverged_at: int | None
    clients_per_round: int

    @property
    def rounds(self) -> int:
        return len(self.loss) - 1

    @property
    def failed(self) -> bool:
        """True when no round up to the stop (or the end) got below the initial test loss."""
        last = self.rounds if self.stop_round is None else self.stop_round
        losses = self.loss[1:last + 1]
        losses = losses[np.isfinite(losses)]
        return losses.size == 0 or bool(losses.min() >= self.loss[0])

    @property
    def accuracy_at_stop(self) -> float:
        """Test accuracy where the criterion stops (else at the last round with a finite loss)."""
        if self.stop_round is not None:
            return float(self.accuracy[self.stop_round])
        return float(self.accuracy[np.flatnonzero(np.isfinite(self.loss))[-1]])


def compute_learning_curve(n_clients: int = 10, client_learning_rate: float = 0.1, rounds: int = 50,
                           tolerance: float = TOLERANCE, patience: int = PATIENCE,
                           config: FLConfig | None = None, *, fraction: float | None = None,
                           local_epochs: int | None = None, batch_size: int | None | str = "config") -> LearningCurve:
    """Run the loop for ``rounds`` rounds (vectorised engine) and apply the criterion.

    Parameters
    ----------
    n_clients : int >= 1, K (a fraction C of them take part in each round)
    client_learning_rate : float > 0, η_l
    rounds : int in 1..500, R
    tolerance, patience : the criterion of :func:`stopping_round`
    config : FLConfig, the rest of the set-up (default :data:`BASE_CONFIG`)
    fraction : float in (0, 1], C (default: the config's, 0.5)
    local_epochs : int >= 1, E (default: the config's, 1)
    batch_size : int >= 1, or None for B = ∞ (default: the config's, 32)
    """
    n_clients = check_int("n_clients", n_clients, minimum=1, maximum=400)
    client_learning_rate = check_positive("client_learning_rate", client_learning_rate)
    rounds = check_int("rounds", rounds, minimum=1, maximum=500)
    config = (config or BASE_CONFIG).replace(n_clients=n_clients, rounds=rounds,
                                             client_learning_rate=client_learning_rate)
    changes = {name: value for name, value in (("fraction", fraction), ("local_epochs", local_epochs))
               if value is not None}
    if batch_size != "config":
        changes["batch_size"] = batch_size
    config = config.replace(**changes)            # FLConfig checks C, E and B and names a bad one
    history = run_experiment(config, progress=False)
    loss = np.full(rounds + 1, np.nan)
    accuracy = np.full(rounds + 1, np.nan)
    loss[0], accuracy[0] = history.initial_loss, history.initial_accuracy
    loss[1:history.rounds_completed + 1] = history.loss
    accuracy[1:history.rounds_completed + 1] = history.accuracy
    stop = stopping_round(loss[1:], tolerance, patience, history.initial_loss)
    if history.diverged_at is not None and stop == history.diverged_at:
        stop = None                       # a NaN loss is divergence, not convergence
    return LearningCurve(loss, accuracy, stop, history.diverged_at, config.clients_per_round)


#: classroom presets of notebook 04's learning-curve panel (each changes only what it names)
PRESETS: dict[str, dict] = {
    N_("FedSGD: E = 1, B = ∞, every client"): dict(local_epochs=1, batch_size=float("inf"), fraction=1.0),
    N_("more local work: E = 5, B = 8"): dict(local_epochs=5, batch_size=8),
    N_("every client in every round: C = 1"): dict(fraction=1.0),
    N_("one client per round: C = 0.1"): dict(fraction=0.1),
    N_("too large a learning rate: η_l = 10"): dict(client_learning_rate=10.0),
    N_("too small a learning rate: η_l = 0.001"): dict(client_learning_rate=0.001),
}


def show_learning_curve(n_clients: int = 10, client_learning_rate: float = 0.1, rounds: int = 50, *,
                        fraction: float | None = None, local_epochs: int | None = None,
                        batch_size: int | None | str = "config") -> LearningCurve:
    """Slider callback: the learning curve of the loop, with the round where the criterion stops.

    Parameters are those of :func:`compute_learning_curve` (K, η_l, R, and C, E, B).

    Returns
    -------
    LearningCurve, as :func:`compute_learning_curve`
    """
    plt = pyplot()
    curve = compute_learning_curve(n_clients, client_learning_rate, rounds, fraction=fraction,
                                   local_epochs=local_epochs, batch_size=batch_size)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8, 3.5))
    x = np.arange(curve.rounds + 1)
    ax_loss.plot(x, curve.loss, marker="o", markersize=2)
    ax_acc.plot(x, curve.accuracy, marker="o", markersize=2)
    for ax in (ax_loss, ax_acc):
        if curve.stop_round is not None:
            ax.axvline(curve.stop_round, color="gray", linestyle="--", linewidth=1, label=tr_figure("criterion stops"))
            ax.legend()
        ax.set_xlabel(tr_figure("round"))
        ax.grid(alpha=0.3)
    ax_loss.set_ylabel(tr_figure("test loss"))
    ax_acc.set_ylabel(tr_figure("test accuracy"))
    ax_acc.set_ylim(0, 1)
    C = BASE_CONFIG.fraction if fraction is None else fraction
    E = BASE_CONFIG.local_epochs if local_epochs is None else local_epochs
    B = BASE_CONFIG.batch_size if batch_size == "config" else batch_size
    B = None if B == float("inf") else B                      # the batch slider's ∞
    fig.suptitle(tr_figure("K={clients} clients, C={fraction} ({per_round} per round), E={epochs}, B={batch}, "
                           "client learning rate {rate}").format(
        clients=n_clients, fraction=f"{C:g}", per_round=curve.clients_per_round, epochs=E,
        batch="∞" if B is None else B, rate=f"{client_learning_rate:.3g}"))
    plt.show()
    if curve.stop_round is not None:
        print(tr("the criterion stops after round {round}: test accuracy {accuracy}, loss {loss}").format(
            round=curve.stop_round, accuracy=f"{curve.accuracy_at_stop:.3f}",
            loss=f"{curve.loss[curve.stop_round]:.3f}"))
        if curve.failed:
            failure = tr("but the loss never went below the initial loss ({loss}): this is failure, not convergence")
            print(failure.format(loss=f"{curve.loss[0]:.3f}"))
    elif curve.diverged_at is None:
        print(tr("the criterion did not stop within {rounds} rounds; test accuracy {accuracy}").format(
            rounds=curve.rounds, accuracy=f"{curve.accuracy_at_stop:.3f}"))
    if curve.diverged_at is not None:
        print(tr("training diverged (NaN) in round {round}: the client learning rate is too large").format(
            round=curve.diverged_at))
    return curve
