"""What an update reveals, and differential privacy for FedAvg.

**Leakage.** For a model whose first layer is Dense with a bias, ``h = act(x W1 + b1)``, one
gradient step on one example changes ``W1`` by ``-lr * outer(x, delta)`` and ``b1`` by
``-lr * delta`` (``delta`` = dLoss/d pre-activation). So for every hidden unit j that moved,
``x = dW1[:, j] / db1[j]``, exactly (:func:`reconstruct_single_example`). With several examples
each ratio is a weighted blend of the examples the unit responded to; a ReLU unit that fired
for only ONE example of the batch still gives that example back exactly
(:func:`candidate_inputs`, :func:`best_match_error`). Where no unit isolates an example (smooth
activations, large batches), :func:`deep_leakage` (Zhu et al. 2019, "Deep Leakage from
Gradients") fits dummy inputs and soft labels whose gradient matches the observed one.

**Differential privacy.** DP-FedAvg (McMahan et al. 2018, "Learning Differentially Private
Recurrent Language Models"), with uniform client weights:

* each round every client takes part independently with probability q (Poisson sampling);
  the expected number of clients is ``m = q K``;
* each participant's update ``Delta_k = w_k - w_t`` is clipped to L2 norm S;
* the server forms the *fixed-denominator* average of the paper,
  ``Delta = (sum_k clip(Delta_k) + N(0, (z S)^2 I)) / m``, with ``m = qK`` the EXPECTED number
  of clients, not the number that happened to show up: the noise has standard deviation
  ``z S / m`` per coordinate, and adding or removing one client changes the sum by at most S;
* ``w_{t+1} = w_t + Delta`` (the server update of :class:`fedlearn_edu.simulation.Simulation`).

The guarantee is *user-level* (ε, δ)-DP for the sequence of global models, under
add/remove-one-client neighbouring: :func:`dp_epsilon` composes
``PoissonSampledDpEvent(q, GaussianDpEvent(z))`` over the rounds with the RDP accountant of
Google's ``dp_accounting``. It protects each client against anyone who sees the models (other
clients, the public, the model's users); it does NOT protect against a server that sees the
clipped updates before adding the noise — that needs secure aggregation or noise added on
the devices.
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ._tf import tf
from ._validate import check_float, check_int, check_positive, check_seed
from .batch import run_planned_settings
from .client import LocalTrainer, client_update
from .model import flatten_weights, unflatten_weights
from .simulation import FLConfig, Simulation
from .vectorized import AGGREGATION_CODES

__all__ = ["reconstruct_single_example", "candidate_inputs", "best_match_error", "examples_recovered",
           "update_seen_by_server", "LeakageMeasurement", "leakage_under_defences", "leakage_against_noise",
           "update_to_gradient",
           "DLGResult", "deep_leakage", "clip_to_norm", "dp_noise_std", "dp_aggregate", "dp_epsilon",
           "dp_epsilon_curve",
           "poisson_sample", "DPRun", "run_dp_fedavg", "DPSetting", "run_dp_experiments"]


# ---------------------------------------------------------------------------------------------
# Closed-form leakage
# ---------------------------------------------------------------------------------------------
def _first_layer_deltas(weights_before, weights_after) -> tuple[np.ndarray, np.ndarray]:
    if len(weights_before) != len(weights_after) or len(weights_before) < 4:
        raise ValueError("weights_before and weights_after must be the weight lists of one Dense model "
                         f"with a hidden layer, got {len(weights_before)} and {len(weights_after)} arrays")
    d_kernel = np.asarray(weights_after[0], np.float64) - np.asarray(weights_before[0], np.float64)
    d_bias = np.asarray(weights_after[1], np.float64) - np.asarray(weights_before[1], np.float64)
    if d_kernel.ndim != 2 or d_bias.shape != d_kernel.shape[1:]:
        raise ValueError(f"weights_before[0:2] must be a Dense kernel (d, h) and bias (h,), "
                         f"got shapes {d_kernel.shape} and {d_bias.shape}")
    return d_kernel, d_bias


def reconstruct_single_example(weights_before: Sequence[np.ndarray],
                               weights_after: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """Recover the input and the label of a client that trained on ONE example.

    For a Dense first layer h = act(x W1 + b1), each SGD step on one example changes
    W1 by -lr * outer(x, delta) and b1 by -lr * delta (delta = dLoss/d(pre-activation)).
    So for any hidden unit j with delta_j != 0, x = dW1[:, j] / db1[j], exactly (also after
    several local steps on that same example: every step adds a multiple of x). The softmax
    output bias changes by -lr * (p - onehot(y)): only the true class goes up.

    Parameters
    ----------
    weights_before : the global model sent to the client [W1 (d, h), b1 (h,), ..., W_out, b_out (c,)]
    weights_after : the model the client sent back (or global model + the update the server saw)

    Returns
    -------
    x : ndarray (d,), the client's example; label : int, its class.
    """
    d_kernel, d_bias = _first_layer_deltas(weights_before, weights_after)
    j = int(np.argmax(np.abs(d_bias)))
    if d_bias[j] == 0:
        raise ValueError("the first-layer bias did not change: this update carries no gradient to invert")
    x = d_kernel[:, j] / d_bias[j]
    d_out = np.asarray(weights_after[-1], np.float64) - np.asarray(weights_before[-1], np.float64)
    return x, int(np.argmax(d_out))


def candidate_inputs(weights_before: Sequence[np.ndarray], weights_after: Sequence[np.ndarray],
                     min_relative_change: float = 1e-3) -> np.ndarray:
    """Every unit's ratio dW1[:, j] / db1[j]: the attacker's candidate inputs, shape (u, d).

    Units whose bias moved by less than ``min_relative_change`` times the largest bias change
    are skipped (their ratio is dominated by rounding or noise). With one example every
    candidate is that example; with a batch, a candidate is a blend of the examples its unit
    responded to, and an exact copy when the unit responded to only one of them.
    """
    min_relative_change = check_float("min_relative_change", min_relative_change, low=0.0, high=1.0)
    d_kernel, d_bias = _first_layer_deltas(weights_before, weights_after)
    largest = np.max(np.abs(d_bias))
    if largest == 0:
        raise ValueError("the first-layer bias did not change: this update carries no gradient to invert")
    units = np.flatnonzero(np.abs(d_bias) >= min_relative_change * largest)
    return (d_kernel[:, units] / d_bias[units]).T


def _relative_errors(candidates: np.ndarray, X_private: np.ndarray) -> np.ndarray:
    candidates = np.atleast_2d(np.asarray(candidates, np.float64))
    X = np.atleast_2d(np.asarray(X_private, np.float64))
    if candidates.shape[1] != X.shape[1]:
        raise ValueError(f"candidates and X_private must have the same width, got {candidates.shape[1]} "
                         f"and {X.shape[1]}")
    distances = np.linalg.norm(candidates[:, None, :] - X[None, :, :], axis=2)     # (u, n)
    return distances / np.maximum(np.linalg.norm(X, axis=1), 1e-12)[None, :]


def best_match_error(candidates: np.ndarray, X_private: np.ndarray) -> float:
    """The attacker's best result: min over candidates and private examples of ||x_hat - x|| / ||x||.

    Parameters
    ----------
    candidates : ndarray (u, d), e.g. from :func:`candidate_inputs`
    X_private : ndarray (n, d), the examples behind the update (known to the evaluator, not the attacker)

    Returns
    -------
    float >= 0; 0 means some private example was recovered exactly; about 1 or more means nothing
    better than guessing zero.
    """
    return float(_relative_errors(candidates, X_private).min())


def examples_recovered(candidates: np.ndarray, X_private: np.ndarray, tolerance: float = 0.01) -> int:
    """How many private examples have a candidate within ``tolerance`` relative error."""
    tolerance = check_positive("tolerance", tolerance)
    return int(np.sum(_relative_errors(candidates, X_private).min(axis=0) <= tolerance))


def update_seen_by_server(trainer: LocalTrainer, weights: Sequence[np.ndarray],
                          client_data: Sequence[tuple[np.ndarray, np.ndarray]], *, epochs: int = 1,
                          batch_size: int | None = None, client_learning_rate: float = 0.1,
                          clip_norm: float | None = None, noise_multiplier: float = 0.0,
                          seed: int = 0) -> list[np.ndarray]:
    """The model the server can compute after one round: ``weights + sum of what it sees``.

    Each client (X, y) in ``client_data`` trains from ``weights``; its update is clipped to
    ``clip_norm`` (if given); the server sees the SUM of the updates (one client: its update;
    several: the secure-aggregation view) plus Gaussian noise of std ``noise_multiplier * clip_norm``.

    Returns
    -------
    list of ndarray shaped like ``weights``.
    """
    if len(client_data) == 0:
        raise ValueError("client_data must hold at least one client's (X, y)")
    noise_multiplier = check_float("noise_multiplier", noise_multiplier, low=0.0)
    if noise_multiplier > 0 and clip_norm is None:
        raise ValueError("clip_norm must be set when noise_multiplier > 0: the noise is scaled to it")
    start = flatten_weights(weights).astype(np.float64)
    total = np.zeros_like(start)
    for k, (X, y) in enumerate(client_data):
        result = client_update(trainer, weights, X, y, epochs=epochs, batch_size=batch_size,
                               client_learning_rate=client_learning_rate, seed=seed, client_id=k)
        update = flatten_weights(result.weights).astype(np.float64) - start
        total += update if clip_norm is None else clip_to_norm(update, clip_norm)
    if noise_multiplier > 0:
        total += np.random.default_rng(check_seed("seed", seed)).normal(0.0, noise_multiplier * clip_norm,
                                                                         total.shape)
    return unflatten_weights(start + total, weights)


@dataclass
class LeakageMeasurement:
    """One row of :func:`leakage_under_defences`.

    Attributes
    ----------
    defence : str, what protects the client
    n_examples : int, private examples behind the observed update
    error : float, :func:`best_match_error` of the closed-form candidates
    recovered : int, examples recovered within 1% (:func:`examples_recovered`)
    best_candidate : ndarray (d,), the candidate closest to a private example
    matched_index : int, which private example it is closest to
    """

    defence: str
    n_examples: int
    error: float
    recovered: int
    best_candidate: np.ndarray
    matched_index: int

    def __repr__(self) -> str:
        return (f"LeakageMeasurement({self.defence!r}: error {self.error:.3f}, "
                f"{self.recovered}/{self.n_examples} recovered)")


def leakage_under_defences(X: np.ndarray, y: np.ndarray, trainer: LocalTrainer,
                           weights: Sequence[np.ndarray], client_learning_rate: float = 0.1,
                           clip_norm: float = 0.1, noise_multiplier: float = 1.0,
                           n_secure_clients: int = 10, seed: int = 0) -> list[LeakageMeasurement]:
    """The closed-form attack against growing defences, on the first examples of (X, y).

    Rows: FedSGD on 1 example; FedSGD on batches of 4, 16 and 64; FedAvg on 16 examples for 5
    epochs with B = 4 (20 local steps); secure aggregation of ``n_secure_clients`` one-example
    clients (the server sees only the sum); one example's update clipped to ``clip_norm`` with
    Gaussian noise of std ``noise_multiplier * clip_norm`` added.

    Parameters
    ----------
    X : ndarray (n, d) with n >= max(64, n_secure_clients); y : ndarray (n,)
    trainer, weights : the model (first layer Dense with bias) and the global weights sent
    client_learning_rate : float > 0
    clip_norm, noise_multiplier : the DP row's S and z
    n_secure_clients : int >= 2
    seed : int >= 0, seeds the batch order and the noise

    Returns
    -------
    list of 7 LeakageMeasurement.
    """
    n_secure_clients = check_int("n_secure_clients", n_secure_clients, minimum=2)
    if len(X) < max(64, n_secure_clients):
        raise ValueError(f"X must hold at least {max(64, n_secure_clients)} examples, got {len(X)}")
    common = dict(client_learning_rate=client_learning_rate, seed=seed)
    cases = [("none (FedSGD, 1 example)", [(X[:1], y[:1])], {}, 1)]
    for b in (4, 16, 64):
        cases.append((f"FedSGD, batch of {b}", [(X[:b], y[:b])], {}, b))
    cases.append(("FedAvg, 16 examples, B=4, E=5", [(X[:16], y[:16])], dict(epochs=5, batch_size=4), 16))
    cases.append((f"secure aggregation, {n_secure_clients} clients x 1 example",
                  [(X[k:k + 1], y[k:k + 1]) for k in range(n_secure_clients)], {}, n_secure_clients))
    cases.append((f"clip S={clip_norm:g} + noise z={noise_multiplier:g}, 1 example", [(X[:1], y[:1])],
                  dict(clip_norm=clip_norm, noise_multiplier=noise_multiplier), 1))
    rows = []
    for name, data, options, n in cases:
        seen = update_seen_by_server(trainer, weights, data, **common, **options)
        candidates = candidate_inputs(weights, seen)
        errors = _relative_errors(candidates, X[:n])
        unit, example = np.unravel_index(np.argmin(errors), errors.shape)
        rows.append(LeakageMeasurement(defence=name, n_examples=n, error=float(errors[unit, example]),
                                       recovered=examples_recovered(candidates, X[:n]), best_candidate=candidates[unit],
                                       matched_index=int(example)))
    return rows


def leakage_against_noise(X: np.ndarray, y: np.ndarray, trainer: LocalTrainer, weights: Sequence[np.ndarray],
                          noise_multipliers: Sequence[float], clip_norm: float = 0.1,
                          client_learning_rate: float = 0.1, seed: int = 0) -> np.ndarray:
    """Best-match error of the closed-form attack on ONE record's clipped update as the noise grows.

    Parameters
    ----------
    X : ndarray (1, d); y : ndarray (1,), the client's record
    trainer, weights : the model and the global weights sent
    noise_multipliers : sequence of float >= 0, z; the noise std is z * clip_norm per coordinate
    clip_norm : float > 0, S
    client_learning_rate : float > 0
    seed : int >= 0, seeds the noise (the same draw, scaled, for every z)

    Returns
    -------
    ndarray (len(noise_multipliers),), :func:`best_match_error` for each z.
    """
    if len(X) != 1:
        raise ValueError(f"X must hold exactly one record, got {len(X)}")
    errors = []
    for z in noise_multipliers:
        seen = update_seen_by_server(trainer, weights, [(X, y)], client_learning_rate=client_learning_rate,
                                     clip_norm=clip_norm, noise_multiplier=z, seed=seed)
        errors.append(best_match_error(candidate_inputs(weights, seen), X))
    return np.asarray(errors)


# ---------------------------------------------------------------------------------------------
# Deep Leakage from Gradients
# ---------------------------------------------------------------------------------------------
def update_to_gradient(weights_before: Sequence[np.ndarray], weights_after: Sequence[np.ndarray],
                       client_learning_rate: float) -> list[np.ndarray]:
    """FedSGD: one full-batch step means ``gradient = (w_before - w_after) / lr``, per layer."""
    lr = check_positive("client_learning_rate", client_learning_rate)
    return [(np.asarray(b, np.float64) - np.asarray(a, np.float64)) / lr
            for b, a in zip(weights_before, weights_after, strict=True)]


_ACTIVATIONS = {"sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu, "elu": tf.nn.elu}


def _dense_logits(weights, X, activation):
    h = X
    for i in range(0, len(weights) - 2, 2):
        h = activation(tf.matmul(h, weights[i]) + weights[i + 1])
    return tf.matmul(h, weights[-2]) + weights[-1]


@dataclass
class DLGResult:
    """What :func:`deep_leakage` found.

    Attributes
    ----------
    x : ndarray (B, d), the fitted dummy inputs
    labels : ndarray (B,), argmax of the fitted soft labels
    label_probabilities : ndarray (B, c)
    matching_loss : ndarray (iterations,), ||grad(dummy) - observed||^2 per iteration
    """

    x: np.ndarray
    labels: np.ndarray
    label_probabilities: np.ndarray
    matching_loss: np.ndarray


def _gradient_matcher(W: list, G: list, act, iterations: int, learning_rate: float):
    """DLG's optimiser as one compiled function: ``fit(x0, l0)`` runs ``iterations`` Adam steps on
    the dummy inputs x' (B, d) and label logits l' (B, c) that minimise
    ||grad_W L(x', softmax(l')) - G||^2, and returns (x', l', the matching loss per step)."""
    @tf.function
    def matching_loss(x, label_logits):
        with tf.GradientTape() as tape:
            tape.watch(W)
            log_p = tf.nn.log_softmax(_dense_logits(W, x, act))
            loss = -tf.reduce_mean(tf.reduce_sum(tf.nn.softmax(label_logits) * log_p, axis=1))
        grads = tape.gradient(loss, W)
        return tf.add_n([tf.reduce_sum(tf.square(g - o)) for g, o in zip(grads, G, strict=True)])

    @tf.function
    def fit(x0, l0):
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        history = tf.TensorArray(tf.float32, size=iterations)

        def body(i, x, labels, m_x, v_x, m_l, v_l, history):
            with tf.GradientTape() as tape:
                tape.watch([x, labels])
                value = matching_loss(x, labels)
            gx, gl = tape.gradient(value, [x, labels])
            t = tf.cast(i + 1, tf.float32)
            step = learning_rate * tf.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
            m_x = beta1 * m_x + (1 - beta1) * gx
            v_x = beta2 * v_x + (1 - beta2) * gx * gx
            m_l = beta1 * m_l + (1 - beta1) * gl
            v_l = beta2 * v_l + (1 - beta2) * gl * gl
            return (i + 1, x - step * m_x / (tf.sqrt(v_x) + eps), labels - step * m_l / (tf.sqrt(v_l) + eps),
                    m_x, v_x, m_l, v_l, history.write(i, value))

        zeros_x, zeros_l = tf.zeros_like(x0), tf.zeros_like(l0)
        _, x, labels, *_, history = tf.while_loop(
            lambda i, *_: i < iterations, body,
            (tf.constant(0), x0, l0, zeros_x, zeros_x, zeros_l, zeros_l, history))
        return x, labels, history.stack()

    return fit


def deep_leakage(weights: Sequence[np.ndarray], observed_gradient: Sequence[np.ndarray], n_examples: int,
                 activation: str = "sigmoid", iterations: int = 400, learning_rate: float = 0.1,
                 restarts: int = 1, seed: int = 0) -> DLGResult:
    """Deep Leakage from Gradients (Zhu, Liu and Han, NeurIPS 2019).

    Start from random dummy inputs x' (B, d) and dummy label logits l' (B, c); minimise
    ``|| grad_w L(x', softmax(l')) - g ||^2`` over x' and l' with Adam, where L is the mean
    cross-entropy with soft labels and g the observed gradient. The paper uses L-BFGS; Adam
    with a fixed number of iterations keeps the run short and deterministic.

    Parameters
    ----------
    weights : list [W1 (d, h), b1 (h,), ..., W_out (h, c), b_out (c,)] of a Dense model with
        softmax output (the model the client trained)
    observed_gradient : list of ndarray shaped like ``weights`` (see :func:`update_to_gradient`)
    n_examples : int >= 1, B, the batch size the attacker assumes
    activation : hidden activation of the model ("sigmoid", "tanh", "relu", "elu"); smooth ones
        suit the attack (ReLU's second derivative is zero)
    iterations : int >= 1
    learning_rate : float > 0, Adam's step size
    restarts : int >= 1, independent random starts; the best final match is kept
    seed : int >= 0

    Returns
    -------
    DLGResult
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(map(repr, _ACTIVATIONS))}, got {activation!r}")
    if len(weights) != len(observed_gradient) or len(weights) < 4 or len(weights) % 2:
        raise ValueError("weights and observed_gradient must be the same list of Dense kernels and biases")
    n_examples = check_int("n_examples", n_examples, minimum=1)
    iterations = check_int("iterations", iterations, minimum=1)
    restarts = check_int("restarts", restarts, minimum=1)
    learning_rate = check_positive("learning_rate", learning_rate)
    act = _ACTIVATIONS[activation]
    W = [tf.constant(np.asarray(w), tf.float32) for w in weights]
    G = [tf.constant(np.asarray(g), tf.float32) for g in observed_gradient]
    n_features, n_classes = int(W[0].shape[0]), int(W[-1].shape[0])

    fit = _gradient_matcher(W, G, act, iterations, learning_rate)
    rng = np.random.default_rng(check_seed("seed", seed))
    best = None
    for _ in range(restarts):
        x0 = tf.constant(rng.normal(0.0, 1.0, (n_examples, n_features)), tf.float32)
        l0 = tf.constant(rng.normal(0.0, 1.0, (n_examples, n_classes)), tf.float32)
        x, logits, history = (t.numpy() for t in fit(x0, l0))
        if best is None or history[-1] < best[2][-1]:
            best = (x, logits, history)
    x, logits, history = best
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return DLGResult(x=x.astype(np.float64), labels=probabilities.argmax(axis=1),
                     label_probabilities=probabilities, matching_loss=history.astype(np.float64))


# ---------------------------------------------------------------------------------------------
# DP-FedAvg
# ---------------------------------------------------------------------------------------------
def clip_to_norm(updates: np.ndarray, clip_norm: float) -> np.ndarray:
    """Scale every row (or the vector) with L2 norm above S down to S: ``u * min(1, S / ||u||)``.

    Parameters
    ----------
    updates : ndarray (m, P) or (P,)
    clip_norm : float > 0, S

    Returns
    -------
    ndarray of the same shape (float64).
    """
    clip_norm = check_positive("clip_norm", clip_norm)
    u = np.asarray(updates, dtype=np.float64)
    norms = np.linalg.norm(u, axis=-1, keepdims=True)
    return u * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-300))


def dp_noise_std(noise_multiplier: float, clip_norm: float, expected_clients: float) -> float:
    """Per-coordinate noise std of DP-FedAvg's average: ``z * S / m`` (m = q K, expected clients)."""
    z = check_float("noise_multiplier", noise_multiplier, low=0.0)
    return z * check_positive("clip_norm", clip_norm) / check_positive("expected_clients", expected_clients)


def dp_aggregate(updates: np.ndarray, clip_norm: float, noise_multiplier: float, expected_clients: float,
                 rng: np.random.Generator) -> np.ndarray:
    """The fixed-denominator DP average: ``(sum_k clip(u_k, S) + N(0, (z S)^2 I)) / m``.

    Parameters
    ----------
    updates : ndarray (n, P), this round's client updates (n may be 0: nobody was sampled)
    clip_norm : float > 0, S
    noise_multiplier : float >= 0, z
    expected_clients : float > 0, m = q K (NOT n: dividing by the realised n would make the
        sensitivity depend on who showed up)
    rng : numpy Generator for the noise

    Returns
    -------
    ndarray (P,) float64.
    """
    u = np.asarray(updates, dtype=np.float64)
    if u.ndim != 2:
        raise ValueError(f"updates must be an (n, P) array, got shape {u.shape}")
    std = dp_noise_std(noise_multiplier, clip_norm, expected_clients)
    total = clip_to_norm(u, clip_norm).sum(axis=0) if len(u) else np.zeros(u.shape[1])
    return total / expected_clients + (rng.normal(0.0, std, u.shape[1]) if std > 0 else 0.0)


def dp_epsilon(noise_multiplier: float, sampling_probability: float, rounds: int,
               delta: float = 1e-5) -> float:
    """ε at ``delta`` after ``rounds`` Poisson-sampled Gaussian rounds (RDP accountant of dp_accounting).

    The event is ``SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(z)), rounds)``
    with add/remove-one neighbouring. The same call gives DP-SGD's ε (q = B / N, rounds = steps).

    Parameters
    ----------
    noise_multiplier : float >= 0, z (0: no noise, ε = inf)
    sampling_probability : float in (0, 1], q
    rounds : int >= 1
    delta : float in (0, 1)

    Returns
    -------
    float, ε (inf without noise).
    """
    z = check_float("noise_multiplier", noise_multiplier, low=0.0)
    q = check_float("sampling_probability", sampling_probability, low=0.0, high=1.0, low_inclusive=False)
    rounds = check_int("rounds", rounds, minimum=1)
    delta = check_float("delta", delta, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    return math.inf if z == 0 else _rdp_epsilon(z, q, rounds, delta)


@functools.lru_cache(maxsize=1024)
def _rdp_epsilon(z: float, q: float, rounds: int, delta: float) -> float:
    """dp_epsilon's accountant call, remembered: ε is a pure function of (z, q, R, δ) and costs
    ~0.1 s of dp_accounting's RDP orders, which a panel would otherwise pay on every move."""
    import dp_accounting
    from dp_accounting.rdp import RdpAccountant

    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(z)), rounds)
    absl_logger = logging.getLogger("absl")     # it warns about the fractional orders it skips
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)
    try:
        accountant = RdpAccountant()
        accountant.compose(event)
        return float(accountant.get_epsilon(delta))
    finally:
        absl_logger.setLevel(level)


def dp_epsilon_curve(noise_multiplier: float, sampling_probability: float, rounds: Sequence[int],
                     delta: float = 1e-5) -> np.ndarray:
    """ε at ``delta`` after each number of rounds in ``rounds``, the same accountant as :func:`dp_epsilon`.

    The RDP accountant works in Rényi divergence, where the rounds add up: it computes one round's
    RDP (at its list of orders) once, multiplies it by the number of rounds and converts that to
    (ε, δ). Fast enough for a slider (one RDP computation for the whole curve).

    Parameters
    ----------
    noise_multiplier : float >= 0, z (0: ε = inf for every number of rounds)
    sampling_probability : float in (0, 1], q
    rounds : sequence of int >= 1
    delta : float in (0, 1)

    Returns
    -------
    ndarray (len(rounds),), ε after each number of rounds.
    """
    import dp_accounting
    from dp_accounting.rdp import RdpAccountant
    from dp_accounting.rdp.rdp_privacy_accountant import compute_epsilon

    z = check_float("noise_multiplier", noise_multiplier, low=0.0)
    q = check_float("sampling_probability", sampling_probability, low=0.0, high=1.0, low_inclusive=False)
    counts = [check_int("rounds", r, minimum=1) for r in rounds]
    delta = check_float("delta", delta, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    if z == 0:
        return np.full(len(counts), math.inf)
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)
    try:
        accountant = RdpAccountant()
        accountant.compose(dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(z)))
        orders, one_round = np.asarray(accountant._orders), np.asarray(accountant._rdp)
        return np.array([float(compute_epsilon(orders, r * one_round, delta)[0]) for r in counts])
    finally:
        absl_logger.setLevel(level)


def poisson_sample(n_clients: int, sampling_probability: float, seed: int, round_index: int) -> np.ndarray:
    """Each client joins round ``round_index`` independently with probability q; sorted ids, (n,)."""
    n_clients = check_int("n_clients", n_clients, minimum=1)
    q = check_float("sampling_probability", sampling_probability, low=0.0, high=1.0, low_inclusive=False)
    rng = np.random.default_rng([check_seed("seed", seed), check_int("round_index", round_index, minimum=0)])
    return np.flatnonzero(rng.random(n_clients) < q).astype(np.int64)


@dataclass
class DPRun:
    """One DP-FedAvg run.

    Attributes
    ----------
    accuracy : ndarray (R,), test accuracy of the global model after each round
    epsilon : float, ε at ``delta`` spent by the R rounds (inf without noise)
    delta : float
    noise_multiplier, clip_norm, sampling_probability : z, S, q
    expected_clients : float, m = q K
    noise_std : float, z S / m, per coordinate of the averaged update
    participants : ndarray (R,) int, clients sampled in each round
    clipped_fraction : float, share of client updates whose norm exceeded S
    diverged_at : int or None, the 1-based round whose model became NaN or infinite (the run stopped;
        ``accuracy`` holds the rounds before it)
    """

    accuracy: np.ndarray
    epsilon: float
    delta: float
    noise_multiplier: float
    clip_norm: float
    sampling_probability: float
    expected_clients: float
    noise_std: float
    participants: np.ndarray
    clipped_fraction: float
    diverged_at: int | None = None

    @property
    def final_accuracy(self) -> float:
        """The last model's test accuracy; 0 when the run diverged (a NaN model predicts nothing)."""
        return 0.0 if self.diverged_at is not None else float(self.accuracy[-1])

    @property
    def late_accuracy(self) -> float:
        """Mean test accuracy over the last 5 rounds (one noisy round says little under DP)."""
        return float(np.mean(self.accuracy[-5:]))

    def __repr__(self) -> str:
        return (f"DPRun(z={self.noise_multiplier:g}, S={self.clip_norm:g}, q={self.sampling_probability:g}: "
                f"epsilon={self.epsilon:.3g} at delta={self.delta:g}, accuracy {self.late_accuracy:.3f} "
                f"over the last 5 rounds)")


def run_dp_fedavg(config: FLConfig, noise_multiplier: float, clip_norm: float, delta: float = 1e-5,
                  simulation: Simulation | None = None) -> DPRun:
    """DP-FedAvg built from :class:`Simulation`'s steps.

    Each round r is :meth:`Simulation.run_round` with two hooks: the clients are
    Poisson-sampled with q = ``config.fraction`` (:func:`poisson_sample`, ``clients=``), and
    their updates ``w_k - w_t`` are combined by :func:`dp_aggregate` with m = q K
    (``aggregate=``; also when nobody was sampled: the noise is still added); then
    ``server_update`` of ``w_t + Delta`` (FedAvg's server: the new model is ``w_t + Delta``;
    other server optimizers post-process the noisy average, which DP allows) and
    ``evaluate``. The seed for the noise is ``config.seed``. A round that turns the model
    NaN or infinite ends the run.

    Parameters
    ----------
    config : FLConfig (n_clients K, rounds R, fraction q, local training, seed)
    noise_multiplier : float >= 0, z
    clip_norm : float > 0, S
    delta : float in (0, 1), δ for the reported ε: the chance that the guarantee fails, so take it
        much smaller than 1 / K (δ = 1 / K would allow publishing one client's data outright)
    simulation : reuse a Simulation built from ``config``; it is reset first

    Returns
    -------
    DPRun
    """
    z = check_float("noise_multiplier", noise_multiplier, low=0.0)
    clip_norm = check_positive("clip_norm", clip_norm)
    sim = simulation if simulation is not None else Simulation(config)
    if sim.config != config:
        raise ValueError("simulation must be built from the same config")
    sim.reset()
    q, K = config.fraction, config.n_clients
    m = q * K
    rng = np.random.default_rng([config.seed, 0xD9])
    counts = {"clipped": 0, "seen": 0}

    def clip_and_noise(updates: np.ndarray, weights: np.ndarray) -> np.ndarray:
        # DP-FedAvg weighs every client the same (1/m): the sensitivity is S / m
        counts["clipped"] += int(np.sum(np.linalg.norm(updates, axis=1) > clip_norm))
        counts["seen"] += len(updates)
        return dp_aggregate(updates, clip_norm, z, m, rng)

    accuracy, participants, diverged_at = [], [], None
    for r in range(config.rounds):
        clients = poisson_sample(K, q, config.seed, r)
        outcome = sim.run_round(r, clients=clients, aggregate=clip_and_noise)
        if outcome.diverged:        # the run ends here and says so (DPRun.diverged_at)
            diverged_at = r + 1
            break
        accuracy.append(outcome.accuracy)
        participants.append(len(clients))
    return _dp_record(DPSetting(config, z, clip_norm, delta), accuracy=accuracy, participants=participants,
                      clipped_fraction=counts["clipped"] / max(counts["seen"], 1), diverged_at=diverged_at)


def _dp_record(setting: "DPSetting", *, accuracy, participants, clipped_fraction: float,
               diverged_at: int | None) -> DPRun:
    """A :class:`DPRun` from what a run measured and the setting's constants (ε, m, noise std)."""
    c, z, clip_norm = setting.config, setting.noise_multiplier, setting.clip_norm
    m = c.fraction * c.n_clients
    return DPRun(accuracy=np.asarray(accuracy, dtype=np.float64),
                 epsilon=dp_epsilon(z, c.fraction, c.rounds, setting.delta), delta=setting.delta,
                 noise_multiplier=z, clip_norm=clip_norm, sampling_probability=c.fraction, expected_clients=m,
                 noise_std=dp_noise_std(z, clip_norm, m), participants=np.asarray(participants, dtype=np.int64),
                 clipped_fraction=float(clipped_fraction), diverged_at=diverged_at)


@dataclass(frozen=True)
class DPSetting:
    """One DP-FedAvg experiment of :func:`run_dp_experiments`.

    Attributes
    ----------
    config : FLConfig (K, R, q = fraction, local training, seed)
    noise_multiplier : float >= 0, z
    clip_norm : float > 0, S
    delta : float in (0, 1), δ of the reported ε
    """

    config: FLConfig
    noise_multiplier: float
    clip_norm: float
    delta: float = 1e-5

    def __post_init__(self):
        if not isinstance(self.config, FLConfig):
            raise TypeError(f"config must be an FLConfig, got {type(self.config).__name__}")
        object.__setattr__(self, "noise_multiplier", check_float("noise_multiplier", self.noise_multiplier, low=0.0))
        object.__setattr__(self, "clip_norm", check_positive("clip_norm", self.clip_norm))
        object.__setattr__(self, "delta", check_float("delta", self.delta, low=0.0, high=1.0, low_inclusive=False,
                                                      high_inclusive=False))


def _dp_member(sim: Simulation, setting: DPSetting):
    """``sim``'s DP-FedAvg run as a member of a vectorised batch, and its RoundPlans: the
    Poisson-sampled rounds of :func:`run_dp_fedavg`, its rule (clip to S, sum, divide by the
    expected m = q K) and its noise, drawn on the host from the same generator in the same order."""
    c = sim.config
    m = c.fraction * c.n_clients
    plans = [sim.plan_round(r, clients=poisson_sample(c.n_clients, c.fraction, c.seed, r)) for r in range(c.rounds)]
    std = dp_noise_std(setting.noise_multiplier, setting.clip_norm, m)
    rng = np.random.default_rng([c.seed, 0xD9])
    noise = np.stack([rng.normal(0.0, std, sim.n_parameters) if std > 0 else np.zeros(sim.n_parameters)
                      for _ in plans]).astype(np.float32)
    member = sim.batch_member(plans)
    knobs = dict(member.knobs, aggregation_code=AGGREGATION_CODES["dp"], clip_norm=setting.clip_norm,
                 expected_clients=m)
    return replace(member, knobs=knobs, aggregation_noise=noise), plans


def run_dp_experiments(settings: Sequence[DPSetting], simulations: Sequence[Simulation] | None = None) -> list[DPRun]:
    """Several DP-FedAvg runs together in the vectorised engine (one compiled call per model
    shape): each equals :func:`run_dp_fedavg` of its setting to float32 tolerance (the same
    Poisson samples, batch orders and noise draws; tests/test_privacy.py).

    Parameters
    ----------
    settings : sequence of :class:`DPSetting`
    simulations : optional Simulations built from the settings' configs (saves their set-up); reset first

    Returns
    -------
    list of DPRun, in order. A model the vectorised engine does not serve runs through
    :func:`run_dp_fedavg`.
    """
    def record(setting: DPSetting, answer: dict, plans) -> DPRun:
        ran, diverged = answer["rounds_run"], answer["diverged"]
        done = ran - 1 if diverged else ran
        seen = sum(int(np.count_nonzero(plan.arrived)) for plan in plans[:ran])
        return _dp_record(setting, accuracy=answer["accuracy"][:done],
                          participants=[len(plan.sampled) for plan in plans[:done]],
                          clipped_fraction=int(np.sum(answer["clipped"][:ran])) / max(seen, 1),
                          diverged_at=ran if diverged else None)

    return run_planned_settings(
        settings, simulations, member=_dp_member, record=record,
        fallback=lambda s, sim: run_dp_fedavg(s.config, s.noise_multiplier, s.clip_norm, s.delta, sim))
