"""Argument checks shared by every public function.

Each check raises ``ValueError`` (wrong value) or ``TypeError`` (wrong type) with a
message that names the parameter, the value given and what is allowed, so that a
student never sees a traceback from deep inside TensorFlow.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking its type and range (inclusive)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(_range_message(name, value, minimum, maximum))
    if maximum is not None and value > maximum:
        raise ValueError(_range_message(name, value, minimum, maximum))
    return value


def _range_message(name: str, value: Any, minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        allowed = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        allowed = f"an integer >= {minimum}"
    else:
        allowed = f"an integer <= {maximum}"
    return f"{name} must be {allowed}, got {value!r}"


def check_float(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                low_inclusive: bool = True, high_inclusive: bool = True,
                allowed: str | None = None) -> float:
    """Return ``value`` as ``float`` after checking it is a finite real number in range.

    ``allowed`` overrides the generated description of the allowed values.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    desc = allowed or _interval(low, high, low_inclusive, high_inclusive)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number {desc}, got {value!r}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        raise ValueError(f"{name} must be {desc}, got {value!r}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        raise ValueError(f"{name} must be {desc}, got {value!r}")
    return value


def _interval(low, high, low_inclusive, high_inclusive) -> str:
    if low is not None and high is not None:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        return f"in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{'>=' if low_inclusive else '>'} {low:g}"
    if high is not None:
        return f"{'<=' if high_inclusive else '<'} {high:g}"
    return "(any finite value)"


def check_positive(name: str, value: Any) -> float:
    """A finite number > 0 (learning rates, alpha, ...)."""
    return check_float(name, value, low=0.0, low_inclusive=False)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """One of a fixed set of strings."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_features(name: str, X: Any) -> np.ndarray:
    """A 2-D array of finite real features, shape (n_samples, n_features)."""
    try:
        X = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a 2-D numeric array, got {type(X).__name__}: {exc}") from None
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} must be a 2-D numeric array, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
        raise ValueError(f"{name} must hold only finite values; found {bad} NaN or infinite entries")
    return X


def check_labels(name: str, y: Any, *, n_classes: int | None = None,
                 n_samples: int | None = None) -> np.ndarray:
    """A 1-D array of integer class labels in 0..n_classes-1."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {y.shape}")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"X and {name} must have the same length, got {n_samples} samples in X "
                         f"and {y.shape[0]} labels in {name}")
    if y.size == 0:
        raise ValueError(f"{name} must hold at least one label")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
        y = y.astype(np.int64)
    elif not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64, copy=False)
    if n_classes is not None:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"{name} must hold labels in 0..{n_classes - 1} (n_classes={n_classes}), "
                             f"got values from {lo} to {hi}")
    elif int(y.min()) < 0:
        raise ValueError(f"{name} must hold labels >= 0, got {int(y.min())}")
    return y


def check_seed(name: str, seed: Any) -> int:
    """A non-negative integer seed."""
    return check_int(name, seed, minimum=0)
