"""Step 4 of the protocol: the server combines the client models.

All functions take the client models as a 2-D array ``client_vectors`` of shape
(K, P) -- one flattened model per row (see :func:`fedlearn_edu.model.flatten_weights`)
-- or as a list of K per-layer weight lists, and return the same structure for one
model.

FedAvg (McMahan et al. 2017)::

    w_{t+1} = sum_k (n_k / n) * w_k^{t+1},      n = sum_k n_k   (over the participating clients)

The weights come from the objective the federation minimises, F(w) = sum_k p_k F_k(w)
with F_k client k's mean loss (see :func:`client_weights`): p_k = n_k / n makes F the
mean loss over all examples, the loss centralised training minimises.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import check_choice, check_float, check_int


def _stack(client_models) -> tuple[np.ndarray, list | None]:
    """(K, P) float64 matrix and, for per-layer input, a template to cut it back."""
    if len(client_models) == 0:
        raise ValueError("client_models must hold at least one client model, got none")
    first = client_models[0]
    if isinstance(first, (list, tuple)):
        template = [np.asarray(w) for w in first]
        rows = []
        for k, layers in enumerate(client_models):
            if len(layers) != len(template) or any(np.shape(a) != b.shape
                                                   for a, b in zip(layers, template, strict=True)):
                raise ValueError(f"client_models[{k}] has a different structure from client_models[0]")
            rows.append(np.concatenate([np.ravel(a) for a in layers]))
        return np.asarray(rows, dtype=np.float64), template
    matrix = np.asarray(client_models, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"client_models must be a (K, P) array or a list of weight lists, got shape {matrix.shape}")
    return matrix, None


def _unstack(vector: np.ndarray, template: list | None):
    if template is None:
        return vector.astype(np.float32)
    sizes = [t.size for t in template]
    pieces = np.split(vector.astype(np.float32), np.cumsum(sizes)[:-1])
    return [p.reshape(t.shape) for p, t in zip(pieces, template, strict=True)]


#: the two objectives F(w) = sum_k p_k F_k(w) a federation can minimise (FLConfig.client_weighting)
CLIENT_WEIGHTINGS = ("examples", "uniform")


def client_weights(n_examples: Sequence[int], client_weighting: str = "examples") -> np.ndarray:
    """Each client's weight u_k in the objective, shape (K,) float64; p_k = u_k / sum_j u_j.

    ``"examples"``: u_k = n_k, so F(w) = sum_k (n_k / n) F_k(w) is the mean loss over all
    examples (McMahan et al. 2017; the default). ``"uniform"``: u_k = 1, so F(w) =
    (1/K) sum_k F_k(w) and every client counts the same, whatever its size (the
    objective of Karimireddy et al. 2020, Algorithm 1).

    Parameters
    ----------
    n_examples : sequence of K ints >= 1, n_k
    client_weighting : "examples" or "uniform"
    """
    check_choice("client_weighting", client_weighting, CLIENT_WEIGHTINGS)
    fedavg_coefficients(n_examples)                       # raises on anything but positive counts
    n = np.asarray(n_examples, dtype=np.float64)
    return n if client_weighting == "examples" else np.ones_like(n)


def fedavg_coefficients(n_examples: Sequence[int]) -> np.ndarray:
    """The FedAvg weights n_k / n, shape (K,); they are >= 0 and sum to 1.

    Parameters
    ----------
    n_examples : sequence of int >= 1, n_k for each participating client
    """
    n = np.asarray(n_examples)
    if n.ndim != 1 or n.size == 0:
        raise ValueError(f"n_examples must be a non-empty 1-D sequence of counts, got shape {n.shape}")
    if not np.issubdtype(n.dtype, np.number) or np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise ValueError(f"n_examples must hold positive example counts, got {n.tolist()}")
    n = n.astype(np.float64)
    return n / n.sum()


def weighted_average(client_models, n_examples: Sequence[int]):
    """FedAvg aggregation: sum_k (n_k / n) w_k.

    Parameters
    ----------
    client_models : ndarray (K, P) or list of K weight lists
    n_examples : sequence of K ints, n_k

    Returns
    -------
    One model, (P,) float32 or a weight list, like the input.
    """
    matrix, template = _stack(client_models)
    coefficients = fedavg_coefficients(n_examples)
    if len(coefficients) != len(matrix):
        raise ValueError(f"n_examples must have one count per client model: {len(matrix)} models, "
                         f"{len(coefficients)} counts")
    return _unstack(coefficients @ matrix, template)


def unweighted_average(client_models):
    """Plain mean (1/K) sum_k w_k: every client counts the same, whatever its size."""
    matrix, template = _stack(client_models)
    return _unstack(matrix.mean(axis=0), template)


def seed_formula(theta_previous, client_gradients, n_examples: Sequence[int],
                 alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The article's section 3.3 formula, implemented literally (it is wrong)::

        theta_t     = alpha * sum_i (1 / n_i) * grad L_i(theta_{t-1})
        theta_{t+1} = beta * theta_t + (1 - beta) * theta_t

    What it really does: ``theta_t`` is a scaled *sum of gradients*, not a model
    (``theta_previous`` enters only through the gradients); the weights 1/n_i give
    the *smallest* clients the most say; and the second line equals ``theta_t`` for
    every beta. Compare :func:`weighted_average` and :mod:`fedlearn_edu.server`.

    Parameters
    ----------
    theta_previous : ndarray (P,), theta_{t-1}; unused by the formula, which is the point
    client_gradients : ndarray (N, P), grad L_i(theta_{t-1}) for each device
    n_examples : sequence of N ints, n_i
    alpha : float, "learning rate"
    beta : float, "decay rate"

    Returns
    -------
    theta_t, theta_t_plus_1 : ndarray (P,) each, float64
    """
    gradients, _ = _stack(client_gradients)
    n = np.asarray(n_examples, dtype=np.float64)
    if n.shape != (len(gradients),) or np.any(n <= 0):
        raise ValueError(f"n_examples must hold {len(gradients)} positive counts, "
                         f"got {np.asarray(n_examples).tolist()}")
    alpha = check_float("alpha", alpha)
    beta = check_float("beta", beta)
    theta_t = alpha * np.sum(gradients / n[:, None], axis=0)
    theta_t_plus_1 = beta * theta_t + (1.0 - beta) * theta_t
    return theta_t, theta_t_plus_1


def coordinate_median(client_models):
    """Coordinate-wise median of the client models (robust to a minority of outliers)."""
    matrix, template = _stack(client_models)
    return _unstack(np.median(matrix, axis=0), template)


def trimmed_mean(client_models, trim: int = 1):
    """Coordinate-wise mean after dropping the ``trim`` largest and smallest values.

    Parameters
    ----------
    trim : int >= 0, with 2 * trim < K
    """
    matrix, template = _stack(client_models)
    trim = check_int("trim", trim, minimum=0)
    if 2 * trim >= len(matrix):
        raise ValueError(f"trim must be less than half the number of clients ({len(matrix)}), got {trim}")
    ordered = np.sort(matrix, axis=0)
    return _unstack(ordered[trim:len(matrix) - trim].mean(axis=0), template)
