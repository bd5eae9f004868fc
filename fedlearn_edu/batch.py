"""Many experiments in one compiled call: the sweeps behind every comparison figure.

A figure that compares algorithms, seeds, skews or the paper's grid of C, E and B runs
many experiments that share the data set and the model's shape. :func:`run_experiments`
plans each one on the host (its partition, initial model, sampled clients, step caps,
exactly as :class:`~fedlearn_edu.Simulation` does for a single run) and then trains all
of them together in the vectorised engine: an experiment axis in front of the client
axis, every learning rate, mu, beta and server constant a per-experiment value, so a
sweep is one call of the one compiled function, with no new trace when a slider moves.
Each experiment's numbers equal its single run (tests/test_batch.py).

A sweep too big for memory is cut into a few calls (:data:`MAX_BATCH_BYTES`); a model
the vectorised engine does not serve runs on the per-client engine, one after another.

:func:`run_cached` remembers answers: a slider that returns to a setting, or a figure
that shares runs with another, answers from memory.
"""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, Mapping, Sequence

import numpy as np

from .data import Dataset, cached_dataset
from .memory import RunMemory
from .round_plan import RoundPlan
from .simulation import FLConfig, History, Simulation
from .vectorized import BatchMember, run_batch

__all__ = ["LONG_WORK", "MAX_BATCH_BYTES", "batch_bytes", "cache_info", "clear_cache", "expected_work", "run_cached",
           "run_experiments", "run_planned", "run_planned_settings",
           "run_simulations"]

#: compiled calls that run side by side: one per core, at most 2 (the kit runs each op on one thread,
#: so two calls keep two cores busy); set it to 1 to run calls one after another
PARALLEL_CALLS = max(1, min(2, os.cpu_count() or 1))
#: a sweep with less arithmetic than this (see :func:`expected_work`) stays in one call: splitting it would
#: cost more in per-call overhead than the second core gives back
PARALLEL_WORK = 2e8
#: a sweep with more arithmetic than this (see :func:`expected_work`) takes about a second or more on a
#: laptop core: progress="long" shows a bar for it
LONG_WORK = 5e9
#: with a progress bar, a run goes in about this many parts (one compiled call each)
PROGRESS_PARTS = 20
#: the memory one compiled call may use for its batch (estimated by :func:`batch_bytes`); a bigger sweep
#: is cut into several calls
MAX_BATCH_BYTES = 256 * 2 ** 20


def batch_bytes(member: BatchMember, n_features: int, n_classes: int) -> int:
    """An estimate of the memory one experiment adds to a batch, in bytes: its clients'
    stacked models and optimizer state (about 8 copies of (m, P)), one round's batches
    (steps x m x b x (d + C + 3)) and its rounding draws (R x m x P)."""
    m = member.clients_per_round
    n_params = sum(int(np.size(w)) for w in member.initial_weights)
    n_max = int(member.client_size.max())
    batch = min(int(member.knobs["batch_size"]), n_max)
    steps = int(member.knobs["local_epochs"]) * -(-n_max // batch)
    pack = steps * m * batch * (n_features + n_classes + 3)
    return 4 * (8 * m * n_params + pack) + member.rounding_draws.nbytes


def _chunks(units: Sequence[list[int]], sizes: Mapping[int, int], limit: int) -> list[list[int]]:
    """Consecutive units (lists of experiment indices that must run together) packed into
    calls of at most ``limit`` bytes each (a unit bigger than the limit gets a call alone)."""
    chunks, current, used = [], [], 0
    for unit in units:
        need = sum(sizes[i] for i in unit)
        if current and used + need > limit:
            chunks.append(current)
            current, used = [], 0
        current = current + unit
        used += need
    if current:
        chunks.append(current)
    return chunks


def _progress(total: int, progress, work: float, description: str):
    """A tqdm bar (``tqdm.auto``: a widget in a notebook, text in a terminal) or None.

    ``progress``: True, False, "auto" (when stderr is a terminal) or "long" (when the sweep's
    arithmetic, ``work``, is above :data:`LONG_WORK`: about a second or more)."""
    if progress == "auto":
        progress = sys.stderr.isatty()
    elif progress == "long":
        progress = work > LONG_WORK
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=description, unit="round", leave=False)


def expected_work(sims: Sequence[Simulation]) -> float:
    """A rough count of a sweep's arithmetic, before anything is planned: rounds x clients per round x
    parameters x (examples a client passes over per round + 1); enough to balance calls and to tell a
    long sweep from a short one."""
    return float(sum(sim.config.rounds * sim.config.clients_per_round * sim.n_parameters
                     * (sim.config.local_epochs * float(np.mean(sim.client_sizes)) + 1.0) for sim in sims))


def run_experiments(configs: Sequence[FLConfig], *, dataset: Dataset | None = None,
                    stop_accuracy: float | Sequence[float | None] | None = None,
                    race_groups: Sequence[int] | None = None, client_metrics: bool = False,
                    progress: bool | str = "auto",
                    on_result: Callable[[int, History], None] | None = None) -> list[History]:
    """Run every experiment of ``configs`` and return their Histories, in order.

    Parameters
    ----------
    configs : sequence of FLConfig (any mix of algorithms, seeds, skews, C, E, B, rounds)
    dataset : Dataset, optional; default: each config's ``cached_dataset(config.dataset)``
    stop_accuracy : float, one per config, or None: stop an experiment after the first round
        whose test accuracy reaches it (its History then has fewer rounds than ``config.rounds``)
    race_groups : one int per config, optional: experiments of one group stop together after
        the round in which one of them reaches its ``stop_accuracy`` (the paper's grid: the
        learning rates of one cell race; the others cannot win once one has arrived)
    client_metrics : record each client's local loss and accuracy every round
    progress : True, False, "auto" (a tqdm bar when stderr is a terminal) or "long" (a bar when the sweep
        is long: about a second or more); with a bar, the run goes in parts of a few rounds each (the
        same numbers), and the bar counts the rounds of all experiments
    on_result : called as ``on_result(i, history)`` as soon as experiment i is done (partial
        results for a live figure)

    Returns
    -------
    list of History, one per config, each equal to ``run_experiment(config)``.
    """
    configs = list(configs)
    for i, config in enumerate(configs):
        if not isinstance(config, FLConfig):
            raise TypeError(f"configs[{i}] must be an FLConfig, got {type(config).__name__}")
    sims = [Simulation(c, dataset=dataset if dataset is not None else cached_dataset(c.dataset)) for c in configs]
    return run_simulations(sims, stop_accuracy=stop_accuracy, race_groups=race_groups, client_metrics=client_metrics,
                           progress=progress, on_result=on_result)


def run_simulations(sims: Sequence[Simulation], *, stop_accuracy: float | Sequence[float | None] | None = None,
                    race_groups: Sequence[int] | None = None, client_metrics: bool = False,
                    progress: bool | str = "auto",
                    on_result: Callable[[int, History], None] | None = None) -> list[History]:
    """:func:`run_experiments` for Simulations made by the caller (e.g. with device profiles
    changed after construction); every one runs from its initial model. Parameters as there."""
    sims = list(sims)
    for i, sim in enumerate(sims):
        if not isinstance(sim, Simulation):
            raise TypeError(f"sims[{i}] must be a Simulation, got {type(sim).__name__}")
    n = len(sims)
    stops = list(stop_accuracy) if isinstance(stop_accuracy, (list, tuple)) else [stop_accuracy] * n
    if len(stops) != n:
        raise ValueError(f"stop_accuracy must be one value or one per config ({n}), got {len(stops)}")
    groups = list(range(n)) if race_groups is None else [int(g) for g in race_groups]
    if len(groups) != n:
        raise ValueError(f"race_groups must hold one group per config ({n}), got {len(groups)}")
    histories: list[History | None] = [None] * n
    bar = _progress(sum(sim.config.rounds for sim in sims), progress, expected_work(sims), "rounds")

    def finish(i: int, history: History) -> None:
        histories[i] = history
        if on_result is not None:
            on_result(i, history)

    # experiments the vectorised engine serves, by (architecture, data set); a race group stays together
    families: dict = {}
    for i, sim in enumerate(sims):
        if sim.engine == "vectorized":
            families.setdefault((sim.architecture, id(sim.dataset)), []).append(i)
        else:
            finish(i, sim.run(progress=False, client_metrics=client_metrics,
                              callback=None if bar is None else lambda _history: bar.update(1)))
    for key in list(families):
        families.update(_split_large_family(sims, families.pop(key), groups))
    calls = [call for members_of_family in families.values()
             for call in _family_calls(sims, members_of_family, stops=stops, groups=groups)]
    _run_calls(sims, calls, client_metrics, finish, bar)
    if bar is not None:
        bar.close()
    return histories


def run_planned(sims: Sequence[Simulation], members: Sequence[BatchMember]) -> list[dict]:
    """Experiments the caller planned itself, together: one compiled call per (architecture,
    data set). For runs whose rounds or aggregation the host sets up beyond a RoundPlan
    (DP-FedAvg's Poisson sampling and noise, attackers, robust rules: see
    :func:`fedlearn_edu.privacy.run_dp_experiments`, :func:`fedlearn_edu.poisoning.run_poisoning_experiments`).

    Parameters
    ----------
    sims : the Simulations, each with an architecture the vectorised engine serves
    members : one :class:`~fedlearn_edu.vectorized.BatchMember` per simulation (``sim.batch_member``, then any
        changes)

    Returns
    -------
    list of answer dicts (:func:`fedlearn_edu.vectorized.split_outputs`), in order.
    """
    if len(sims) != len(members):
        raise ValueError(f"members must hold one member per simulation ({len(sims)}), got {len(members)}")
    families: dict = {}
    for i, sim in enumerate(sims):
        if sim.architecture is None:
            raise ValueError(f"sims[{i}]: the vectorised engine does not serve this model (Dense layers only)")
        families.setdefault((sim.architecture, id(sim.dataset)), []).append(i)
    answers: list[dict | None] = [None] * len(sims)
    for indices in families.values():
        first = sims[indices[0]]
        for i, answer in zip(indices, run_batch(first.architecture, first.dataset, [members[i] for i in indices]),
                             strict=True):
            answers[i] = answer
    return answers


def run_planned_settings(settings: Sequence, simulations: Sequence[Simulation] | None, *,
                         member: Callable, record: Callable, fallback: Callable) -> list:
    """Settings that each carry a ``config`` (DP-FedAvg, poisoning), run together.

    Each setting gets a Simulation (``simulations[i]``, built from its config, or a new one); a model the
    vectorised engine serves is planned by ``member(sim, setting) -> (BatchMember, plans)`` and run in
    :func:`run_planned`, its answer turned into a result by ``record(setting, answer, plans)``; any other
    model runs through ``fallback(setting, sim)`` (the per-client engine). Returns the results in order.
    """
    settings = list(settings)
    sims = list(simulations) if simulations is not None else [Simulation(s.config) for s in settings]
    if len(sims) != len(settings):
        raise ValueError(f"simulations must hold one Simulation per setting ({len(settings)}), got {len(sims)}")
    results: list = [None] * len(settings)
    batched = []
    for i, (setting, sim) in enumerate(zip(settings, sims, strict=True)):
        if sim.config != setting.config:
            raise ValueError(f"simulations[{i}] must be built from settings[{i}].config")
        if sim.architecture is None:
            results[i] = fallback(setting, sim)
        else:
            sim.reset()
            batched.append((i, *member(sim, setting)))
    answers = run_planned([sims[i] for i, _, _ in batched], [m for _, m, _ in batched])
    for (i, _, plans), answer in zip(batched, answers, strict=True):
        results[i] = record(settings[i], answer, plans)
    return results


#: a family bigger than this (stacked client parameters, M x P, summed over its experiments) runs its kinds
#: of local training apart (see :func:`_split_large_family`)
SPLIT_SLOT_PARAMETERS = 2 ** 20


def _training_kind(config: FLConfig) -> tuple:
    """What a client's local step computes: plain SGD, with momentum or a proximal term, with
    SCAFFOLD's correction, with compression (experiments of one kind share every op)."""
    return (bool(config.scaffold), config.client_momentum != 0 or config.mu != 0, config.compression != "none")


def _split_large_family(sims: Sequence[Simulation], indices: list[int], groups) -> dict:
    """A family as one batch when it is small, else one batch per kind of local training.

    In a batch every client runs the ops of the most demanding kind present (a plain SGD
    client also carries FedProx's and SCAFFOLD's zero terms through each step). For small
    batches that costs nothing next to the per-op dispatch a batch saves; for large ones (a
    100-client sweep), or when the kinds can train side by side on two cores, a call per
    kind is faster.
    A race group whose members differ in kind stays in one batch.
    """
    size = sum(sims[i].config.clients_per_round * sims[i].n_parameters for i in indices)
    work = expected_work([sims[i] for i in indices])
    if size <= SPLIT_SLOT_PARAMETERS and (PARALLEL_CALLS == 1 or work <= PARALLEL_WORK):
        return {("all", tuple(indices)): indices}
    kinds: dict = {}
    for i in indices:
        group_kinds = {_training_kind(sims[j].config) for j in indices if groups[j] == groups[i]}
        kind = _training_kind(sims[i].config) if len(group_kinds) == 1 else ("mixed race", groups[i])
        kinds.setdefault(kind, []).append(i)
    return {(kind, tuple(members)): members for kind, members in kinds.items()}


def _balanced(units: Sequence[list[int]], work: dict[int, float], bins: int) -> list[list[int]]:
    """Units spread over ``bins`` calls of about equal work (largest first, each to the lightest call)."""
    calls: list[list[int]] = [[] for _ in range(bins)]
    load = [0.0] * bins
    for unit in sorted(units, key=lambda u: -sum(work[i] for i in u)):
        k = int(np.argmin(load))
        calls[k] += unit
        load[k] += sum(work[i] for i in unit)
    return [c for c in calls if c]


def _family_calls(sims: Sequence[Simulation], indices: list[int], *, stops, groups) -> list[dict]:
    """The compiled calls that run the experiments ``indices`` (one architecture, one data
    set): as few as fit in memory, and at least :data:`PARALLEL_CALLS` when there is enough
    to share, so that every core trains."""
    plans: dict[int, list[RoundPlan]] = {}
    members: dict[int, BatchMember] = {}
    for i in indices:
        sim = sims[i]
        sim.reset()
        plans[i] = [sim.plan_round(r) for r in range(sim.config.rounds)]
        members[i] = sim.batch_member(plans[i], stop_accuracy=stops[i])
    data = sims[indices[0]].dataset
    sizes = {i: batch_bytes(members[i], data.n_features, data.n_classes) for i in indices}
    work = {i: expected_work([sims[i]]) for i in indices}
    units: dict[int, list[int]] = {}
    for i in indices:
        units.setdefault(groups[i], []).append(i)
    chunks = _chunks(list(units.values()), sizes, MAX_BATCH_BYTES)
    if len(chunks) < PARALLEL_CALLS and len(units) > 1 and sum(work.values()) > PARALLEL_WORK:
        chunks = _balanced(list(units.values()), work, PARALLEL_CALLS)
    return [{"indices": chunk, "members": [members[i] for i in chunk], "plans": [plans[i] for i in chunk],
             "race_groups": _local_groups([groups[i] for i in chunk]), "architecture": sims[chunk[0]].architecture,
             "dataset": data} for chunk in chunks]


def _local_groups(groups: Sequence[int]) -> list[int]:
    """Race groups renumbered 0, 1, ... within one call."""
    numbers = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    return [numbers[g] for g in groups]


def _run_call(call: dict, client_metrics: bool, bar=None) -> tuple[list[dict], float]:
    """One compiled call (in parts of a few rounds when there is a progress ``bar``): its answers
    and the seconds it took."""
    start = time.perf_counter()
    rounds = max(m.participants.shape[0] for m in call["members"])
    done = [0]

    def advance(rounds_done: int, _total: int) -> None:          # experiment-rounds, for the bar
        bar.update((rounds_done - done[0]) * len(call["members"]))
        done[0] = rounds_done

    answers = run_batch(call["architecture"], call["dataset"], call["members"], race_groups=call["race_groups"],
                        record_client_metrics=client_metrics,
                        rounds_per_call=None if bar is None else max(1, -(-rounds // PROGRESS_PARTS)),
                        on_progress=None if bar is None else advance)
    return answers, time.perf_counter() - start


def _run_calls(sims: Sequence[Simulation], calls: list[dict], client_metrics: bool,
               finish: Callable[[int, History], None], bar=None) -> None:
    """Run the calls, :data:`PARALLEL_CALLS` at a time (TensorFlow releases the GIL while a call
    trains), and hand each experiment's History to ``finish`` in this thread as its call ends."""
    def deliver(call: dict, answers: list[dict], seconds: float) -> None:
        per_round = seconds / max(sum(a["rounds_run"] for a in answers), 1)
        for i, plans, answer in zip(call["indices"], call["plans"], answers, strict=True):
            finish(i, sims[i].history_from_batch(answer, plans, per_round, client_metrics))

    if PARALLEL_CALLS == 1 or len(calls) == 1:
        for call in calls:
            deliver(call, *_run_call(call, client_metrics, bar))
        return
    with ThreadPoolExecutor(max_workers=PARALLEL_CALLS) as pool:
        futures = {pool.submit(_run_call, call, client_metrics, bar): call for call in calls}
        for future in as_completed(futures):
            deliver(futures[future], *future.result())


# -- remembered answers -------------------------------------------------------------------------------

#: how many Histories :func:`run_cached` keeps (least recently used go first)
CACHE_SIZE = 2048
_MEMORY = RunMemory("run_cached", CACHE_SIZE)


def run_cached(configs: Sequence[FLConfig], **options) -> list[History]:
    """:func:`run_experiments` on each config's preloaded data set, remembering every answer:
    only the configs not seen before run (together, in one batch).

    ``options`` (stop_accuracy, race_groups are not allowed here: a remembered answer must
    not depend on its neighbours) go to :func:`run_experiments`. The Histories are shared
    between callers: read them, do not change them.
    """
    if set(options) - {"progress", "client_metrics"}:
        raise TypeError(f"run_cached takes only progress and client_metrics, got {sorted(options)}")
    metrics = bool(options.get("client_metrics", False))
    return _MEMORY.answers([(c, metrics) for c in configs],
                           lambda missing: run_experiments([c for c, _ in missing], **options))


def clear_cache() -> None:
    """Forget every remembered answer of :func:`run_cached`."""
    _MEMORY.clear()


def cache_info() -> dict:
    """How many answers :func:`run_cached` remembers, and its limit."""
    info = _MEMORY.info()
    return {"size": info["size"], "limit": info["limit"]}
