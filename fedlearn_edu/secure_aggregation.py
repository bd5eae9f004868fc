"""Secure aggregation by pairwise masking (Bonawitz et al. 2017, simplified).

The server learns the SUM of the clients' updates and nothing else about any one of them.

1. **Quantise.** Each client clips its update to ``[-clip_range, clip_range]`` and maps it
   to integers modulo 2**32 with ``q = round(x * scale) mod 2**32`` (negative values wrap,
   two's complement). Sums of up to ``n`` clients decode exactly as long as
   ``n * clip_range * scale < 2**31``; the defaults (``scale = 2**16``, ``clip_range = 1``)
   allow 32767 clients. Rounding costs at most ``0.5 / scale`` per coordinate.
2. **Agree on pairwise seeds.** Every client has an X25519 key pair and publishes its public
   key (through the server). Clients i and j compute the same shared secret (Diffie-Hellman)
   and derive a 32-byte seed with HKDF-SHA256; the server, which sees only public keys, cannot.
3. **Mask.** A pseudo-random generator (ChaCha20 keystream keyed by the seed) expands each
   seed into a vector ``r_ij`` of uint32. Client i sends
   ``y_i = q_i + sum_{j > i} r_ij - sum_{j < i} r_ji  (mod 2**32)``.
   Every ``r_ij`` is added once (by i) and subtracted once (by j), so
   ``sum_i y_i = sum_i q_i (mod 2**32)`` exactly, while each ``y_i`` alone is uniformly
   distributed.
4. **Dropouts.** If client d drops after the masks were agreed, the survivors' masks towards d
   do not cancel. So beforehand every client splits its X25519 private key into Shamir
   shares (``threshold`` of ``n`` reconstruct it, ``threshold - 1`` reveal nothing) and gives
   one share to each other client. When d drops, ``threshold`` survivors send the server their
   share of d's key; the server rebuilds the key, recomputes d's pairwise seeds with the
   survivors' public keys and removes the stray masks: the sum of the survivors comes out exactly.

What the real protocol adds (and this teaching version leaves out): a **self-mask** b_i on
top of the pairwise masks (double masking), so that a client that was only *late*, not gone,
cannot be unmasked by a server that first claims it dropped and asks for its key shares —
honest survivors reveal, per client, either the shares of b_i or those of the key, never
both; **authentication** of the public keys and messages (signatures, a PKI), without which a
malicious server can impersonate clients and split the key exchange; **encrypted, authenticated
channels** for the shares that travel through the server; a **minimum number of survivors**
enforced in every round; and consistency checks against a server that shows different
clients different views. Here all clients are honest and the server is honest-but-curious.

Secure aggregation hides individual updates, not the aggregate: the sum itself can still leak
(see :mod:`fedlearn_edu.privacy`), and because the server cannot inspect any update, it also
cannot detect a poisoned one (see :mod:`fedlearn_edu.poisoning`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from ._validate import check_float, check_int, check_seed

__all__ = ["MODULUS", "DEFAULT_SCALE", "SHAMIR_PRIME", "quantize", "dequantize", "shamir_split",
           "shamir_reconstruct", "SecAggClient", "make_clients", "pairwise_seed", "prg_uint32",
           "client_mask", "mask_update", "unmask_dropped", "SecureSumResult", "secure_sum"]

MODULUS = 2 ** 32
DEFAULT_SCALE = 2 ** 16
#: the Mersenne prime 2**521 - 1: a field large enough for a 256-bit private key
SHAMIR_PRIME = 2 ** 521 - 1


# -- step 1: integers modulo 2**32 ---------------------------------------------------------
def quantize(update: np.ndarray, clip_range: float = 1.0, scale: int = DEFAULT_SCALE) -> np.ndarray:
    """Clip to [-clip_range, clip_range] and map to uint32: ``round(x * scale) mod 2**32``.

    Parameters
    ----------
    update : ndarray (P,), a client's update (float)
    clip_range : float > 0, values outside [-clip_range, clip_range] are clipped
    scale : int >= 1, quantisation steps per unit (resolution 1 / scale)

    Returns
    -------
    ndarray (P,) uint32.
    """
    update = np.asarray(update, dtype=np.float64)
    if update.ndim != 1:
        raise ValueError(f"update must be a 1-D vector (P,), got shape {update.shape}")
    clip_range = check_float("clip_range", clip_range, low=0.0, low_inclusive=False)
    scale = check_int("scale", scale, minimum=1)
    if clip_range * scale >= 2 ** 31:
        raise ValueError(f"clip_range * scale must be < 2**31 to fit a signed 32-bit integer, "
                         f"got {clip_range} * {scale}")
    integers = np.rint(np.clip(update, -clip_range, clip_range) * scale).astype(np.int64)
    return (integers % MODULUS).astype(np.uint32)


def dequantize(total: np.ndarray, scale: int = DEFAULT_SCALE) -> np.ndarray:
    """Read a uint32 vector (a sum of quantised updates) as signed int32 and divide by ``scale``.

    Returns ndarray (P,) float64.
    """
    scale = check_int("scale", scale, minimum=1)
    return np.asarray(total, dtype=np.uint32).view(np.int32).astype(np.float64) / scale


def _add_mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a.astype(np.uint64) + b.astype(np.uint64)) % MODULUS).astype(np.uint32)


def _sub_mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a.astype(np.uint64) + MODULUS - b.astype(np.uint64)) % MODULUS).astype(np.uint32)


def _sum_mod(vectors: np.ndarray) -> np.ndarray:
    return (np.asarray(vectors, dtype=np.uint64).sum(axis=0) % MODULUS).astype(np.uint32)


# -- Shamir secret sharing over GF(p) --------------------------------------------------------
def shamir_split(secret: int, n_shares: int, threshold: int, rng: np.random.Generator,
                 prime: int = SHAMIR_PRIME) -> list[tuple[int, int]]:
    """Split ``secret`` into ``n_shares`` points of a random polynomial of degree ``threshold - 1``.

    f(x) = secret + a_1 x + ... + a_{t-1} x^{t-1} (mod prime); share i is (i, f(i)), i = 1..n.
    Any ``threshold`` shares give f(0) = secret back; fewer reveal nothing about it.

    Parameters
    ----------
    secret : int in [0, prime)
    n_shares : int >= 1
    threshold : int, 1 <= threshold <= n_shares
    rng : numpy Generator for the coefficients (seeded here for a reproducible lesson;
        a real client uses a cryptographic source such as ``secrets``)
    prime : a prime larger than any secret

    Returns
    -------
    list of n_shares (x, y) int pairs.
    """
    n_shares = check_int("n_shares", n_shares, minimum=1)
    threshold = check_int("threshold", threshold, minimum=1, maximum=n_shares)
    if not 0 <= int(secret) < prime:
        raise ValueError(f"secret must be an integer in [0, prime), got {secret}")
    n_bytes = (prime.bit_length() + 7) // 8
    coefficients = [int(secret)] + [int.from_bytes(rng.bytes(n_bytes), "big") % prime
                                    for _ in range(threshold - 1)]
    shares = []
    for x in range(1, n_shares + 1):
        y = 0
        for a in reversed(coefficients):       # Horner
            y = (y * x + a) % prime
        shares.append((x, y))
    return shares


def shamir_reconstruct(shares: Sequence[tuple[int, int]], threshold: int,
                       prime: int = SHAMIR_PRIME) -> int:
    """Lagrange interpolation at 0 from at least ``threshold`` distinct shares.

    Raises ValueError with fewer than ``threshold`` shares: t - 1 points fit every possible
    secret equally well, so there is nothing to reconstruct.
    """
    threshold = check_int("threshold", threshold, minimum=1)
    points = {int(x): int(y) for x, y in shares}
    if len(points) != len(shares):
        raise ValueError("shares must come from distinct clients (distinct x), got duplicates")
    if len(points) < threshold:
        raise ValueError(f"shares: need at least threshold={threshold} shares to reconstruct, got "
                         f"{len(points)}; fewer shares say nothing about the secret")
    xs = list(points)[:threshold]
    secret = 0
    for i in xs:
        numerator, denominator = 1, 1
        for j in xs:
            if j != i:
                numerator = numerator * (-j) % prime
                denominator = denominator * (i - j) % prime
        secret = (secret + points[i] * numerator * pow(denominator, -1, prime)) % prime
    return secret


# -- key agreement and masks -----------------------------------------------------------------
@dataclass
class SecAggClient:
    """One client of the protocol.

    Attributes
    ----------
    client_id : int, 0..n-1
    private_key : X25519PrivateKey, never leaves the client (only Shamir shares of it do)
    public_key : X25519PublicKey, published through the server
    shares_held : dict {other client id: (x, y)}, this client's share of each other client's key
    """

    client_id: int
    private_key: X25519PrivateKey
    public_key: X25519PublicKey
    shares_held: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"SecAggClient({self.client_id}, holds {len(self.shares_held)} key shares)"


def _private_int(key: X25519PrivateKey) -> int:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return int.from_bytes(raw, "big")


def _private_from_int(value: int) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(int(value).to_bytes(32, "big"))


def make_clients(n_clients: int, threshold: int, seed: int = 0) -> list[SecAggClient]:
    """Key generation and key-share distribution (the protocol's first two rounds).

    Every client gets an X25519 key pair and splits its private key into n Shamir shares
    (``threshold`` of them reconstruct it); client j keeps share j of every other client's key.

    Parameters
    ----------
    n_clients : int >= 2
    threshold : int, 2 <= threshold <= n_clients - 1 (so that one dropout can be recovered)
        Choose it above n/2 in practice: then no minority of clients can rebuild a key.
    seed : int >= 0; keys come from a seeded generator so that the lesson is reproducible.
        Real clients generate keys with ``X25519PrivateKey.generate()`` (the OS's randomness).

    Returns
    -------
    list of n_clients SecAggClient.
    """
    n_clients = check_int("n_clients", n_clients, minimum=2)
    threshold = check_int("threshold", threshold, minimum=2 if n_clients > 2 else 1, maximum=n_clients - 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    clients = []
    for k in range(n_clients):
        key = X25519PrivateKey.from_private_bytes(rng.bytes(32))
        clients.append(SecAggClient(k, key, key.public_key()))
    for owner in clients:
        shares = shamir_split(_private_int(owner.private_key), n_clients, threshold, rng)
        for holder, share in zip(clients, shares, strict=True):
            if holder.client_id != owner.client_id:
                holder.shares_held[owner.client_id] = share
    return clients


def pairwise_seed(private_key: X25519PrivateKey, peer_public_key: X25519PublicKey) -> bytes:
    """32-byte seed both ends of a pair derive: HKDF-SHA256 of their X25519 shared secret."""
    shared = private_key.exchange(peer_public_key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"fedlearn-edu secure aggregation mask seed").derive(shared)


def prg_uint32(seed: bytes, length: int) -> np.ndarray:
    """Expand a 32-byte seed into ``length`` pseudo-random uint32 (ChaCha20 keystream)."""
    length = check_int("length", length, minimum=1)
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != 32:
        raise ValueError(f"seed must be 32 bytes, got {type(seed).__name__} of length {len(seed)}")
    encryptor = Cipher(algorithms.ChaCha20(bytes(seed), b"\x00" * 16), mode=None).encryptor()
    stream = encryptor.update(b"\x00" * (4 * length))
    return np.frombuffer(stream, dtype="<u4").astype(np.uint32)


def _signed_pair_mask(i: int, j: int, seed: bytes, length: int) -> tuple[np.ndarray, bool]:
    """r_ij and whether client i adds it (i < j) or subtracts it (i > j)."""
    return prg_uint32(seed, length), i < j


def client_mask(client: SecAggClient, public_keys: dict, length: int) -> np.ndarray:
    """Client i's total mask ``sum_{j > i} r_ij - sum_{j < i} r_ij  (mod 2**32)``, shape (length,).

    Parameters
    ----------
    client : the masking client
    public_keys : {client id: X25519PublicKey} of every client in the round (its own included or not)
    length : int, P
    """
    mask = np.zeros(length, dtype=np.uint32)
    for other, public in public_keys.items():
        if other == client.client_id:
            continue
        r, add = _signed_pair_mask(client.client_id, other,
                                   pairwise_seed(client.private_key, public), length)
        mask = _add_mod(mask, r) if add else _sub_mod(mask, r)
    return mask


def mask_update(client: SecAggClient, quantised: np.ndarray, public_keys: dict) -> np.ndarray:
    """What client i sends: ``y_i = q_i + mask_i (mod 2**32)``, shape (P,) uint32."""
    quantised = np.asarray(quantised, dtype=np.uint32)
    return _add_mod(quantised, client_mask(client, public_keys, len(quantised)))


def unmask_dropped(total: np.ndarray, dropped_id: int, shares: Sequence[tuple[int, int]], *,
                   threshold: int, public_keys: dict, survivors: Sequence[int]) -> np.ndarray:
    """Remove a dropped client's masks from the survivors' sum.

    The server rebuilds the dropped client's private key from ``threshold`` Shamir shares,
    recomputes its seed with each survivor, and undoes what each survivor added for it:
    survivor j added ``+ r_jd`` when j < d and ``- r_jd`` when j > d.

    Parameters
    ----------
    total : ndarray (P,) uint32, sum of the survivors' masked vectors
    dropped_id : int, the client that did not send its vector
    shares : shares of the dropped client's key sent by survivors
    threshold : int, as in :func:`make_clients`; fewer shares raise ValueError
    public_keys : {id: X25519PublicKey} of the round
    survivors : ids of the clients whose vectors are in ``total``

    Returns
    -------
    ndarray (P,) uint32, ``total`` without the masks towards ``dropped_id``.
    """
    key = _private_from_int(shamir_reconstruct(shares, threshold))
    if key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) != \
            public_keys[dropped_id].public_bytes(Encoding.Raw, PublicFormat.Raw):
        raise ValueError(f"the shares did not rebuild client {dropped_id}'s key (wrong or forged shares)")
    total = np.asarray(total, dtype=np.uint32)
    for j in survivors:
        r = prg_uint32(pairwise_seed(key, public_keys[j]), len(total))
        total = _sub_mod(total, r) if j < dropped_id else _add_mod(total, r)
    return total


# -- one whole round -----------------------------------------------------------------------
@dataclass
class SecureSumResult:
    """One round of secure aggregation.

    Attributes
    ----------
    quantised : ndarray (n, P) uint32, each client's quantised update (never sent)
    masked : ndarray (n, P) uint32, what each client sent (rows of dropped clients are unused)
    survivors : ndarray of int, the clients whose masked vectors reached the server
    dropped : tuple of int
    naive_sum : ndarray (P,) uint32, the survivors' masked vectors summed, before any recovery
    recovered_sum : ndarray (P,) uint32, the server's result after removing dropped clients' masks
    true_sum : ndarray (P,) uint32, sum of the survivors' quantised updates (what should come out)
    decoded : ndarray (P,) float64, ``recovered_sum`` as a real vector
    scale : int
    """

    quantised: np.ndarray
    masked: np.ndarray
    survivors: np.ndarray
    dropped: tuple
    naive_sum: np.ndarray
    recovered_sum: np.ndarray
    true_sum: np.ndarray
    decoded: np.ndarray
    scale: int

    @property
    def exact(self) -> bool:
        """True when the server's sum equals the survivors' quantised sum, bit for bit."""
        return bool(np.array_equal(self.recovered_sum, self.true_sum))

    def __repr__(self) -> str:
        return (f"SecureSumResult({len(self.survivors)} survivors, dropped {list(self.dropped)}, "
                f"exact={self.exact})")


def secure_sum(updates: np.ndarray, dropped: Sequence[int] = (), threshold: int | None = None,
               clip_range: float = 1.0, scale: int = DEFAULT_SCALE, seed: int = 0) -> SecureSumResult:
    """Run one round: quantise, mask, (drop), sum, recover.

    Parameters
    ----------
    updates : ndarray (n, P), one real update per client
    dropped : ids of clients that drop after the keys were agreed (their vectors never arrive)
    threshold : Shamir threshold t (default: n // 2 + 1)
    clip_range, scale : see :func:`quantize`
    seed : int >= 0, seeds the keys and the Shamir coefficients

    Returns
    -------
    SecureSumResult
    """
    updates = np.asarray(updates, dtype=np.float64)
    if updates.ndim != 2 or updates.shape[0] < 2:
        raise ValueError(f"updates must be an (n, P) array with n >= 2 clients, got shape {updates.shape}")
    n = updates.shape[0]
    threshold = n // 2 + 1 if threshold is None else threshold
    clients = make_clients(n, threshold, seed)
    dropped = tuple(sorted({check_int("dropped", d, minimum=0, maximum=n - 1) for d in dropped}))
    survivors = np.array([k for k in range(n) if k not in dropped], dtype=np.int64)
    if len(survivors) < threshold:
        raise ValueError(f"dropped: only {len(survivors)} clients survive, fewer than threshold={threshold}; "
                         f"the round must be abandoned")
    public_keys = {c.client_id: c.public_key for c in clients}
    quantised = np.stack([quantize(u, clip_range, scale) for u in updates])
    masked = np.stack([mask_update(c, q, public_keys) for c, q in zip(clients, quantised, strict=True)])
    naive = _sum_mod(masked[survivors])
    recovered = naive
    for d in dropped:
        shares = [clients[j].shares_held[d] for j in survivors[:threshold]]
        recovered = unmask_dropped(recovered, d, shares, threshold=threshold, public_keys=public_keys,
                                   survivors=survivors)
    return SecureSumResult(quantised=quantised, masked=masked, survivors=survivors, dropped=dropped,
                           naive_sum=naive, recovered_sum=recovered, true_sum=_sum_mod(quantised[survivors]),
                           decoded=dequantize(recovered, scale), scale=scale)
