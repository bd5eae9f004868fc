"""The Flower ServerApp: steps 1, 4 and 5 of the protocol, with the kit's own rules.

:class:`KitStrategy` is a Flower ``FedAvg`` strategy whose three decisions are the kit's:

- who trains in round t: the kit's :func:`~fedlearn_edu.rng.sample_clients` for (seed, t),
  mapped to the nodes that hold those partitions (every node when C = 1);
- how the replies are combined: the kit's :func:`~fedlearn_edu.weighted_average`
  sum_k (n_k/n) w_k, in the order of the clients' ids, as the kit's engine does;
- the next global model: the kit's server optimizer (:mod:`fedlearn_edu.server`: FedAvg,
  FedAvgM, FedAdagrad, FedAdam, FedYogi), whose state lives in the strategy across rounds.

Why a loop of its own: here the round is Flower's (``Strategy.start`` sends messages to
separate ClientApp processes and waits for their replies), so the kit's
:meth:`~fedlearn_edu.Simulation.run_round` cannot drive it; the strategy plugs the kit's
sampling, average and server step into Flower's round instead.

The ServerApp evaluates every global model on its held-out test set (as the kit's
History does), optionally asks the nodes to evaluate it on their own rows, and writes
``result.json`` and ``final_weights.npz`` into the run config's ``result-dir``.
"""
from __future__ import annotations

import json
import time
from logging import INFO
from pathlib import Path
from typing import Iterable

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
from flwr.common import log
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from ..aggregate import client_weights, weighted_average
from ..client import LocalTrainer
from ..model import build_model, flatten_weights, get_weights, unflatten_weights
from ..rng import sample_clients
from ..server import make_server_optimizer
from ..simulation import FLConfig
from .config import app_value, check_flower_config, from_run_config
from .node_data import load_server_data

app = ServerApp()


def sum_and_mean_metrics(contents: list[RecordDict], weight_key: str) -> MetricRecord:
    """Total ``num-examples`` and the n_k-weighted means of the loss and accuracy metrics."""
    weights = np.array([float(c["metrics"][weight_key]) for c in contents])
    out = {weight_key: int(weights.sum())}
    for key in contents[0]["metrics"]:
        if key.endswith(("loss", "accuracy")):
            values = np.array([float(c["metrics"][key]) for c in contents])
            out[key] = float(np.sum(weights * values) / weights.sum())
    return MetricRecord(out)


class KitStrategy(FedAvg):
    """FedAvg in Flower's Message API, with the kit's sampling, aggregation and server optimizer.

    Parameters
    ----------
    config : FLConfig, the run's configuration (K = n_clients nodes expected)
    node_evaluation : "none", "last" or "every": in which rounds the nodes evaluate the
        global model on their own rows (each evaluation is one more message per node)
    """

    def __init__(self, config: FLConfig, node_evaluation: str = "last"):
        check_flower_config(config)
        super().__init__(fraction_train=1.0, fraction_evaluate=0.0 if node_evaluation == "none" else 1.0,
                         min_train_nodes=config.clients_per_round, min_evaluate_nodes=config.n_clients,
                         min_available_nodes=config.n_clients,
                         train_metrics_aggr_fn=sum_and_mean_metrics,
                         evaluate_metrics_aggr_fn=sum_and_mean_metrics)
        self.config = config
        self.node_evaluation = node_evaluation
        self.server_optimizer = make_server_optimizer(
            config.server_optimizer, server_learning_rate=config.server_learning_rate,
            server_momentum=config.server_momentum, beta1=config.beta1, beta2=config.beta2, tau=config.tau)
        self.node_of_client: dict[int, int] = {}
        self.participants: list[list[int]] = []
        self._global: list[np.ndarray] | None = None

    def summary(self) -> None:
        log(INFO, "\t├──> fedlearn_edu: K=%d clients, C=%.2f (m=%d), server optimizer %s",
            self.config.n_clients, self.config.fraction, self.config.clients_per_round,
            self.config.server_optimizer)
        super().summary()

    def _wait_for_nodes(self, grid: Grid) -> list[int]:
        """Block until all K nodes are connected; their node ids."""
        while len(nodes := sorted(grid.get_node_ids())) < self.config.n_clients:
            log(INFO, "Waiting for nodes to connect: %d of %d", len(nodes), self.config.n_clients)
            time.sleep(1.0)
        return nodes

    def _learn_partition_ids(self, grid: Grid, nodes: list[int]) -> None:
        """Ask the nodes this strategy has not met yet which kit client they are (a query message)."""
        unknown = [n for n in nodes if n not in self.node_of_client.values()]
        if not unknown:
            return
        messages = [Message(RecordDict({"config": ConfigRecord({})}), dst_node_id=n,
                            message_type=MessageType.QUERY) for n in unknown]
        for reply in grid.send_and_receive(messages, timeout=60.0):
            if not reply.has_error():
                self.node_of_client[int(reply.content["metrics"]["partition-id"])] = reply.metadata.src_node_id

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        """Step 1: send the global model to the nodes of the kit's sampled clients."""
        self._global = arrays.to_numpy_ndarrays()
        nodes = self._wait_for_nodes(grid)
        c = self.config
        if c.clients_per_round == c.n_clients:
            chosen = nodes
        else:
            self._learn_partition_ids(grid, nodes)
            clients = sample_clients(c.n_clients, c.clients_per_round, c.seed, server_round - 1)
            chosen = [self.node_of_client[int(k)] for k in clients if int(k) in self.node_of_client]
        log(INFO, "configure_train: %d of %d nodes train in round %d", len(chosen), len(nodes), server_round)
        config["server-round"] = server_round
        record = RecordDict({self.arrayrecord_key: arrays, self.configrecord_key: config})
        return self._construct_messages(record, chosen, MessageType.TRAIN)

    def aggregate_train(self, server_round: int,
                        replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Step 4: the kit's FedAvg average (clients in id order), then the kit's server optimizer."""
        valid, _ = self._check_and_log_replies(replies, is_train=True)
        if not valid:
            return None, None
        valid.sort(key=lambda m: int(m.content["metrics"]["partition-id"]))
        for m in valid:
            self.node_of_client[int(m.content["metrics"]["partition-id"])] = m.metadata.src_node_id
        self.participants.append([int(m.content["metrics"]["partition-id"]) for m in valid])
        counts = [int(m.content["metrics"]["num-examples"]) for m in valid]
        averaged = weighted_average([m.content["arrays"].to_numpy_ndarrays() for m in valid],
                                    client_weights(counts, self.config.client_weighting))
        new = self.server_optimizer.step(flatten_weights(self._global), flatten_weights(averaged))
        metrics = self.train_metrics_aggr_fn([m.content for m in valid], self.weighted_by_key)
        return ArrayRecord(unflatten_weights(new, self._global)), metrics

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        """Node-side evaluation in every round, in the last one only, or never."""
        if self.node_evaluation == "none" or (self.node_evaluation == "last"
                                              and server_round < self.config.rounds):
            return []
        return super().configure_evaluate(server_round, arrays, config, grid)


class CentralEvaluation:
    """The server's held-out test set: loss and accuracy of each global model, and the
    wall-clock time at which each round ended (the callable Flower's ``evaluate_fn`` takes)."""

    def __init__(self, config: FLConfig, server_data_file: str = ""):
        X, y, n_classes = load_server_data(server_data_file, config)
        self.X, self.y, self.n_classes = X, y, n_classes
        self.trainer = LocalTrainer(build_model(X.shape[1], n_classes, config.hidden_units,
                                                config.activation, config.seed))
        self.loss: list[float] = []
        self.accuracy: list[float] = []
        self.ended_at: list[float] = []

    def __call__(self, server_round: int, arrays: ArrayRecord) -> MetricRecord:
        loss, accuracy = self.trainer.evaluate(arrays.to_numpy_ndarrays(), self.X, self.y)
        self.loss.append(loss)
        self.accuracy.append(accuracy)
        self.ended_at.append(time.perf_counter())
        return MetricRecord({"test-loss": loss, "test-accuracy": accuracy})


def initial_arrays(config: FLConfig, n_features: int, n_classes: int) -> list[np.ndarray]:
    """The kit's initial global model for ``config`` (the same seeded Glorot draw)."""
    return get_weights(build_model(n_features, n_classes, config.hidden_units, config.activation, config.seed))


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run ``rounds`` rounds of the kit's FedAvg on the connected nodes; write the result."""
    config = from_run_config(context.run_config)
    node_evaluation = app_value(context.run_config, "node_evaluation")
    central = CentralEvaluation(config, app_value(context.run_config, "server_data_file"))
    strategy = KitStrategy(config, node_evaluation)
    start = initial_arrays(config, central.X.shape[1], central.n_classes)
    result = strategy.start(grid=grid, initial_arrays=ArrayRecord(start), num_rounds=config.rounds,
                            timeout=float(app_value(context.run_config, "round_timeout")),
                            evaluate_fn=central)
    final = result.arrays.to_numpy_ndarrays()
    node_metrics = {int(r): dict(m) for r, m in result.evaluate_metrics_clientapp.items()}
    summary = {
        "rounds": config.rounds, "n_clients": config.n_clients,
        "initial_accuracy": central.accuracy[0], "initial_loss": central.loss[0],
        "accuracy": central.accuracy[1:], "loss": central.loss[1:],
        "round_seconds": list(np.diff(central.ended_at)),
        "participants": strategy.participants,
        "node_of_client": {str(k): v for k, v in sorted(strategy.node_of_client.items())},
        "node_evaluation": node_metrics,
    }
    log(INFO, "fedlearn_edu: %d rounds, final test accuracy %.4f", config.rounds, central.accuracy[-1])
    result_dir = app_value(context.run_config, "result_dir")
    if result_dir:
        out = Path(result_dir)
        out.mkdir(parents=True, exist_ok=True)
        np.savez(out / "final_weights.npz", *final)
        (out / "result.json").write_text(json.dumps(summary, indent=1))
