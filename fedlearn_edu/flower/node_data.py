"""Which data each Flower node holds, and how it gets there.

In the kit's simulation one process holds every client's rows. In a deployment each
SuperNode holds only its own: :func:`write_node_files` cuts the kit's partition (the same
data set, split and seed as :class:`~fedlearn_edu.Simulation`) into one ``.npz`` file per
node, plus one file with the server's held-out test set, and each process reads only
its own file (:func:`load_node_data`, :func:`load_server_data`).

Node config keys (``flower-supernode --node-config``; Flower's simulation engine sets
the first two itself):

- ``partition-id`` : int, the kit's client id of this node (0 .. K-1)
- ``num-partitions`` : int, K
- ``data-file`` : str, path of this node's ``.npz`` (absent: cut the partition from the
  data set, as the simulation engine does)

This module does not import Flower.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from ..data import Dataset, load_dataset
from ..simulation import FLConfig, client_partitions


@dataclass(frozen=True)
class NodeData:
    """The local training data of one node.

    Attributes
    ----------
    X : ndarray (n_k, n_features) float32
    y : ndarray (n_k,) int64
    partition_id : int, the kit's client id
    n_classes : int
    """

    X: np.ndarray
    y: np.ndarray
    partition_id: int
    n_classes: int


def kit_partitions(config: FLConfig, dataset: Dataset | None = None) -> tuple[Dataset, list[np.ndarray]]:
    """The data set and the K index arrays that :class:`~fedlearn_edu.Simulation` uses for ``config``."""
    dataset = load_dataset(config.dataset) if dataset is None else dataset
    return dataset, client_partitions(config, dataset)


def write_node_files(config: FLConfig, directory: str | Path) -> tuple[list[Path], Path]:
    """Write one ``node-<k>.npz`` per client and ``server-test.npz`` into ``directory``.

    Returns
    -------
    node_files : list of K paths (node k holds exactly the kit's client k)
    server_file : path of the held-out test set (the server's central evaluation)
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dataset, parts = kit_partitions(config)
    node_files = []
    for k, idx in enumerate(parts):
        path = directory / f"node-{k}.npz"
        np.savez(path, X=dataset.X_train[idx], y=dataset.y_train[idx], partition_id=k,
                 num_partitions=config.n_clients, n_classes=dataset.n_classes)
        node_files.append(path)
    server_file = directory / "server-test.npz"
    np.savez(server_file, X=dataset.X_test, y=dataset.y_test, n_classes=dataset.n_classes)
    return node_files, server_file


def _node_int(node_config: Mapping, key: str) -> int:
    if key not in node_config:
        raise ValueError(f"node config must set {key!r} (flower-supernode --node-config "
                         f"'partition-id=0 num-partitions=2 data-file=\"node-0.npz\"'), got keys "
                         f"{sorted(node_config)}")
    return int(node_config[key])


def load_node_data(node_config: Mapping, config: FLConfig) -> NodeData:
    """This node's rows: from its ``data-file`` when the node config names one, else cut
    from the data set with the kit's partition (Flower's simulation engine)."""
    partition_id = _node_int(node_config, "partition-id")
    num_partitions = _node_int(node_config, "num-partitions")
    if num_partitions != config.n_clients:
        raise ValueError(f"node config num-partitions={num_partitions} must equal the run's "
                         f"n-clients={config.n_clients}")
    if not 0 <= partition_id < num_partitions:
        raise ValueError(f"node config partition-id must be in 0..{num_partitions - 1}, got {partition_id}")
    data_file = str(node_config.get("data-file", "") or "")
    if data_file:
        with np.load(data_file) as f:
            if int(f["partition_id"]) != partition_id:
                raise ValueError(f"data-file {data_file} holds partition {int(f['partition_id'])}, "
                                 f"but this node's partition-id is {partition_id}")
            return NodeData(f["X"].astype(np.float32), f["y"].astype(np.int64), partition_id,
                            int(f["n_classes"]))
    dataset, parts = kit_partitions(config)
    idx = parts[partition_id]
    return NodeData(dataset.X_train[idx], dataset.y_train[idx], partition_id, dataset.n_classes)


def load_server_data(server_data_file: str, config: FLConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """The server's held-out test set: X (n_test, n_features), y (n_test,), n_classes."""
    if server_data_file:
        with np.load(server_data_file) as f:
            return f["X"].astype(np.float32), f["y"].astype(np.int64), int(f["n_classes"])
    dataset = load_dataset(config.dataset)
    return dataset.X_test, dataset.y_test, dataset.n_classes
