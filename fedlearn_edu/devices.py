"""Limited devices (article section 5, 设备资源有限): device profiles, a simulated wall
clock, dropouts, and a deadline for stragglers.

Each client k gets a profile: compute speed s_k (examples per second), link speed
l_k (bytes per second, down and up) and a dropout probability p_k. A client that
takes part in a round needs::

    t_k = model_bytes / l_k  +  (examples it trains on) / s_k  +  upload_bytes / l_k

The round ends when the slowest kept client is done, or at the deadline. A client
over the deadline is a *straggler*: with policy "drop" the server ignores it (what
production systems do, Bonawitz et al. 2019, *Towards Federated Learning at Scale*, and
the FedAvg baseline of the FedProx paper, Li et al. 2020); with policy "partial" it sends what it has after the local
steps that fit before the deadline (FedProx, Li et al. 2020, accepts such partial work).
Everything random (speeds, dropouts) is drawn from the seed, so a run is repeatable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import check_choice, check_float, check_int, check_positive, check_seed

STRAGGLER_POLICIES = ("drop", "partial")
#: the medians of the log-normal device speeds (make_device_profiles' defaults)
MEDIAN_EXAMPLES_PER_SECOND = 100.0
MEDIAN_BYTES_PER_SECOND = 20_000.0
_SALT_PROFILE, _SALT_DROPOUT = 0xD371CE, 0xD209


@dataclass(frozen=True)
class DeviceProfile:
    """One device: compute speed, link speed and how often it is unavailable."""

    examples_per_second: float
    bytes_per_second: float
    dropout_probability: float = 0.0


def make_device_profiles(n_clients: int, seed: int = 0, speed_spread: float = 1.0,
                         median_examples_per_second: float = MEDIAN_EXAMPLES_PER_SECOND,
                         median_bytes_per_second: float = MEDIAN_BYTES_PER_SECOND,
                         dropout_probability: float = 0.0) -> list[DeviceProfile]:
    """Heterogeneous devices: speeds are log-normal around their medians.

    Parameters
    ----------
    n_clients : int >= 1
    seed : int >= 0
    speed_spread : float >= 0, sigma of log(speed); 0 gives identical devices, 1 a ~e-fold spread
    median_examples_per_second, median_bytes_per_second : float > 0
    dropout_probability : float in [0, 1], the chance that a device is unavailable in a round
    """
    n_clients = check_int("n_clients", n_clients, minimum=1)
    seed = check_seed("seed", seed)
    speed_spread = check_float("speed_spread", speed_spread, low=0.0)
    compute = check_positive("median_examples_per_second", median_examples_per_second)
    link = check_positive("median_bytes_per_second", median_bytes_per_second)
    dropout = check_float("dropout_probability", dropout_probability, low=0.0, high=1.0)
    z = np.random.default_rng([seed, _SALT_PROFILE]).standard_normal((n_clients, 2))
    return [DeviceProfile(float(compute * np.exp(speed_spread * a)), float(link * np.exp(speed_spread * b)),
                          dropout) for a, b in z]


@dataclass
class DevicePlan:
    """Who takes part in a round, how many local steps each may take, and how long it lasts.

    Attributes
    ----------
    clients : ndarray of the ids whose update reaches the server
    max_steps : dict id -> local step cap (None: all of its steps)
    seconds : float, simulated wall-clock time of the round
    dropped_out : ndarray of ids that were unavailable
    stragglers : ndarray of ids over the deadline (ignored with "drop", partial with "partial")
    """

    clients: np.ndarray
    max_steps: dict
    seconds: float
    dropped_out: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stragglers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def plan_round(profiles: list[DeviceProfile], clients, *, batch_sizes: dict, model_bytes: int,
               upload_bytes: int, deadline: float | None = None, policy: str = "drop", seed: int = 0,
               round_index: int = 0) -> DevicePlan:
    """Decide a round's participants under device limits.

    Parameters
    ----------
    profiles : one DeviceProfile per client
    clients : ids sampled by the server this round
    batch_sizes : dict id -> int array, the sizes of the local mini-batches the client would run
        (from :func:`fedlearn_edu.client.batch_plan`, after any local step cap)
    model_bytes : bytes of the model sent down
    upload_bytes : bytes a client sends up
    deadline : seconds or None (wait for everyone)
    policy : "drop" or "partial"
    """
    check_choice("straggler_policy", policy, STRAGGLER_POLICIES)
    if deadline is not None:
        deadline = check_positive("deadline", deadline)
    kept, caps, dropped, stragglers, times = [], {}, [], [], []
    for k in np.asarray(clients, dtype=np.int64):
        profile = profiles[int(k)]
        draw = np.random.default_rng([seed, round_index, int(k), _SALT_DROPOUT]).random()
        if draw < profile.dropout_probability:
            dropped.append(k)
            continue
        transfer = model_bytes / profile.bytes_per_second + upload_bytes / profile.bytes_per_second
        work = np.cumsum(np.asarray(batch_sizes[int(k)], dtype=np.float64)) / profile.examples_per_second
        total = transfer + (work[-1] if work.size else 0.0)
        if deadline is None or total <= deadline:
            kept.append(k)
            caps[int(k)] = None
            times.append(total)
            continue
        stragglers.append(k)
        if policy == "partial":
            fits = int(np.searchsorted(work, deadline - transfer, side="right"))
            if fits >= 1:
                kept.append(k)
                caps[int(k)] = fits
                times.append(transfer + work[fits - 1])
    seconds = max(times, default=0.0)
    if deadline is not None and (stragglers or not kept):
        seconds = deadline          # the server waited until the deadline
    as_ids = lambda ids: np.asarray(ids, dtype=np.int64)  # noqa: E731
    return DevicePlan(as_ids(kept), caps, float(seconds), as_ids(dropped), as_ids(stragglers))
