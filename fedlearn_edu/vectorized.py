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
article's model and any depth, width, activation or number of classes), with every
server optimizer, client momentum, FedProx, SCAFFOLD (the clients' control
variates live in the graph as a (K, P) tensor) and simulated devices (the host plans
who delivers with how many local steps, passed in as a (rounds, m) matrix of step
caps) and update compression (int8/int4 with the per-client engine's rounding draws,
top-k, error-feedback residuals as a (K, P) tensor); other Keras models run on the
per-client engine. The numbers agree with the per-client engine to float tolerance
(tests/test_engine.py and the engine tests beside it). One exception by nature:
stochastic rounding is a step function, so once the engines' float32 rounding puts a
coordinate on the other side of a rounding threshold, int8 runs part by a quantisation
step, which training and error feedback carry on (tests/test_compression.py: the first
rounds agree like the other runs, longer runs stay within a few quantisation steps).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import keras
import numpy as np

from ._tf import tf
from .rng import HASH_MULTIPLIER, HASH_START, MASK32, SALT_ORDER, SALT_SAMPLE

#: server optimizer codes inside the graph
SERVER_CODES = {"fedavg": 0, "fedavgm": 0, "fedadagrad": 1, "fedadam": 2, "fedyogi": 3}
#: compression codes inside the graph
COMPRESSION_CODES = {"none": 0, "int8": 1, "int4": 2, "topk": 3}
#: batch orders of all rounds are computed before the loop when they have at most this many entries
MAX_PRECOMPUTED_ORDERS = 4_000_000


# ---------------------------------------------------------------------------------------
# the counter-based hash, in TensorFlow (bit-identical to fedlearn_edu.rng)
def _hash32(x):
    x = tf.bitwise.bitwise_and(x, MASK32)
    x = tf.bitwise.bitwise_and(tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * HASH_MULTIPLIER, MASK32)
    x = tf.bitwise.bitwise_and(tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * HASH_MULTIPLIER, MASK32)
    return tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x)


def _combine(*parts, start=None):
    """The hash of ``parts`` (broadcast), continuing from the hash ``start`` of earlier parts."""
    h = tf.constant(HASH_START, tf.int64) if start is None else start
    for part in parts:
        h = _hash32(tf.bitwise.bitwise_xor(h, tf.bitwise.bitwise_and(tf.cast(part, tf.int64), MASK32)))
    return h


def _sample_from_keys(keys, n_sampled):
    """The ``n_sampled`` clients with the smallest keys (along the last axis), sorted ids:
    keys (..., K) -> (..., n_sampled)."""
    chosen = tf.argsort(keys, axis=-1, stable=True)[..., :n_sampled]
    return tf.sort(tf.cast(chosen, tf.int64), axis=-1)


def _orders_from_keys(client_keys, sizes, n_max, epochs):
    """Batch orders (m, epochs, n_max) from per-client hash states ``client_keys`` (m, 1, 1)."""
    positions = tf.range(n_max, dtype=tf.int64)[None, None, :]
    epoch_ids = tf.range(epochs, dtype=tf.int64)[None, :, None]
    keys = _combine(epoch_ids, positions, start=client_keys)
    keys = tf.where(positions < tf.cast(sizes, tf.int64)[:, None, None], keys, tf.constant(2 ** 40, tf.int64))
    return tf.argsort(keys, axis=-1, stable=True)


def tf_sample_clients(n_clients, n_sampled, seed, round_index):
    """Graph version of :func:`fedlearn_edu.rng.sample_clients`: sorted ids, shape (m,)."""
    keys = _combine(SALT_SAMPLE, seed, round_index, tf.range(n_clients, dtype=tf.int64))
    return _sample_from_keys(keys, n_sampled)


def tf_epoch_orders(sizes, n_max, epochs, seed, round_index, client_ids):
    """Graph version of :func:`fedlearn_edu.rng.epoch_orders` for m clients at once.

    Returns positions of shape (m, epochs, n_max); row (k, e) starts with a permutation
    of range(sizes[k]) (the per-client engine's order) followed by the padding.
    """
    clients = tf.cast(client_ids, tf.int64)[:, None, None]
    return _orders_from_keys(_combine(SALT_ORDER, seed, round_index, clients), sizes, n_max, epochs)


# ---------------------------------------------------------------------------------------
class RunInputs(NamedTuple):
    """Everything the compiled run takes, by name (the call site and the input signature
    share this one structure, so no argument depends on its position). Shapes: N training
    examples, d features, K clients, n_max the largest client, R rounds, m clients per
    round, P parameters."""

    X_train: object             # (N, d) float32
    y_train: object             # (N,) int64
    X_test: object              # (N_test, d) float32
    y_test: object              # (N_test,) int64
    client_index: object        # (K, n_max) int64, each client's example indices, padded
    client_size: object         # (K,) int64, n_k
    client_weight: object       # (K,) float32, u_k of the objective (n_k or 1)
    initial_weights: object     # tuple of the global model's arrays
    rounds: object              # () int64, R
    clients_per_round: object   # () int64, m
    local_epochs: object        # () int64, E
    batch_size: object          # () int64, B (N for a full batch)
    step_caps: object           # (R, m) int64, local steps each sampled client may take; 0 = never arrives
    seed: object                # () int64
    client_learning_rate: object    # () float32, eta_l
    client_momentum: object     # () float32
    mu: object                  # () float32, FedProx
    server_code: object         # () int64, SERVER_CODES
    server_learning_rate: object    # () float32, eta
    server_momentum: object     # () float32, beta of FedAvgM (0 otherwise)
    beta1: object               # () float32
    beta2: object               # () float32
    tau: object                 # () float32
    record_client_metrics: object   # () bool
    scaffold: object            # () bool
    compression_code: object    # () int64, 0 none, 1 int8, 2 int4, 3 top-k
    topk_k: object              # () int64
    error_feedback: object      # () bool
    rounding_draws: object      # (R, m, P) float64, int8/int4 rounding draws (empty otherwise)


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


def _server_branches(eta, beta, beta1, beta2, tau):
    """The server updates of :mod:`fedlearn_edu.server` as ``switch_case`` branches.

    Each branch maps (theta, g = theta - theta_bar, moment, second_moment) to (new theta,
    new moment, new second moment); only the selected one runs.
    """
    def fedavgm(theta, g, moment, second_moment):                  # code 0 (FedAvg: beta = 0)
        # m <- beta m + g;  theta <- theta - eta m
        moment_next = beta * moment + g
        return theta - eta * moment_next, moment_next, second_moment

    def adaptive(second_moment_update):
        def branch(theta, g, moment, second_moment):
            # m <- beta1 m + (1 - beta1) g;  v <- (the optimizer's rule);  theta <- theta - eta m / (sqrt(v) + tau)
            moment_next = beta1 * moment + (1.0 - beta1) * g
            second_next = second_moment_update(second_moment, g * g)
            return theta - eta * moment_next / (tf.sqrt(second_next) + tau), moment_next, second_next
        return branch

    return [fedavgm,
            adaptive(lambda v, g2: v + g2),                                       # 1 FedAdagrad
            adaptive(lambda v, g2: beta2 * v + (1.0 - beta2) * g2),               # 2 FedAdam
            adaptive(lambda v, g2: v - (1.0 - beta2) * g2 * tf.sign(v - g2))]     # 3 FedYogi


def _input_signature(arch: Architecture) -> RunInputs:
    """The ``tf.TensorSpec`` of every input: every size is ``None``, so one trace serves all runs."""
    fans = list(zip(arch.widths[:-1], arch.widths[1:], strict=True))
    weight_spec = []
    for fan_in, fan_out in fans:
        weight_spec += [tf.TensorSpec([fan_in, fan_out], tf.float32), tf.TensorSpec([fan_out], tf.float32)]
    n_features = arch.widths[0]
    i64, f32, flag = tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.bool)
    return RunInputs(
        X_train=tf.TensorSpec([None, n_features], tf.float32), y_train=tf.TensorSpec([None], tf.int64),
        X_test=tf.TensorSpec([None, n_features], tf.float32), y_test=tf.TensorSpec([None], tf.int64),
        client_index=tf.TensorSpec([None, None], tf.int64), client_size=tf.TensorSpec([None], tf.int64),
        client_weight=tf.TensorSpec([None], tf.float32), initial_weights=tuple(weight_spec),
        rounds=i64, clients_per_round=i64, local_epochs=i64, batch_size=i64,
        step_caps=tf.TensorSpec([None, None], tf.int64), seed=i64,
        client_learning_rate=f32, client_momentum=f32, mu=f32,
        server_code=i64, server_learning_rate=f32, server_momentum=f32, beta1=f32, beta2=f32, tau=f32,
        record_client_metrics=flag, scaffold=flag, compression_code=i64, topk_k=i64, error_feedback=flag,
        rounding_draws=tf.TensorSpec([None, None, None], tf.float64))


class _LoopState(NamedTuple):
    """What one round hands the next inside the ``tf.while_loop`` (P parameters, K clients)."""

    round_index: object        # () int64
    diverged: object           # () bool
    theta: object              # (P,) the global model
    server_moment: object      # (P,) first moment of the server optimizer
    server_second: object      # (P,) second moment (adaptive optimizers)
    server_control: object     # (P,) SCAFFOLD's c
    client_controls: object    # (K, P) SCAFFOLD's c_k
    residuals: object          # (K, P) error-feedback residuals
    accuracy: object           # TensorArray of () per round
    loss: object               # TensorArray of () per round
    participants: object       # TensorArray of (m,) per round
    client_loss: object        # TensorArray of (m,) per round
    client_accuracy: object    # TensorArray of (m,) per round


class _RunGraph:
    """The pieces of one compiled run, each a method that reads on its own.

    Built once inside the trace from the run's inputs (so the constants below are emitted
    once, not in every loop iteration). Shapes: m clients per round, P parameters, b the
    batch size, d features, C classes.

    Layout inside a round: the batches of all local steps are gathered up front into one
    time-major tensor ``pack`` of shape (n_steps, m, b, d + 1 + C + 1) holding the inputs
    (with a ones column for the bias), the scaled one-hot targets and the per-example
    scale 1/b_k (0 for padding and for steps a client does not take). A local step then
    reads one slice of it, so the step loop runs ~25 graph ops (plain SGD) instead of ~90;
    the graph's per-op dispatch, not arithmetic, is what costs time for models this small.
    """

    def __init__(self, arch: Architecture, inputs: RunInputs):
        self.inputs = inputs
        self.activations = arch.activations
        self.n_layers = len(arch.widths) - 1
        fans = list(zip(arch.widths[:-1], arch.widths[1:], strict=True))
        layer_sizes = [(fan_in + 1) * fan_out for fan_in, fan_out in fans]
        self.n_classes = arch.widths[-1]
        self.act_fns = [keras.activations.get(name) for name in arch.activations]
        self.act_grads = [_backprop_through(name) for name in arch.activations]
        self.m = inputs.clients_per_round
        self.n_clients = tf.shape(inputs.client_index, out_type=tf.int64)[0]
        self.shapes = [list(w.shape) for w in inputs.initial_weights]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.flat_init = tf.concat([tf.reshape(w, [-1]) for w in inputs.initial_weights], axis=0)
        X = inputs.X_train
        self.X_aug = tf.concat([X, tf.ones_like(X[:, :1])], axis=1)          # (N, d + 1): bias column
        self.X_test_aug = tf.concat([inputs.X_test, tf.ones_like(inputs.X_test[:, :1])], axis=1)
        self.test_ones = tf.ones_like(inputs.X_test[:, :1])
        self.pack_split = tf.constant([arch.widths[0] + 1, self.n_classes, 1], tf.int64)
        self.layer_split = tf.constant(layer_sizes, tf.int64)
        self.layer_shapes = [tf.constant([-1, fan_in + 1, fan_out], tf.int32) for fan_in, fan_out in fans]
        self.flat_shapes = [tf.constant([-1, size], tf.int32) for size in layer_sizes]
        self.plain_sgd = (tf.equal(inputs.client_momentum, 0.0) & tf.equal(inputs.mu, 0.0)
                          & tf.logical_not(inputs.scaffold))
        self.server_branches = _server_branches(inputs.server_learning_rate, inputs.server_momentum,
                                                inputs.beta1, inputs.beta2, inputs.tau)
        #: p_k, each client's weight in the objective (K,)
        self.objective_p = inputs.client_weight / tf.reduce_sum(inputs.client_weight)
        self._plan_sampling_and_orders()

    # -- step 1: who takes part, and the order of their batches --------------------------
    def _plan_sampling_and_orders(self) -> None:
        """Every round's clients and, when it is small, every round's batch order: one
        vectorised pass before the loop instead of many small ones inside it (the hash
        chains start with (salt, seed, round): that part is done for every round at once)."""
        inputs, m, rounds = self.inputs, self.m, self.inputs.rounds
        all_rounds = tf.range(rounds, dtype=tf.int64)
        sample_keys = _combine(all_rounds, start=_combine(SALT_SAMPLE, inputs.seed))
        self.order_keys = _combine(all_rounds, start=_combine(SALT_ORDER, inputs.seed))
        client_range = tf.range(self.n_clients, dtype=tf.int64)
        self.all_ids = tf.cond(                                                # (R, m)
            m >= self.n_clients, lambda: tf.tile(client_range[None], tf.stack([rounds, 1])),
            lambda: _sample_from_keys(_combine(client_range[None], start=sample_keys[:, None]), m))
        all_sizes = tf.gather(inputs.client_size, self.all_ids)               # (R, m)
        n_max_all = tf.reduce_max(all_sizes)
        self.precomputed = rounds * m * inputs.local_epochs * n_max_all <= MAX_PRECOMPUTED_ORDERS

        def all_orders():
            keys = _combine(self.all_ids[:, :, None, None], start=self.order_keys[:, None, None, None])
            orders = _orders_from_keys(tf.reshape(keys, [-1, 1, 1]), tf.reshape(all_sizes, [-1]),
                                       n_max_all, inputs.local_epochs)
            return tf.reshape(orders, tf.stack([rounds, m, inputs.local_epochs, n_max_all]))

        self.orders = tf.cond(self.precomputed, all_orders, lambda: tf.zeros([0, 0, 0, 0], tf.int32))

    def batch_orders(self, r, ids, n_k, n_max):
        """(m, E, n_max): each client's permutation of its examples per epoch, then padding."""
        return tf.cond(self.precomputed, lambda: self.orders[r][:, :, :n_max],
                       lambda: _orders_from_keys(_combine(ids[:, None, None], start=self.order_keys[r]),
                                                 n_k, n_max, self.inputs.local_epochs))

    # -- step 2: local training -----------------------------------------------------------
    def gradients(self, W, xb, target, scale, ones):
        """d (mean cross-entropy) / d W for the m stacked models on one batch each: (m, P)."""
        w = [tf.reshape(p, s) for p, s in zip(tf.split(W, self.layer_split, axis=1), self.layer_shapes, strict=True)]
        h, layer_inputs, pre, post = xb, [], [], []
        for layer, wl in enumerate(w):
            layer_inputs.append(h)
            z = tf.linalg.matmul(h, wl)
            if layer < self.n_layers - 1:
                a = self.act_fns[layer](z)
                pre.append(z)
                post.append(a)
                h = tf.concat([a, ones], axis=-1)
        delta = tf.nn.softmax(z) * scale - target                          # d loss / d logits
        grads = [None] * self.n_layers
        for layer in reversed(range(self.n_layers)):
            grads[layer] = tf.reshape(tf.linalg.matmul(layer_inputs[layer], delta, transpose_a=True),
                                      self.flat_shapes[layer])
            if layer > 0:
                upstream = tf.linalg.matmul(delta, w[layer][:, :-1], transpose_b=True)
                delta = self.act_grads[layer - 1](upstream, pre[layer - 1], post[layer - 1])
        return tf.concat(grads, axis=1)

    def local_batches(self, ids, n_k, cap_k, r):
        """The batches of every local step of the m clients ``ids``, gathered up front.

        Returns ``pack`` (n_steps, m, b, d + 1 + C + 1), ``active`` (n_steps, m), whether
        client k takes step t, the number of steps the loop must run, and b.
        """
        inputs, m = self.inputs, self.m
        n_max = tf.reduce_max(n_k)
        index = tf.gather(inputs.client_index, ids)[:, :n_max]               # (m, n_max)
        samples = tf.gather(index, self.batch_orders(r, ids, n_k, n_max), batch_dims=1)   # (m, E, n_max)
        b = tf.minimum(inputs.batch_size, n_max)
        steps = (n_max + b - 1) // b                                          # batches per epoch
        n_steps = inputs.local_epochs * steps
        samples = tf.pad(samples, [[0, 0], [0, 0], [0, steps * b - n_max]])
        samples = tf.transpose(tf.reshape(samples, [m, n_steps, b]), [1, 0, 2])   # (E*steps, m, b)
        # client k takes part in step t when it has a batch there and has not used up its
        # local step cap (its own step count is e * steps_k + j)
        steps_k = (n_k + b - 1) // b                                           # (m,)
        t_idx = tf.range(n_steps)
        e_idx, j_idx = t_idx // steps, t_idx % steps
        rank = e_idx[:, None] * steps_k[None, :] + j_idx[:, None]
        active = (j_idx[:, None] < steps_k[None, :]) & (rank < cap_k[None, :])            # (E*steps, m)
        slot = j_idx[:, None, None] * b + tf.range(b, dtype=tf.int64)[None, None, :]
        validf = tf.cast((slot < n_k[None, :, None]) & active[:, :, None], tf.float32)   # (E*steps, m, b)
        scale = (validf / tf.maximum(tf.reduce_sum(validf, axis=2, keepdims=True), 1.0))[..., None]
        target = tf.one_hot(tf.gather(inputs.y_train, samples), self.n_classes) * scale
        pack = tf.concat([tf.gather(self.X_aug, samples), target, scale], axis=-1)
        loop_end = tf.reduce_max(tf.where(tf.reduce_any(active, axis=1), t_idx, -1)) + 1
        return pack, active, loop_end, b

    def local_training(self, theta, ids, n_k, cap_k, r, correction):
        """The client update: E epochs of minibatch SGD for the m clients ``ids`` at once,
        from the global model ``theta`` (P,).

        ``correction`` (m, P) is added to every gradient (SCAFFOLD's c - c_k, else 0).
        Returns the clients' weights (m, P) and how many local steps each took (m,).
        """
        inputs = self.inputs
        lr, momentum, mu = inputs.client_learning_rate, inputs.client_momentum, inputs.mu
        pack, active, loop_end, b = self.local_batches(ids, n_k, cap_k, r)
        ones = tf.ones([self.m, b, 1])
        G = tf.tile(theta[None], [self.m, 1])                                 # (m, P) global model
        start = tf.constant(0, tf.int64)

        def sgd_step(t, W):
            # w <- w - eta_l * grad; padding and skipped steps have scale 0, so their gradient is exactly 0
            xb, target_t, scale_t = tf.split(tf.gather(pack, t), self.pack_split, axis=-1)
            return t + 1, W - lr * self.gradients(W, xb, target_t, scale_t, ones)

        def momentum_prox_step(t, W, V):
            xb, target_t, scale_t = tf.split(tf.gather(pack, t), self.pack_split, axis=-1)
            # g = grad + mu (w - w_global) + (c - c_k);  v <- momentum v - eta_l g;  w <- w + v
            g = self.gradients(W, xb, target_t, scale_t, ones) + mu * (W - G) + correction
            v_next = momentum * V - lr * g
            active_t = tf.gather(active, t)[:, None]
            return t + 1, tf.where(active_t, W + v_next, W), tf.where(active_t, v_next, V)

        W = tf.cond(
            self.plain_sgd,
            lambda: tf.while_loop(lambda t, W: t < loop_end, sgd_step, (start, G))[1],
            lambda: tf.while_loop(lambda t, W, V: t < loop_end, momentum_prox_step,
                                  (start, G, tf.zeros_like(G)))[1])
        return W, tf.reduce_sum(tf.cast(active, tf.int64), axis=0)

    def client_metrics(self, W, ids, n_k):
        """Each client's mean loss and accuracy on its own data under its own model: (m,), (m,)."""
        inputs = self.inputs
        n_max = tf.reduce_max(n_k)
        index = tf.gather(inputs.client_index, ids)[:, :n_max]
        w = [tf.reshape(p, [self.m] + s) for p, s in zip(tf.split(W, self.sizes, axis=1), self.shapes, strict=True)]
        valid = tf.range(n_max, dtype=tf.int64)[None, :] < n_k[:, None]
        return _masked_metrics(w, tf.gather(inputs.X_train, index), tf.gather(inputs.y_train, index), valid,
                               self.activations)

    def update_controls(self, theta, W, n_steps, ids, arrived, c, C):
        """SCAFFOLD option II (as Simulation.update_controls), from the clients' own models
        W (m, P): new c_k and c; clients whose update did not arrive keep their c_k."""
        c_k = tf.gather(C, ids)
        steps = tf.cast(tf.maximum(n_steps, 1), tf.float32)[:, None]
        # c_k+ = c_k - c + (x - y_k) / (K_k * eta_l)
        new_k = tf.where(arrived[:, None], c_k - c + (theta[None] - W) / (steps * self.inputs.client_learning_rate),
                         c_k)
        C_next = tf.tensor_scatter_nd_update(C, ids[:, None], new_k)
        # c = c + sum_k p_k (c_k+ - c_k)
        return c + tf.linalg.matvec(new_k - c_k, tf.gather(self.objective_p, ids), transpose_a=True), C_next

    # -- step 3: the upload ---------------------------------------------------------------
    def compress(self, theta, W, ids, arrived, r, residuals):
        """What the server decodes from each client's compressed update (see
        fedlearn_edu.compression; the same arithmetic, float64 for quantisation), and the
        clients' new residuals (error feedback). Returns weights (m, P) and residuals (K, P)."""
        inputs = self.inputs
        update = W - theta[None]
        carried = tf.cond(inputs.error_feedback, lambda: update + tf.gather(residuals, ids), lambda: update)

        def top_k():
            _, keep = tf.math.top_k(tf.abs(carried), k=tf.cast(inputs.topk_k, tf.int32))    # ties: lower index
            rows = tf.broadcast_to(tf.range(tf.shape(keep)[0])[:, None], tf.shape(keep))
            mask = tf.scatter_nd(tf.stack([rows, keep], axis=-1), tf.ones(tf.shape(keep)), tf.shape(carried))
            return carried * mask

        def quantise(bits):
            def branch():
                levels = tf.constant(2.0 ** bits - 1.0, tf.float64)
                x = tf.cast(carried, tf.float64)
                low = tf.reduce_min(x, axis=1, keepdims=True)
                span = tf.reduce_max(x, axis=1, keepdims=True) - low
                scaled = (x - low) / tf.where(span > 0, span, 1.0) * levels
                floor = tf.floor(scaled)
                codes = tf.clip_by_value(floor + tf.cast(inputs.rounding_draws[r] < scaled - floor, tf.float64),
                                         0.0, levels)
                decoded = tf.where(span > 0, low + codes * span / levels, low)
                return tf.cast(decoded, tf.float32)
            return branch

        decoded = tf.switch_case(tf.cast(inputs.compression_code, tf.int32) - 1, [quantise(8), quantise(4), top_k])
        new_residuals = tf.cond(
            inputs.error_feedback,
            lambda: tf.tensor_scatter_nd_update(
                residuals, ids[:, None], tf.where(arrived[:, None], carried - decoded, tf.gather(residuals, ids))),
            lambda: residuals)
        return theta[None] + decoded, new_residuals

    # -- step 4: aggregate and update the global model ------------------------------------
    def fedavg(self, W, ids, arrived):
        """FedAvg's average of the clients' models W (m, P) whose update arrived: (P,)."""
        # theta_bar = sum_k (u_k / sum_j u_j) w_k   over the arrived clients,
        # u_k = n_k (client_weighting="examples") or 1 ("uniform")
        u_arrived = tf.gather(self.inputs.client_weight, ids) * tf.cast(arrived, tf.float32)
        coef = u_arrived / tf.maximum(tf.reduce_sum(u_arrived), 1.0)
        return tf.linalg.matvec(W, coef, transpose_a=True)

    def server_step(self, theta, theta_bar, arrived, moment, second_moment):
        """The server optimizer (see fedlearn_edu.server) on the pseudo-gradient theta - theta_bar:
        FedAvg(M) when its code is 0, adaptive otherwise. When no update arrived, the model and
        the optimizer state stay as they are. Returns (theta, moment, second moment)."""
        code = tf.cast(self.inputs.server_code, tf.int32)
        branches = [lambda f=f: f(theta, theta - theta_bar, moment, second_moment) for f in self.server_branches]
        return tf.cond(tf.reduce_any(arrived), lambda: tf.switch_case(code, branches),
                       lambda: (theta, moment, second_moment))

    def evaluate(self, vec):
        """Mean cross-entropy and accuracy of the global model ``vec`` (P,) on the test set."""
        h = self.X_test_aug
        for layer, p in enumerate(tf.split(vec, self.layer_split)):
            z = tf.linalg.matmul(h, tf.reshape(p, self.layer_shapes[layer][1:]))
            if layer < self.n_layers - 1:
                h = tf.concat([self.act_fns[layer](z), self.test_ones], axis=1)
        y_test = self.inputs.y_test
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_test, logits=z))
        return loss, tf.reduce_mean(tf.cast(tf.equal(tf.argmax(z, axis=-1), y_test), tf.float32))

    # -- one round, then all of them (step 5) ---------------------------------------------
    def one_round(self, s: _LoopState) -> _LoopState:
        """Steps 1-4 for round ``s.round_index``: sample, train, upload, aggregate, update."""
        inputs, m, r = self.inputs, self.m, s.round_index
        ids = self.all_ids[r]
        n_k = tf.gather(inputs.client_size, ids)                              # (m,)
        correction = tf.cond(inputs.scaffold, lambda: s.server_control[None] - tf.gather(s.client_controls, ids),
                             lambda: tf.zeros_like(s.theta)[None])
        cap_k = inputs.step_caps[r]                                          # (m,)
        arrived = cap_k > 0                                                  # (m,) updates that reach the server
        W, n_steps = self.local_training(s.theta, ids=ids, n_k=n_k, cap_k=cap_k, r=r,   # (m, P), (m,)
                                         correction=correction)
        local_loss, local_acc = tf.cond(inputs.record_client_metrics, lambda: self.client_metrics(W, ids, n_k),
                                        lambda: (tf.zeros([m]), tf.zeros([m])))
        finite_clients = tf.reduce_all(tf.math.is_finite(W))
        c, C = tf.cond(inputs.scaffold & finite_clients,                  # from the clients' own models
                       lambda: self.update_controls(s.theta, W, n_steps=n_steps, ids=ids, arrived=arrived,
                                                    c=s.server_control, C=s.client_controls),
                       lambda: (s.server_control, s.client_controls))
        W, residuals = tf.cond((inputs.compression_code > 0) & finite_clients,
                               lambda: self.compress(s.theta, W, ids=ids, arrived=arrived, r=r,
                                                     residuals=s.residuals),
                               lambda: (W, s.residuals))
        new_theta, moment, second = self.server_step(s.theta, self.fedavg(W, ids, arrived), arrived=arrived,
                                                     moment=s.server_moment, second_moment=s.server_second)
        loss, acc = self.evaluate(tf.where(finite_clients, new_theta, s.theta))
        ok = finite_clients & tf.reduce_all(tf.math.is_finite(new_theta)) & tf.math.is_finite(loss)
        ri = tf.cast(r, tf.int32)
        return _LoopState(
            round_index=r + 1, diverged=tf.logical_not(ok), theta=tf.where(ok, new_theta, s.theta),
            server_moment=moment, server_second=second, server_control=c, client_controls=C, residuals=residuals,
            accuracy=s.accuracy.write(ri, acc), loss=s.loss.write(ri, loss), participants=s.participants.write(ri, ids),
            client_loss=s.client_loss.write(ri, local_loss), client_accuracy=s.client_accuracy.write(ri, local_acc))

    def run(self) -> dict:
        """All rounds in one ``tf.while_loop``, stopping after the round that diverges."""
        inputs, flat_init = self.inputs, self.flat_init
        init_loss, init_acc = self.evaluate(flat_init)
        R = tf.cast(inputs.rounds, tf.int32)
        per_client = tf.stack([self.n_clients, tf.size(flat_init, out_type=tf.int64)])
        state = _LoopState(
            round_index=tf.constant(0, tf.int64), diverged=tf.constant(False), theta=flat_init,
            server_moment=tf.zeros_like(flat_init), server_second=tf.fill(tf.shape(flat_init), inputs.tau * inputs.tau),
            server_control=tf.zeros_like(flat_init), client_controls=tf.zeros(per_client),
            residuals=tf.zeros(per_client),
            accuracy=tf.TensorArray(tf.float32, size=R), loss=tf.TensorArray(tf.float32, size=R),
            participants=tf.TensorArray(tf.int64, size=R, element_shape=[None]),
            client_loss=tf.TensorArray(tf.float32, size=R, element_shape=[None]),
            client_accuracy=tf.TensorArray(tf.float32, size=R, element_shape=[None]))
        out = tf.while_loop(lambda s: (s.round_index < inputs.rounds) & tf.logical_not(s.diverged),
                            lambda s: (self.one_round(s),), (state,))[0]
        done = tf.range(tf.cast(out.round_index, tf.int32))
        final = [tf.reshape(p, s) for p, s in zip(tf.split(out.theta, self.sizes), self.shapes, strict=True)]
        return {
            "rounds_run": out.round_index, "diverged": out.diverged, "final": final,
            "initial_loss": init_loss, "initial_accuracy": init_acc,
            "accuracy": out.accuracy.gather(done), "loss": out.loss.gather(done),
            "participants": out.participants.gather(done),
            "client_loss": out.client_loss.gather(done), "client_accuracy": out.client_accuracy.gather(done),
        }


def _build_run(arch: Architecture):
    """Compile the whole-run function for one architecture (traced once)."""
    def run(inputs: RunInputs) -> dict:
        return _RunGraph(arch, inputs).run()

    return tf.function(run, input_signature=[_input_signature(arch)], reduce_retracing=False, autograph=False)


def data_inputs(dataset, partitions: Sequence[np.ndarray], client_weights: np.ndarray,
                initial_weights: Sequence[np.ndarray]) -> dict:
    """The inputs that stay the same from run to run of one Simulation, as tensors (built once):
    the data, the clients' padded index lists, their sizes and objective weights u_k, the
    initial model."""
    index, sizes = padded_client_index(partitions)
    return dict(
        X_train=tf.constant(dataset.X_train), y_train=tf.constant(dataset.y_train),
        X_test=tf.constant(dataset.X_test), y_test=tf.constant(dataset.y_test),
        client_index=tf.constant(index), client_size=tf.constant(sizes),
        client_weight=tf.constant(client_weights, tf.float32),
        initial_weights=tuple(tf.constant(w) for w in initial_weights))


def run_inputs(data: dict, config, *, step_caps: np.ndarray, rounding_draws: np.ndarray,
               server_learning_rate: float, topk_k: int, n_train: int, record_client_metrics: bool) -> RunInputs:
    """All inputs of one run, by name: ``data`` from :func:`data_inputs`, the knobs from the
    FLConfig ``config``, the host's plan (``step_caps`` (R, m), 0 = never arrives) and the
    compressor's ``rounding_draws`` (R, m, P), empty unless int8/int4."""
    c = config

    def i64(v):
        return tf.constant(v, tf.int64)

    def f32(v):
        return tf.constant(v, tf.float32)

    return RunInputs(
        **data, rounds=i64(c.rounds), clients_per_round=i64(c.clients_per_round),
        local_epochs=i64(c.local_epochs), batch_size=i64(n_train if c.batch_size is None else c.batch_size),
        step_caps=tf.constant(step_caps, tf.int64), seed=i64(c.seed),
        client_learning_rate=f32(c.client_learning_rate), client_momentum=f32(c.client_momentum), mu=f32(c.mu),
        server_code=i64(SERVER_CODES[c.server_optimizer]), server_learning_rate=f32(server_learning_rate),
        server_momentum=f32(c.server_momentum if c.server_optimizer == "fedavgm" else 0.0),
        beta1=f32(c.beta1), beta2=f32(c.beta2), tau=f32(c.tau),
        record_client_metrics=tf.constant(bool(record_client_metrics)), scaffold=tf.constant(bool(c.scaffold)),
        compression_code=i64(COMPRESSION_CODES[c.compression]), topk_k=i64(topk_k),
        error_feedback=tf.constant(bool(c.error_feedback)), rounding_draws=tf.constant(rounding_draws))


_CACHE: dict = {}


def compiled_run(arch: Architecture):
    """The compiled run for ``arch`` (a ``tf.function``), built once per process and cached."""
    if arch not in _CACHE:
        function = _build_run(arch)
        _CACHE[arch] = (function, function.get_concrete_function())
    return _CACHE[arch][0]


def concrete_run(arch: Architecture):
    """The run's one concrete function: calling it skips ``tf.function``'s argument
    matching on every call (the signature has only ``None`` sizes, so one concrete
    function serves every experiment)."""
    compiled_run(arch)
    return _CACHE[arch][1]


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
