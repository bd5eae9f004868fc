"""The vectorised engine: a whole federated run inside one compiled TensorFlow function.

Why: the article's model is tiny, so training it client by client spends its time
calling TensorFlow once per batch per client, not computing. Here

* the m sampled clients of a round train *together*: their weights are stacked on a
  leading client axis, shape (m, fan_in, fan_out), and every Dense layer is one
  ``einsum('mbi,mio->mbo')``;
* clients of different sizes are padded to the largest and masked, so a client whose
  data is used up simply stops moving (also its momentum);
* all rounds run in one ``tf.while_loop``; client sampling and batch order come from
  the same counter-based hash as the per-client engine (:mod:`fedlearn_edu.rng`),
  evaluated in the graph;
* every size (clients, samples, rounds, E, B) and every hyper-parameter is a tensor
  with a ``None`` dimension in the input signature, so moving a slider never traces
  again. One trace per (input width, layer widths, activations).

It serves models that are a stack of Dense layers with a softmax output (the
article's model and any depth, width, activation or number of classes); other Keras
models run on the per-client engine. The numbers agree with the per-client engine
to float tolerance (tests check 1e-5 relative).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ._tf import tf
import keras

from .rng import MASK32, SALT_ORDER, SALT_SAMPLE

_MULT = 0x45D9F3B
#: server optimizer codes inside the graph
SERVER_CODES = {"fedavg": 0, "fedavgm": 0, "fedadagrad": 1, "fedadam": 2, "fedyogi": 3}


# ---------------------------------------------------------------------------------------
# the counter-based hash, in TensorFlow (bit-identical to fedlearn_edu.rng)
def _hash32(x):
    x = tf.bitwise.bitwise_and(x, MASK32)
    x = tf.bitwise.bitwise_and(tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * _MULT, MASK32)
    x = tf.bitwise.bitwise_and(tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * _MULT, MASK32)
    return tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x)


def _combine(*parts, start=None):
    """The hash of ``parts`` (broadcast), continuing from the hash ``start`` of earlier parts."""
    h = tf.constant(0x9E3779B9, tf.int64) if start is None else start
    for part in parts:
        h = _hash32(tf.bitwise.bitwise_xor(h, tf.bitwise.bitwise_and(tf.cast(part, tf.int64), MASK32)))
    return h


def tf_sample_clients(n_clients, n_sampled, seed, round_index, prefix=None):
    """Graph version of :func:`fedlearn_edu.rng.sample_clients`: sorted ids, shape (m,).

    ``prefix`` is ``_combine(SALT_SAMPLE, seed)``, computed once per run by the caller.
    """
    prefix = _combine(SALT_SAMPLE, seed) if prefix is None else prefix
    keys = _combine(round_index, tf.range(n_clients, dtype=tf.int64), start=prefix)
    chosen = tf.argsort(keys, stable=True)[:n_sampled]
    return tf.sort(tf.cast(chosen, tf.int64))


def tf_epoch_orders(sizes, n_max, epochs, seed, round_index, client_ids, prefix=None):
    """Graph version of :func:`fedlearn_edu.rng.epoch_orders` for m clients at once.

    Returns positions of shape (m, epochs, n_max); row (k, e) starts with a permutation
    of range(sizes[k]) (the per-client engine's order) followed by the padding.
    ``prefix`` is ``_combine(SALT_ORDER, seed)``, computed once per run by the caller.
    """
    prefix = _combine(SALT_ORDER, seed) if prefix is None else prefix
    positions = tf.range(n_max, dtype=tf.int64)[None, None, :]
    epoch_ids = tf.range(epochs, dtype=tf.int64)[None, :, None]
    clients = tf.cast(client_ids, tf.int64)[:, None, None]
    keys = _combine(round_index, clients, epoch_ids, positions, start=prefix)
    keys = tf.where(positions < tf.cast(sizes, tf.int64)[:, None, None], keys, tf.constant(2 ** 40, tf.int64))
    return tf.argsort(keys, axis=-1, stable=True)


# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Architecture:
    """What the compiled run depends on: layer widths and hidden activations."""

    widths: tuple            # (n_features, hidden..., n_classes)
    activations: tuple       # one per hidden layer

    @classmethod
    def from_model(cls, model: keras.Model) -> "Architecture | None":
        """The architecture of a plain Dense/softmax stack, or None for any other model."""
        widths, activations = [], []
        layers = model.layers
        if not layers or not model.inputs:
            return None
        widths.append(int(model.inputs[0].shape[-1]))
        for i, layer in enumerate(layers):
            if type(layer) is not keras.layers.Dense or not layer.use_bias:
                return None
            name = getattr(layer.activation, "__name__", None)
            if i == len(layers) - 1:
                if name != "softmax":
                    return None
            else:
                if name is None or keras.activations.get(name) is not layer.activation:
                    return None
                activations.append(name)
            widths.append(int(layer.units))
        return cls(tuple(widths), tuple(activations))


def _activation_and_grad(name):
    """Keras's activation ``name`` and its derivative as a function of (pre-activation z, output a)."""
    fn = keras.activations.get(name)
    sqrt_2pi = math.sqrt(2.0 * math.pi)
    grads = {
        "relu": lambda z, a: tf.cast(z > 0, z.dtype),
        "tanh": lambda z, a: 1.0 - a * a,
        "sigmoid": lambda z, a: a * (1.0 - a),
        "elu": lambda z, a: tf.where(z > 0, tf.ones_like(z), a + 1.0),
        "gelu": lambda z, a: 0.5 * (1.0 + tf.math.erf(z / math.sqrt(2.0))) + z * tf.exp(-0.5 * z * z) / sqrt_2pi,
        "linear": lambda z, a: tf.ones_like(z),
    }
    return fn, grads[name]


def _backprop_through(name):
    """d loss / d z from d loss / d a for the activation ``name``: f(upstream, z, a)."""
    if name == "relu":
        return lambda upstream, z, a: tf.raw_ops.ReluGrad(gradients=upstream, features=z)
    derivative = _activation_and_grad(name)[1]
    return lambda upstream, z, a: upstream * derivative(z, a)


def _forward(weights, x, activations):
    """Logits of m stacked models on m batches: x (m, b, d) -> (m, b, n_classes)."""
    h = x
    n_layers = len(weights) // 2
    for layer in range(n_layers):
        kernel, bias = weights[2 * layer], weights[2 * layer + 1]
        h = tf.linalg.matmul(h, kernel) + bias[:, None, :]
        if layer < n_layers - 1:
            h = keras.activations.get(activations[layer])(h)
    return h


def _masked_metrics(weights, x, y, valid, activations):
    """Per-client mean cross-entropy and accuracy over the valid entries: (m,), (m,)."""
    logits = _forward(weights, x, activations)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    validf = tf.cast(valid, tf.float32)
    count = tf.maximum(tf.reduce_sum(validf, axis=1), 1.0)
    correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1), y), tf.float32)
    return tf.reduce_sum(ce * validf, axis=1) / count, tf.reduce_sum(correct * validf, axis=1) / count


def _build_run(arch: Architecture):
    """Compile the whole-run function for one architecture (traced once)."""
    activations = arch.activations
    n_weights = 2 * (len(arch.widths) - 1)
    layer_sizes = [(fan_in + 1) * fan_out for fan_in, fan_out in zip(arch.widths[:-1], arch.widths[1:])]
    n_classes = arch.widths[-1]
    act_fns = [keras.activations.get(name) for name in activations]
    act_grads = [_backprop_through(name) for name in activations]
    weight_spec = []
    for fan_in, fan_out in zip(arch.widths[:-1], arch.widths[1:]):
        weight_spec += [tf.TensorSpec([fan_in, fan_out], tf.float32), tf.TensorSpec([fan_out], tf.float32)]
    i64, f32 = tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.float32)
    signature = [
        tf.TensorSpec([None, arch.widths[0]], tf.float32),   # X_train (N, d)
        tf.TensorSpec([None], tf.int64),                      # y_train (N,)
        tf.TensorSpec([None, arch.widths[0]], tf.float32),   # X_test
        tf.TensorSpec([None], tf.int64),                      # y_test
        tf.TensorSpec([None, None], tf.int64),                # client_index (K, n_max), padded
        tf.TensorSpec([None], tf.int64),                      # client_size (K,)
        weight_spec,                                          # initial global weights
        i64, i64, i64, i64, i64, i64,                         # rounds, m, E, B, local step cap, seed
        f32, f32, f32,                                        # client lr, client momentum, mu
        i64, f32, f32, f32, f32, f32,                         # server code, eta, beta, beta1, beta2, tau
        tf.TensorSpec([], tf.bool),                           # record the clients' local metrics?
    ]

    def run(X, y, X_test, y_test, client_index, client_size, init, rounds, m, epochs, batch,
            local_steps, seed, lr, momentum, mu, server_code, eta, beta, beta1, beta2, tau,
            want_client_metrics):
        n_clients = tf.shape(client_index, out_type=tf.int64)[0]
        flat_init = tf.concat([tf.reshape(w, [-1]) for w in init], axis=0)
        shapes = [list(w.shape) for w in init]
        sizes = [int(np.prod(s)) for s in shapes]

        def unflat(vec):
            return [tf.reshape(p, s) for p, s in zip(tf.split(vec, sizes), shapes)]

        def evaluate(vec):
            w = [t[None] for t in unflat(vec)]
            loss, acc = _masked_metrics(w, X_test[None], y_test[None],
                                        tf.ones_like(y_test, tf.bool)[None], activations)
            return loss[0], acc[0]

        sample_prefix, order_prefix = _combine(SALT_SAMPLE, seed), _combine(SALT_ORDER, seed)

        def one_round(r, theta, server_m, server_v):
            ids = tf_sample_clients(n_clients, m, seed, r, prefix=sample_prefix)
            n_k = tf.gather(client_size, ids)                              # (m,)
            n_max = tf.reduce_max(n_k)
            index = tf.gather(client_index, ids)[:, :n_max]                # (m, n_max)
            order = tf_epoch_orders(n_k, n_max, epochs, seed, r, ids, prefix=order_prefix)  # (m, E, n_max)
            samples = tf.gather(index, order, batch_dims=1)                # (m, E, n_max)
            Xr, yr = tf.gather(X, samples), tf.gather(y, samples)          # (m, E, n_max, d), (m, E, n_max)
            b = tf.minimum(batch, n_max)
            steps = (n_max + b - 1) // b                                    # batches per epoch
            positions = tf.range(n_max, dtype=tf.int64)
            # cut every epoch into `steps` batches of width b (padding masked): (m, E*steps, b, ...)
            pad = steps * b - n_max
            n_steps = epochs * steps
            Xb = tf.reshape(tf.pad(Xr, [[0, 0], [0, 0], [0, pad], [0, 0]]), [m, n_steps, b, -1])
            ones = tf.ones([m, b, 1])
            Xb = tf.concat([Xb, tf.ones([m, n_steps, b, 1])], axis=-1)     # inputs with a bias column
            yb_all = tf.reshape(tf.pad(yr, [[0, 0], [0, 0], [0, pad]]), [m, n_steps, b])
            slot = tf.reshape(tf.range(steps * b, dtype=tf.int64), [1, 1, steps * b])
            valid = tf.reshape(tf.tile(slot < n_k[:, None, None], [1, epochs, 1]), [m, n_steps, b])
            # client k takes part in slot t when it has a batch there and has not used up
            # its local step cap (its own step count is e * steps_k + j)
            steps_k = (n_k + b - 1) // b                                      # (m,)
            t_idx = tf.range(n_steps)
            e_idx, j_idx = t_idx // steps, t_idx % steps
            rank = e_idx[None, :] * steps_k[:, None] + j_idx[None, :]
            active = (j_idx[None, :] < steps_k[:, None]) & (rank < local_steps)   # (m, E*steps)
            validf_all = tf.cast(valid, tf.float32) * tf.cast(active, tf.float32)[:, :, None]
            count_all = tf.reduce_sum(validf_all, axis=2)                   # (m, E*steps)
            scale_all = (validf_all / tf.maximum(count_all, 1.0)[:, :, None])[..., None]   # 1/b_k or 0
            target_all = tf.one_hot(yb_all, n_classes) * scale_all           # (m, E*steps, b, C)
            active_all = active[:, :, None]                                   # (m, E*steps, 1)
            loop_end = tf.reduce_max(tf.where(tf.reduce_any(active, axis=0), t_idx, -1)) + 1
            G = tf.tile(theta[None], [m, 1])                                  # (m, P) global model

            def step(t, W, V):
                # layer l's kernel and bias are consecutive in the flat vector, so they reshape
                # to one (fan_in + 1, fan_out) matrix that multiplies inputs with a ones column
                w = [tf.reshape(p, [m, fi + 1, fo]) for p, fi, fo in zip(tf.split(W, layer_sizes, axis=1),
                                                                         arch.widths[:-1], arch.widths[1:])]
                h, inputs, pre, post = Xb[:, t], [], [], []
                for layer, wl in enumerate(w):
                    inputs.append(h)
                    z = tf.linalg.matmul(h, wl)
                    if layer < len(w) - 1:
                        a = act_fns[layer](z)
                        pre.append(z)
                        post.append(a)
                        h = tf.concat([a, ones], axis=-1)
                delta = tf.nn.softmax(z) * scale_all[:, t] - target_all[:, t]     # d loss / d logits
                grads = [None] * len(w)
                for layer in reversed(range(len(w))):
                    grads[layer] = tf.reshape(tf.linalg.matmul(inputs[layer], delta, transpose_a=True), [m, -1])
                    if layer > 0:
                        upstream = tf.linalg.matmul(delta, w[layer], transpose_b=True)[:, :, :-1]
                        delta = act_grads[layer - 1](upstream, pre[layer - 1], post[layer - 1])
                g = tf.concat(grads, axis=1) + mu * (W - G)
                v_next = momentum * V - lr * g
                active_t = active_all[:, t]
                return t + 1, tf.where(active_t, W + v_next, W), tf.where(active_t, v_next, V)

            _, W, _ = tf.while_loop(lambda t, *_: t < loop_end, step,
                                    (tf.constant(0, tf.int64), G, tf.zeros_like(G)))
            w = [tf.reshape(p, [m] + s) for p, s in zip(tf.split(W, sizes, axis=1), shapes)]
            valid_all = positions[None, :] < n_k[:, None]
            local_loss, local_acc = tf.cond(
                want_client_metrics,
                lambda: _masked_metrics(w, Xr[:, 0], yr[:, 0], valid_all, activations),
                lambda: (tf.zeros([m]), tf.zeros([m])))
            flat_w = W                                                         # (m, P)
            coef = tf.cast(n_k, tf.float32) / tf.cast(tf.reduce_sum(n_k), tf.float32)
            theta_bar = tf.einsum("k,kp->p", coef, flat_w)
            g = theta - theta_bar
            # server update: FedAvg(M) when code 0, adaptive otherwise (see fedlearn_edu.server)
            m_avgm = beta * server_m + g
            m_adapt = beta1 * server_m + (1.0 - beta1) * g
            g2 = g * g
            v_next = tf.where(server_code == 1, server_v + g2,                       # FedAdagrad
                     tf.where(server_code == 2, beta2 * server_v + (1.0 - beta2) * g2,  # FedAdam
                     tf.where(server_code == 3, server_v - (1.0 - beta2) * g2 * tf.sign(server_v - g2),  # Yogi
                              server_v)))
            adaptive = server_code > 0
            new_m = tf.where(adaptive, m_adapt, m_avgm)
            new_theta = tf.where(adaptive, theta - eta * new_m / (tf.sqrt(v_next) + tau), theta - eta * new_m)
            finite_clients = tf.reduce_all(tf.math.is_finite(flat_w))
            new_theta_safe = tf.where(finite_clients, new_theta, theta)
            loss, acc = evaluate(new_theta_safe)
            ok = finite_clients & tf.reduce_all(tf.math.is_finite(new_theta)) & tf.math.is_finite(loss)
            return ok, ids, new_theta, new_m, v_next, loss, acc, local_loss, local_acc

        init_loss, init_acc = evaluate(flat_init)
        R = tf.cast(rounds, tf.int32)
        arrays = [tf.TensorArray(tf.float32, size=R), tf.TensorArray(tf.float32, size=R),
                  tf.TensorArray(tf.int64, size=R, element_shape=[None]),
                  tf.TensorArray(tf.float32, size=R, element_shape=[None]),
                  tf.TensorArray(tf.float32, size=R, element_shape=[None])]
        tau2 = tf.fill(tf.shape(flat_init), tau * tau)
        state = (tf.constant(0, tf.int64), tf.constant(False), flat_init, tf.zeros_like(flat_init), tau2, *arrays)

        def cond(r, diverged, *_):
            return (r < rounds) & tf.logical_not(diverged)

        def body(r, diverged, theta, sm, sv, acc_a, loss_a, ids_a, cl_a, ca_a):
            ok, ids, new_theta, new_m, new_v, loss, acc, cl, ca = one_round(r, theta, sm, sv)
            ri = tf.cast(r, tf.int32)
            theta_out = tf.where(ok, new_theta, theta)
            return (r + 1, tf.logical_not(ok), theta_out, new_m, new_v, acc_a.write(ri, acc),
                    loss_a.write(ri, loss), ids_a.write(ri, ids), cl_a.write(ri, cl), ca_a.write(ri, ca))

        out = tf.while_loop(cond, body, state)
        r_done, diverged, theta = out[0], out[1], out[2]
        acc_a, loss_a, ids_a, cl_a, ca_a = out[5:]
        n_done = tf.cast(r_done, tf.int32)
        return {
            "rounds_run": r_done, "diverged": diverged, "final": unflat(theta),
            "initial_loss": init_loss, "initial_accuracy": init_acc,
            "accuracy": acc_a.gather(tf.range(n_done)), "loss": loss_a.gather(tf.range(n_done)),
            "participants": ids_a.gather(tf.range(n_done)),
            "client_loss": cl_a.gather(tf.range(n_done)), "client_accuracy": ca_a.gather(tf.range(n_done)),
        }

    return tf.function(run, input_signature=signature, reduce_retracing=False), n_weights


_CACHE: dict = {}


def compiled_run(arch: Architecture):
    """The compiled run for ``arch``, built once per process and cached."""
    if arch not in _CACHE:
        _CACHE[arch] = _build_run(arch)[0]
    return _CACHE[arch]


def tracing_count(arch: Architecture) -> int:
    """How often the run for ``arch`` has been traced (1 after any number of runs)."""
    return compiled_run(arch).experimental_get_tracing_count()


def padded_client_index(partitions: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Client index lists as one padded matrix (K, n_max) and sizes (K,), both int64."""
    sizes = np.array([len(p) for p in partitions], dtype=np.int64)
    index = np.zeros((len(partitions), int(sizes.max())), dtype=np.int64)
    for k, p in enumerate(partitions):
        index[k, :len(p)] = p
    return index, sizes
