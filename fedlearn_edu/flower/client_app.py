"""The Flower ClientApp: step 2 of the protocol, run by a SuperNode on its own data.

Each message from the ServerApp names an action:

- ``train``: the kit's :func:`~fedlearn_edu.client_update` on this node's rows, with the
  kit's batch order for (seed, round, partition id), starting from the received model;
  the reply carries the new weights and ``num-examples`` (n_k, the FedAvg weight);
- ``evaluate``: loss and accuracy of the received model on this node's rows;
- ``query``: which kit client this node is (``partition-id``), so that the server can
  sample clients the way the kit does.

The run config is the kit's FLConfig (see :mod:`fedlearn_edu.flower.config`), the node
config says which partition this node holds (see :mod:`fedlearn_edu.flower.node_data`).

Importing this module imports the package ``fedlearn_edu`` first, which quiets
TensorFlow before anything loads it.
"""
from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from ..client import LocalTrainer, client_update
from ..model import build_model
from ..simulation import FLConfig
from .config import from_run_config
from .node_data import NodeData, load_node_data

app = ClientApp()

_TRAINERS: dict[tuple, LocalTrainer] = {}
_NODE_DATA: dict[tuple, NodeData] = {}


def trainer_for(config: FLConfig, n_features: int, n_classes: int) -> LocalTrainer:
    """One compiled LocalTrainer per model shape and process (traced once, reused by every
    message this process handles; Flower's simulation engine runs many nodes in one process)."""
    key = (n_features, n_classes, config.hidden_units, config.activation)
    if key not in _TRAINERS:
        _TRAINERS[key] = LocalTrainer(build_model(n_features, n_classes, config.hidden_units,
                                                  config.activation, config.seed))
    return _TRAINERS[key]


def node_data(context: Context, config: FLConfig) -> NodeData:
    """This node's rows (read once per process and node)."""
    key = (context.node_id, tuple(sorted(context.node_config.items())), config.dataset, config.n_clients,
           config.partition, config.alpha, config.shards_per_client, config.min_size, config.seed)
    if key not in _NODE_DATA:
        _NODE_DATA[key] = load_node_data(context.node_config, config)
    return _NODE_DATA[key]


def _node(context: Context) -> tuple[FLConfig, NodeData, LocalTrainer]:
    """The run's FLConfig, this node's rows and the compiled trainer for the model."""
    config = from_run_config(context.run_config)
    data = node_data(context, config)
    return config, data, trainer_for(config, data.X.shape[1], data.n_classes)


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Local training: the kit's client_update from the received global model."""
    config, data, trainer = _node(context)
    server_round = int(msg.content["config"]["server-round"])
    result = client_update(
        trainer, msg.content["arrays"].to_numpy_ndarrays(), data.X, data.y,
        epochs=config.local_epochs, batch_size=config.batch_size, max_steps=config.local_steps,
        client_learning_rate=config.client_learning_rate, client_momentum=config.client_momentum,
        mu=config.mu, seed=config.seed, round_index=server_round - 1, client_id=data.partition_id)
    metrics = MetricRecord({"num-examples": result.n_examples, "partition-id": data.partition_id,
                            "local-steps": result.n_steps, "train-loss": result.loss,
                            "train-accuracy": result.accuracy})
    content = RecordDict({"arrays": ArrayRecord(result.weights), "metrics": metrics})
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """The received model's loss and accuracy on this node's own rows."""
    _, data, trainer = _node(context)
    loss, accuracy = trainer.evaluate(msg.content["arrays"].to_numpy_ndarrays(), data.X, data.y)
    metrics = MetricRecord({"num-examples": len(data.y), "partition-id": data.partition_id,
                            "eval-loss": loss, "eval-accuracy": accuracy})
    return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)


@app.query()
def query(msg: Message, context: Context) -> Message:
    """Who am I: the kit's client id of this node and its number of examples."""
    config = from_run_config(context.run_config)
    data = node_data(context, config)
    metrics = MetricRecord({"partition-id": data.partition_id, "num-examples": len(data.y)})
    return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)
