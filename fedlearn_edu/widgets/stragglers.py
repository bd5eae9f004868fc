"""Notebook 13: devices, deadlines and stragglers, in accuracy against simulated time.

With ``FLConfig(devices=True)`` every client gets a device profile (compute speed,
link speed, chance of dropping out; :mod:`fedlearn_edu.devices`) and every round a
simulated duration (``History.simulated_seconds``): as long as its slowest kept
client, or the deadline. Three answers to slow devices (:data:`POLICIES`):

* wait for all -- no deadline;
* drop stragglers -- a deadline; updates that miss it are ignored (as in production systems,
  Bonawitz et al. 2019, and the FedAvg baseline of Li et al. 2020);
* accept partial work -- a deadline; a straggler sends the local steps it finished (FedProx).

Functions:

* :func:`compute_round_times` -- each client's time for one round; the slowest sets the pace;
* :func:`compute_devices` -- the slider callback: the three policies at one setting;
* :func:`correlate_profiles` -- the same devices, re-dealt so that the slow ones hold given
  classes (speed correlated with data, the case where dropping stragglers biases the model).

Runs are cached on (FLConfig, correlated).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from .._validate import check_float, check_int, check_positive, check_seed
from ..batch import run_simulations
from ..client import LocalTrainer
from ..data import cached_dataset
from ..devices import DeviceProfile, plan_round
from ..i18n import N_, tr, tr_figure
from ..memory import RunMemory
from ..model import build_model
from ..simulation import BYTES_PER_PARAMETER, FLConfig, History, Simulation
from ..style import pyplot
from .non_iid import format_reached
from .tables import diverged_row as _diverged_row
from .tables import never_or as _never_or
from .tables import table_header as _header
from .tables import table_row as _table_row

__all__ = ["POLICIES", "SLOW_CLASSES", "policy_fields", "base_config", "correlate_profiles", "make_simulation",
           "run_devices", "RoundTimes", "compute_round_times", "show_round_times", "DevicesResult",
           "compute_devices", "PRESETS", "show_devices", "compute_over_seeds", "seeds_table"]

#: the three answers to slow devices, in the order of every table and figure
POLICIES = (N_("wait for all"), N_("drop stragglers"), N_("accept partial work"))

#: the digits the slow devices hold when speed is correlated with data
SLOW_CLASSES = (5, 6, 7, 8, 9)

_COLORS = {"wait for all": "C0", "drop stragglers": "C1", "accept partial work": "C2"}
#: each policy's name under its bar, on two lines
_TICK_LABELS = {"wait for all": N_("wait\nfor all"), "drop stragglers": N_("drop\nstragglers"),
                "accept partial work": N_("accept\npartial work")}














def _data_note(correlated: bool) -> str:
    """How device speed relates to the data, for a table's first line."""
    return tr("slow devices hold digits 5-9") if correlated else tr("speed independent of data")


def policy_fields(policy: str, deadline: float) -> dict:
    """The FLConfig fields of one policy (``deadline`` in simulated seconds, unused by "wait for all")."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(map(repr, POLICIES))}, got {policy!r}")
    deadline = check_positive("deadline", deadline)
    return {"wait for all": {"deadline": None},
            "drop stragglers": {"deadline": deadline, "straggler_policy": "drop"},
            "accept partial work": {"deadline": deadline, "straggler_policy": "partial"}}[policy]


def base_config(n_clients: int = 20, client_learning_rate: float = 0.1, speed_spread: float = 1.0,
                dropout: float = 0.0, *, partition: str = "shards", alpha: float = 0.1, local_epochs: int = 2,
                rounds: int = 30, seed: int = 0) -> FLConfig:
    """FedAvg on digits with simulated devices, every client sampled each round.

    ``partition`` "shards" (default) gives every client two label shards of equal size, so
    a client's time depends on its device alone; "dirichlet" uses ``alpha``."""
    n_train = len(cached_dataset("digits").y_train)
    return FLConfig(n_clients=check_int("n_clients", n_clients, minimum=1, maximum=n_train // 2), rounds=rounds,
                    local_epochs=local_epochs, client_learning_rate=client_learning_rate, partition=partition,
                    alpha=alpha, dataset="digits", seed=seed, devices=True, speed_spread=speed_spread,
                    dropout=dropout)


def correlate_profiles(profiles: Sequence[DeviceProfile], label_counts: np.ndarray,
                       slow_classes: Sequence[int] = SLOW_CLASSES) -> list[DeviceProfile]:
    """The same devices dealt again so that speed follows the data: the client with the largest
    share of ``slow_classes`` gets the slowest device, and so on.

    The set of profiles (so the spread of speeds) is unchanged; only who gets which changes.
    Slowness is ranked by the time per example plus per byte (1/compute + 1/link).

    Parameters
    ----------
    profiles : one DeviceProfile per client
    label_counts : ndarray (K, n_classes)
    slow_classes : class labels held by the slow devices
    """
    counts = np.asarray(label_counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != len(profiles):
        raise ValueError(f"label_counts must have one row per profile ({len(profiles)}), got shape {counts.shape}")
    classes = [check_int("slow_classes", c, minimum=0, maximum=counts.shape[1] - 1) for c in slow_classes]
    share = counts[:, classes].sum(axis=1) / np.maximum(counts.sum(axis=1), 1)
    slowest_first = sorted(profiles, key=lambda p: -(1 / p.examples_per_second + 1 / p.bytes_per_second))
    dealt: list[DeviceProfile | None] = [None] * len(profiles)
    for k, profile in zip(np.argsort(-share, kind="stable"), slowest_first, strict=True):
        dealt[int(k)] = profile
    return dealt


def make_simulation(config: FLConfig, correlated: bool = False) -> Simulation:
    """A Simulation of ``config``; with ``correlated`` its device profiles follow the data
    (see :func:`correlate_profiles`)."""
    sim = Simulation(config, dataset=cached_dataset(config.dataset))
    if correlated:
        if sim.device_profiles is None:
            raise ValueError("correlated=True needs simulated devices (FLConfig.devices=True)")
        sim.device_profiles = correlate_profiles(sim.device_profiles, sim.label_counts)
    return sim


def run_devices(config: FLConfig, correlated: bool = False) -> tuple[History, np.ndarray]:
    """Run ``config`` (cached) and return its History and the final model's test accuracy per
    class, shape (n_classes,). The History is shared between callers: do not change it."""
    return run_devices_together((config,), correlated)[0]


def run_devices_together(configs: Sequence[FLConfig], correlated: bool = False) -> list[tuple[History, np.ndarray]]:
    """:func:`run_devices` for several configs, the ones not cached yet in one batched call
    (:func:`fedlearn_edu.batch.run_simulations`)."""
    def run_missing(missing: list) -> list:
        sims = [make_simulation(config, correlated) for config, _ in missing]
        answers = []
        for (config, _), sim, history in zip(missing, sims, run_simulations(sims, progress=False), strict=True):
            d = sim.dataset
            trainer = _evaluator(d.n_features, d.n_classes, config.hidden_units, config.activation)
            per_class = np.array([trainer.evaluate(history.final_weights, d.X_test[d.y_test == c],
                                                   d.y_test[d.y_test == c])[1] for c in range(d.n_classes)])
            answers.append((history, per_class))
        return answers

    return _DEVICE_RUNS.answers([(config, correlated) for config in configs], run_missing)


#: run_devices' answers (History, per-class accuracy), by (config, correlated)
_DEVICE_RUNS = RunMemory("devices panels", 512)


@lru_cache(maxsize=8)
def _evaluator(n_features: int, n_classes: int, hidden_units: tuple, activation: str) -> LocalTrainer:
    """One compiled evaluator per architecture (its model's own weights are never used)."""
    return LocalTrainer(build_model(n_features, n_classes, hidden_units, activation))


# -- one round: the slowest device sets the pace ----------------------------------------------

@dataclass
class RoundTimes:
    """Simulated seconds each client needs for a full round (download, E epochs, upload).

    Attributes
    ----------
    seconds : ndarray (K,), per client, in client order
    round_seconds : float, the round's duration: the slowest client, or the deadline
    deadline : float or None
    speed_spread : float
    """

    seconds: np.ndarray
    round_seconds: float
    deadline: float | None
    speed_spread: float

    @property
    def stragglers(self) -> int:
        """Clients over the deadline (0 without one)."""
        return 0 if self.deadline is None else int(np.sum(self.seconds > self.deadline))

    def summary(self) -> str:
        s = np.sort(self.seconds)
        deadline = (tr("no deadline") if self.deadline is None
                    else tr("deadline {deadline} s, {stragglers} stragglers").format(
                        deadline=f"{self.deadline:g}", stragglers=self.stragglers))
        return tr("speed spread {spread}: fastest client {fastest} s, median {median} s, slowest {slowest} s; "
                  "{deadline}; the round lasts {round} s").format(
            spread=f"{self.speed_spread:g}", fastest=f"{s[0]:.1f}", median=f"{np.median(s):.1f}",
            slowest=f"{s[-1]:.1f}", deadline=deadline, round=f"{self.round_seconds:.1f}")


def compute_round_times(speed_spread: float = 1.0, n_clients: int = 20, deadline: float | None = None, *,
                        correlated: bool = False, seed: int = 0) -> RoundTimes:
    """Each client's simulated time for round 1 (no dropouts), and the round's duration; no drawing."""
    config = base_config(n_clients, speed_spread=check_float("speed_spread", speed_spread, low=0.0),
                         seed=check_seed("seed", seed))
    if deadline is not None:
        deadline = check_positive("deadline", deadline)
    sim = make_simulation(config, correlated)
    model_bytes = sim.n_parameters * BYTES_PER_PARAMETER
    seconds = np.array([plan_round(sim.device_profiles, [k], batch_sizes={k: sim.local_batch_sizes(k)},
                                   model_bytes=model_bytes, upload_bytes=model_bytes).seconds
                        for k in range(config.n_clients)])
    clients = sim.sample_clients(0)
    round_seconds = plan_round(sim.device_profiles, clients,
                               batch_sizes={int(k): sim.local_batch_sizes(int(k)) for k in clients},
                               model_bytes=model_bytes, upload_bytes=model_bytes, deadline=deadline).seconds
    return RoundTimes(seconds, float(round_seconds), deadline, float(speed_spread))


def show_round_times(speed_spread: float = 1.0, n_clients: int = 20, deadline: float | None = None, *,
                     correlated: bool = False, seed: int = 0) -> RoundTimes:
    """:func:`compute_round_times`, a summary, and one bar per client (sorted), with the deadline."""
    result = compute_round_times(speed_spread, n_clients, deadline, correlated=correlated, seed=seed)
    print(result.summary())
    plt = pyplot()
    _, ax = plt.subplots(figsize=(6, 3.2))
    s = np.sort(result.seconds)
    colors = ["C3" if result.deadline is not None and t > result.deadline else "C0" for t in s]
    ax.bar(np.arange(len(s)), s, color=colors)
    ax.axhline(result.round_seconds, color="black", linestyle="--", linewidth=1, label=tr_figure("round duration"))
    if result.deadline is not None:
        ax.axhline(result.deadline, color="C3", linestyle=":", linewidth=1, label=tr_figure("deadline"))
    ax.set_xticks(np.arange(len(s)) if len(s) <= 25 else np.arange(0, len(s), 5))
    ax.set_xlabel(tr_figure("clients, fastest to slowest"))
    ax.set_ylabel(tr_figure("simulated seconds"))
    if result.deadline is None:
        title = tr_figure("round 1: {devices} devices, speed spread σ = {spread}")
    else:
        title = tr_figure("round 1: {devices} devices, speed spread σ = {spread}, deadline {deadline} s")
    ax.set_title(title.format(devices=len(s), spread=f"{result.speed_spread:g}",
                              deadline=None if result.deadline is None else f"{result.deadline:g}"))
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    plt.show()
    return result


# -- the slider callback: three policies ------------------------------------------------------

@dataclass
class DevicesResult:
    """The three policies on one federation with devices (one seed).

    Attributes
    ----------
    config : FLConfig of the "wait for all" run
    deadline : float, seconds (drop and partial)
    correlated : bool, slow devices hold :data:`SLOW_CLASSES`
    target : float
    rounds : dict policy -> int or None, first round at the target
    minutes : dict policy -> float or None, simulated minutes until the target
    total_minutes : dict policy -> float, simulated minutes of the whole run
    final_accuracy : dict policy -> float
    slow_class_accuracy, fast_class_accuracy : dict policy -> float, final test accuracy on
        :data:`SLOW_CLASSES` and on the other classes
    per_class : dict policy -> ndarray (n_classes,)
    participants : dict policy -> float, mean number of updates per round that reach the server
    diverged_at : dict policy -> int or None
    curves : dict policy -> (cumulative simulated minutes, accuracy), from round 0
    """

    config: FLConfig
    deadline: float
    correlated: bool
    target: float
    rounds: dict
    minutes: dict
    total_minutes: dict
    final_accuracy: dict
    slow_class_accuracy: dict
    fast_class_accuracy: dict
    per_class: dict = field(repr=False)
    participants: dict = field(repr=False)
    diverged_at: dict = field(repr=False)
    curves: dict = field(repr=False)

    def summary(self) -> str:
        c = self.config
        split = f"Dir({c.alpha:g})" if c.partition == "dirichlet" else c.partition
        header, widths = _header([("policy", tr("policy")), ("updates", tr("updates")), ("rounds", tr("rounds")),
                                  ("minutes", tr("minutes")), ("total min", tr("total min")), ("final", tr("final")),
                                  ("acc 0-4", tr("acc 0-4")), ("acc 5-9", tr("acc 5-9"))], (20, 7, 6, 7, 9, 6, 7, 7))
        lines = [tr("K={clients} clients, {split}, E={epochs}, client lr {rate}, speed spread {spread}, dropout "
                    "{dropout}, deadline {deadline} s; {data}").format(
                     clients=c.n_clients, split=split, epochs=c.local_epochs, rate=f"{c.client_learning_rate:.3g}",
                     spread=f"{c.speed_spread:g}", dropout=f"{c.dropout:.2f}", deadline=f"{self.deadline:g}",
                     data=_data_note(self.correlated)),
                 header]
        for p in self.rounds:
            if self.diverged_at[p] is not None:
                lines.append(_diverged_row(tr(p), widths[0], self.diverged_at[p]))
                continue
            lines.append(_table_row([tr(p), f"{self.participants[p]:.1f}", format_reached(self.rounds[p], c.rounds),
                                     _never_or(self.minutes[p], ".1f"), f"{self.total_minutes[p]:.1f}",
                                     f"{self.final_accuracy[p]:.3f}", f"{self.fast_class_accuracy[p]:.3f}",
                                     f"{self.slow_class_accuracy[p]:.3f}"], widths))
        lines.append(tr("(updates: mean per round; minutes: simulated, to {target})").format(
            target=f"{self.target:.0%}"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def compute_devices(dropout: float = 0.0, deadline: float = 5.0, speed_spread: float = 1.0, n_clients: int = 20,
                    client_learning_rate: float = 0.1, *, correlated: bool = False, rounds: int = 30,
                    target: float = 0.9, seed: int = 0, policies: Sequence[str] = POLICIES) -> DevicesResult:
    """The three policies with the slider values; no drawing. Cached on the arguments.

    Loops over ``policies`` only (default the three :data:`POLICIES`), one seed: one run per policy,
    ``run_devices(base_config(n_clients, client_learning_rate, speed_spread, dropout, rounds=rounds,
    seed=seed).replace(**policy_fields(policy, deadline)), correlated)``.

    Parameters
    ----------
    dropout : float in [0, 1], chance that a device is unavailable in a round
    deadline : float > 0, simulated seconds (for "drop stragglers" and "accept partial work")
    speed_spread : float >= 0, sigma of the log-normal device speeds
    n_clients : int, 1..718, K (all are sampled every round)
    client_learning_rate : float > 0
    correlated : the slow devices hold digits 5-9 (see :func:`correlate_profiles`)
    rounds : int >= 1
    target : float in [0, 1]
    seed : int >= 0
    policies : a selection of :data:`POLICIES`
    """
    policies = tuple(policies)
    if not policies or any(p not in POLICIES for p in policies):
        raise ValueError(f"policies must be a non-empty selection of {', '.join(map(repr, POLICIES))}, "
                         f"got {list(policies)}")
    return _compute(dropout=check_float("dropout", dropout, low=0.0, high=1.0),
                    deadline=check_positive("deadline", deadline),
                    speed_spread=check_float("speed_spread", speed_spread, low=0.0),
                    n_clients=check_int("n_clients", n_clients, minimum=1),
                    client_learning_rate=check_positive("client_learning_rate", client_learning_rate),
                    correlated=bool(correlated), rounds=check_int("rounds", rounds, minimum=1),
                    target=check_float("target", target, low=0.0, high=1.0), seed=check_seed("seed", seed),
                    policies=policies)


@lru_cache(maxsize=128)
def _compute(dropout, deadline, speed_spread, n_clients, client_learning_rate, correlated, rounds, target, seed,
             policies) -> DevicesResult:
    config = base_config(n_clients, client_learning_rate, speed_spread, dropout, rounds=rounds, seed=seed)
    runs = dict(zip(policies, run_devices_together([config.replace(**policy_fields(p, deadline)) for p in policies],
                                                   correlated), strict=True))      # one batched call
    slow = list(SLOW_CLASSES)
    fast = [c for c in range(len(next(iter(runs.values()))[1])) if c not in SLOW_CLASSES]

    def minutes(h: History):
        reached = h.rounds_to_accuracy(target)
        return None if reached is None else float(h.simulated_seconds[:reached].sum()) / 60

    return DevicesResult(
        config=config, deadline=deadline, correlated=correlated, target=target,
        rounds={p: h.rounds_to_accuracy(target) for p, (h, _) in runs.items()},
        minutes={p: minutes(h) for p, (h, _) in runs.items()},
        total_minutes={p: float(h.simulated_seconds.sum()) / 60 for p, (h, _) in runs.items()},
        final_accuracy={p: h.final_accuracy for p, (h, _) in runs.items()},
        slow_class_accuracy={p: float(np.mean(acc[slow])) for p, (_, acc) in runs.items()},
        fast_class_accuracy={p: float(np.mean(acc[fast])) for p, (_, acc) in runs.items()},
        per_class={p: acc for p, (_, acc) in runs.items()},
        participants={p: float(np.mean([len(ids) for ids in h.participants])) if h.rounds_completed else 0.0
                      for p, (h, _) in runs.items()},
        diverged_at={p: h.diverged_at for p, (h, _) in runs.items()},
        curves={p: (np.concatenate([[0.0], np.cumsum(h.simulated_seconds) / 60]),
                    np.concatenate([[h.initial_accuracy], h.accuracy])) for p, (h, _) in runs.items()})


#: classroom presets of notebook 13's panel (each changes only what it names)
PRESETS: dict[str, dict] = {
    N_("nobody straggles: deadline 30 s"): dict(deadline=30.0),
    N_("hardly anybody finishes: deadline 2.5 s"): dict(deadline=2.5),
    N_("identical devices: spread σ = 0"): dict(speed_spread=0.0),
    N_("half the devices away: dropout 0.5"): dict(dropout=0.5),
    N_("speed independent of the data"): dict(correlated=False),
}


def show_devices(dropout: float = 0.0, deadline: float = 5.0, speed_spread: float = 1.0, n_clients: int = 20,
                 client_learning_rate: float = 0.1, *, correlated: bool = False, rounds: int = 30,
                 target: float = 0.9, seed: int = 0, policies: Sequence[str] = POLICIES) -> DevicesResult:
    """The slider callback: :func:`compute_devices`, its table, and two panels (test accuracy against
    simulated minutes; final accuracy on digits 0-4 and 5-9 per policy).

    Loops over ``policies`` (default the three :data:`POLICIES`) at one setting and one seed: one run
    of ``base_config(...).replace(**policy_fields(policy, deadline))`` per curve."""
    result = compute_devices(dropout, deadline, speed_spread, n_clients, client_learning_rate, correlated=correlated,
                             rounds=rounds, target=target, seed=seed, policies=policies)
    print(result.summary())
    plt = pyplot()
    _, (ax_curve, ax_bars) = plt.subplots(1, 2, figsize=(8.5, 3.3), gridspec_kw={"width_ratios": [3, 2]})
    for p, (minutes, accuracy) in result.curves.items():
        ax_curve.plot(minutes, accuracy, marker="o", markersize=2, label=tr_figure(p), color=_COLORS[p])
    ax_curve.axhline(result.target, color="gray", linestyle=":", linewidth=1)
    ax_curve.set_ylim(max(0.0, result.target - 0.4), 1.0)
    ax_curve.set_xlabel(tr_figure("simulated minutes"))
    ax_curve.set_ylabel(tr_figure("test accuracy"))
    ax_curve.legend()
    names = list(result.rounds)
    x = np.arange(len(names))
    ax_bars.bar(x - 0.2, [result.fast_class_accuracy[p] for p in names], 0.4, label=tr_figure("digits 0-4"),
                color="0.6")
    ax_bars.bar(x + 0.2, [result.slow_class_accuracy[p] for p in names], 0.4, label=tr_figure("digits 5-9"),
                color=[_COLORS[p] for p in names])
    ax_bars.set_xticks(x)
    ax_bars.set_xticklabels([tr_figure(_TICK_LABELS[p]) for p in names])
    ax_bars.set_ylim(max(0.0, min(min(result.slow_class_accuracy.values()),
                                  min(result.fast_class_accuracy.values())) - 0.1), 1.0)
    ax_bars.set_ylabel(tr_figure("final test accuracy"))
    ax_bars.legend()
    ax_curve.set_title(tr_figure("accuracy against simulated time"))
    ax_bars.set_title(tr_figure("final accuracy by digit group"))
    ax_bars.set_xlabel(tr_figure("digit group"))
    for ax in (ax_curve, ax_bars):
        ax.grid(alpha=0.3)
    plt.show()
    return result


# -- over seeds -------------------------------------------------------------------------------------

def compute_over_seeds(seeds: Sequence[int] = (0, 1, 2), **settings) -> list[DevicesResult]:
    """:func:`compute_devices` once per seed with the same ``settings`` (keyword arguments of
    :func:`compute_devices` other than ``seed``); no drawing.

    Loops over ``seeds`` × ``policies`` (default 3 seeds × the three :data:`POLICIES`), every run at the
    same ``settings``."""
    seeds = tuple(check_seed("seed", s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got an empty sequence")
    if "seed" in settings:
        raise ValueError("pass the seeds as seeds=..., not seed=")
    return [compute_devices(seed=s, **settings) for s in seeds]


def seeds_table(results: Sequence[DevicesResult]) -> str:
    """One line per (policy, seed): rounds and simulated minutes to the target, final accuracy
    on digits 0-4 and 5-9."""
    if not results:
        raise ValueError("results must hold at least one DevicesResult")
    first = results[0]
    header, widths = _header([("policy", tr("policy")), ("seed", tr("seed")), ("rounds", tr("rounds")),
                              ("minutes", tr("minutes")), ("acc 0-4", tr("acc 0-4")), ("acc 5-9", tr("acc 5-9"))],
                             (20, 4, 6, 7, 7, 7))
    lines = [tr("target {target}, deadline {deadline} s; {data}").format(
                 target=f"{first.target:.0%}", deadline=f"{first.deadline:g}", data=_data_note(first.correlated)),
             header]
    for p in first.rounds:
        for r in results:
            lines.append(_table_row([tr(p), str(r.config.seed), format_reached(r.rounds[p], r.config.rounds),
                                     _never_or(r.minutes[p], ".1f"), f"{r.fast_class_accuracy[p]:.3f}",
                                     f"{r.slow_class_accuracy[p]:.3f}"], widths))
    return "\n".join(lines)
