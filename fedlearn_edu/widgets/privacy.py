"""Notebooks 09 (privacy) and 09b (secure aggregation and poisoning): the sliders' callbacks.

* :func:`compute_epsilon` / :func:`show_epsilon`: the ε of the RDP accountant for a sampling rate q,
  a number of rounds, a noise multiplier z and a δ; accounting only, no training, instant.
* :func:`compute_dp_tradeoff` / :func:`show_dp_tradeoff`: DP-FedAvg at a noise multiplier z and
  clip norm S (plus clients and learning rate), its ε, and where it sits on the accuracy-against-ε
  curve of the default setting.
* :func:`compute_poisoning` / :func:`show_poisoning`: one attacker against FedAvg, the median,
  the trimmed mean and the clipped mean.

``compute_*`` return numbers and never draw; ``show_*`` call them, draw, and return the same numbers.
Runs are cached, so moving a slider back costs nothing.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_float, check_int, check_positive
from ..i18n import N_, tr, tr_figure
from ..memory import RunMemory
from ..poisoning import AGGREGATION_RULES, PoisoningRun, PoisoningSetting, run_poisoning_experiments
from ..privacy import DPRun, DPSetting, dp_epsilon_curve, run_dp_experiments
from ..simulation import FLConfig, Simulation
from ..style import pyplot

__all__ = ["EPSILON_PRESETS", "EPSILON_LIMITS", "EpsilonBudget", "compute_epsilon", "show_epsilon", "DP_PRESETS",
           "POISONING_PRESETS", "DP_SAMPLING_PROBABILITY", "DP_ROUNDS", "DP_DELTA", "REFERENCE_NOISE_MULTIPLIERS",
           "dp_config",
           "DPTradeoff", "compute_dp_tradeoff", "privacy_curve", "show_dp_tradeoff", "PoisoningStudy",
           "compute_poisoning", "show_poisoning"]

DP_SAMPLING_PROBABILITY = 0.2
DP_ROUNDS = 15
DP_DELTA = 1e-5            # much smaller than 1 / K: delta * K <= 0.004 for every K the slider allows (K <= 400)
REFERENCE_NOISE_MULTIPLIERS = (0.5, 1.0, 2.0, 4.0, 8.0)
POISONING_ROUNDS = 15
_DEFAULT = dict(clip_norm=0.5, n_clients=50, client_learning_rate=0.5)
NO_CLIPPING = 1e9


# -- the ε accountant alone (notebook 09) ----------------------------------------------------------
#: presets of the accounting panel (each changes only what it names; the rest stays at the notebook's values)
EPSILON_PRESETS: dict[str, dict] = {
    "the notebook's defaults": {},
    "every client every round: q = 1": dict(sampling_probability=1.0),
    "more rounds: 500": dict(rounds=500),
    "a stricter δ = 1e-7": dict(delta=1e-7),
    "little noise: z = 0.5": dict(noise_multiplier=0.5),
}
#: the accounting sliders' ranges (notebook 09's parameters cell states the same)
EPSILON_LIMITS = dict(sampling_probability=(0.01, 1.0), rounds=(1, 500), noise_multiplier=(0.0, 8.0),
                      delta=(1e-9, 1e-3))


@dataclass
class EpsilonBudget:
    """What :func:`compute_epsilon` computed.

    Attributes
    ----------
    epsilon : float, ε after ``rounds`` rounds (inf without noise)
    rounds : ndarray of int, the rounds of the curve (1 .. the chosen number of rounds)
    curve : ndarray, ε after each of them
    reference : ndarray, ε of the DP-FedAvg runs' setting (q = 0.2, z = 1, δ = 1e-5) at the same rounds
    sampling_probability, noise_multiplier, delta : q, z, δ
    """

    epsilon: float
    rounds: np.ndarray
    curve: np.ndarray
    reference: np.ndarray
    sampling_probability: float
    noise_multiplier: float
    delta: float

    def __repr__(self) -> str:
        return (f"EpsilonBudget(q={self.sampling_probability:g}, {int(self.rounds[-1])} rounds, "
                f"z={self.noise_multiplier:g}, delta={self.delta:g}: epsilon={self.epsilon:.3g})")


def compute_epsilon(sampling_probability: float = DP_SAMPLING_PROBABILITY, rounds: int = DP_ROUNDS,
                    noise_multiplier: float = 1.0, delta: float = DP_DELTA) -> EpsilonBudget:
    """ε of the RDP accountant after 1 .. ``rounds`` rounds of Poisson sampling at rate q with
    Gaussian noise z; no training, no drawing.

    Parameters
    ----------
    sampling_probability : float in [0.01, 1], q (the fraction of clients in a round, on average)
    rounds : int in [1, 500]
    noise_multiplier : float in [0, 8], z (0: ε = inf)
    delta : float in [1e-9, 1e-3], δ
    """
    (q_low, q_high), (r_low, r_high), (z_low, z_high), (d_low, d_high) = (
        EPSILON_LIMITS[name] for name in ("sampling_probability", "rounds", "noise_multiplier", "delta"))
    q = check_float("sampling_probability", sampling_probability, low=q_low, high=q_high)
    rounds = check_int("rounds", rounds, minimum=r_low, maximum=r_high)
    z = check_float("noise_multiplier", noise_multiplier, low=z_low, high=z_high)
    delta = check_float("delta", delta, low=d_low, high=d_high)
    grid = np.unique(np.round(np.linspace(1, rounds, 40)).astype(int))
    curve = dp_epsilon_curve(z, q, grid, delta)
    reference = dp_epsilon_curve(1.0, DP_SAMPLING_PROBABILITY, grid, DP_DELTA)
    return EpsilonBudget(epsilon=float(curve[-1]), rounds=grid, curve=curve, reference=reference,
                         sampling_probability=q, noise_multiplier=z, delta=delta)


def show_epsilon(sampling_probability: float = DP_SAMPLING_PROBABILITY, rounds: int = DP_ROUNDS,
                 noise_multiplier: float = 1.0, delta: float = DP_DELTA) -> EpsilonBudget:
    """Slider callback: print ε and draw ε against the round, with the DP-FedAvg runs' setting for comparison."""
    plt = pyplot()
    b = compute_epsilon(sampling_probability, rounds, noise_multiplier, delta)
    after_one = "∞" if not np.isfinite(b.curve[0]) else f"{b.curve[0]:.3g}"
    total = tr("∞ (no noise: no guarantee)") if not np.isfinite(b.epsilon) else f"{b.epsilon:.3g}"
    after_all = (tr("after {rounds} rounds {epsilon}") if rounds > 1 else tr("after {rounds} round {epsilon}"))
    print(f"q = {b.sampling_probability:g}, z = {b.noise_multiplier:g}, δ = {b.delta:g}" + tr(": ")
          + tr("ε after 1 round {epsilon}").format(epsilon=after_one) + tr(", ")
          + after_all.format(rounds=rounds, epsilon=total))
    fig, ax = plt.subplots(figsize=(6, 3.3))
    if np.isfinite(b.epsilon):
        ax.plot(b.rounds, b.curve, color="C0", linewidth=3, label=tr_figure("your setting"))
        ax.plot([b.rounds[-1]], [b.epsilon], "o", color="C0")
    ax.plot(b.rounds, b.reference, color="gray", linestyle="--",
            label=f"q = {DP_SAMPLING_PROBABILITY:g}, z = 1, δ = {DP_DELTA:g} " + tr_figure("(the DP-FedAvg runs)"))
    ax.set(xlabel=tr_figure("rounds"), ylabel=tr_figure("ε (smaller = more private)"), ylim=(0, None),
           title=tr_figure("Privacy spent, ε, against the number of rounds"))
    ax.legend(loc="best")
    plt.show()
    return b


#: presets of the DP-FedAvg training panel
DP_PRESETS: dict[str, dict] = {
    N_("clipping only, no noise: z = 0"): dict(noise_multiplier=0.0),
    N_("strong privacy: z = 8"): dict(noise_multiplier=8.0),
    N_("strong privacy with many clients: z = 8, K = 200"): dict(noise_multiplier=8.0, n_clients=200),
    N_("tight clipping: S = 0.1"): dict(clip_norm=0.1),
    N_("small steps: η_l = 0.1"): dict(client_learning_rate=0.1),
}


def dp_config(n_clients: int = 50, client_learning_rate: float = 0.5, seed: int = 0) -> FLConfig:
    """The federation of the DP experiments: the article's data over K clients (n_k = 800 / K),
    q = 0.2, 15 rounds, one full-batch local epoch, a 16-unit hidden layer."""
    n_clients = check_int("n_clients", n_clients, minimum=20, maximum=400)
    client_learning_rate = check_positive("client_learning_rate", client_learning_rate)
    return FLConfig(n_clients=n_clients, fraction=DP_SAMPLING_PROBABILITY, rounds=DP_ROUNDS,
                    client_learning_rate=client_learning_rate, hidden_units=(16,), batch_size=None, seed=seed)


@functools.lru_cache(maxsize=8)
def _simulation(config: FLConfig) -> Simulation:
    return Simulation(config)


#: the DP and poisoning panels' runs, by the panel's values (a slider that comes back answers at once)
_RUNS = RunMemory("privacy panels", 256)


def _dp_runs(keys: list[tuple]) -> list[DPRun]:
    """DP-FedAvg runs for keys ("dp", z, S, K, eta_l), all missing ones in one batched call."""
    def run_missing(missing):
        settings = [DPSetting(dp_config(n_clients, lr), z, clip_norm, DP_DELTA) for _, z, clip_norm, n_clients, lr
                    in missing]
        return run_dp_experiments(settings, [_simulation(setting.config) for setting in settings])
    return _RUNS.answers(keys, run_missing)


def _dp_key(noise_multiplier: float, clip_norm: float, n_clients: int, client_learning_rate: float) -> tuple:
    return ("dp", float(noise_multiplier), float(clip_norm), int(n_clients), float(client_learning_rate))


def privacy_curve(noise_multipliers=REFERENCE_NOISE_MULTIPLIERS, clip_norm: float = 0.5,
                  n_clients: int = 50, client_learning_rate: float = 0.5) -> list[DPRun]:
    """DP-FedAvg runs at several noise multipliers (same S, K, learning rate), one DPRun each,
    trained together."""
    clip_norm = check_positive("clip_norm", clip_norm)
    return _dp_runs([_dp_key(check_float("noise_multiplier", z, low=0.0), clip_norm, n_clients, client_learning_rate)
                     for z in noise_multipliers])


@dataclass
class DPTradeoff:
    """What :func:`compute_dp_tradeoff` measured.

    Attributes
    ----------
    run : DPRun at the chosen z and S
    non_private : DPRun with no noise and no clipping (same clients and rounds)
    reference : list of DPRun, the default setting (S = 0.5, K = 50, lr = 0.5) at
        :data:`REFERENCE_NOISE_MULTIPLIERS`
    """

    run: DPRun
    non_private: DPRun
    reference: list

    @property
    def accuracy_cost(self) -> float:
        """Accuracy lost to DP (non-private minus private, mean of the last 5 rounds)."""
        return self.non_private.late_accuracy - self.run.late_accuracy

    def __repr__(self) -> str:
        return (f"DPTradeoff(epsilon={self.run.epsilon:.3g}, accuracy {self.run.late_accuracy:.3f} "
                f"vs {self.non_private.late_accuracy:.3f} without DP)")


def compute_dp_tradeoff(noise_multiplier: float = 1.0, clip_norm: float = 0.5, n_clients: int = 50,
                        client_learning_rate: float = 0.5) -> DPTradeoff:
    """DP-FedAvg at (z, S, K, lr) against the non-private run; no drawing.

    Parameters
    ----------
    noise_multiplier : float in [0, 10], z (0: clipping only, ε = inf)
    clip_norm : float in (0, 10], S
    n_clients : int in [20, 400], K (q = 0.2, so m = 0.2 K clients per round on average)
    client_learning_rate : float > 0
    """
    z = check_float("noise_multiplier", noise_multiplier, low=0.0, high=10.0)
    clip_norm = check_float("clip_norm", clip_norm, low=0.0, high=10.0, low_inclusive=False)
    n_clients = check_int("n_clients", n_clients, minimum=20, maximum=400)
    lr = check_positive("client_learning_rate", client_learning_rate)
    reference = [_dp_key(z_ref, _DEFAULT["clip_norm"], _DEFAULT["n_clients"], _DEFAULT["client_learning_rate"])
                 for z_ref in REFERENCE_NOISE_MULTIPLIERS]
    # the chosen setting, the non-private run and the reference curve: whatever is new trains in one call
    runs = _dp_runs([_dp_key(z, clip_norm, n_clients, lr), _dp_key(0.0, NO_CLIPPING, n_clients, lr)] + reference)
    return DPTradeoff(run=runs[0], non_private=runs[1], reference=runs[2:])


def show_dp_tradeoff(noise_multiplier: float = 1.0, clip_norm: float = 0.5, n_clients: int = 50,
                     client_learning_rate: float = 0.5) -> DPTradeoff:
    """Slider callback: print ε and accuracies, draw accuracy per round and accuracy against ε."""
    plt = pyplot()
    t = compute_dp_tradeoff(noise_multiplier, clip_norm, n_clients, client_learning_rate)
    r = t.run
    print(tr("K={clients}, q={q} (m={m}), {rounds} rounds, z={z}, S={clip}: noise std per coordinate {std}").format(
        clients=n_clients, q=f"{r.sampling_probability:g}", m=f"{r.expected_clients:g}", rounds=len(r.accuracy),
        z=f"{r.noise_multiplier:g}", clip=f"{r.clip_norm:g}", std=f"{r.noise_std:.4f}"))
    print(tr("epsilon = {epsilon} at delta = {delta}; accuracy over the last 5 rounds {accuracy} (no DP: {plain}); "
             "{clipped} of updates clipped").format(
        epsilon=f"{r.epsilon:.3g}", delta=f"{r.delta:.0e}", accuracy=f"{r.late_accuracy:.3f}",
        plain=f"{t.non_private.late_accuracy:.3f}", clipped=f"{r.clipped_fraction:.0%}"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.3))
    rounds = np.arange(1, len(r.accuracy) + 1)
    left.plot(rounds, t.non_private.accuracy, color="gray", label=tr_figure("no DP"))
    left.plot(rounds, r.accuracy, color="C3", label=f"DP, z={r.noise_multiplier:g}, S={r.clip_norm:g}")
    left.set(xlabel=tr_figure("round"), ylabel=tr_figure("test accuracy"), ylim=(0, 1),
             title=tr_figure("Test accuracy per round"))
    left.legend(loc="lower right")
    eps = [run.epsilon for run in t.reference]
    right.plot(eps, [run.late_accuracy for run in t.reference], "o-", color="lightgray",
               label=tr_figure("default S, K, lr; z = {values}").format(
                   values=", ".join(f"{run.noise_multiplier:g}" for run in t.reference)))
    if np.isfinite(r.epsilon):
        right.plot([r.epsilon], [r.late_accuracy], "o", color="C3", label=tr_figure("your setting"))
    right.axhline(t.non_private.late_accuracy, color="gray", linestyle="--", label=tr_figure("no DP (epsilon = inf)"))
    right.set(xscale="log", xlabel=tr_figure("epsilon (smaller = more private)"),
              ylabel=tr_figure("test accuracy, last 5 rounds"), ylim=(0, 1),
              title=tr_figure("Accuracy against privacy"))
    right.legend(loc="lower right")
    plt.show()
    return t


# -- poisoning (notebook 09b) ---------------------------------------------------------------------
#: presets of the poisoning panel
POISONING_PRESETS: dict[str, dict] = {
    N_("a stronger attacker: factor 50"): dict(factor=50.0),
    N_("a scaled update, not flipped"): dict(attack="scaled"),
    N_("a label flipper"): dict(attack="label_flip"),
    N_("few clients: K = 3"): dict(n_clients=3),
    N_("a large learning rate: η_l = 1"): dict(client_learning_rate=1.0),
}


@dataclass
class PoisoningStudy:
    """One attacker against each aggregation rule.

    Attributes
    ----------
    runs : dict {rule: PoisoningRun} with the attacker
    clean : PoisoningRun, FedAvg without any attacker
    attack : str; factor : float
    """

    runs: dict
    clean: PoisoningRun
    attack: str
    factor: float

    def final_accuracy(self, rule: str) -> float:
        return self.runs[rule].final_accuracy

    def __repr__(self) -> str:
        parts = ", ".join(f"{rule} {run.final_accuracy:.3f}" for rule, run in self.runs.items())
        return f"PoisoningStudy({self.attack} x{self.factor:g}: {parts}; clean {self.clean.final_accuracy:.3f})"


def _poison_runs(keys: list[tuple]) -> list[PoisoningRun]:
    """Runs for keys ("poison", attack, rule, factor, K, eta_l), all missing ones in one batched call
    (client 0 attacks; trimmed mean trim 1; clipped mean S = 1)."""
    def run_missing(missing):
        settings = [PoisoningSetting(FLConfig(n_clients=n_clients, rounds=POISONING_ROUNDS,
                                              client_learning_rate=lr), attack, rule, factor=factor, clip_norm=1.0)
                    for _, attack, rule, factor, n_clients, lr in missing]
        return run_poisoning_experiments(settings, [_simulation(setting.config) for setting in settings])
    return _RUNS.answers(keys, run_missing)


def compute_poisoning(factor: float = 10.0, n_clients: int = 10, client_learning_rate: float = 0.1,
                      attack: str = "sign_flip") -> PoisoningStudy:
    """Client 0 attacks a federation of ``n_clients`` (all take part every round, 15 rounds, the
    article's data); FedAvg, median, trimmed mean (trim 1) and clipped mean (S = 1); no drawing.

    Parameters
    ----------
    factor : float in (0, 100], the attacker's scale ("scaled", "sign_flip")
    n_clients : int in [3, 40]
    client_learning_rate : float > 0
    attack : "scaled", "sign_flip" or "label_flip"
    """
    factor = check_float("factor", factor, low=0.0, high=100.0, low_inclusive=False)
    n_clients = check_int("n_clients", n_clients, minimum=3, maximum=40)
    lr = check_positive("client_learning_rate", client_learning_rate)
    check_choice("attack", attack, ("scaled", "sign_flip", "label_flip"))
    keys = [("poison", attack, rule, factor, n_clients, lr) for rule in AGGREGATION_RULES]
    # the four rules under attack and the clean run: whatever is new trains in one call
    runs = _poison_runs(keys + [("poison", "none", "fedavg", 1.0, n_clients, lr)])
    return PoisoningStudy(runs=dict(zip(AGGREGATION_RULES, runs[:-1], strict=True)), clean=runs[-1],
                          attack=attack, factor=factor)


def show_poisoning(factor: float = 10.0, n_clients: int = 10, client_learning_rate: float = 0.1,
                   attack: str = "sign_flip") -> PoisoningStudy:
    """Slider callback: print and draw each rule's test accuracy per round under the attack."""
    plt = pyplot()
    study = compute_poisoning(factor, n_clients, client_learning_rate, attack)
    print(tr("1 attacker ({attack}, factor {factor}) among {clients} clients; final test accuracy:").format(
        attack=attack, factor=f"{factor:g}", clients=n_clients))
    print("  " + ";  ".join(f"{rule} " + (tr("diverged in round {round}").format(round=run.diverged_at)
                                          if run.diverged_at else f"{run.final_accuracy:.3f}")
                            for rule, run in study.runs.items())
          + ";  " + tr("no attacker {accuracy}").format(accuracy=f"{study.clean.final_accuracy:.3f}"))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    rounds = np.arange(1, len(study.clean.accuracy) + 1)
    ax.plot(rounds, study.clean.accuracy, color="gray", linestyle="--", label=tr_figure("FedAvg, no attacker"))
    for rule, run in study.runs.items():        # a diverged run's curve ends where it blew up
        ax.plot(rounds[:len(run.accuracy)], run.accuracy, label=rule if run.diverged_at is None
                else tr_figure("{rule} (diverged in round {round})").format(rule=rule, round=run.diverged_at))
    ax.set(xlabel=tr_figure("round"), ylabel=tr_figure("test accuracy"), ylim=(0, 1),
           title=tr_figure("One attacker ({attack}, factor {factor}) among {clients} clients").format(
               attack=attack, factor=f"{factor:g}", clients=n_clients))
    ax.legend(loc="lower right")
    plt.show()
    return study
