"""Plain NumPy FedAvg for the article's MLP: the speed yardstick of bench_engine.py.

Same model (Dense-ReLU-Dense-softmax), same initial weights, same client sampling and
batch order as the kit (fedlearn_edu.rng), SGD by hand, weighted averaging.
"""
from __future__ import annotations

import numpy as np

from fedlearn_edu.client import batch_plan
from fedlearn_edu.rng import epoch_orders, sample_clients


def _forward(w, x):
    z1 = x @ w[0] + w[1]
    a1 = np.maximum(z1, 0.0)
    logits = a1 @ w[2] + w[3]
    return z1, a1, logits


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def evaluate(w, X, y):
    p = _softmax(_forward(w, X)[2])
    loss = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)))
    return float(loss), float(np.mean(p.argmax(axis=1) == y))


def run_numpy_fedavg(X, y, X_test, y_test, partitions, initial_weights, rounds=20, epochs=1,
                     batch_size=32, learning_rate=0.1, fraction=1.0, seed=0):
    """Return (final weights, list of per-round test accuracy)."""
    w_global = [np.array(a, dtype=np.float32) for a in initial_weights]
    K = len(partitions)
    m = max(1, int(np.floor(fraction * K + 1e-9)))
    accuracies = []
    for r in range(rounds):
        clients = sample_clients(K, m, seed, r)
        models, sizes = [], []
        for k in clients:
            idx = partitions[k]
            Xk, yk = X[idx], y[idx]
            order = epoch_orders(len(idx), epochs, seed, r, int(k)).ravel()
            starts, lengths = batch_plan(len(idx), epochs, batch_size)
            w = [a.copy() for a in w_global]
            for s, n in zip(starts, lengths):
                b = order[s:s + n]
                xb, yb = Xk[b], yk[b]
                z1, a1, logits = _forward(w, xb)
                d = _softmax(logits)
                d[np.arange(n), yb] -= 1.0
                d /= n
                g2, gb2 = a1.T @ d, d.sum(axis=0)
                da1 = (d @ w[2].T) * (z1 > 0)
                g1, gb1 = xb.T @ da1, da1.sum(axis=0)
                for a, g in zip(w, (g1, gb1, g2, gb2)):
                    a -= np.float32(learning_rate) * g.astype(np.float32)
            models.append(w)
            sizes.append(len(idx))
        coef = np.asarray(sizes, dtype=np.float64) / sum(sizes)
        w_global = [sum(c * mdl[i] for c, mdl in zip(coef, models)).astype(np.float32) for i in range(4)]
        accuracies.append(evaluate(w_global, X_test, y_test)[1])
    return w_global, accuracies
