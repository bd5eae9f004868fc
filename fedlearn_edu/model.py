"""The article's Keras model (section 4.2) and helpers for its weights.

The article builds::

    tf.keras.Sequential([
        tf.keras.layers.Dense(64, activation='relu', input_shape=(20,)),
        tf.keras.layers.Dense(3, activation='softmax'),
    ])

:func:`build_model` builds the same network (with ``keras.Input`` instead of the
deprecated ``input_shape`` argument) and lets a student change the depth, width,
activation and number of classes.
"""
from __future__ import annotations

import functools
from typing import Sequence

import keras
import numpy as np

from . import _tf  # noqa: F401  (silences TensorFlow before it is imported)
from ._validate import check_choice, check_int, check_seed

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "linear")


def build_model(n_features: int = 20, n_classes: int = 3, hidden_units: Sequence[int] = (64,),
                activation: str = "relu", seed: int = 0) -> keras.Model:
    """A multilayer perceptron with a softmax output: the article's model by default.

    Parameters
    ----------
    n_features : int >= 1, input width (20 in the article)
    n_classes : int >= 2, output width (3 in the article)
    hidden_units : sequence of int >= 1, widths of the hidden Dense layers ((64,) in the article)
    activation : one of :data:`ACTIVATIONS`, for the hidden layers
    seed : int >= 0, seeds the Glorot-uniform initial weights (one seed, layer by layer)

    Returns
    -------
    keras.Sequential, input (batch, n_features), output (batch, n_classes) probabilities.
    """
    n_features = check_int("n_features", n_features, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    if isinstance(hidden_units, (int, np.integer)):
        hidden_units = (int(hidden_units),)
    hidden_units = tuple(check_int("hidden_units", h, minimum=1) for h in hidden_units)
    check_choice("activation", activation, ACTIVATIONS)
    seed = check_seed("seed", seed)
    layers = [keras.Input(shape=(n_features,))]
    for i, width in enumerate(hidden_units):
        layers.append(keras.layers.Dense(
            width, activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 1000 + i)))
    layers.append(keras.layers.Dense(
        n_classes, activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 1000 + len(hidden_units))))
    return keras.Sequential(layers)


@functools.lru_cache(maxsize=256)
def initial_weights(n_features: int = 20, n_classes: int = 3, hidden_units: tuple = (64,), activation: str = "relu",
                    seed: int = 0) -> tuple[np.ndarray, ...]:
    """The initial weights of :func:`build_model` with these arguments, read-only and cached:
    a sweep of many runs builds each Keras model once, not once per run (building one takes
    about 20 ms). ``hidden_units`` must be a tuple (it is a cache key)."""
    model = build_model(n_features, n_classes, hidden_units, activation, seed)
    weights = tuple(np.array(w) for w in model.get_weights())
    for w in weights:
        w.flags.writeable = False
    return weights


def build_article_model(seed: int = 0) -> keras.Model:
    """Exactly the article's network: Dense(64, relu) on 20 inputs, then Dense(3, softmax)."""
    return build_model(20, 3, (64,), "relu", seed)


def get_weights(model: keras.Model) -> list[np.ndarray]:
    """Copies of the trainable weights, in layer order (kernel, bias, kernel, bias, ...)."""
    return [np.array(v.numpy(), dtype=np.float32) for v in model.trainable_variables]


def set_weights(model: keras.Model, weights: Sequence[np.ndarray]) -> None:
    """Assign ``weights`` (same order and shapes as :func:`get_weights`) to ``model``."""
    variables = model.trainable_variables
    if len(weights) != len(variables):
        raise ValueError(f"weights must hold {len(variables)} arrays for this model, got {len(weights)}")
    for i, (var, w) in enumerate(zip(variables, weights, strict=True)):
        if tuple(np.shape(w)) != tuple(var.shape):
            raise ValueError(f"weights[{i}] must have shape {tuple(var.shape)}, got {tuple(np.shape(w))}")
        var.assign(np.asarray(w, dtype=np.float32))


def flatten_weights(weights: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate a list of weight arrays into one vector, shape (n_parameters,), float32."""
    return np.concatenate([np.ravel(w) for w in weights]).astype(np.float32)


def unflatten_weights(vector: np.ndarray, like: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Inverse of :func:`flatten_weights`: cut ``vector`` into arrays shaped like ``like``."""
    vector = np.asarray(vector, dtype=np.float32)
    sizes = [int(np.size(w)) for w in like]
    if vector.shape != (sum(sizes),):
        raise ValueError(f"vector must have shape ({sum(sizes)},) for these weights, got {vector.shape}")
    pieces = np.split(vector, np.cumsum(sizes)[:-1])
    return [p.reshape(np.shape(w)) for p, w in zip(pieces, like, strict=True)]


def count_parameters(weights_or_model) -> int:
    """Number of trainable parameters of a model or of a list of weight arrays."""
    if isinstance(weights_or_model, keras.Model):
        weights_or_model = weights_or_model.trainable_variables
    return int(sum(int(np.prod(w.shape)) for w in weights_or_model))
