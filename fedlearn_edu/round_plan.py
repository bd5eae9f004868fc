"""Step 1 on the host: what the server decides before a round trains.

Nothing in a :class:`RoundPlan` depends on training: the sampled clients, who of them
is available and beats the deadline, how many local steps each may take, and how many
bytes go down and up. :meth:`fedlearn_edu.Simulation.plan_round` makes one per round;
the per-client engine follows it client by client, the vectorised engine receives all
rounds' step caps as one (R, m) matrix, and :class:`fedlearn_edu.History` takes its
byte counts and simulated seconds from it, so both engines count the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["NO_STEP_CAP", "RoundPlan", "padded_rounds"]

#: the step cap of a client that may take all of its local steps
NO_STEP_CAP = 2 ** 40


@dataclass(frozen=True)
class RoundPlan:
    """One round as planned before anyone trains.

    Attributes
    ----------
    round_index : int, 0-based
    sampled : ndarray (m,) int64, the clients the server picked (step 1)
    step_caps : ndarray (m,) int64, the local steps each sampled client may take:
        0 means its update never reaches the server (unavailable, or too slow for the
        deadline under "drop"); :data:`NO_STEP_CAP` means all of its E epochs
    reached : int, how many sampled clients the global model reached (the unavailable ones not)
    bytes_down : int, server -> clients this round (the model, and SCAFFOLD's c)
    bytes_up : int, clients -> server this round (compressed updates, and SCAFFOLD's delta c_k)
    simulated_seconds : float or None, the round's simulated wall clock (None without devices)
    """

    round_index: int
    sampled: np.ndarray
    step_caps: np.ndarray
    reached: int
    bytes_down: int
    bytes_up: int
    simulated_seconds: float | None = None

    @property
    def arrived(self) -> np.ndarray:
        """(m,) bool, whose update reaches the server."""
        return self.step_caps > 0

    @property
    def clients(self) -> np.ndarray:
        """The ids whose update reaches the server, in sampling order."""
        return self.sampled[self.arrived]

    def step_cap(self, client_id: int) -> int | None:
        """The local step cap of a sampled client (None: all of its steps)."""
        cap = int(self.step_caps[np.flatnonzero(self.sampled == client_id)[0]])
        return None if cap >= NO_STEP_CAP else cap


def padded_rounds(plans: Sequence[RoundPlan], n_clients: int) -> tuple[np.ndarray, np.ndarray]:
    """The plans as the batched engine's (R, m) matrices of client ids and step caps.

    Rounds with fewer clients than the widest (DP-FedAvg's Poisson sampling) are padded
    with clients not sampled that round and a step cap of 0 (they never arrive), so no
    client appears twice in a round; m >= 1.

    Parameters
    ----------
    plans : the R RoundPlans
    n_clients : int, K (the ids padding draws from)
    """
    width = max([1] + [len(plan.sampled) for plan in plans])
    participants = np.zeros((len(plans), width), np.int64)
    caps = np.zeros((len(plans), width), np.int64)
    for r, plan in enumerate(plans):
        n = len(plan.sampled)
        unused = np.setdiff1d(np.arange(n_clients, dtype=np.int64), plan.sampled)[:width - n]
        participants[r] = np.concatenate([plan.sampled, unused])
        caps[r, :n] = plan.step_caps
    return participants, caps
