"""The two baselines federated learning is compared with (article sections 1 and 2).

Both are expressed with the same engine, which is itself a lesson:

* **centralised training** is FedAvg with one client that holds all the data
  (``n_clients=1``): each "round" is one epoch of SGD on the pooled data;
* **data-parallel distributed SGD** is FedAvg in which every round is a single
  local mini-batch step (``local_steps=1``): the workers' models are averaged after
  every step, which is the same as averaging their gradients.
"""
from __future__ import annotations

from .data import Dataset, cached_dataset
from .simulation import FLConfig, History, run_experiment

BYTES_PER_FEATURE = 4   # float32
BYTES_PER_LABEL = 4     # int32


def raw_data_bytes(dataset: Dataset) -> int:
    """Bytes that uploading every training example to a data centre moves once:
    n_train * (n_features * 4 + 4)."""
    n, d = dataset.X_train.shape
    return int(n * (d * BYTES_PER_FEATURE + BYTES_PER_LABEL))


def train_centralised(dataset: Dataset | None = None, epochs: int = 20, batch_size: int | None = 32,
                      learning_rate: float = 0.1, seed: int = 0, **config) -> History:
    """Ordinary training on the pooled data: FedAvg with a single client.

    Parameters
    ----------
    dataset : Dataset (default: the article's)
    epochs : int >= 1, passes over the data (one per "round" of the History)
    batch_size : int >= 1 or None
    learning_rate : float > 0
    seed : int >= 0
    **config : further FLConfig fields (e.g. hidden_units)

    Returns
    -------
    History, one entry per epoch. Its ``bytes_down``/``bytes_up`` count model transfers
    of the single client, not data; see :func:`raw_data_bytes` for the upload of the data.
    """
    dataset = dataset or cached_dataset("article")
    return run_experiment(FLConfig(n_clients=1, rounds=epochs, batch_size=batch_size,
                                   client_learning_rate=learning_rate, seed=seed, **config),
                          dataset=dataset)


def distributed_sgd(dataset: Dataset | None = None, n_workers: int = 10, steps: int = 100,
                    batch_size: int = 32, learning_rate: float = 0.1, seed: int = 0, **config) -> History:
    """Synchronous data-parallel SGD: every step, each worker computes a gradient on a
    mini-batch of its shard and the server averages (n_k/n-weighted) and applies it.

    Returns a History with one entry per step; bytes are counted per step (a gradient
    down and up per worker), which is why this is not practical over phone networks.
    """
    dataset = dataset or cached_dataset("article")
    return run_experiment(FLConfig(n_clients=n_workers, rounds=steps, batch_size=batch_size,
                                   local_steps=1, client_learning_rate=learning_rate, seed=seed,
                                   **config), dataset=dataset)
