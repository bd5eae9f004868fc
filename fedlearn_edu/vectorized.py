"""The vectorised engine: a whole federated run inside one compiled TensorFlow function.

Why: the article's model is tiny, so training it client by client spends its time
calling TensorFlow once per batch per client, not computing. Here

* the m sampled clients of a round train *together*: their weights are stacked on a
  leading client axis, shape (m, fan_in, fan_out), and every Dense layer is one
  ``einsum('mbi,mio->mbo')``;
* clients of different sizes are padded to the largest and masked, so a client whose
  data is used up simply stops moving (also its momentum);
* all rounds run in one ``tf.while_loop``; the host plans who trains in every round
  (the same RoundPlans as the per-client engine) and the batch order comes from the same
  counter-based hash (:mod:`fedlearn_edu.rng`), evaluated in the graph;
* experiments stack too: a sweep's experiments share one client table and one compiled
  call, every knob a per-experiment vector (:class:`RunInputs`, :func:`run_batch`);
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
from functools import partial
from typing import Callable, NamedTuple, Sequence

import keras
import numpy as np

from ._tf import tf
from .rng import HASH_MULTIPLIER, HASH_START, MASK32, SALT_ORDER
from .vectorized_rules import (
    attacked_updates,
    clipped_updates,
    median_of_sorted,
    sorted_by_experiment,
    trimmed_mean_of_sorted,
)

#: batch orders of all rounds are computed before the loop when they have at most this many entries
MAX_PRECOMPUTED_ORDERS = 4_000_000
#: server optimizer codes inside the graph
SERVER_CODES = {"fedavg": 0, "fedavgm": 0, "fedadagrad": 1, "fedadam": 2, "fedyogi": 3}
#: compression codes inside the graph
COMPRESSION_CODES = {"none": 0, "int8": 1, "int4": 2, "topk": 3}
#: how the server combines the updates, inside the graph (see :mod:`fedlearn_edu.vectorized_rules`)
AGGREGATION_CODES = {"fedavg": 0, "dp": 1, "median": 2, "trimmed_mean": 3, "clipped_mean": 4}
#: what an attacking client does to its update, inside the graph
ATTACK_CODES = {"none": 0, "scaled": 1, "sign_flip": 2, "label_flip": 3}


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


def _orders_from_keys(client_keys, sizes, n_max, epochs):
    """Batch orders (m, epochs, n_max) from per-client hash states ``client_keys`` (m, 1, 1)."""
    positions = tf.range(n_max, dtype=tf.int64)[None, None, :]
    epoch_ids = tf.range(epochs, dtype=tf.int64)[None, :, None]
    keys = _combine(epoch_ids, positions, start=client_keys)
    keys = tf.where(positions < tf.cast(sizes, tf.int64)[:, None, None], keys, tf.constant(2 ** 40, tf.int64))
    return tf.argsort(keys, axis=-1, stable=True)


def tf_epoch_orders(sizes, n_max, epochs, seed, round_index, client_ids):
    """Graph version of :func:`fedlearn_edu.rng.epoch_orders` for m clients at once.

    ``seed`` is one seed or one per client (m,). Returns positions of shape (m, epochs,
    n_max); row (k, e) starts with a permutation of range(sizes[k]) (the per-client
    engine's order) followed by the padding.
    """
    clients = tf.cast(client_ids, tf.int64)[:, None, None]
    seeds = tf.cast(seed, tf.int64)
    seeds = seeds[:, None, None] if seeds.shape.rank == 1 else seeds       # one per client, or one for all
    return _orders_from_keys(_combine(SALT_ORDER, seeds, round_index, clients), sizes, n_max, epochs)


# ---------------------------------------------------------------------------------------
class RunInputs(NamedTuple):
    """Everything one compiled call takes, by name: a *batch* of X experiments (X = 1 for a
    single run) that share the data set and the architecture.

    The experiments' clients are stacked into one client table (K rows in all); the clients
    a round trains are M *slots* (experiment x owns m_x consecutive slots; M = sum m_x). The
    call site and the input signature share this one structure, so no argument depends on
    its position. Shapes: N training examples, d features, n_max the largest client, R the
    longest run, P parameters.
    """

    X_train: object             # (N, d) float32
    y_train: object             # (N,) int64
    X_test: object              # (N_test, d) float32
    y_test: object              # (N_test,) int64
    client_index: object        # (K, n_max) int64, each client's example indices, padded
    client_size: object         # (K,) int64, n_k
    client_weight: object       # (K,) float32, u_k of the objective (n_k or 1)
    client_experiment: object   # (K,) int64, the experiment a client belongs to
    client_local_id: object     # (K,) int64, k within its experiment (what the batch-order hash uses)
    initial_weights: object     # tuple of the X global models' arrays, each with a leading X axis
    rounds: object              # (X,) int64, R_x
    local_epochs: object        # (X,) int64, E
    batch_size: object          # (X,) int64, B (N for a full batch)
    seed: object                # (X,) int64
    client_learning_rate: object    # (X,) float32, eta_l
    client_momentum: object     # (X,) float32
    mu: object                  # (X,) float32, FedProx
    server_code: object         # (X,) int64, SERVER_CODES
    server_learning_rate: object    # (X,) float32, eta_g
    server_momentum: object     # (X,) float32, beta of FedAvgM (0 otherwise)
    beta1: object               # (X,) float32
    beta2: object               # (X,) float32
    tau: object                 # (X,) float32
    scaffold: object            # (X,) bool
    compression_code: object    # (X,) int64, 0 none, 1 int8, 2 int4, 3 top-k
    topk_k: object              # (X,) int64
    error_feedback: object      # (X,) bool
    stop_accuracy: object       # (X,) float32, stop after the round whose test accuracy reaches it (> 1: never)
    aggregation_code: object    # (X,) int64, AGGREGATION_CODES
    clip_norm: object           # (X,) float32, S of DP-FedAvg and of the clipped mean
    expected_clients: object    # (X,) float32, m = q K, DP-FedAvg's fixed denominator
    trim: object                # (X,) int64, values dropped at each end by the trimmed mean
    attack_code: object         # (X,) int64, ATTACK_CODES (what the attacking clients do)
    attack_factor: object       # (X,) float32, the scale of the scaled and sign-flipped updates
    client_attacker: object     # (K,) bool, the attacking clients
    aggregation_noise: object   # (R, X, P) float32, DP's Gaussian noise per round (0 rounds when no DP)
    race_group: object          # (X,) int64 in [0, X): experiments of a group stop when one reaches stop_accuracy
    slot_experiment: object     # (M,) int64, the experiment of each slot
    participants: object        # (R, M) int64, the client-table row each slot trains in each round
    step_caps: object           # (R, M) int64, local steps each slot may take; 0 = never arrives
    rounding_draws: object      # (R, M, P) float64, int8/int4 rounding draws (empty otherwise)
    record_client_metrics: object   # () bool
    first_round: object         # () int64, the round this call starts at (0, or where the previous call stopped)
    last_round: object          # () int64, the call stops before this round (a run in parts: a progress bar)
    resume: object              # RunState: every experiment's state at first_round (initial_state() for round 0)


class RunState(NamedTuple):
    """What one call hands the next when a run goes in parts (X experiments, P parameters, K
    clients in the client table; the tables have 0 rows when no experiment needs them)."""

    rounds_run: object          # (X,) int64
    diverged: object            # (X,) bool
    finished: object            # (X,) bool, stopped because its race group reached the accuracy
    server_moment: object       # (X, P) first moment of the server optimizer
    server_second: object       # (X, P) second moment (adaptive optimizers)
    server_control: object      # (X, P) SCAFFOLD's c
    client_controls: object     # (K, P) or (0, P), SCAFFOLD's c_k
    residuals: object           # (K, P) or (0, P), error-feedback residuals


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


def _input_signature(arch: Architecture) -> RunInputs:
    """The ``tf.TensorSpec`` of every input: every size is ``None``, so one trace serves all
    runs and all batches."""
    fans = list(zip(arch.widths[:-1], arch.widths[1:], strict=True))
    weight_spec = []
    for fan_in, fan_out in fans:
        weight_spec += [tf.TensorSpec([None, fan_in, fan_out], tf.float32), tf.TensorSpec([None, fan_out], tf.float32)]
    n_features = arch.widths[0]

    def vector(dtype):
        return tf.TensorSpec([None], dtype)

    i64, f32, flag = vector(tf.int64), vector(tf.float32), vector(tf.bool)
    return RunInputs(
        X_train=tf.TensorSpec([None, n_features], tf.float32), y_train=i64,
        X_test=tf.TensorSpec([None, n_features], tf.float32), y_test=i64,
        client_index=tf.TensorSpec([None, None], tf.int64), client_size=i64, client_weight=f32,
        client_experiment=i64, client_local_id=i64, initial_weights=tuple(weight_spec),
        rounds=i64, local_epochs=i64, batch_size=i64, seed=i64,
        client_learning_rate=f32, client_momentum=f32, mu=f32,
        server_code=i64, server_learning_rate=f32, server_momentum=f32, beta1=f32, beta2=f32, tau=f32,
        scaffold=flag, compression_code=i64, topk_k=i64, error_feedback=flag,
        stop_accuracy=f32, aggregation_code=i64, clip_norm=f32, expected_clients=f32, trim=i64,
        attack_code=i64, attack_factor=f32, client_attacker=flag,
        aggregation_noise=tf.TensorSpec([None, None, None], tf.float32), race_group=i64, slot_experiment=i64,
        participants=tf.TensorSpec([None, None], tf.int64), step_caps=tf.TensorSpec([None, None], tf.int64),
        rounding_draws=tf.TensorSpec([None, None, None], tf.float64),
        record_client_metrics=tf.TensorSpec([], tf.bool),
        first_round=tf.TensorSpec([], tf.int64), last_round=tf.TensorSpec([], tf.int64),
        resume=RunState(rounds_run=i64, diverged=flag, finished=flag,
                        server_moment=tf.TensorSpec([None, None], tf.float32),
                        server_second=tf.TensorSpec([None, None], tf.float32),
                        server_control=tf.TensorSpec([None, None], tf.float32),
                        client_controls=tf.TensorSpec([None, None], tf.float32),
                        residuals=tf.TensorSpec([None, None], tf.float32)))


class _LoopState(NamedTuple):
    """What one round hands the next inside the ``tf.while_loop`` (X experiments, P
    parameters, K clients in the client table)."""

    round_index: object        # () int64
    rounds_run: object         # (X,) int64
    diverged: object           # (X,) bool
    finished: object           # (X,) bool, stopped because its race group reached the accuracy
    theta: object              # (X, P) the global models
    server_moment: object      # (X, P) first moment of the server optimizer
    server_second: object      # (X, P) second moment (adaptive optimizers)
    server_control: object     # (X, P) SCAFFOLD's c
    client_controls: object    # (K, P) SCAFFOLD's c_k (0 rows when no experiment uses SCAFFOLD)
    residuals: object          # (K, P) error-feedback residuals (0 rows when none uses error feedback)
    accuracy: object           # TensorArray of (X,) per round
    loss: object               # TensorArray of (X,) per round
    client_loss: object        # TensorArray of (M,) per round
    client_accuracy: object    # TensorArray of (M,) per round
    clipped: object            # TensorArray of (X,) per round: updates longer than S (DP, clipped mean)


def _segment_sum(values, segments, n_segments):
    """Sum of the rows of ``values`` per segment: (M, ...) -> (X, ...)."""
    return tf.math.unsorted_segment_sum(values, segments, n_segments)


class _RunGraph:
    """The pieces of one compiled call, each a method that reads on its own.

    Built once inside the trace from the inputs (so the constants below are emitted once,
    not in every loop iteration). Shapes: X experiments, M slots (the clients of a round of
    every experiment, stacked), P parameters, b the batch width, d features, C classes.
    A slot's hyper-parameters are its experiment's, gathered once (``self.slot_*``), so a
    local step is the same handful of ops for one experiment or for a whole sweep.

    Layout inside a round: the batches of all local steps are gathered up front into one
    time-major tensor ``pack`` of shape (n_steps, M, b, d + 1 + C + 1) holding the inputs
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
        self.n_experiments = tf.shape(inputs.rounds, out_type=tf.int64)[0]
        self.n_slots = tf.shape(inputs.slot_experiment, out_type=tf.int64)[0]
        self.shapes = [list(w.shape[1:]) for w in inputs.initial_weights]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.flat_init = tf.concat([tf.reshape(w, tf.stack([tf.shape(w)[0], -1])) for w in inputs.initial_weights],
                                   axis=1)                                       # (X, P)
        X = inputs.X_train
        self.X_aug = tf.concat([X, tf.ones_like(X[:, :1])], axis=1)          # (N, d + 1): bias column
        self.X_test_aug = tf.concat([inputs.X_test, tf.ones_like(inputs.X_test[:, :1])], axis=1)[None]
        self.pack_split = tf.constant([arch.widths[0] + 1, self.n_classes, 1], tf.int64)
        self.layer_split = tf.constant(layer_sizes, tf.int64)
        self.layer_shapes = [tf.constant([-1, fan_in + 1, fan_out], tf.int32) for fan_in, fan_out in fans]
        self.flat_shapes = [tf.constant([-1, size], tf.int32) for size in layer_sizes]
        # every slot's hyper-parameters, from its experiment: (M,) or (M, 1)
        slot = inputs.slot_experiment
        self.slot_learning_rate = tf.gather(inputs.client_learning_rate, slot)[:, None]
        self.slot_momentum = tf.gather(inputs.client_momentum, slot)[:, None]
        self.slot_mu = tf.gather(inputs.mu, slot)[:, None]
        self.slot_scaffold = tf.gather(inputs.scaffold, slot)
        self.slot_compression = tf.gather(inputs.compression_code, slot)
        self.slot_topk = tf.gather(inputs.topk_k, slot)
        self.slot_error_feedback = tf.gather(inputs.error_feedback, slot)
        self.slot_epochs = tf.gather(inputs.local_epochs, slot)
        self.slot_batch = tf.gather(inputs.batch_size, slot)
        self.slot_seed = tf.gather(inputs.seed, slot)
        self.plain_sgd = (tf.reduce_all(tf.equal(inputs.client_momentum, 0.0)) & tf.reduce_all(tf.equal(inputs.mu, 0.0))
                          & tf.logical_not(tf.reduce_any(inputs.scaffold)))
        self.any_scaffold = tf.reduce_any(inputs.scaffold)
        self.any_client_momentum = tf.reduce_any(tf.not_equal(inputs.client_momentum, 0.0))
        self.any_compression = tf.reduce_any(inputs.compression_code > 0)
        self.any_attack = tf.reduce_any(inputs.attack_code > 0)
        self.any_label_flip = tf.reduce_any(inputs.attack_code == ATTACK_CODES["label_flip"])
        self.any_other_rule = tf.reduce_any(inputs.aggregation_code > 0)
        #: p_k, each client's weight in its experiment's objective (K,)
        totals = _segment_sum(inputs.client_weight, inputs.client_experiment, self.n_experiments)
        self.objective_p = inputs.client_weight / tf.gather(totals, inputs.client_experiment)
        self._plan_orders()

    # -- step 1 (the host planned who trains): the order of their batches ----------------
    def _plan_orders(self) -> None:
        """Every round's batch orders, when they are small: one vectorised pass before the
        loop instead of many small ones inside it (else each round computes its own)."""
        inputs = self.inputs
        n_rounds = tf.shape(inputs.participants, out_type=tf.int64)[0]
        all_sizes = tf.gather(inputs.client_size, inputs.participants)             # (R, M)
        n_max_all, epochs = tf.reduce_max(all_sizes), tf.reduce_max(inputs.local_epochs)
        self.precomputed = n_rounds * self.n_slots * epochs * n_max_all <= MAX_PRECOMPUTED_ORDERS

        def all_orders():
            keys = _combine(SALT_ORDER, self.slot_seed[None, :], tf.range(n_rounds)[:, None],
                            tf.gather(inputs.client_local_id, inputs.participants))   # (R, M)
            orders = _orders_from_keys(tf.reshape(keys, [-1, 1, 1]), tf.reshape(all_sizes, [-1]), n_max_all, epochs)
            return tf.reshape(orders, tf.stack([n_rounds, self.n_slots, epochs, n_max_all]))

        self.orders = tf.cond(self.precomputed, all_orders, lambda: tf.zeros([0, 0, 0, 0], tf.int32))

    def batch_orders(self, r, ids, n_k, n_max):
        """(M, E_max, n_max): each slot's permutation of its client's examples per epoch, then padding."""
        return tf.cond(self.precomputed, lambda: self.orders[r][:, :, :n_max],
                       lambda: tf_epoch_orders(n_k, n_max, tf.reduce_max(self.slot_epochs), seed=self.slot_seed,
                                               round_index=r, client_ids=tf.gather(self.inputs.client_local_id, ids)))

    def per_slot(self, values):
        """An experiment's row for each of its slots: (X, ...) -> (M, ...)."""
        return tf.gather(values, self.inputs.slot_experiment)

    def per_experiment(self, values):
        """The sum over each experiment's slots: (M, ...) -> (X, ...)."""
        return _segment_sum(values, self.inputs.slot_experiment, self.n_experiments)

    # -- step 2: local training -----------------------------------------------------------
    def layers(self, W):
        """The M stacked models (M, P) as one (M, fan_in + 1, fan_out) tensor per layer (bias last row)."""
        return [tf.reshape(p, s) for p, s in zip(tf.split(W, self.layer_split, axis=1), self.layer_shapes, strict=True)]

    def flat(self, layers):
        """The inverse of :meth:`layers`: (M, P)."""
        return tf.concat([tf.reshape(w, s) for w, s in zip(layers, self.flat_shapes, strict=True)], axis=1)

    def gradients(self, w, xb, target, scale, ones):
        """d (mean cross-entropy) / d w for the M stacked models, one batch each: a list with one
        (M, fan_in + 1, fan_out) tensor per layer. The weights stay split by layer through the
        local steps: flattening (M, P) every step would stream the whole model through memory
        several times per step, which is what a 100-client sweep's time went into."""
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
            grads[layer] = tf.linalg.matmul(layer_inputs[layer], delta, transpose_a=True)
            if layer > 0:
                upstream = tf.linalg.matmul(delta, w[layer][:, :-1], transpose_b=True)
                delta = self.act_grads[layer - 1](upstream, pre[layer - 1], post[layer - 1])
        return grads

    def local_batches(self, ids, n_k, cap_k, r):
        """The batches of every local step of the M slots' clients ``ids``, gathered up front.

        Slot k takes its steps t = 0, 1, ... in order: step t is batch j = t mod s_k of epoch
        e = t div s_k, where s_k = ceil(n_k / B_k), and it stops after min(E_k s_k, cap_k) steps.
        Returns ``pack`` (n_steps, M, b, d + 1 + C + 1), the number of steps each slot takes (M,)
        (slot k takes step t when t < taken[k]) and the batch width b.
        """
        inputs, M = self.inputs, self.n_slots
        n_max = tf.reduce_max(n_k)
        batch, epochs = self.slot_batch, self.slot_epochs
        index = tf.gather(inputs.client_index, ids)[:, :n_max]               # (M, n_max)
        orders = self.batch_orders(r, ids, n_k, n_max)                      # (M, E_max, n_max)
        b = tf.minimum(tf.reduce_max(batch), n_max)                           # batch width
        steps_k = (n_k + batch - 1) // batch                                  # batches per epoch (M,)
        taken = tf.minimum(epochs * steps_k, cap_k)                           # local steps (M,)
        n_steps = tf.reduce_max(taken)
        t = tf.range(n_steps)[None, :]                                        # (1, T)
        safe_steps = tf.maximum(steps_k, 1)[:, None]
        epoch = tf.minimum(t // safe_steps, epochs[:, None] - 1)              # (M, T)
        slot = (t % safe_steps)[..., None] * batch[:, None, None] + tf.range(b, dtype=tf.int64)[None, None, :]
        valid = ((tf.range(b, dtype=tf.int64)[None, None, :] < batch[:, None, None])      # (M, T, b)
                 & (slot < n_k[:, None, None]) & (t < taken[:, None])[..., None])
        flat = epoch[..., None] * n_max + tf.minimum(slot, n_max - 1)
        positions = tf.gather(tf.reshape(orders, tf.stack([M, -1])), tf.reshape(flat, tf.stack([M, -1])),
                              batch_dims=1)
        samples = tf.gather(index, positions, batch_dims=1)                   # (M, T * b)
        samples = tf.transpose(tf.reshape(samples, tf.stack([M, n_steps, b])), [1, 0, 2])   # (T, M, b)
        validf = tf.transpose(tf.cast(valid, tf.float32), [1, 0, 2])
        scale = (validf / tf.maximum(tf.reduce_sum(validf, axis=2, keepdims=True), 1.0))[..., None]
        labels = tf.gather(inputs.y_train, samples)                          # (T, M, b)
        flips = (tf.gather(inputs.client_attacker, ids)
                 & tf.equal(self.per_slot(inputs.attack_code), ATTACK_CODES["label_flip"]))
        # a label flipper trains on y -> (y + 1) mod C
        labels = tf.cond(self.any_label_flip, lambda: tf.where(flips[None, :, None], (labels + 1) % self.n_classes,
                                                               labels), lambda: labels)
        target = tf.one_hot(labels, self.n_classes) * scale
        pack = tf.concat([tf.gather(self.X_aug, samples), target, scale], axis=-1)
        return pack, taken, b

    @staticmethod
    def in_phases(step, state, constants, schedule):
        """Run every phase of local training: ``state`` and ``constants`` are lists of per-slot
        tensors (M, ...); ``schedule`` = (starts, ends, width, ones): phase i runs steps
        starts[i] .. ends[i] - 1 on the first width[i] slots. ``step(t, state, constants, ones, n)``
        returns the new state of those n slots."""
        starts, ends, width, ones = schedule

        def phase(i, state):
            n = width[i]
            part, fixed = [x[:n] for x in constants], ones[:n]

            def body(t, part_state):
                return t + 1, step(t, part_state, part, fixed, n)

            trained = tf.while_loop(lambda t, _: t < ends[i], body, (starts[i], [x[:n] for x in state]))[1]
            return i + 1, [tf.concat([a, x[n:]], axis=0) for a, x in zip(trained, state, strict=True)]

        return tf.while_loop(lambda i, _: i < tf.size(ends, out_type=tf.int64), phase,
                             (tf.constant(0, tf.int64), state))[1]

    def local_training(self, theta, ids, n_k, cap_k, r, correction):
        """The client update: E epochs of minibatch SGD for the M slots at once, each from its
        experiment's global model (``theta`` (X, P), the experiments' global models).

        ``correction()`` gives the (M, P) term added to every gradient (SCAFFOLD's c - c_k, else
        0); it is called only when some experiment uses FedProx, SCAFFOLD or client momentum.
        Returns the clients' weights (M, P) and how many local steps each took (M,).

        The slots train sorted by how many steps they take, in *phases*: in phase i the first
        n_i slots take steps s_(i-1) .. s_i - 1, the others are done. A phase trains only its
        slots, so a small client, or an experiment with fewer epochs, costs nothing once it is
        done, and a step never pays for slicing. Padding inside a batch has scale 0, so its
        gradient is exactly 0.
        """
        pack, taken, b = self.local_batches(ids, n_k, cap_k, r)
        order = tf.argsort(-taken, stable=True)                               # most steps first
        taken_sorted = tf.gather(taken, order)
        ends = tf.reverse(tf.unique(taken_sorted)[0], [0])                    # step counts, ascending
        ends = tf.boolean_mask(ends, ends > 0)                                # phase i ends at step ends[i]
        starts = tf.concat([[0], ends[:-1]], axis=0)
        width = tf.reduce_sum(tf.cast(taken_sorted[None, :] >= ends[:, None], tf.int64), axis=1)   # n_i
        pack = tf.gather(pack, order, axis=1)
        slot = tf.gather(self.inputs.slot_experiment, order)
        lr, momentum, mu = (tf.gather(v, order)[:, :, None]
                            for v in (self.slot_learning_rate, self.slot_momentum, self.slot_mu))
        G = [tf.gather(w, slot) for w in self.layers(theta)]                 # per layer (M, fan_in + 1, fan_out)
        ones = tf.ones(tf.stack([self.n_slots, b, 1]))

        def phases(step, state, constants):
            return self.in_phases(step, state, constants, schedule=(starts, ends, width, ones))

        def batch(t, n):
            return tf.split(tf.gather(pack, t)[:n], self.pack_split, axis=-1)

        def sgd(t, W, constants, fixed, n):
            (rate,) = constants
            grads = self.gradients(W, *batch(t, n), fixed)
            # w <- w - eta_l * grad
            return [w - rate * g for w, g in zip(W, grads, strict=True)]

        def corrected(t, W, constants, fixed, n):
            rate, shrink, shift = constants[0], constants[1], constants[2:]
            grads = self.gradients(W, *batch(t, n), fixed)
            # w <- w - eta_l (grad + mu (w - w_global) + corr),  corr = c - c_k (SCAFFOLD) or 0
            #    = (1 - eta_l mu) w - eta_l grad + eta_l (mu w_global - corr)
            return [shrink * w - rate * g + k for w, g, k in zip(W, grads, shift, strict=True)]

        def with_momentum(t, state, constants, fixed, n):
            L = self.n_layers
            W, V = state[:L], state[L:]
            rate, beta, prox = constants[:3]
            G_n, C_n = constants[3:3 + L], constants[3 + L:]
            grads = self.gradients(W, *batch(t, n), fixed)
            # g = grad + mu (w - w_global) + (c - c_k);  v <- momentum v - eta_l g;  w <- w + v
            V_next = [beta * v - rate * (g + prox * (w - g_global) + c)
                      for w, v, g, g_global, c in zip(W, V, grads, G_n, C_n, strict=True)]
            return [w + v for w, v in zip(W, V_next, strict=True)] + V_next

        def plain_sgd():
            return phases(sgd, G, [lr])

        def other():
            corrections = [tf.gather(c, order) for c in self.layers(correction())]

            def proximal():
                shift = [lr * (mu * g - c) for g, c in zip(G, corrections, strict=True)]
                return phases(corrected, G, [lr, 1.0 - lr * mu] + shift)

            def momentum_sgd():
                zeros = [tf.zeros_like(g) for g in G]
                return phases(with_momentum, G + zeros, [lr, momentum, mu] + G + corrections)[:self.n_layers]

            return tf.cond(self.any_client_momentum, momentum_sgd, proximal)

        W = self.flat(tf.cond(self.plain_sgd, plain_sgd, other))
        return tf.gather(W, tf.math.invert_permutation(order)), taken

    def client_metrics(self, W, ids, n_k):
        """Each client's mean loss and accuracy on its own data under its own model: (M,), (M,)."""
        inputs = self.inputs
        n_max = tf.reduce_max(n_k)
        index = tf.gather(inputs.client_index, ids)[:, :n_max]
        w = [tf.reshape(p, tf.concat([[-1], s], axis=0))
             for p, s in zip(tf.split(W, self.sizes, axis=1), self.shapes, strict=True)]
        valid = tf.range(n_max, dtype=tf.int64)[None, :] < n_k[:, None]
        return _masked_metrics(w, tf.gather(inputs.X_train, index), tf.gather(inputs.y_train, index), valid,
                               self.activations)

    def update_controls(self, theta_s, W, n_steps, ids, arrived, c, C):
        """SCAFFOLD option II (as Simulation.update_controls), from the clients' own models
        W (M, P): new c_k and c; clients whose update did not arrive (or whose experiment does
        not use SCAFFOLD) keep their c_k."""
        c_k = tf.gather(C, ids)
        steps = tf.cast(tf.maximum(n_steps, 1), tf.float32)[:, None]
        # c_k+ = c_k - c + (x - y_k) / (K_k * eta_l)
        new_k = tf.where((arrived & self.slot_scaffold)[:, None],
                         c_k - self.per_slot(c) + (theta_s - W) / (steps * self.slot_learning_rate), c_k)
        C_next = tf.tensor_scatter_nd_update(C, ids[:, None], new_k)
        # c = c + sum_k p_k (c_k+ - c_k)
        return c + self.per_experiment((new_k - c_k) * tf.gather(self.objective_p, ids)[:, None]), C_next

    # -- step 3: the upload ---------------------------------------------------------------
    def compress(self, theta_s, W, ids, arrived, r, residuals):
        """What the server decodes from each client's compressed update (see
        fedlearn_edu.compression; the same arithmetic, float64 for quantisation), and the
        clients' new residuals (error feedback). Slots whose experiment does not compress
        keep W. Returns weights (M, P) and residuals (K, P)."""
        inputs, code = self.inputs, self.slot_compression
        update = W - theta_s
        feedback = self.slot_error_feedback[:, None]
        carried = tf.cond(tf.shape(residuals)[0] > 0,                      # 0 rows: no error feedback anywhere
                          lambda: tf.where(feedback, update + tf.gather(residuals, ids), update), lambda: update)

        def top_k():
            k_max = tf.reduce_max(tf.where(code == 3, self.slot_topk, 0))
            _, keep = tf.math.top_k(tf.abs(carried), k=tf.cast(k_max, tf.int32))    # ties: lower index
            keep_rank = tf.range(k_max)[None, :] < self.slot_topk[:, None]         # each slot's own k
            rows = tf.broadcast_to(tf.range(tf.shape(keep)[0])[:, None], tf.shape(keep))
            mask = tf.scatter_nd(tf.stack([rows, keep], axis=-1), tf.cast(keep_rank, tf.float32), tf.shape(carried))
            return carried * mask

        def quantise():
            # 8 bits: 255 levels, 4 bits: 15 levels (per slot)
            levels = tf.where(code == 1, 255.0, 15.0)[:, None]
            levels = tf.cast(levels, tf.float64)
            x = tf.cast(carried, tf.float64)
            low = tf.reduce_min(x, axis=1, keepdims=True)
            span = tf.reduce_max(x, axis=1, keepdims=True) - low
            scaled = (x - low) / tf.where(span > 0, span, 1.0) * levels
            floor = tf.floor(scaled)
            codes = tf.clip_by_value(floor + tf.cast(inputs.rounding_draws[r] < scaled - floor, tf.float64),
                                     0.0, levels)
            decoded = tf.where(span > 0, low + codes * span / levels, low)
            return tf.cast(decoded, tf.float32)

        quantised = (code == 1) | (code == 2)
        decoded = tf.cond(tf.reduce_any(quantised), quantise, lambda: carried)
        decoded = tf.where(quantised[:, None], decoded,
                           tf.cond(tf.reduce_any(code == 3), top_k, lambda: carried))
        compressed = (code > 0)[:, None]
        kept = compressed & feedback & arrived[:, None]
        new_residuals = tf.cond(
            tf.shape(residuals)[0] > 0,
            lambda: tf.tensor_scatter_nd_update(
                residuals, ids[:, None], tf.where(kept, carried - decoded, tf.gather(residuals, ids))),
            lambda: residuals)
        return tf.where(compressed, theta_s + decoded, W), new_residuals

    # -- step 4: aggregate and update the global model ------------------------------------
    def fedavg(self, W, ids, arrived):
        """FedAvg's average, per experiment, of the clients' models W (M, P) whose update
        arrived: (X, P), and whether any arrived (X,)."""
        # theta_bar = sum_k (u_k / sum_j u_j) w_k   over the arrived clients of the experiment,
        # u_k = n_k (client_weighting="examples") or 1 ("uniform")
        u_arrived = tf.gather(self.inputs.client_weight, ids) * tf.cast(arrived, tf.float32)
        total = self.per_experiment(u_arrived)                                  # (X,)
        coef = u_arrived / tf.maximum(self.per_slot(total), 1.0)
        return self.per_experiment(W * coef[:, None]), total > 0

    def poison(self, theta_s, W, ids):
        """What the slots send when some experiment has attackers: w_global + a Delta_k (see
        :func:`fedlearn_edu.vectorized_rules.attacked_updates`), (M, P)."""
        inputs = self.inputs
        return theta_s + attacked_updates(W - theta_s, self.per_slot(inputs.attack_code),
                                          self.per_slot(inputs.attack_factor), tf.gather(inputs.client_attacker, ids))

    def aggregate(self, theta, W, ids, arrived, r):
        """Step 4's combination, per experiment by its aggregation code: FedAvg's weighted mean
        of the models, or global + Delta with Delta from DP-FedAvg, the median, the trimmed
        mean or the clipped mean of the updates (:mod:`fedlearn_edu.vectorized_rules`).
        Returns theta_bar (X, P), whether it moves the model (X,) (DP always does: the noise
        is added even when nobody was sampled) and the updates longer than S (X,) int32."""
        inputs, X = self.inputs, self.n_experiments
        theta_fedavg, any_arrived = self.fedavg(W, ids, arrived)

        def other_rules():
            code = inputs.aggregation_code
            updates = W - self.per_slot(theta)
            clipped, norms = clipped_updates(updates, self.per_slot(inputs.clip_norm))
            counts = self.per_experiment(tf.cast(arrived, tf.float32))                     # (X,)
            total = self.per_experiment(clipped * tf.cast(arrived, tf.float32)[:, None])
            noise = tf.cond(tf.shape(inputs.aggregation_noise)[0] > 0, lambda: inputs.aggregation_noise[r],
                            lambda: tf.zeros_like(total))
            # DP-FedAvg: Delta = sum_k clip(Delta_k, S) / m + N(0, (z S / m)^2 I)
            dp = total / inputs.expected_clients[:, None] + noise
            # clipped mean: Delta = sum_k clip(Delta_k, S) / n
            clipped_mean = total / tf.maximum(counts, 1.0)[:, None]

            def order_statistics():
                ordered, n = sorted_by_experiment(updates, arrived, inputs.slot_experiment, X)
                return median_of_sorted(ordered, n), trimmed_mean_of_sorted(ordered, n, inputs.trim)

            median, trimmed = tf.cond(tf.reduce_any((code == 2) | (code == 3)), order_statistics,
                                      lambda: (clipped_mean, clipped_mean))
            delta = tf.where((code == 1)[:, None], dp, tf.where((code == 2)[:, None], median, tf.where(
                (code == 3)[:, None], trimmed, clipped_mean)))
            theta_bar = tf.where((code == 0)[:, None], theta_fedavg, theta + delta)
            long_updates = self.per_experiment(tf.cast(arrived & (norms > self.per_slot(inputs.clip_norm)), tf.int32))
            return theta_bar, any_arrived | (code == 1), tf.where((code == 1) | (code == 4), long_updates, 0)

        return tf.cond(self.any_other_rule, other_rules,
                       lambda: (theta_fedavg, any_arrived, tf.zeros(tf.reshape(X, [1]), tf.int32)))

    def server_step(self, theta, theta_bar, any_arrived, moment, second_moment):
        """The server optimizer (see fedlearn_edu.server) of every experiment on its
        pseudo-gradient g = theta - theta_bar: FedAvg(M) where its code is 0, adaptive
        otherwise. An experiment none of whose updates arrived keeps its model and optimizer
        state. Returns (theta, moment, second moment), each (X, P)."""
        inputs = self.inputs
        code = inputs.server_code[:, None]
        eta, beta = inputs.server_learning_rate[:, None], inputs.server_momentum[:, None]
        beta1, beta2, tau = inputs.beta1[:, None], inputs.beta2[:, None], inputs.tau[:, None]
        g = theta - theta_bar
        # FedAvg(M), code 0 (FedAvg: beta = 0):  m <- beta m + g;  theta <- theta - eta m
        moment_avg = beta * moment + g

        def adaptive():
            # m <- beta1 m + (1 - beta1) g;  v <- (the optimizer's rule);  theta <- theta - eta m / (sqrt(v) + tau)
            moment_next = beta1 * moment + (1.0 - beta1) * g
            g2 = g * g
            second_next = tf.where(code == 1, second_moment + g2,                                   # FedAdagrad
                                   tf.where(code == 2, beta2 * second_moment + (1.0 - beta2) * g2,  # FedAdam
                                            second_moment - (1.0 - beta2) * g2 * tf.sign(second_moment - g2)))  # Yogi
            return theta - eta * moment_next / (tf.sqrt(second_next) + tau), moment_next, second_next

        theta_a, moment_a, second_a = tf.cond(tf.reduce_any(inputs.server_code > 0), adaptive,
                                              lambda: (theta, moment, second_moment))
        is_avg, keep = code == 0, tf.logical_not(any_arrived)[:, None]
        new_theta = tf.where(keep, theta, tf.where(is_avg, theta - eta * moment_avg, theta_a))
        new_moment = tf.where(keep, moment, tf.where(is_avg, moment_avg, moment_a))
        new_second = tf.where(keep | is_avg, second_moment, second_a)
        return new_theta, new_moment, new_second

    def evaluate(self, theta):
        """Mean cross-entropy and accuracy of the global models ``theta`` (X, P) on the test set: (X,), (X,)."""
        h = self.X_test_aug                                                    # (1, N_test, d + 1)
        for layer, p in enumerate(tf.split(theta, self.layer_split, axis=1)):
            z = tf.linalg.matmul(h, tf.reshape(p, self.layer_shapes[layer]))  # (X, N_test, fan_out)
            if layer < self.n_layers - 1:
                a = self.act_fns[layer](z)
                h = tf.concat([a, tf.ones_like(a[..., :1])], axis=-1)
        y_test = tf.broadcast_to(self.inputs.y_test[None], tf.shape(z)[:2])
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_test, logits=z), axis=1)
        return loss, tf.reduce_mean(tf.cast(tf.equal(tf.argmax(z, axis=-1), y_test), tf.float32), axis=1)

    # -- one round, then all of them (step 5) ---------------------------------------------
    def one_round(self, s: _LoopState) -> _LoopState:
        """Steps 1-4 of round ``s.round_index`` for every experiment still running: train the
        planned clients, upload, aggregate, update."""
        inputs, r = self.inputs, s.round_index
        running = (r < inputs.rounds) & tf.logical_not(s.diverged | s.finished)       # (X,)
        ids = inputs.participants[r]                                                  # (M,)
        n_k = tf.gather(inputs.client_size, ids)
        cap_k = tf.where(self.per_slot(running), inputs.step_caps[r], 0)
        arrived = cap_k > 0                                          # (M,) updates that reach the server
        correction = partial(tf.cond, self.any_scaffold,
                             lambda: tf.where(self.slot_scaffold[:, None],
                                              self.per_slot(s.server_control) - tf.gather(s.client_controls, ids), 0.0),
                             lambda: tf.zeros(tf.shape(self.per_slot(s.theta))))
        W, n_steps = self.local_training(s.theta, ids=ids, n_k=n_k, cap_k=cap_k, r=r, correction=correction)
        local_loss, local_acc = tf.cond(inputs.record_client_metrics, lambda: self.client_metrics(W, ids, n_k),
                                        lambda: (tf.zeros([self.n_slots]), tf.zeros([self.n_slots])))
        bad = self.per_experiment(tf.cast(tf.logical_not(tf.reduce_all(tf.math.is_finite(W), axis=1)), tf.int32))
        finite_clients = tf.equal(bad, 0)                                             # (X,)
        usable = arrived & self.per_slot(finite_clients)
        c, C = tf.cond(self.any_scaffold,                                  # from the clients' own models
                       lambda: self.update_controls(self.per_slot(s.theta), W, n_steps=n_steps, ids=ids, arrived=usable,
                                                    c=s.server_control, C=s.client_controls),
                       lambda: (s.server_control, s.client_controls))
        W, residuals = tf.cond(self.any_compression,
                               lambda: self.compress(self.per_slot(s.theta), W, ids=ids, arrived=usable, r=r,
                                                     residuals=s.residuals),
                               lambda: (W, s.residuals))
        W = tf.cond(self.any_attack, lambda: self.poison(self.per_slot(s.theta), W, ids), lambda: W)
        theta_bar, any_arrived, clipped = self.aggregate(s.theta, W, ids, arrived=arrived, r=r)
        new_theta, moment, second = self.server_step(s.theta, theta_bar, any_arrived=any_arrived,
                                                     moment=s.server_moment, second_moment=s.server_second)
        loss, acc = self.evaluate(tf.where(finite_clients[:, None], new_theta, s.theta))
        ok = finite_clients & tf.reduce_all(tf.math.is_finite(new_theta), axis=1) & tf.math.is_finite(loss)
        reached = running & ok & (acc >= inputs.stop_accuracy)
        race_won = tf.math.unsorted_segment_max(tf.cast(reached, tf.int32), inputs.race_group, self.n_experiments)
        update, ri = (running & ok)[:, None], tf.cast(r - inputs.first_round, tf.int32)
        return _LoopState(
            round_index=r + 1, rounds_run=s.rounds_run + tf.cast(running, tf.int64),
            diverged=s.diverged | (running & tf.logical_not(ok)),
            finished=s.finished | (tf.gather(race_won, inputs.race_group) > 0),
            theta=tf.where(update, new_theta, s.theta),
            server_moment=tf.where(update, moment, s.server_moment),
            server_second=tf.where(update, second, s.server_second),
            server_control=tf.where(update, c, s.server_control), client_controls=C, residuals=residuals,
            accuracy=s.accuracy.write(ri, acc), loss=s.loss.write(ri, loss),
            client_loss=s.client_loss.write(ri, local_loss), client_accuracy=s.client_accuracy.write(ri, local_acc),
            clipped=s.clipped.write(ri, clipped))

    def run(self) -> dict:
        """Rounds first_round .. last_round - 1 in one ``tf.while_loop``, while any experiment
        runs; an experiment stops after its last round, after the round that diverges, or once
        its race is won. Returns the records of these rounds and the state to resume from."""
        inputs, flat_init, resume = self.inputs, self.flat_init, self.inputs.resume
        init_loss, init_acc = self.evaluate(flat_init)
        end = tf.minimum(inputs.last_round, tf.reduce_max(inputs.rounds))
        n = tf.cast(tf.maximum(end - inputs.first_round, 0), tf.int32)
        state = _LoopState(
            round_index=inputs.first_round, rounds_run=resume.rounds_run, diverged=resume.diverged,
            finished=resume.finished, theta=flat_init, server_moment=resume.server_moment,
            server_second=resume.server_second, server_control=resume.server_control,
            client_controls=resume.client_controls, residuals=resume.residuals,
            accuracy=tf.TensorArray(tf.float32, size=n, element_shape=[None]),
            loss=tf.TensorArray(tf.float32, size=n, element_shape=[None]),
            client_loss=tf.TensorArray(tf.float32, size=n, element_shape=[None]),
            client_accuracy=tf.TensorArray(tf.float32, size=n, element_shape=[None]),
            clipped=tf.TensorArray(tf.int32, size=n, element_shape=[None]))

        def more(s):
            return (s.round_index < end) & tf.reduce_any((s.round_index < inputs.rounds)
                                                         & tf.logical_not(s.diverged | s.finished))

        out = tf.while_loop(more, lambda s: (self.one_round(s),), (state,))[0]
        done = tf.range(tf.cast(out.round_index - inputs.first_round, tf.int32))
        return {
            "rounds_run": out.rounds_run, "diverged": out.diverged, "final": out.theta,
            "initial_loss": init_loss, "initial_accuracy": init_acc, "next_round": out.round_index,
            "accuracy": out.accuracy.gather(done), "loss": out.loss.gather(done),
            "client_loss": out.client_loss.gather(done), "client_accuracy": out.client_accuracy.gather(done),
            "clipped": out.clipped.gather(done),
            "state": RunState(rounds_run=out.rounds_run, diverged=out.diverged, finished=out.finished,
                              server_moment=out.server_moment, server_second=out.server_second,
                              server_control=out.server_control, client_controls=out.client_controls,
                              residuals=out.residuals),
        }


def _build_run(arch: Architecture):
    """Compile the batched run for one architecture (traced once, without AutoGraph: the
    run is written with ``tf.while_loop`` and ``tf.cond`` already)."""
    def run(inputs: RunInputs) -> dict:
        return _RunGraph(arch, inputs).run()

    return tf.function(run, input_signature=[_input_signature(arch)], reduce_retracing=False, autograph=False)


# ---------------------------------------------------------------------------------------
# the host side: one experiment as the graph needs it, a batch of them, and the answers

@dataclass(frozen=True)
class BatchMember:
    """One experiment of a batch, as the host planned it (R rounds, m clients per round,
    K clients, P parameters). :meth:`fedlearn_edu.Simulation.batch_member` makes one."""

    client_index: np.ndarray        # (K, n_max) int64, padded
    client_size: np.ndarray         # (K,) int64, n_k
    client_weight: np.ndarray       # (K,) float32, u_k
    initial_weights: tuple          # the global model's arrays
    participants: np.ndarray        # (R, m) int64, the sampled clients of every round (the RoundPlans')
    step_caps: np.ndarray           # (R, m) int64, 0 = never arrives
    rounding_draws: np.ndarray      # (R, m, P) float64, or empty when nothing is quantised
    knobs: dict                     # the per-experiment scalars of RunInputs (rounds, seed, learning rates, ...)
    client_attacker: np.ndarray | None = None      # (K,) bool, the attacking clients (None: nobody)
    aggregation_noise: np.ndarray | None = None    # (R, P) float32, DP's noise per round (None: no noise)

    @property
    def clients_per_round(self) -> int:
        return int(self.participants.shape[1])


#: the per-experiment scalars of :class:`RunInputs` and their dtypes
_KNOB_DTYPES = {"rounds": np.int64, "local_epochs": np.int64, "batch_size": np.int64, "seed": np.int64,
                "client_learning_rate": np.float32, "client_momentum": np.float32, "mu": np.float32,
                "server_code": np.int64, "server_learning_rate": np.float32, "server_momentum": np.float32,
                "beta1": np.float32, "beta2": np.float32, "tau": np.float32, "scaffold": bool,
                "compression_code": np.int64, "topk_k": np.int64, "error_feedback": bool,
                "stop_accuracy": np.float32, "aggregation_code": np.int64, "clip_norm": np.float32,
                "expected_clients": np.float32, "trim": np.int64, "attack_code": np.int64, "attack_factor": np.float32}
#: the knobs of plain FedAvg without attackers (what :func:`experiment_knobs` sets)
FEDAVG_RULE = dict(aggregation_code=0, clip_norm=1.0, expected_clients=1.0, trim=0, attack_code=0, attack_factor=1.0)

#: stop_accuracy of a run that never stops early (no accuracy exceeds 1)
NEVER = 2.0


def experiment_knobs(config, *, server_learning_rate: float, topk_k: int, n_train: int,
                     stop_accuracy: float = NEVER) -> dict:
    """The per-experiment scalars of :class:`RunInputs` from an FLConfig ``config``."""
    c = config
    return dict(
        rounds=c.rounds, local_epochs=c.local_epochs, batch_size=n_train if c.batch_size is None else c.batch_size,
        seed=c.seed, client_learning_rate=c.client_learning_rate, client_momentum=c.client_momentum, mu=c.mu,
        server_code=SERVER_CODES[c.server_optimizer], server_learning_rate=server_learning_rate,
        server_momentum=c.server_momentum if c.server_optimizer == "fedavgm" else 0.0,
        beta1=c.beta1, beta2=c.beta2, tau=c.tau, scaffold=bool(c.scaffold),
        compression_code=COMPRESSION_CODES[c.compression], topk_k=topk_k, error_feedback=bool(c.error_feedback),
        stop_accuracy=stop_accuracy, **FEDAVG_RULE)


def batch_inputs(dataset, members: Sequence[BatchMember], *, race_groups: Sequence[int] | None = None,
                 record_client_metrics: bool = False) -> RunInputs:
    """The inputs of one compiled call that runs ``members`` (all on ``dataset``) together.

    The members' client tables are stacked (each member's client ids shifted by the clients
    before it), their rounds padded to the longest with step caps of 0 (nobody trains), and
    their per-experiment knobs become (X,) vectors. ``race_groups`` (X,) puts experiments
    into groups that stop together once one of them reaches its ``stop_accuracy``.
    """
    n_exp = len(members)
    sizes = [len(m.client_size) for m in members]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    n_max = max(m.client_index.shape[1] for m in members)
    index = np.zeros((sum(sizes), n_max), np.int64)
    for m, offset in zip(members, offsets, strict=True):
        index[offset:offset + len(m.client_size), :m.client_index.shape[1]] = m.client_index
    rounds = max(m.participants.shape[0] for m in members)
    per_round = [m.clients_per_round for m in members]
    participants = np.zeros((rounds, sum(per_round)), np.int64)
    step_caps = np.zeros((rounds, sum(per_round)), np.int64)
    quantised = [m for m in members if m.rounding_draws.size]
    draws = np.zeros((0, 0, 0))
    start = 0
    for m, offset in zip(members, offsets, strict=True):
        r, width = m.participants.shape
        participants[:, start:start + width] = offset + np.arange(width)      # padding rounds: any clients, cap 0
        participants[:r, start:start + width] = offset + m.participants
        step_caps[:r, start:start + width] = m.step_caps
        start += width
    if quantised:
        n_params = quantised[0].rounding_draws.shape[2]
        draws = np.zeros((rounds, sum(per_round), n_params))
        start = 0
        for m in members:
            r, width = m.participants.shape
            if m.rounding_draws.size:
                draws[:r, start:start + width] = m.rounding_draws
            start += width
    weights = tuple(tf.constant(np.stack([m.initial_weights[i] for m in members]))
                    for i in range(len(members[0].initial_weights)))
    knobs = {name: tf.constant(np.array([m.knobs[name] for m in members], dtype=dtype))
             for name, dtype in _KNOB_DTYPES.items()}
    groups = np.arange(n_exp) if race_groups is None else np.asarray(race_groups, np.int64)
    attackers = np.concatenate([np.zeros(k, bool) if m.client_attacker is None else np.asarray(m.client_attacker, bool)
                                for m, k in zip(members, sizes, strict=True)])
    noise = np.zeros((0, 0, 0), np.float32)
    if any(m.aggregation_noise is not None for m in members):
        n_params = sum(int(np.size(w)) for w in members[0].initial_weights)
        noise = np.zeros((rounds, n_exp, n_params), np.float32)
        for x, m in enumerate(members):
            if m.aggregation_noise is not None:
                noise[:len(m.aggregation_noise), x] = m.aggregation_noise
    return RunInputs(
        X_train=tf.constant(dataset.X_train), y_train=tf.constant(dataset.y_train, tf.int64),
        X_test=tf.constant(dataset.X_test), y_test=tf.constant(dataset.y_test, tf.int64),
        client_index=tf.constant(index), client_size=tf.constant(np.concatenate([m.client_size for m in members])),
        client_weight=tf.constant(np.concatenate([m.client_weight for m in members]), tf.float32),
        client_experiment=tf.constant(np.repeat(np.arange(n_exp, dtype=np.int64), sizes)),
        client_local_id=tf.constant(np.concatenate([np.arange(k, dtype=np.int64) for k in sizes])),
        initial_weights=weights, **knobs, client_attacker=tf.constant(attackers),
        aggregation_noise=tf.constant(noise), race_group=tf.constant(groups, tf.int64),
        slot_experiment=tf.constant(np.repeat(np.arange(n_exp, dtype=np.int64), per_round)),
        participants=tf.constant(participants), step_caps=tf.constant(step_caps),
        rounding_draws=tf.constant(draws, tf.float64),
        record_client_metrics=tf.constant(bool(record_client_metrics)),
        first_round=tf.constant(0, tf.int64), last_round=tf.constant(rounds, tf.int64),
        resume=initial_state(members))


def initial_state(members: Sequence[BatchMember]) -> RunState:
    """Every experiment's state before round 0: nothing run, zero moments (the adaptive
    optimizers' second moment tau^2), zero control variates and residuals; the per-client
    tables only when some experiment uses SCAFFOLD or error feedback."""
    n_exp, n_params = len(members), sum(int(np.size(w)) for w in members[0].initial_weights)
    n_clients = sum(len(m.client_size) for m in members)
    scaffold = any(m.knobs["scaffold"] for m in members)
    feedback = any(m.knobs["error_feedback"] and m.knobs["compression_code"] > 0 for m in members)
    tau = np.array([m.knobs["tau"] for m in members], np.float32)
    zeros = np.zeros((n_exp, n_params), np.float32)
    return RunState(
        rounds_run=tf.zeros([n_exp], tf.int64), diverged=tf.zeros([n_exp], tf.bool),
        finished=tf.zeros([n_exp], tf.bool), server_moment=tf.constant(zeros),
        server_second=tf.constant(zeros + (tau * tau)[:, None]), server_control=tf.constant(zeros),
        client_controls=tf.zeros([n_clients if scaffold else 0, n_params]),
        residuals=tf.zeros([n_clients if feedback else 0, n_params]))


def split_outputs(out: dict, members: Sequence[BatchMember]) -> list[dict]:
    """The compiled call's answers, one dict per member: rounds_run, diverged, final (the
    model's arrays), initial_loss, initial_accuracy, accuracy and loss (rounds_run,), and
    client_loss, client_accuracy (rounds_run, m), and clipped (rounds_run,): updates longer than S
    (DP-FedAvg and the clipped mean)."""
    arrays = {key: value.numpy() for key, value in out.items() if key not in ("state", "next_round")}
    shapes = [np.shape(w) for w in members[0].initial_weights]
    cuts = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    answers, start = [], 0
    for x, m in enumerate(members):
        run = int(arrays["rounds_run"][x])
        width = m.clients_per_round
        answers.append({
            "rounds_run": run, "diverged": bool(arrays["diverged"][x]),
            "final": [p.reshape(s) for p, s in zip(np.split(arrays["final"][x], cuts), shapes, strict=True)],
            "initial_loss": float(arrays["initial_loss"][x]), "initial_accuracy": float(arrays["initial_accuracy"][x]),
            "accuracy": arrays["accuracy"][:run, x], "loss": arrays["loss"][:run, x],
            "client_loss": arrays["client_loss"][:run, start:start + width],
            "client_accuracy": arrays["client_accuracy"][:run, start:start + width],
            "clipped": arrays["clipped"][:run, x]})
        start += width
    return answers


def run_batch(arch: "Architecture", dataset, members: Sequence[BatchMember], *,
              race_groups: Sequence[int] | None = None, record_client_metrics: bool = False,
              rounds_per_call: int | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Run ``members`` together; their answers, in order (see :func:`split_outputs`).

    One compiled call runs every round, unless ``rounds_per_call`` cuts the run into parts:
    each call then runs that many rounds and hands its state (models, optimizer moments,
    control variates, residuals) to the next, and ``on_progress(rounds_done, rounds)`` is
    called after each part (a progress bar, partial figures). The numbers are the same.
    """
    inputs = batch_inputs(dataset, members, race_groups=race_groups, record_client_metrics=record_client_metrics)
    function = concrete_run(arch)
    total = int(inputs.last_round)
    if rounds_per_call is None or rounds_per_call >= total:
        out = {key: value for key, value in function(inputs).items() if key != "state"}
        if on_progress is not None:
            on_progress(total, total)
        return split_outputs(out, members)
    shapes = [tuple(w.shape[1:]) for w in inputs.initial_weights]
    cuts = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    parts, start = [], 0
    while start < total:
        out = function(inputs._replace(first_round=tf.constant(start, tf.int64),
                                       last_round=tf.constant(min(start + rounds_per_call, total), tf.int64)))
        parts.append(out)
        next_round = int(out["next_round"])
        if on_progress is not None:
            on_progress(next_round if next_round < start + rounds_per_call else min(next_round, total), total)
        if next_round < min(start + rounds_per_call, total):
            break                                          # every experiment has stopped
        theta = out["final"].numpy()
        layers = tuple(tf.constant(p.reshape((len(members),) + s))
                       for p, s in zip(np.split(theta, cuts, axis=1), shapes, strict=True))
        inputs = inputs._replace(initial_weights=layers, resume=out["state"])
        start = next_round
    merged = {key: parts[-1][key] for key in ("rounds_run", "diverged", "final")}
    merged.update(initial_loss=parts[0]["initial_loss"], initial_accuracy=parts[0]["initial_accuracy"])
    for key in ("accuracy", "loss", "client_loss", "client_accuracy", "clipped"):
        merged[key] = tf.concat([part[key] for part in parts], axis=0)
    return split_outputs(merged, members)


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
    function serves every experiment and every batch)."""
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
