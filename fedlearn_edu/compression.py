"""Communication: compressing what a client sends back (article section 5, 通信开销).

A client's upload is its model update Delta_k = w_k - w_global, shape (P,). Three
standard ways to make it smaller, each with an exact byte count:

* **b-bit stochastic quantisation** (b = 8 or 4): min/max stochastic rounding, as in
  Konecny et al. 2016 (*Federated Learning: Strategies for Improving Communication
  Efficiency*) and Suresh et al. 2017 (*Distributed Mean Estimation with Limited
  Communication*). It is not QSGD (Alistarh et al. 2017), which scales by the vector's
  norm and sends signs. Every coordinate is mapped to one of 2^b - 1 steps between
  the vector's minimum and maximum and rounded up or down at random, with probabilities
  that make the result *unbiased*: E[decode(encode(x))] = x. Error per coordinate is at
  most (max - min) / (2^b - 1). Bytes: ceil(P * b / 8) + 8 (the range as two float32).
* **top-k sparsification** (Aji & Heafield 2017; Stich et al. 2018): send only the k
  coordinates of largest magnitude, as (int32 index, float32 value) pairs: 8k bytes.
* **error feedback**: what compression dropped is remembered by the client and added to
  its next update, so nothing is lost for good (sum of sent = sum of updates - residual).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_choice, check_float, check_int

COMPRESSIONS = ("none", "int8", "int4", "topk")
#: the random rounding of client k in round r draws from default_rng([seed, r, k, ROUNDING_SALT])
ROUNDING_SALT = 0xC0DE
BYTES_PER_FLOAT = 4


@dataclass(frozen=True)
class Quantized:
    """An encoded vector: integer codes in 0..levels, and the range they span."""

    codes: np.ndarray     # (P,) uint8
    low: float
    high: float
    bits: int

    @property
    def levels(self) -> int:
        return 2 ** self.bits - 1

    @property
    def n_bytes(self) -> int:
        """Bytes on the wire: the packed codes plus the range (two float32)."""
        return int(np.ceil(self.codes.size * self.bits / 8)) + 2 * BYTES_PER_FLOAT


def quantize(vector: np.ndarray, bits: int, rng: np.random.Generator) -> Quantized:
    """Unbiased stochastic quantisation of ``vector`` (P,) to ``bits`` bits per coordinate.

    Parameters
    ----------
    vector : ndarray (P,), finite
    bits : int in 1..8
    rng : numpy Generator (the rounding is random; seed it for reproducible runs)
    """
    bits = check_int("bits", bits, minimum=1, maximum=8)
    x = np.asarray(vector, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("vector must be a non-empty array of finite values")
    low, high = float(x.min()), float(x.max())
    levels = 2 ** bits - 1
    if high == low:
        return Quantized(np.zeros(x.size, dtype=np.uint8), low, high, bits)
    scaled = (x - low) / (high - low) * levels
    floor = np.floor(scaled)
    codes = floor + (rng.random(x.size) < (scaled - floor))
    return Quantized(np.clip(codes, 0, levels).astype(np.uint8), low, high, bits)


def dequantize(q: Quantized) -> np.ndarray:
    """Decode to float32 values, shape (P,)."""
    if q.high == q.low:
        return np.full(q.codes.size, q.low, dtype=np.float32)
    return (q.low + q.codes.astype(np.float64) * (q.high - q.low) / q.levels).astype(np.float32)


@dataclass(frozen=True)
class Sparse:
    """The k kept coordinates of a vector of length ``size``."""

    indices: np.ndarray   # (k,) int32
    values: np.ndarray    # (k,) float32
    size: int

    @property
    def n_bytes(self) -> int:
        return int(self.indices.size * (4 + BYTES_PER_FLOAT))


def top_k(vector: np.ndarray, k: int) -> Sparse:
    """Keep the ``k`` coordinates of largest magnitude (ties: lower index first)."""
    x = np.asarray(vector, dtype=np.float32).ravel()
    k = check_int("k", k, minimum=1, maximum=x.size)
    order = np.argsort(-np.abs(x), kind="stable")[:k]
    keep = np.sort(order)
    return Sparse(keep.astype(np.int32), x[keep], x.size)


def densify(s: Sparse) -> np.ndarray:
    """The dense vector (P,) with zeros where nothing was sent."""
    out = np.zeros(s.size, dtype=np.float32)
    out[s.indices] = s.values
    return out


class Compressor:
    """Compress client updates as a federation would, with optional error feedback.

    Parameters
    ----------
    scheme : one of :data:`COMPRESSIONS`
    topk_fraction : float in (0, 1], share of coordinates kept by "topk"
    error_feedback : keep each client's residual and add it to its next update
    seed : int >= 0, seeds the random rounding (per round and client)
    """

    def __init__(self, scheme: str = "none", topk_fraction: float = 0.1, error_feedback: bool = True,
                 seed: int = 0):
        self.scheme = check_choice("compression", scheme, COMPRESSIONS)
        self.topk_fraction = check_float("topk_fraction", topk_fraction, low=0.0, high=1.0,
                                         low_inclusive=False)
        self.error_feedback = bool(error_feedback)
        self.seed = int(seed)
        self.residuals: dict[int, np.ndarray] = {}

    def reset(self) -> None:
        self.residuals.clear()

    def topk_count(self, n_parameters: int) -> int:
        """k, the coordinates "topk" keeps of an update of ``n_parameters``: max(1, round(fraction * P))."""
        return max(1, int(round(self.topk_fraction * n_parameters)))

    def bytes_per_upload(self, n_parameters: int) -> int:
        """Bytes one client's update of ``n_parameters`` takes on the wire under this scheme."""
        if self.scheme == "none":                       # P float32
            return n_parameters * BYTES_PER_FLOAT
        if self.scheme == "topk":                       # k (int32 index, float32 value) pairs
            return self.topk_count(n_parameters) * (4 + BYTES_PER_FLOAT)
        bits = 8 if self.scheme == "int8" else 4        # ceil(P b / 8) packed codes + the range (two float32)
        return -(-n_parameters * bits // 8) + 2 * BYTES_PER_FLOAT

    def rounding_draws(self, client_id: int, round_index: int, n_parameters: int) -> np.ndarray:
        """The uniform draws (P,) float64 that round client ``client_id``'s update in round
        ``round_index`` (both engines use these: the per-client one here, the vectorised one
        receives them from the host)."""
        return self._rounding_rng(client_id, round_index).random(n_parameters)

    def _rounding_rng(self, client_id: int, round_index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, round_index, client_id, ROUNDING_SALT])

    def __call__(self, update: np.ndarray, client_id: int, round_index: int) -> tuple[np.ndarray, int]:
        """Return (what the server decodes, bytes sent) for one client's update (P,)."""
        update = np.asarray(update, dtype=np.float32).ravel()
        if self.scheme == "none":
            return update, update.size * BYTES_PER_FLOAT
        carried = update + self.residuals.get(client_id, 0.0) if self.error_feedback else update
        if self.scheme == "topk":
            sparse = top_k(carried, self.topk_count(carried.size))
            decoded, n_bytes = densify(sparse), sparse.n_bytes
        else:
            q = quantize(carried, 8 if self.scheme == "int8" else 4, self._rounding_rng(client_id, round_index))
            decoded, n_bytes = dequantize(q), q.n_bytes
        if self.error_feedback:
            self.residuals[client_id] = (carried - decoded).astype(np.float32)
        return decoded, n_bytes
