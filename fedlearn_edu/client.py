"""Step 2 of the protocol: a client trains the global model on its own data.

:class:`LocalTrainer` compiles one TensorFlow function per Keras model that runs a
client's *whole* local training (E epochs of mini-batch SGD, optional momentum,
optional FedProx term) in one call. It is traced once and reused for every client
and round (no ``model.fit`` per client: that loop is about 30x slower here).

Local update, for each mini-batch b (Keras SGD semantics)::

    g = grad_w [ L_b(w) + (mu / 2) * ||w - w_global||^2 ] + correction
                       (correction = c - c_k for SCAFFOLD, 0 otherwise)
    v = momentum * v - client_learning_rate * g        (v = 0 at the start of each round)
    w = w + v
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import keras
import numpy as np

from ._tf import tf
from ._validate import check_float, check_int, check_positive
from .rng import epoch_orders


@dataclass
class ClientResult:
    """What a client sends back (step 3) plus its local metrics.

    Attributes
    ----------
    weights : list of ndarray, the client's model after local training (same shapes as the model)
    n_examples : int, n_k, the number of local training examples (the client's weight in FedAvg)
    loss : float, cross-entropy of the trained local model on its own data
    accuracy : float, accuracy of the trained local model on its own data
    client_id : int
    n_steps : int, local mini-batch steps taken (SCAFFOLD's K)
    """

    weights: list
    n_examples: int
    loss: float
    accuracy: float
    client_id: int = 0
    n_steps: int = 0


def batch_plan(n_examples: int, epochs: int, batch_size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and sizes of the mini-batches of ``epochs`` passes over ``n_examples``.

    Batches never span two epochs; the last batch of an epoch may be smaller
    (Keras ``fit`` behaviour). ``batch_size=None`` means one full batch per epoch (B = inf).

    Returns
    -------
    starts, sizes : int32 arrays of shape (n_batches,), offsets into the concatenated
        per-epoch orders of shape (epochs * n_examples,)
    """
    b = n_examples if batch_size is None else min(int(batch_size), n_examples)
    per_epoch = np.arange(0, n_examples, b)
    starts = (per_epoch[None, :] + n_examples * np.arange(epochs)[:, None]).ravel()
    sizes = np.tile(np.minimum(b, n_examples - per_epoch), epochs)
    return starts.astype(np.int32), sizes.astype(np.int32)


def cross_entropy(y_true, probabilities) -> tf.Tensor:
    """Mean sparse categorical cross-entropy, computed exactly as Keras does it
    (from the logits of a softmax output layer when they are available)."""
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y_true, probabilities))


class LocalTrainer:
    """Compiled local training and evaluation for one Keras model.

    Parameters
    ----------
    model : keras.Model mapping (batch, n_features) to (batch, n_classes) probabilities.
        Its variables are used as scratch space; pass weights explicitly to each call.
    """

    def __init__(self, model: keras.Model):
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
        if not model.built or not model.inputs:
            raise ValueError("model must be built with a known input shape (use keras.Input)")
        self.model = model
        self.n_features = int(model.inputs[0].shape[-1])
        self._vars = list(model.trainable_variables)
        self._velocity = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self._vars]
        weight_spec = [tf.TensorSpec(v.shape, tf.float32) for v in self._vars]
        x_spec = tf.TensorSpec([None, self.n_features], tf.float32)
        y_spec = tf.TensorSpec([None], tf.int64)
        i_spec = tf.TensorSpec([None], tf.int32)
        f_spec = tf.TensorSpec([], tf.float32)
        # the compiled training takes one dict: its entries are found by name, never by position
        self._train = tf.function(self._train_impl, input_signature=[dict(
            start_weights=weight_spec, X=x_spec, y=y_spec, order=i_spec, starts=i_spec, sizes=i_spec,
            learning_rate=f_spec, momentum=f_spec, mu=f_spec, correction=weight_spec)])
        self._evaluate = tf.function(self._evaluate_impl, input_signature=[weight_spec, x_spec, y_spec])

    # -- compiled bodies -------------------------------------------------------------
    def _metrics(self, X, y):
        probabilities = self.model(X, training=False)
        loss = cross_entropy(y, probabilities)
        correct = tf.cast(tf.equal(tf.argmax(probabilities, axis=1), y), tf.float32)
        return loss, tf.reduce_mean(correct)

    def _train_impl(self, inputs: dict):
        start_weights, X, y, order = inputs["start_weights"], inputs["X"], inputs["y"], inputs["order"]
        starts, sizes, correction = inputs["starts"], inputs["sizes"], inputs["correction"]
        learning_rate, momentum, mu = inputs["learning_rate"], inputs["momentum"], inputs["mu"]
        for var, w, vel in zip(self._vars, start_weights, self._velocity, strict=True):
            var.assign(w)
            vel.assign(tf.zeros_like(w))
        for i in tf.range(tf.shape(starts)[0]):
            idx = order[starts[i]:starts[i] + sizes[i]]
            xb, yb = tf.gather(X, idx), tf.gather(y, idx)
            with tf.GradientTape() as tape:
                loss = cross_entropy(yb, self.model(xb, training=True))
                proximal = tf.add_n([tf.reduce_sum(tf.square(v - w))
                                     for v, w in zip(self._vars, start_weights, strict=True)])
                objective = loss + 0.5 * mu * proximal
            grads = tape.gradient(objective, self._vars)
            for var, g, vel, corr in zip(self._vars, grads, self._velocity, correction, strict=True):
                vel.assign(momentum * vel - learning_rate * (g + corr))
                var.assign_add(vel)
        loss, accuracy = self._metrics(X, y)
        return [tf.identity(v) for v in self._vars], loss, accuracy

    def _evaluate_impl(self, weights, X, y):
        for var, w in zip(self._vars, weights, strict=True):
            var.assign(w)
        return self._metrics(X, y)

    # -- public API ------------------------------------------------------------------
    @property
    def tracing_count(self) -> int:
        """How many times the training function was traced (1 after any number of clients)."""
        return self._train.experimental_get_tracing_count()

    def train(self, start_weights: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray, *,
              order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, learning_rate: float,
              momentum: float = 0.0, mu: float = 0.0,
              correction: Sequence[np.ndarray] | None = None) -> tuple[list[np.ndarray], float, float]:
        """Run the compiled local training (arguments already checked; see :func:`client_update`).

        ``order`` holds the example positions of every epoch back to back; step i trains on
        ``order[starts[i]:starts[i] + sizes[i]]``.
        """
        if correction is None:
            correction = [np.zeros(v.shape, np.float32) for v in self._vars]
        weights, loss, accuracy = self._train(dict(
            start_weights=[tf.constant(w, tf.float32) for w in start_weights],
            X=tf.constant(X, tf.float32), y=tf.constant(y, tf.int64), order=tf.constant(order, tf.int32),
            starts=tf.constant(starts, tf.int32), sizes=tf.constant(sizes, tf.int32),
            learning_rate=tf.constant(learning_rate, tf.float32), momentum=tf.constant(momentum, tf.float32),
            mu=tf.constant(mu, tf.float32), correction=[tf.constant(c, tf.float32) for c in correction]))
        return [w.numpy() for w in weights], float(loss), float(accuracy)

    def evaluate(self, weights: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Loss and accuracy of ``weights`` on (X, y).

        Parameters
        ----------
        weights : list of ndarray, the model's trainable weights
        X : ndarray, shape (n, n_features)
        y : ndarray, shape (n,)
        """
        loss, accuracy = self._evaluate([tf.constant(w, tf.float32) for w in weights],
                                        tf.constant(X, tf.float32), tf.constant(y, tf.int64))
        return float(loss), float(accuracy)


def client_update(trainer: LocalTrainer, global_weights: Sequence[np.ndarray], X: np.ndarray,
                  y: np.ndarray, *, epochs: int = 1, batch_size: int | None = 32,
                  client_learning_rate: float = 0.1, client_momentum: float = 0.0, mu: float = 0.0,
                  max_steps: int | None = None, correction: Sequence[np.ndarray] | None = None,
                  seed: int = 0, round_index: int = 0, client_id: int = 0) -> ClientResult:
    """Train the global model on one client's data and return what the client sends back.

    Parameters
    ----------
    trainer : LocalTrainer for the model being trained
    global_weights : list of ndarray, the model received from the server (step 1)
    X : ndarray, shape (n_k, n_features), the client's local features
    y : ndarray, shape (n_k,), the client's local labels
    epochs : int >= 1, E, local passes over the data
    batch_size : int >= 1 or None, B; None means full batch (B = inf)
    client_learning_rate : float > 0
    client_momentum : float in [0, 1)
    mu : float >= 0, FedProx proximal coefficient (0 = plain FedAvg)
    max_steps : int >= 1 or None, stop after this many mini-batch steps (None: all E epochs)
    correction : list of ndarray or None, added to every gradient (SCAFFOLD's c - c_k)
    seed, round_index, client_id : int >= 0, fix the batch order (see :mod:`fedlearn_edu.rng`)

    Returns
    -------
    ClientResult with the new weights, n_k and the local loss and accuracy.
    """
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if X.ndim != 2 or X.shape[1] != trainer.n_features:
        raise ValueError(f"X must have shape (n_k, {trainer.n_features}) for this model, got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError("X must hold at least one example: a client cannot train on no data")
    epochs = check_int("epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive("client_learning_rate", client_learning_rate)
    momentum = check_float("client_momentum", client_momentum, low=0.0, high=1.0, high_inclusive=False)
    mu = check_float("mu", mu, low=0.0)
    orders = epoch_orders(len(X), epochs, seed, round_index, client_id)
    starts, sizes = batch_plan(len(X), epochs, batch_size)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, minimum=1)
        starts, sizes = starts[:max_steps], sizes[:max_steps]
    weights, loss, accuracy = trainer.train(global_weights, X, y, order=orders.ravel(), starts=starts,
                                            sizes=sizes, learning_rate=lr, momentum=momentum, mu=mu,
                                            correction=correction)
    return ClientResult(weights=weights, n_examples=len(X), loss=loss, accuracy=accuracy, client_id=client_id,
                        n_steps=len(starts))
