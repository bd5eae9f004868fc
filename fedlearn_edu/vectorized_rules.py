"""Attacks and aggregation rules other than FedAvg's mean, inside the vectorised engine's graph.

The per-client engine runs them as NumPy hooks of :meth:`fedlearn_edu.Simulation.run_round`
(:mod:`fedlearn_edu.privacy`, :mod:`fedlearn_edu.poisoning`); these are the same formulas on
the engine's stacked tensors, so a whole grid of DP or poisoning runs trains in one call.
Shapes: M slots (the clients of a round of every experiment, stacked), X experiments, P
parameters, ``Delta_k = w_k - w_global`` the update of slot k.

* an attacking client sends ``a Delta_k``: a = factor (scaled update) or -factor (sign flip);
* DP-FedAvg: ``Delta = (sum_k clip(Delta_k, S) + N(0, (z S)^2 I)) / m`` with m = q K fixed (the
  noise, already divided by m, is drawn on the host with the per-client engine's generator);
* the clipped mean: ``Delta = mean_k clip(Delta_k, S)``;
* the coordinate-wise median and the trimmed mean: per experiment and coordinate, over the
  updates that arrived (sorted once, padding sorted last as +inf).
"""
from __future__ import annotations

from ._tf import tf

__all__ = ["attacked_updates", "clipped_updates", "sorted_by_experiment", "median_of_sorted",
           "trimmed_mean_of_sorted"]

#: the smallest norm a clipping factor divides by (a zero update stays zero)
_TINY_NORM = 1e-30


def attacked_updates(updates, attack_code, attack_factor, attacker):
    """What every slot sends: the attackers' updates scaled by ``factor`` (code 1) or by
    ``-factor`` (code 2, sign flip); honest slots and label flippers (code 3, who attack
    through their training data) send their own.

    Parameters
    ----------
    updates : (M, P) float32
    attack_code, attack_factor : (M,) each slot's experiment's attack and factor
    attacker : (M,) bool, the slot's client attacks
    """
    # a = factor (scaled), -factor (sign flip), 1 (honest)
    scale = tf.where(attacker & (attack_code == 1), attack_factor,
                     tf.where(attacker & (attack_code == 2), -attack_factor, 1.0))
    return updates * scale[:, None]


def clipped_updates(updates, clip_norm):
    """Each row clipped to L2 norm S: ``Delta_k min(1, S / ||Delta_k||)``; also the norms.

    Parameters
    ----------
    updates : (M, P); clip_norm : (M,) each slot's S

    Returns
    -------
    (M, P) clipped updates, (M,) norms before clipping
    """
    # ||Delta|| = a ||Delta / a|| with a = max_i |Delta_i|: no float32 overflow for huge updates
    largest = tf.reduce_max(tf.abs(updates), axis=1)
    norms = largest * tf.norm(updates / tf.maximum(largest, _TINY_NORM)[:, None], axis=1)
    # clip(Delta, S) = Delta * min(1, S / ||Delta||)
    return updates * tf.minimum(1.0, clip_norm / tf.maximum(norms, _TINY_NORM))[:, None], norms


def sorted_by_experiment(updates, arrived, slot_experiment, n_experiments):
    """The arrived updates of each experiment side by side, sorted per coordinate.

    Parameters
    ----------
    updates : (M, P); arrived : (M,) bool; slot_experiment : (M,) int64 (an experiment's slots
        are consecutive); n_experiments : () int64, X

    Returns
    -------
    (X, width, P) ascending per coordinate, padding (+inf) last; (X,) int64, the counts n_x
    """
    slots = tf.range(tf.shape(slot_experiment, out_type=tf.int64)[0])
    first = tf.math.unsorted_segment_min(slots, slot_experiment, n_experiments)
    position = slots - tf.gather(first, slot_experiment)                       # k within its experiment
    width = tf.reduce_max(position) + 1
    n_params = tf.shape(updates, out_type=tf.int64)[1]
    values = tf.where(arrived[:, None], updates, float("inf"))
    dense = tf.tensor_scatter_nd_update(tf.fill(tf.stack([n_experiments, width, n_params]), float("inf")),
                                        tf.stack([slot_experiment, position], axis=1), values)
    counts = tf.math.unsorted_segment_sum(tf.cast(arrived, tf.int64), slot_experiment, n_experiments)
    return tf.sort(dense, axis=1), counts


def median_of_sorted(ordered, counts):
    """Coordinate-wise median of each experiment's n_x values (the mean of the two middle ones
    when n_x is even, as ``np.median``): (X, P). Rows with n_x = 0 are +inf (the caller keeps
    that experiment's model)."""
    low = tf.maximum((counts - 1) // 2, 0)
    high = tf.maximum(counts // 2, 0)
    # median = (x_(floor((n-1)/2)) + x_(floor(n/2))) / 2, 0-based order statistics
    return 0.5 * (tf.gather(ordered, low, axis=1, batch_dims=1) + tf.gather(ordered, high, axis=1, batch_dims=1))


def trimmed_mean_of_sorted(ordered, counts, trim):
    """Coordinate-wise mean after dropping the ``trim`` smallest and largest of each
    experiment's n_x values: (X, P).

    Parameters
    ----------
    ordered : (X, width, P) from :func:`sorted_by_experiment`; counts : (X,) int64; trim : (X,) int64
    """
    j = tf.range(tf.shape(ordered, out_type=tf.int64)[1])[None, :]
    kept = (j >= trim[:, None]) & (j < (counts - trim)[:, None])               # (X, width)
    total = tf.reduce_sum(tf.where(kept[:, :, None], ordered, 0.0), axis=1)
    # mean of x_(trim) .. x_(n - trim - 1)
    return total / tf.cast(tf.maximum(counts - 2 * trim, 1), tf.float32)[:, None]
