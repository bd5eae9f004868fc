"""Notebook 03: one client training alone, and client models drifting apart.

Step 2 of the article's protocol (边缘设备根据本地数据进行模型训练, "edge devices
train the model on their local data") done with the kit's compiled local trainer
(:class:`fedlearn_edu.LocalTrainer` + :func:`fedlearn_edu.client_update`), the same
functions :class:`fedlearn_edu.Simulation` calls in every round.

*Client drift.* Every client starts a round from the same global weights w and
trains E local epochs on its own data, ending at w_k. With n_k examples on client k
and n = sum_k n_k, the FedAvg average is w_bar = sum_k (n_k / n) w_k, and

    drift = sum_k (n_k / n) * ||w_k - w_bar||          (L2 norm over all parameters)

is the size-weighted mean distance of the client models to their average: how far
apart the clients have walked. We also report the mean pairwise cosine of the
updates Delta_k = w_k - w (1 = all clients push the same way).

The slider callback is :func:`show_drift` (it calls :func:`compute_drift_comparison`,
which returns the numbers without drawing).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .. import _tf  # noqa: F401  (silences TensorFlow before it is imported)
from .._validate import check_choice, check_int, check_positive, check_seed
from ..aggregate import fedavg_coefficients
from ..client import ClientResult, LocalTrainer, client_update
from ..data import Dataset, cached_dataset
from ..i18n import N_, tr, tr_figure
from ..model import build_model, flatten_weights, get_weights
from ..partition import PARTITIONS, label_distribution, make_partition
from ..style import pyplot

__all__ = ["AloneResult", "ClientDriftResult", "article_setup", "compute_alone", "compute_client_drift",
           "compute_drift_comparison", "measure_drift", "most_skewed_client", "PRESETS", "show_drift",
           "train_clients"]

#: the slider ranges of notebook 03 (tests sweep their ends)
CLIENT_RANGE = (2, 50)
EPOCH_RANGE = (1, 20)
LEARNING_RATE_RANGE = (1e-3, 1.0)
ALPHA_RANGE = (1e-2, 1e2)


# -- shared set-up (built once per process) ---------------------------------------------
@lru_cache(maxsize=None)
def article_setup(seed: int = 0) -> tuple[Dataset, LocalTrainer, tuple]:
    """The article's data, one compiled trainer for the article's model, and its initial weights.

    Cached: every slider move reuses the same trainer, so its training function is
    traced once per process (``trainer.tracing_count == 1``).

    Returns
    -------
    dataset : Dataset, 800 train / 200 test examples, 20 features, 3 classes
    trainer : LocalTrainer for Dense(64, relu) -> Dense(3, softmax)
    initial_weights : tuple of 4 float32 arrays, shapes (20, 64), (64,), (64, 3), (3,)
    """
    seed = check_seed("seed", seed)
    dataset = cached_dataset("article")
    model = build_model(dataset.n_features, dataset.n_classes, (64,), "relu", seed)
    return dataset, LocalTrainer(model), tuple(get_weights(model))


def train_clients(trainer: LocalTrainer, start_weights: Sequence[np.ndarray], dataset: Dataset,
                  partitions: Sequence[np.ndarray], *, local_epochs: int = 1, batch_size: int | None = 32,
                  client_learning_rate: float = 0.1, seed: int = 0) -> list[ClientResult]:
    """Step 2 for every client: each trains from the same ``start_weights`` on its own part.

    Parameters
    ----------
    trainer : LocalTrainer of the model
    start_weights : list of ndarray, the global model every client receives
    dataset : Dataset whose training part is split by ``partitions``
    partitions : list of K int arrays, the training-example indices of each client
    local_epochs : int >= 1, E
    batch_size : int >= 1 or None, B
    client_learning_rate : float > 0
    seed : int >= 0, fixes each client's batch order

    Returns
    -------
    list of K ClientResult (weights, n_k, local loss and accuracy), client ids 0..K-1
    """
    return [client_update(trainer, start_weights, dataset.X_train[idx], dataset.y_train[idx],
                          epochs=local_epochs, batch_size=batch_size,
                          client_learning_rate=client_learning_rate, seed=seed, client_id=k)
            for k, idx in enumerate(partitions)]


# -- one client alone -------------------------------------------------------------------
@dataclass
class AloneResult:
    """One client trained alone on its own data, then tested twice.

    Attributes
    ----------
    client_id : int
    n_examples : int, n_k
    label_counts : ndarray (n_classes,), the client's labels
    local_accuracy, local_loss : float, on the client's own training data
    test_accuracy, test_loss : float, on the global held-out test set (all classes)
    """

    client_id: int
    n_examples: int
    label_counts: np.ndarray
    local_accuracy: float
    local_loss: float
    test_accuracy: float
    test_loss: float

    @property
    def gap(self) -> float:
        """local accuracy - test accuracy: how much the client overfits to its label mix."""
        return self.local_accuracy - self.test_accuracy

    @property
    def dominant_share(self) -> float:
        """Share of the client's most frequent label (1/3 is balanced for 3 classes, 1 is one class)."""
        return float(self.label_counts.max() / self.label_counts.sum())


def most_skewed_client(label_counts: np.ndarray, min_examples: int = 20) -> int:
    """The client whose most frequent label has the largest share, among clients with at
    least ``min_examples`` examples (ties: the larger client).

    Parameters
    ----------
    label_counts : ndarray (K, n_classes), from :func:`fedlearn_edu.label_distribution`
    min_examples : int >= 1
    """
    counts = np.asarray(label_counts)
    if counts.ndim != 2 or counts.shape[0] == 0:
        raise ValueError(f"label_counts must be a (K, n_classes) array, got shape {counts.shape}")
    min_examples = check_int("min_examples", min_examples, minimum=1)
    sizes = counts.sum(axis=1)
    eligible = np.flatnonzero(sizes >= min_examples)
    if eligible.size == 0:
        raise ValueError(f"min_examples must be at most the largest client ({int(sizes.max())} examples), "
                         f"got {min_examples}")
    share = counts[eligible].max(axis=1) / sizes[eligible]
    best = np.lexsort((-sizes[eligible], -share))[0]
    return int(eligible[best])


def compute_alone(n_clients: int = 10, alpha: float = 0.1, local_epochs: int = 20,
                  client_learning_rate: float = 0.1, partition: str = "dirichlet",
                  client_id: int | None = None, seed: int = 0) -> AloneResult:
    """Train one client alone from the initial model and test it on its data and on the test set.

    Parameters
    ----------
    n_clients : int >= 1, K
    alpha : float > 0, Dirichlet concentration (for "dirichlet" and "quantity")
    local_epochs : int >= 1, E
    client_learning_rate : float > 0
    partition : one of "iid", "dirichlet", "shards", "quantity"
    client_id : which client (default: :func:`most_skewed_client`)
    seed : int >= 0, seeds the partition and the batch order
    """
    dataset, trainer, start = article_setup()
    check_choice("partition", partition, PARTITIONS)
    parts = make_partition(dataset.y_train, check_int("n_clients", n_clients, minimum=1), partition,
                           alpha=check_positive("alpha", alpha), seed=check_seed("seed", seed))
    counts = label_distribution(dataset.y_train, parts, dataset.n_classes)
    k = most_skewed_client(counts, min(20, int(counts.sum(axis=1).max()))) if client_id is None else \
        check_int("client_id", client_id, minimum=0, maximum=len(parts) - 1)
    idx = parts[k]
    result = client_update(trainer, list(start), dataset.X_train[idx], dataset.y_train[idx],
                           epochs=local_epochs, client_learning_rate=client_learning_rate,
                           seed=seed, client_id=k)
    test_loss, test_accuracy = trainer.evaluate(result.weights, dataset.X_test, dataset.y_test)
    return AloneResult(client_id=k, n_examples=result.n_examples, label_counts=counts[k],
                       local_accuracy=result.accuracy, local_loss=result.loss, test_accuracy=test_accuracy,
                       test_loss=test_loss)


# -- drift ------------------------------------------------------------------------------
@dataclass
class ClientDriftResult:
    """How far apart the client models are after one round of local training.

    Attributes
    ----------
    partition : str, "iid" or "dirichlet"
    n_examples : ndarray (K,), n_k
    client_vectors : ndarray (K, P) float64, the trained client models w_k, flattened
    start_vector : ndarray (P,) float64, the global model w all clients started from
    average : ndarray (P,) float64, the FedAvg average w_bar = sum_k (n_k/n) w_k
    distances : ndarray (K,), ||w_k - w_bar||
    update_norms : ndarray (K,), ||w_k - w||
    drift : float, sum_k (n_k/n) ||w_k - w_bar||
    mean_cosine : float, mean cosine of the updates w_k - w over all pairs of clients
        (1.0 when there is a single client)
    diverged : bool, some client model is NaN or infinite (the numbers are then NaN)
    """

    partition: str
    n_examples: np.ndarray
    client_vectors: np.ndarray
    start_vector: np.ndarray
    average: np.ndarray
    distances: np.ndarray
    update_norms: np.ndarray
    drift: float
    mean_cosine: float
    diverged: bool


def measure_drift(results: Sequence[ClientResult], start_weights: Sequence[np.ndarray],
                  partition: str = "") -> ClientDriftResult:
    """Drift and update agreement of the client models of one round.

    Parameters
    ----------
    results : list of K ClientResult, all trained from ``start_weights``
    start_weights : list of ndarray, the global model of the round
    partition : label stored in the result
    """
    if len(results) == 0:
        raise ValueError("results must hold at least one ClientResult, got none")
    W = np.stack([flatten_weights(r.weights) for r in results]).astype(np.float64)   # (K, P)
    start = flatten_weights(start_weights).astype(np.float64)                        # (P,)
    n = np.array([r.n_examples for r in results], dtype=np.int64)
    coefficients = fedavg_coefficients(n)                                            # (K,)
    diverged = not np.all(np.isfinite(W))
    with np.errstate(all="ignore"):
        average = coefficients @ W
        distances = np.linalg.norm(W - average, axis=1)
        updates = W - start
        norms = np.linalg.norm(updates, axis=1)
        unit = updates / np.where(norms > 0, norms, 1.0)[:, None]
        cosines = unit @ unit.T
    pairs = np.triu_indices(len(W), 1)
    mean_cosine = float(cosines[pairs].mean()) if len(W) > 1 else 1.0
    drift = float(coefficients @ distances)
    if diverged:
        drift = mean_cosine = float("nan")
    return ClientDriftResult(partition=partition, n_examples=n, client_vectors=W, start_vector=start, average=average,
                             distances=distances, update_norms=norms, drift=drift, mean_cosine=mean_cosine,
                             diverged=diverged)


def _check_slider_values(n_clients, alpha, local_epochs, client_learning_rate):
    return (check_int("n_clients", n_clients, minimum=1, maximum=800),
            check_positive("alpha", alpha),
            check_int("local_epochs", local_epochs, minimum=1, maximum=200),
            check_positive("client_learning_rate", client_learning_rate))


def compute_client_drift(n_clients: int = 10, alpha: float = 0.1, local_epochs: int = 5,
                  client_learning_rate: float = 0.1, partition: str = "dirichlet",
                  batch_size: int | None = 32, seed: int = 0) -> ClientDriftResult:
    """Train all K clients for E epochs from the same initial model and measure the drift.

    Parameters
    ----------
    n_clients : int in 1..800, K
    alpha : float > 0, Dirichlet concentration (ignored by "iid")
    local_epochs : int in 1..200, E
    client_learning_rate : float > 0
    partition : one of "iid", "dirichlet", "shards", "quantity"
    batch_size : int >= 1 or None, B
    seed : int >= 0, seeds the partition and batch order

    Returns
    -------
    ClientDriftResult
    """
    n_clients, alpha, local_epochs, client_learning_rate = _check_slider_values(
        n_clients, alpha, local_epochs, client_learning_rate)
    check_choice("partition", partition, PARTITIONS)
    dataset, trainer, start = article_setup()
    parts = make_partition(dataset.y_train, n_clients, partition, alpha=alpha, seed=check_seed("seed", seed))
    results = train_clients(trainer, list(start), dataset, parts, local_epochs=local_epochs,
                            batch_size=batch_size, client_learning_rate=client_learning_rate, seed=seed)
    return measure_drift(results, list(start), partition)


def compute_drift_comparison(n_clients: int = 10, alpha: float = 0.1, local_epochs: int = 5,
                             client_learning_rate: float = 0.1, seed: int = 0) -> dict:
    """The slider's numbers: drift of IID clients vs Dirichlet(alpha) clients, same settings.

    Returns
    -------
    dict with
        "iid", "non_iid" : ClientDriftResult
        "drift_iid", "drift_non_iid" : float
        "ratio" : float, drift_non_iid / drift_iid (> 1: the non-IID clients are further apart)
        "cosine_iid", "cosine_non_iid" : float, mean pairwise cosine of the updates
    """
    iid = compute_client_drift(n_clients, alpha, local_epochs, client_learning_rate, "iid", seed=seed)
    non_iid = compute_client_drift(n_clients, alpha, local_epochs, client_learning_rate, "dirichlet", seed=seed)
    with np.errstate(all="ignore"):
        ratio = non_iid.drift / iid.drift if iid.drift > 0 else float("nan")
    return {"iid": iid, "non_iid": non_iid, "drift_iid": iid.drift, "drift_non_iid": non_iid.drift,
            "ratio": float(ratio), "cosine_iid": iid.mean_cosine, "cosine_non_iid": non_iid.mean_cosine}


def _project(results: Sequence[ClientDriftResult]) -> list[np.ndarray]:
    """2-D coordinates of the updates w_k - w of several DriftResults in one shared
    principal-component basis (start at the origin). Returns one (K, 2) array per result."""
    updates = [r.client_vectors - r.start_vector for r in results]
    stacked = np.concatenate(updates)
    _, _, vt = np.linalg.svd(stacked - stacked.mean(axis=0), full_matrices=False)
    basis = vt[:2].T if vt.shape[0] >= 2 else np.pad(vt.T, ((0, 0), (0, 2 - vt.shape[0])))
    for i in range(basis.shape[1]):                       # fix the sign: deterministic pictures
        j = np.argmax(np.abs(basis[:, i]))
        basis[:, i] *= np.sign(basis[j, i]) or 1.0
    return [u @ basis for u in updates]


#: classroom presets of notebook 03's drift panel (each changes only what it names)
PRESETS: dict[str, dict] = {
    N_("nearly IID clients: α_D = 100"): dict(alpha=100.0),
    N_("extreme label skew: α_D = 0.01"): dict(alpha=0.01),
    N_("more local work: E = 20"): dict(local_epochs=20),
    N_("aggressive local training: E = 20, η_l = 1"): dict(local_epochs=20, client_learning_rate=1.0),
    N_("gentle local training: E = 1, η_l = 0.01"): dict(local_epochs=1, client_learning_rate=0.01),
}


def show_drift(n_clients: int = 10, alpha: float = 0.1, local_epochs: int = 5,
               client_learning_rate: float = 0.1) -> dict:
    """Slider callback: train IID and Dirichlet(alpha) clients, draw them, print the drift.

    Left: every client model after local training, projected on the two main directions
    of the updates (the start model is the origin, stars are the FedAvg averages).
    Right: the drift of both federations.

    Returns
    -------
    dict, as :func:`compute_drift_comparison`
    """
    plt = pyplot()
    numbers = compute_drift_comparison(n_clients, alpha, local_epochs, client_learning_rate)
    iid, non_iid = numbers["iid"], numbers["non_iid"]
    if iid.diverged or non_iid.diverged:
        print(tr("local training diverged (NaN) at client learning rate {rate}: try a smaller one").format(
            rate=f"{client_learning_rate:.3g}"))
        return numbers
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.5), gridspec_kw={"width_ratios": [3, 2]})
    colours = {"IID": "C0", tr_figure("Dirichlet α_D={alpha}").format(alpha=f"{alpha:.3g}"): "C3"}
    for (label, colour), result, points in zip(colours.items(), (iid, non_iid), _project((iid, non_iid)), strict=True):
        sizes = 15 + 200 * result.n_examples / result.n_examples.max()
        left.scatter(points[:, 0], points[:, 1], s=sizes, color=colour, alpha=0.5, label=label)
        centre = fedavg_coefficients(result.n_examples) @ points
        left.scatter(*centre, marker="*", s=200, color=colour, edgecolor="black")
    left.scatter(0, 0, marker="x", s=80, color="black", label=tr_figure("start (global model)"))
    left.set_title(tr_figure("client models after E={epochs} epochs").format(epochs=local_epochs))
    left.set_xlabel(tr_figure("direction 1"))
    left.set_ylabel(tr_figure("direction 2"))
    left.legend()
    right.bar(["IID", tr_figure("non-IID")], [iid.drift, non_iid.drift], color=list(colours.values()))
    right.set_title(tr_figure("drift: mean distance to the average"))
    right.set_xlabel(tr_figure("federation"))
    right.set_ylabel(tr_figure("drift"))
    plt.show()
    print(tr("K={clients}, E={epochs}, client learning rate {rate}: drift IID {drift_iid}, non-IID {drift_skewed} "
             "(x{ratio}); update cosine IID {cosine_iid}, non-IID {cosine_skewed}").format(
        clients=n_clients, epochs=local_epochs, rate=f"{client_learning_rate:.3g}", drift_iid=f"{iid.drift:.3f}",
        drift_skewed=f"{non_iid.drift:.3f}", ratio=f"{numbers['ratio']:.2f}", cosine_iid=f"{iid.mean_cosine:.2f}",
        cosine_skewed=f"{non_iid.mean_cosine:.2f}"))
    return numbers
