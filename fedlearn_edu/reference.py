"""FedAvg in plain NumPy, written to be read: the algorithm with nothing else around it.

This is "the FedAvg line" of the kit. McMahan et al. (2017), Algorithm 1, for the article's
network (Dense-ReLU, then Dense-softmax), with the kit's own client sampling and batch order
(:mod:`fedlearn_edu.rng`), so that it gives the same weights as both engines for the same
seed (``tests/test_reference.py`` checks it). No compilation, no stacking of clients, no
options: compare a loop you write yourself with this one, then with the engines.

Notation: w the weights [W1 (d, h), b1 (h,), W2 (h, C), b2 (C,)], eta the client learning
rate, E local epochs, B the batch size, n_k client k's examples, n the examples of the round.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .client import batch_plan
from .rng import epoch_orders, sample_clients

__all__ = ["forward", "gradients", "local_update", "fedavg", "evaluate", "run_fedavg"]


def forward(w: Sequence[np.ndarray], x: np.ndarray):
    """Hidden pre-activation z1 (b, h), activation a1 (b, h) and softmax probabilities p (b, C)."""
    z1 = x @ w[0] + w[1]                                   # z1 = x W1 + b1
    a1 = np.maximum(z1, 0.0)                               # a1 = ReLU(z1)
    logits = a1 @ w[2] + w[3]                              # z2 = a1 W2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z1, a1, e / e.sum(axis=1, keepdims=True)       # p = softmax(z2)


def gradients(w: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Gradient of the mean cross-entropy on one batch (x (b, d), y (b,)), by hand."""
    z1, a1, p = forward(w, x)
    d2 = p.copy()
    d2[np.arange(len(y)), y] -= 1.0                        # dL/dz2 = p - onehot(y), per example
    d2 /= len(y)                                           # ... of the batch *mean*
    d1 = (d2 @ w[2].T) * (z1 > 0)                          # dL/dz1 = dL/dz2 W2^T * ReLU'(z1)
    return [x.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]


def local_update(w: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray, *, order: np.ndarray,
                 epochs: int, batch_size: int | None, client_learning_rate: float) -> list[np.ndarray]:
    """ClientUpdate(k, w): E epochs of mini-batch SGD over the client's examples in ``order``."""
    w = [a.copy() for a in w]
    starts, lengths = batch_plan(len(y), epochs, batch_size)
    for start, length in zip(starts, lengths, strict=True):
        batch = order[start:start + length]
        for a, g in zip(w, gradients(w, X[batch], y[batch]), strict=True):
            a -= np.float32(client_learning_rate) * g.astype(np.float32)     # w <- w - eta grad
    return w


def fedavg(models: Sequence[Sequence[np.ndarray]], n_examples: Sequence[int]) -> list[np.ndarray]:
    """The server's average of the returned models, weighted by data."""
    p = np.asarray(n_examples, dtype=np.float64) / np.sum(n_examples)       # p_k = n_k / n
    # w_{t+1} = sum_k (n_k / n) w_k            <- the FedAvg line
    return [sum(p_k * model[i] for p_k, model in zip(p, models, strict=True)).astype(np.float32)
            for i in range(len(models[0]))]


def evaluate(w: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the model w on (X, y)."""
    p = forward(w, X)[2]
    loss = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)))
    return float(loss), float(np.mean(p.argmax(axis=1) == y))


def run_fedavg(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
               partitions: Sequence[np.ndarray], initial_weights: Sequence[np.ndarray], *, rounds: int = 20,
               local_epochs: int = 1, batch_size: int | None = 32, client_learning_rate: float = 0.1,
               fraction: float = 1.0, seed: int = 0) -> tuple[list[np.ndarray], list[float]]:
    """FedAvg for ``rounds`` rounds; returns the final global weights and the test accuracy per round."""
    w = [np.array(a, dtype=np.float32) for a in initial_weights]      # step 1: the initial global model
    K = len(partitions)
    m = max(1, int(np.floor(fraction * K + 1e-9)))                     # m = max(1, floor(C K))
    accuracies = []
    for r in range(rounds):
        clients = sample_clients(K, m, seed, r)                        # who takes part in round r
        models = []
        for k in clients:                                              # step 2: local training
            idx = partitions[k]
            order = epoch_orders(len(idx), local_epochs, seed, r, int(k)).ravel()
            models.append(local_update(w, X[idx], y[idx], order=order, epochs=local_epochs, batch_size=batch_size,
                                       client_learning_rate=client_learning_rate))
        w = fedavg(models, [len(partitions[k]) for k in clients])      # steps 3-4: send, average
        accuracies.append(evaluate(w, X_test, y_test)[1])              # how good is the new model?
    return w, accuracies
