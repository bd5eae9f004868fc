"""Counter-based randomness shared by both engines.

Client sampling and batch order are derived from a small integer hash of
``(seed, round, client, epoch, position)``, not from a stateful generator. The
per-client engine evaluates it in NumPy, the vectorised engine in TensorFlow
inside a compiled function, and both get the same clients and the same batches,
which is what lets the two engines agree to float tolerance.

The hash is the well-known 32-bit integer mixer
``x = ((x >> 16) ^ x) * 0x45d9f3b`` (twice) ``; x = (x >> 16) ^ x``, computed in
int64 with a 32-bit mask so that no product overflows.
"""
from __future__ import annotations

import numpy as np

MASK32 = 0xFFFFFFFF
#: the mixer's multiplier and the chain's starting value (the vectorised engine uses the same)
HASH_MULTIPLIER = 0x45D9F3B
HASH_START = 0x9E3779B9
#: salts keep the streams for sampling and for batch order apart
SALT_SAMPLE = 0x5A3C1
SALT_ORDER = 0x1B873


def hash32(x: np.ndarray) -> np.ndarray:
    """Mix 32-bit integers (given as int64 in 0..2**32-1), elementwise."""
    x = np.asarray(x, dtype=np.int64) & MASK32
    x = (((x >> 16) ^ x) * HASH_MULTIPLIER) & MASK32
    x = (((x >> 16) ^ x) * HASH_MULTIPLIER) & MASK32
    return (x >> 16) ^ x


def combine(*parts) -> np.ndarray:
    """Hash a tuple of integers (scalars or broadcastable arrays) to 32-bit keys."""
    h = np.int64(HASH_START)
    for part in parts:
        h = hash32(h ^ (np.asarray(part, dtype=np.int64) & MASK32))
    return h


def sample_clients(n_clients: int, n_sampled: int, seed: int, round_index: int) -> np.ndarray:
    """The ``n_sampled`` clients of one round, sorted ids, shape (n_sampled,).

    The clients with the smallest keys ``hash(seed, round, client)`` are taken, so the
    choice depends only on the seed and the round number.
    """
    if n_sampled >= n_clients:
        return np.arange(n_clients, dtype=np.int64)
    keys = combine(SALT_SAMPLE, seed, round_index, np.arange(n_clients))
    return np.sort(np.argsort(keys, kind="stable")[:n_sampled]).astype(np.int64)


def epoch_orders(n_examples: int, epochs: int, seed: int, round_index: int, client: int) -> np.ndarray:
    """One permutation of ``range(n_examples)`` per local epoch, shape (epochs, n_examples)."""
    positions = np.arange(n_examples)[None, :]
    epoch_ids = np.arange(epochs)[:, None]
    keys = combine(SALT_ORDER, seed, round_index, client, epoch_ids, positions)
    return np.argsort(keys, axis=1, kind="stable").astype(np.int64)
