"""Poisoned clients and robust aggregation.

A malicious client controls what it sends. Three classic attacks:

* **scaled update** (model replacement, Bagdasaryan et al. 2020): send ``factor * update``;
  a factor of about m (the clients per round) lets one client replace the average;
* **sign-flipped update**: send ``-factor * update``, pushing the model up the loss;
* **label flipping** (data poisoning): train honestly on wrong labels, ``y -> (y + 1) mod c``.

Defences replace the FedAvg mean by a rule one client cannot drag far:

* **coordinate-wise median**: with one attacker among m >= 3 clients, each coordinate stays
  between the smallest and the largest honest value (Yin et al. 2018);
* **trimmed mean** with ``trim >= number of attackers``: ditto (drops the ``trim`` largest and
  smallest values per coordinate before averaging);
* **norm clipping**: clip every update to L2 norm S before averaging (Sun et al. 2019); whatever
  one client sends, it then moves the mean of m updates by at most S / m against the same round
  with that client sending nothing (a zero update), and by at most 2 S / m against the same round
  with an honest client in its place (the attacker's clipped update, norm <= S, replaces an honest
  one, also norm <= S): the baseline of :func:`attacker_shift`.

All functions work on updates ``Delta_k = w_k - w_global`` stacked as an (m, P) array. The
median and trimmed mean come from :mod:`fedlearn_edu.aggregate`, the same functions any
other notebook uses. Note the clash with secure aggregation: every defence here needs to see
the individual updates, which secure aggregation hides from the server.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ._validate import check_choice, check_float, check_int, check_labels, check_positive
from .aggregate import coordinate_median, trimmed_mean, weighted_average
from .batch import run_planned_settings
from .client import client_update
from .model import flatten_weights
from .privacy import clip_to_norm
from .simulation import FLConfig, Simulation
from .vectorized import AGGREGATION_CODES, ATTACK_CODES

__all__ = ["ATTACKS", "AGGREGATION_RULES", "scaled_update", "sign_flipped_update", "flip_labels",
           "clip_to_norm", "clipped_mean", "aggregate_updates", "attacker_shift", "PoisoningRun",
           "run_poisoned_fedavg", "PoisoningSetting", "run_poisoning_experiments"]

ATTACKS = ("none", "scaled", "sign_flip", "label_flip")
AGGREGATION_RULES = ("fedavg", "median", "trimmed_mean", "clipped_mean")


def _updates(updates) -> np.ndarray:
    matrix = np.asarray(updates, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"updates must be an (m, P) array of client updates, got shape {matrix.shape}")
    return matrix


# -- attacks ---------------------------------------------------------------------------------
def scaled_update(update: np.ndarray, factor: float) -> np.ndarray:
    """Model-replacement attack: ``factor * update``, shape (P,)."""
    return check_float("factor", factor) * np.asarray(update, dtype=np.float64)


def sign_flipped_update(update: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """``-factor * update``, shape (P,): the attacker pushes the model uphill."""
    return -check_positive("factor", factor) * np.asarray(update, dtype=np.float64)


def flip_labels(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Label flipping: every label y becomes (y + 1) mod n_classes, shape (n,)."""
    n_classes = check_int("n_classes", n_classes, minimum=2)
    y = check_labels("y", y, n_classes=n_classes)
    return (y + 1) % n_classes


# -- defences --------------------------------------------------------------------------------
def clipped_mean(updates: np.ndarray, clip_norm: float) -> np.ndarray:
    """Plain mean of the clipped updates, shape (P,): one client moves it by at most S / m against
    sending nothing, by at most 2 S / m against an honest client in its place."""
    return clip_to_norm(_updates(updates), clip_norm).mean(axis=0)


def aggregate_updates(updates: np.ndarray, rule: str = "fedavg", n_examples: Sequence[int] | None = None,
                      trim: int = 1, clip_norm: float = 1.0) -> np.ndarray:
    """Combine (m, P) client updates into one (P,) update with one of :data:`AGGREGATION_RULES`.

    Parameters
    ----------
    updates : ndarray (m, P)
    rule : "fedavg" (weighted by n_examples, plain mean if None), "median", "trimmed_mean", "clipped_mean"
    n_examples : m counts for "fedavg"
    trim : int, values dropped at each end per coordinate for "trimmed_mean" (2 * trim < m)
    clip_norm : float > 0, S for "clipped_mean"
    """
    check_choice("rule", rule, AGGREGATION_RULES)
    u = _updates(updates)
    if rule == "fedavg":
        counts = np.ones(len(u), dtype=np.int64) if n_examples is None else n_examples
        return np.asarray(weighted_average(u, counts), dtype=np.float64)
    if rule == "median":
        return np.asarray(coordinate_median(u), dtype=np.float64)
    if rule == "trimmed_mean":
        return np.asarray(trimmed_mean(u, trim), dtype=np.float64)
    return clipped_mean(u, clip_norm)


def attacker_shift(honest_updates: np.ndarray, attacker_update: np.ndarray, rule: str, **kwargs) -> float:
    """How far one attacker moves the aggregate: ||agg(honest + attacker) - agg(honest + honest twin)||.

    The reference replaces the attacker by an honest client (a copy of the honest mean), so
    that the number measures the attack, not the change in m. Against this baseline the
    clipped mean moves by at most 2 S / m (the attacker's update and the honest one it replaces
    can each be up to S long).

    Parameters
    ----------
    honest_updates : ndarray (m - 1, P)
    attacker_update : ndarray (P,)
    rule, kwargs : as in :func:`aggregate_updates` (plain, unweighted counts)

    Returns
    -------
    float, an L2 distance.
    """
    honest = _updates(honest_updates)
    attacker = np.asarray(attacker_update, dtype=np.float64)
    if attacker.shape != honest.shape[1:]:
        raise ValueError(f"attacker_update must have shape ({honest.shape[1]},), got {attacker.shape}")
    attacked = aggregate_updates(np.vstack([honest, attacker]), rule, **kwargs)
    reference = aggregate_updates(np.vstack([honest, honest.mean(axis=0)]), rule, **kwargs)
    return float(np.linalg.norm(attacked - reference))


# -- a federation with one attacker ------------------------------------------------------------
@dataclass
class PoisoningRun:
    """Test accuracy per round of one federation with attackers.

    Attributes
    ----------
    attack, rule : str
    accuracy : ndarray (R,) or shorter, global model on the test set after each completed round
    attackers : tuple of client ids
    diverged_at : int or None, the 1-based round whose model became NaN or infinite (the run stopped)
    """

    attack: str
    rule: str
    accuracy: np.ndarray
    attackers: tuple
    diverged_at: int | None = None

    @property
    def final_accuracy(self) -> float:
        """The last model's test accuracy; 0 when the run diverged (a NaN model predicts nothing)."""
        return 0.0 if self.diverged_at is not None else float(self.accuracy[-1])

    def __repr__(self) -> str:
        end = (f"diverged in round {self.diverged_at}" if self.diverged_at is not None
               else f"final accuracy {self.final_accuracy:.3f}")
        return f"PoisoningRun({self.attack} vs {self.rule}: {end})"


def _poisoned(simulation: Simulation, attackers: tuple, attack: str, factor: float):
    """A ``transform_updates`` hook for :meth:`Simulation.run_round`: the attackers' rows of the
    round's updates (n, P) replaced by their poisoned updates."""
    def transform(updates: np.ndarray, clients: np.ndarray, round_index: int) -> np.ndarray:
        updates = updates.copy()
        for row, k in enumerate(clients):
            if int(k) not in attackers:
                continue
            if attack == "label_flip":          # the attacker trains on flipped labels instead
                c = simulation.config
                X, y = simulation.client_data(int(k))
                result = client_update(simulation.trainer, simulation.global_weights, X,
                                       flip_labels(y, simulation.dataset.n_classes), epochs=c.local_epochs,
                                       batch_size=c.batch_size, client_learning_rate=c.client_learning_rate,
                                       seed=c.seed, round_index=round_index, client_id=int(k))
                global_vector = flatten_weights(simulation.global_weights).astype(np.float64)
                updates[row] = flatten_weights(result.weights) - global_vector
            elif attack == "scaled":
                updates[row] = scaled_update(updates[row], factor)
            elif attack == "sign_flip":
                updates[row] = sign_flipped_update(updates[row], factor)
        return updates
    return transform


def run_poisoned_fedavg(config: FLConfig, attack: str = "sign_flip", rule: str = "fedavg",
                        n_attackers: int = 1, factor: float = 10.0, trim: int = 1,
                        clip_norm: float = 1.0, simulation: Simulation | None = None) -> PoisoningRun:
    """FedAvg rounds from :class:`Simulation`'s steps, with attackers and a chosen aggregation rule.

    Each round is :meth:`Simulation.run_round` with two hooks: the attackers (clients
    0..n_attackers-1, whenever sampled) replace their update by a poisoned one
    (``transform_updates``), and the updates are combined by ``rule`` (``aggregate``, the
    "fedavg" rule weighted by the clients' objective weights u_k); then ``server_update``
    and ``evaluate``. A round that turns the model NaN or infinite ends the run
    (``diverged_at``; ``accuracy`` holds the rounds before it).

    Parameters
    ----------
    config : FLConfig of the federation (the per-client engine is used)
    attack : one of :data:`ATTACKS`
    rule : one of :data:`AGGREGATION_RULES`
    n_attackers : int >= 0
    factor : float, the scale of "scaled" and "sign_flip"
    trim, clip_norm : parameters of "trimmed_mean" and "clipped_mean"
    simulation : reuse a Simulation built from ``config`` (saves its set-up); it is reset first

    Returns
    -------
    PoisoningRun
    """
    check_choice("attack", attack, ATTACKS)
    check_choice("rule", rule, AGGREGATION_RULES)
    n_attackers = check_int("n_attackers", n_attackers, minimum=0, maximum=config.n_clients)
    factor = check_positive("factor", factor)
    sim = simulation if simulation is not None else Simulation(config)
    sim.reset()
    attackers = tuple(range(n_attackers)) if attack != "none" else ()
    poison = _poisoned(sim, attackers, attack, factor)

    def combine(updates: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return aggregate_updates(updates, rule, n_examples=weights, trim=trim, clip_norm=clip_norm)

    accuracy, diverged_at = [], None
    for r in range(config.rounds):
        outcome = sim.run_round(r, transform_updates=poison, aggregate=combine)
        if outcome.diverged:        # the attack blew the model up: the run ends here and says so
            diverged_at = r + 1
            break
        accuracy.append(outcome.accuracy)
    return PoisoningRun(attack, rule, np.asarray(accuracy), attackers, diverged_at)


@dataclass(frozen=True)
class PoisoningSetting:
    """One federation with attackers, for :func:`run_poisoning_experiments` (the arguments of
    :func:`run_poisoned_fedavg`).

    Attributes
    ----------
    config : FLConfig; attack : one of :data:`ATTACKS`; rule : one of :data:`AGGREGATION_RULES`
    n_attackers : int >= 0, clients 0 .. n_attackers - 1 attack; factor : float > 0
    trim : int >= 0, with 2 trim < m (the clients per round) for "trimmed_mean"
    clip_norm : float > 0, S of "clipped_mean"
    """

    config: FLConfig
    attack: str = "sign_flip"
    rule: str = "fedavg"
    n_attackers: int = 1
    factor: float = 10.0
    trim: int = 1
    clip_norm: float = 1.0

    def __post_init__(self):
        if not isinstance(self.config, FLConfig):
            raise TypeError(f"config must be an FLConfig, got {type(self.config).__name__}")
        check_choice("attack", self.attack, ATTACKS)
        check_choice("rule", self.rule, AGGREGATION_RULES)
        object.__setattr__(self, "n_attackers", check_int("n_attackers", self.n_attackers, minimum=0,
                                                          maximum=self.config.n_clients))
        object.__setattr__(self, "factor", check_positive("factor", self.factor))
        object.__setattr__(self, "trim", check_int("trim", self.trim, minimum=0))
        object.__setattr__(self, "clip_norm", check_positive("clip_norm", self.clip_norm))


def _poisoning_member(sim: Simulation, setting: PoisoningSetting):
    """``sim``'s run with attackers as a member of a vectorised batch, and its RoundPlans."""
    c = sim.config
    plans = [sim.plan_round(r) for r in range(c.rounds)]
    if setting.rule == "trimmed_mean":
        fewest = min(int(np.count_nonzero(plan.arrived)) for plan in plans)
        if 2 * setting.trim >= fewest:
            raise ValueError(f"trim must be less than half the clients of every round ({fewest} in the smallest), "
                             f"got {setting.trim}")
    member = sim.batch_member(plans)
    attacking = setting.attack != "none" and setting.n_attackers > 0
    knobs = dict(member.knobs, aggregation_code=AGGREGATION_CODES[setting.rule], clip_norm=setting.clip_norm,
                 trim=setting.trim, attack_code=ATTACK_CODES[setting.attack] if attacking else 0,
                 attack_factor=setting.factor)
    attackers = np.arange(c.n_clients) < (setting.n_attackers if attacking else 0)
    return replace(member, knobs=knobs, client_attacker=attackers), plans


def run_poisoning_experiments(settings: Sequence[PoisoningSetting],
                              simulations: Sequence[Simulation] | None = None) -> list[PoisoningRun]:
    """Several federations with attackers together in the vectorised engine (one compiled call
    per model shape): each equals :func:`run_poisoned_fedavg` of its setting to float32
    tolerance (tests/test_poisoning.py).

    Parameters
    ----------
    settings : sequence of :class:`PoisoningSetting`
    simulations : optional Simulations built from the settings' configs (saves their set-up); reset first

    Returns
    -------
    list of PoisoningRun, in order. A model the vectorised engine does not serve runs through
    :func:`run_poisoned_fedavg`.
    """
    def record(setting: PoisoningSetting, answer: dict, plans) -> PoisoningRun:
        ran, diverged = answer["rounds_run"], answer["diverged"]
        attackers = tuple(range(setting.n_attackers)) if setting.attack != "none" else ()
        return PoisoningRun(setting.attack, setting.rule,
                            np.asarray(answer["accuracy"][:ran - 1 if diverged else ran], dtype=np.float64),
                            attackers, ran if diverged else None)

    def fallback(setting: PoisoningSetting, sim: Simulation) -> PoisoningRun:
        return run_poisoned_fedavg(setting.config, setting.attack, setting.rule, n_attackers=setting.n_attackers,
                                   factor=setting.factor, trim=setting.trim, clip_norm=setting.clip_norm,
                                   simulation=sim)

    return run_planned_settings(settings, simulations, member=_poisoning_member, record=record, fallback=fallback)
