"""Steps 1-5 together: one entry point that runs a whole federated experiment.

>>> from fedlearn_edu import FLConfig, run_experiment
>>> history = run_experiment(FLConfig(n_clients=10, rounds=20))     # doctest: +SKIP
>>> history.final_accuracy                                          # doctest: +SKIP

:class:`Simulation` exposes each step as a method (sample, train the clients,
aggregate, server update, evaluate) so that a notebook can walk through one round
with the very functions that :func:`run_experiment` loops over.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import keras
import numpy as np

from . import _tf  # noqa: F401  (TensorFlow configured before Keras is used; see __init__)
from ._validate import check_choice, check_float, check_int, check_positive, check_seed
from .aggregate import CLIENT_WEIGHTINGS, client_weights, weighted_average
from .client import ClientResult, LocalTrainer, batch_plan, client_update
from .compression import BYTES_PER_FLOAT, COMPRESSIONS, Compressor
from .data import DATASETS, Dataset, cached_dataset
from .devices import STRAGGLER_POLICIES, make_device_profiles, plan_round
from .i18n import tr
from .model import (
    ACTIVATIONS,
    build_model,
    count_parameters,
    flatten_weights,
    get_weights,
    initial_weights,
    unflatten_weights,
)
from .partition import PARTITIONS, label_distribution, make_partition
from .rng import sample_clients
from .round_plan import NO_STEP_CAP, RoundPlan, padded_rounds
from .server import SERVER_OPTIMIZERS, ServerOptimizer, make_server_optimizer
from .vectorized import NEVER, Architecture, BatchMember, experiment_knobs, padded_client_index, run_batch

ENGINES = ("auto", "vectorized", "per_client")
#: the vectorised engine receives int8/int4 rounding draws as one float64 array; larger runs go per client
MAX_VECTORIZED_DRAWS = 25_000_000
BYTES_PER_PARAMETER = BYTES_PER_FLOAT  # float32
#: test accuracies are float32 fractions: a value this far below a target still reaches it
ACCURACY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class FLConfig:
    """Everything that defines one federated experiment.

    Attributes
    ----------
    n_clients : int >= 1, K, number of clients
    rounds : int >= 1, R, communication rounds
    fraction : float in (0, 1], C, share of clients sampled per round;
        m = max(1, floor(C * K)) clients take part in each round
    local_epochs : int >= 1, E
    local_steps : int >= 1 or None, cap on local mini-batch steps per round (None: all E epochs);
        with ``local_steps=1`` every round is one synchronous SGD step, i.e. data-parallel
        distributed SGD
    batch_size : int >= 1 or None, B; None (or math.inf) is a full batch (B = ∞), which with E = 1 is FedSGD
    client_learning_rate : float > 0
    client_momentum : float in [0, 1), local SGD momentum
    mu : float >= 0, FedProx proximal coefficient (0 is FedAvg)
    server_optimizer : one of "fedavg", "fedavgm", "fedadagrad", "fedadam", "fedyogi"
    server_learning_rate : float > 0 or None (None: 1 for fedavg/fedavgm, 0.1 fedadagrad, 0.01 fedadam/fedyogi)
    server_momentum : float in [0, 1), beta of FedAvgM
    beta1, beta2 : float in [0, 1), moment decays of the adaptive server optimizers
    tau : float > 0, adaptivity (epsilon) of the adaptive server optimizers
    partition : one of "iid", "dirichlet", "shards", "quantity"
    alpha : float > 0, Dirichlet concentration for "dirichlet" and "quantity"
    shards_per_client : int >= 1, for "shards"
    min_size : int >= 1, smallest client for "dirichlet" and "quantity"
    dataset : one of "article", "digits", "breast_cancer"
    hidden_units : tuple of int, hidden layer widths ((64,) is the article's model)
    activation : hidden activation
    seed : int >= 0, seeds the split, the partition, the initial model, sampling and batch order
    devices : bool, simulate device profiles (compute and link speed) and a wall clock per round
    speed_spread : float >= 0, sigma of the log-normal device speeds (0: identical devices)
    dropout : float in [0, 1], chance that a sampled device is unavailable in a round
    deadline : float > 0 or None, simulated seconds after which stragglers are not waited for
    straggler_policy : "drop" (ignore stragglers) or "partial" (accept the local steps that fit)
        (see :mod:`fedlearn_edu.devices`; the round plans are made on the host, so both engines run them)
    client_weighting : "examples" or "uniform", the objective F(w) = sum_k p_k F_k(w) every
        algorithm minimises: p_k = n_k / n (the mean loss over all examples, FedAvg's; default)
        or p_k = 1 / K (every client the same, the objective of Karimireddy et al. 2020). It sets
        the weights of the average (n_k or 1, normalised over the round's clients) and of
        SCAFFOLD's server control variate (see :meth:`Simulation.update_controls`)
    scaffold : bool, SCAFFOLD (Karimireddy et al. 2020, option II): client and server control
        variates correct the client drift; doubles the bytes per round (both engines)
    compression : one of "none", "int8", "int4", "topk": how clients compress their update
        (see :mod:`fedlearn_edu.compression`); both engines (the vectorised one takes the int8/int4
        rounding draws from the host, up to ``MAX_VECTORIZED_DRAWS`` numbers per run)
    topk_fraction : float in (0, 1], share of coordinates "topk" sends
    error_feedback : bool, clients carry what compression dropped into their next update
    engine : "auto" (vectorised when the model is a Dense stack, unless a quantised run needs more
        than ``MAX_VECTORIZED_DRAWS`` rounding draws; else per-client), "vectorized" or
        "per_client"; both give the same numbers to float tolerance
    """

    n_clients: int = 10
    rounds: int = 20
    fraction: float = 1.0
    local_epochs: int = 1
    local_steps: int | None = None
    batch_size: int | None = 32
    client_learning_rate: float = 0.1
    client_momentum: float = 0.0
    mu: float = 0.0
    server_optimizer: str = "fedavg"
    server_learning_rate: float | None = None
    server_momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.99
    tau: float = 1e-3
    partition: str = "iid"
    alpha: float = 0.5
    shards_per_client: int = 2
    min_size: int = 2
    dataset: str = "article"
    hidden_units: tuple = (64,)
    activation: str = "relu"
    seed: int = 0
    devices: bool = False
    speed_spread: float = 1.0
    dropout: float = 0.0
    deadline: float | None = None
    straggler_policy: str = "drop"
    client_weighting: str = "examples"
    scaffold: bool = False
    compression: str = "none"
    topk_fraction: float = 0.1
    error_feedback: bool = True
    engine: str = "auto"

    def __post_init__(self):
        c = check_int("n_clients", self.n_clients, minimum=1)
        object.__setattr__(self, "n_clients", c)
        object.__setattr__(self, "rounds", check_int("rounds", self.rounds, minimum=1))
        object.__setattr__(self, "fraction", check_float("fraction", self.fraction, low=0.0, high=1.0,
                                                         low_inclusive=False))
        object.__setattr__(self, "local_epochs", check_int("local_epochs", self.local_epochs, minimum=1))
        if self.local_steps is not None:
            object.__setattr__(self, "local_steps", check_int("local_steps", self.local_steps, minimum=1))
        if isinstance(self.batch_size, float) and self.batch_size == float("inf"):
            object.__setattr__(self, "batch_size", None)          # B = ∞ written as math.inf (a slider's end)
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, minimum=1))
        object.__setattr__(self, "client_learning_rate",
                           check_positive("client_learning_rate", self.client_learning_rate))
        object.__setattr__(self, "client_momentum", check_float(
            "client_momentum", self.client_momentum, low=0.0, high=1.0, high_inclusive=False))
        object.__setattr__(self, "mu", check_float("mu", self.mu, low=0.0))
        check_choice("server_optimizer", self.server_optimizer, SERVER_OPTIMIZERS)
        if self.server_learning_rate is not None:
            object.__setattr__(self, "server_learning_rate",
                               check_positive("server_learning_rate", self.server_learning_rate))
        for name in ("server_momentum", "beta1", "beta2"):
            object.__setattr__(self, name, check_float(name, getattr(self, name), low=0.0, high=1.0,
                                                       high_inclusive=False))
        object.__setattr__(self, "tau", check_positive("tau", self.tau))
        check_choice("partition", self.partition, PARTITIONS)
        object.__setattr__(self, "alpha", check_positive("alpha", self.alpha))
        object.__setattr__(self, "shards_per_client",
                           check_int("shards_per_client", self.shards_per_client, minimum=1))
        object.__setattr__(self, "min_size", check_int("min_size", self.min_size, minimum=1))
        check_choice("dataset", self.dataset, DATASETS)
        hidden = (self.hidden_units,) if isinstance(self.hidden_units, (int, np.integer)) else self.hidden_units
        object.__setattr__(self, "hidden_units", tuple(check_int("hidden_units", h, minimum=1) for h in hidden))
        check_choice("activation", self.activation, ACTIVATIONS)
        object.__setattr__(self, "seed", check_seed("seed", self.seed))
        check_choice("compression", self.compression, COMPRESSIONS)
        object.__setattr__(self, "topk_fraction", check_float("topk_fraction", self.topk_fraction, low=0.0,
                                                              high=1.0, low_inclusive=False))
        object.__setattr__(self, "error_feedback", bool(self.error_feedback))
        check_choice("client_weighting", self.client_weighting, CLIENT_WEIGHTINGS)
        object.__setattr__(self, "scaffold", bool(self.scaffold))
        object.__setattr__(self, "devices", bool(self.devices))
        object.__setattr__(self, "speed_spread", check_float("speed_spread", self.speed_spread, low=0.0))
        object.__setattr__(self, "dropout", check_float("dropout", self.dropout, low=0.0, high=1.0))
        if self.deadline is not None:
            object.__setattr__(self, "deadline", check_positive("deadline", self.deadline))
        check_choice("straggler_policy", self.straggler_policy, STRAGGLER_POLICIES)
        check_choice("engine", self.engine, ENGINES)

    @property
    def simulates_devices(self) -> bool:
        """True when device profiles, dropouts or a deadline shape the rounds."""
        return self.devices or self.dropout > 0 or self.deadline is not None

    @property
    def clients_per_round(self) -> int:
        """m = max(1, floor(C * K)), the number of clients sampled in each round."""
        return max(1, int(np.floor(self.fraction * self.n_clients + 1e-9)))

    def replace(self, **changes) -> "FLConfig":
        """A copy with some fields changed (and checked again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"FLConfig has no field(s) {sorted(unknown)}; "
                            f"fields are {[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class History:
    """The record of one experiment, one entry per completed round.

    Attributes
    ----------
    config : FLConfig
    engine : str, which execution path ran ("per_client" or "vectorized")
    accuracy, loss : ndarray (R,), global model on the held-out test set after each round
    initial_accuracy, initial_loss : float, the initial global model (round 0)
    participants : list of R int arrays, the clients of each round
    bytes_down, bytes_up : ndarray (R,) int64, bytes sent server->clients and clients->server
    wall_time : ndarray (R,), seconds per round
    diverged_at : int or None, the 1-based round in which training diverged
    message : str, why the run stopped
    final_weights : list of ndarray, the last finite global model
    client_sizes : ndarray (K,), n_k
    label_counts : ndarray (K, n_classes), label distribution of the clients
    client_metrics : list of dict per round (ids, n_examples, loss, accuracy) or None
    simulated_seconds : ndarray (R,) of simulated wall-clock seconds per round, or None
        when devices are not simulated
    """

    config: FLConfig
    engine: str
    accuracy: np.ndarray
    loss: np.ndarray
    initial_accuracy: float
    initial_loss: float
    participants: list
    bytes_down: np.ndarray
    bytes_up: np.ndarray
    wall_time: np.ndarray
    diverged_at: int | None
    message: str
    final_weights: list
    client_sizes: np.ndarray
    label_counts: np.ndarray
    client_metrics: list | None = None
    simulated_seconds: np.ndarray | None = None

    @property
    def rounds_completed(self) -> int:
        return int(len(self.accuracy))

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_accuracy(self) -> float:
        return float(self.accuracy[-1]) if len(self.accuracy) else float(self.initial_accuracy)

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1]) if len(self.loss) else float(self.initial_loss)

    @property
    def total_bytes(self) -> int:
        return int(self.bytes_down.sum() + self.bytes_up.sum())

    def rounds_to_accuracy(self, target: float) -> int | None:
        """First round (1-based) whose test accuracy is >= target, or None (accuracies within
        :data:`ACCURACY_TOLERANCE` below count: float32 stores 342/360 = 0.95 as 0.94999999)."""
        return first_round_reaching(self.accuracy, target)

    def bytes_to_accuracy(self, target: float, up_only: bool = False) -> int | None:
        """Bytes moved until the first round whose test accuracy is >= ``target`` (that round
        included), down and up or ``up_only``; None if the run never got there."""
        reached = self.rounds_to_accuracy(target)
        if reached is None:
            return None
        up = int(self.bytes_up[:reached].sum())
        return up if up_only else up + int(self.bytes_down[:reached].sum())

    def megabytes_to_accuracy(self, target: float, up_only: bool = False) -> float | None:
        """:meth:`bytes_to_accuracy` in megabytes (10^6 bytes)."""
        n_bytes = self.bytes_to_accuracy(target, up_only)
        return None if n_bytes is None else n_bytes / 1e6

    def cumulative_megabytes(self, up_only: bool = False) -> np.ndarray:
        """Megabytes moved by the end of each round, from round 0: shape (R + 1,), starting at 0."""
        per_round = self.bytes_up if up_only else self.bytes_down + self.bytes_up
        return np.concatenate([[0.0], np.cumsum(per_round) / 1e6])

    def summary(self, target: float = 0.85) -> str:
        """Two lines a student can read: outcome, accuracy, rounds to target, bytes."""
        reached = self.rounds_to_accuracy(target)
        goal = f"{target:.0%}"
        reach = (tr("reached {target} in round {round}").format(target=goal, round=reached) if reached
                 else tr("never reached {target}").format(target=goal))
        status = (tr("DIVERGED in round {round}: {message}").format(round=self.diverged_at, message=self.message)
                  if self.diverged else tr("finished {rounds} rounds").format(rounds=self.rounds_completed))
        return status + "\n" + tr("final test accuracy {accuracy}, loss {loss}; {reach}; {megabytes} MB communicated "
                                  "({engine} engine)").format(
            accuracy=f"{self.final_accuracy:.3f}", loss=f"{self.final_loss:.4g}", reach=reach,
            megabytes=f"{self.total_bytes / 1e6:.2f}", engine=self.engine)

    def table(self) -> str:
        """A per-round table (round, clients, loss, accuracy, MB so far)."""
        lines = [f"{'round':>5} {'clients':>7} {'loss':>8} {'accuracy':>8} {'MB':>8}"]
        cumulative = self.cumulative_megabytes()[1:]
        for r in range(self.rounds_completed):
            lines.append(f"{r + 1:>5} {len(self.participants[r]):>7} {self.loss[r]:>8.4f} "
                         f"{self.accuracy[r]:>8.4f} {cumulative[r]:>8.3f}")
        return "\n".join(lines)

    def same_numbers(self, other: "History") -> bool:
        """True when two runs recorded identical numbers (wall times aside), bit for bit."""
        arrays = ("accuracy", "loss", "bytes_down", "bytes_up", "client_sizes", "label_counts")
        return (all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)
                and self.initial_loss == other.initial_loss and self.diverged_at == other.diverged_at
                and len(self.participants) == len(other.participants)
                and all(np.array_equal(a, b) for a, b in zip(self.participants, other.participants, strict=True))
                and all(np.array_equal(a, b) for a, b in zip(self.final_weights, other.final_weights, strict=True)))


class Simulation:
    """One federated experiment, step by step.

    Parameters
    ----------
    config : FLConfig
    dataset : Dataset, optional; defaults to ``cached_dataset(config.dataset)`` (a fixed 80/20 split, read-only,
        so that the seed changes the federation, not the test set)
    model : keras.Model, optional; defaults to ``build_model`` from the config. Any Keras
        classifier with a softmax output over ``n_classes`` works.
    """

    def __init__(self, config: FLConfig | None = None, dataset: Dataset | None = None,
                 model: keras.Model | None = None):
        self.config = config = config or FLConfig()
        if not isinstance(config, FLConfig):
            raise TypeError(f"config must be an FLConfig, got {type(config).__name__}")
        if dataset is None:
            dataset = cached_dataset(config.dataset)
        elif not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be a fedlearn_edu Dataset, got {type(dataset).__name__}")
        self.dataset = dataset
        n_train = len(dataset.y_train)
        if config.n_clients > n_train:
            raise ValueError(f"n_clients must be at most the number of training samples ({n_train}), "
                             f"got {config.n_clients}")
        self.partitions = client_partitions(config, dataset)
        self.client_sizes = np.array([len(p) for p in self.partitions], dtype=np.int64)
        #: u_k, each client's weight in the objective (n_k or 1); p_k = u_k / sum_j u_j
        self.client_weights = client_weights(self.client_sizes, config.client_weighting)
        self.label_counts = label_distribution(dataset.y_train, self.partitions, dataset.n_classes)
        self._model, self._trainer = None, None
        if model is None:       # the config's MLP: its initial weights are cached, its Keras model built when needed
            self.initial_weights = [w.copy() for w in initial_weights(
                dataset.n_features, dataset.n_classes, config.hidden_units, config.activation, config.seed)]
            architecture = Architecture((dataset.n_features, *config.hidden_units, dataset.n_classes),
                                        (config.activation,) * len(config.hidden_units))
        else:   # train a copy: the caller's model keeps its weights
            if not isinstance(model, keras.Model):
                raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
            copy = keras.models.clone_model(model)
            copy.set_weights(model.get_weights())
            self._model = copy
            self.initial_weights = get_weights(copy)
            architecture = Architecture.from_model(copy)
        self.global_weights = [w.copy() for w in self.initial_weights]
        self.n_parameters = count_parameters(self.initial_weights)
        self.server_optimizer: ServerOptimizer = make_server_optimizer(
            config.server_optimizer, server_learning_rate=config.server_learning_rate,
            server_momentum=config.server_momentum, beta1=config.beta1, beta2=config.beta2, tau=config.tau)
        self.architecture = architecture
        if config.engine == "vectorized" and self.architecture is None:
            raise ValueError("engine='vectorized' serves models made only of Dense layers with a softmax "
                             "output; this model is not one. Use engine='auto' or 'per_client'")
        # quantised runs take their rounding draws (rounds, m, P) from the host: cap their size
        draws = (config.rounds * config.clients_per_round * self.n_parameters
                 if config.compression in ("int8", "int4") else 0)
        needs_per_client = draws > MAX_VECTORIZED_DRAWS
        if config.engine == "vectorized" and needs_per_client:
            raise ValueError(f"engine='vectorized' quantises at most {MAX_VECTORIZED_DRAWS:,} coordinates per run "
                             f"(rounds x clients per round x parameters = {draws:,} for "
                             f"compression={config.compression!r}); use engine='auto' or 'per_client'")
        self.engine = ("per_client" if config.engine == "per_client" or self.architecture is None
                       or needs_per_client else "vectorized")
        self.device_profiles = (make_device_profiles(config.n_clients, config.seed, config.speed_spread,
                                                     dropout_probability=config.dropout)
                                if config.simulates_devices else None)
        self.server_control = np.zeros(self.n_parameters, np.float32)                       # c
        self.client_controls = np.zeros((config.n_clients, self.n_parameters), np.float32)  # c_k
        self.compressor = Compressor(config.compression, config.topk_fraction, config.error_feedback,
                                     config.seed)
        self._graph_inputs = None

    @property
    def model(self) -> keras.Model:
        """The Keras model (built on first use: the vectorised engine needs only its weights)."""
        if self._model is None:
            c = self.config
            self._model = build_model(self.dataset.n_features, self.dataset.n_classes, c.hidden_units, c.activation,
                                      c.seed)
        return self._model

    @property
    def trainer(self) -> LocalTrainer:
        """The per-client engine's compiled local training (built on first use)."""
        if self._trainer is None:
            self._trainer = LocalTrainer(self.model)
        return self._trainer

    # -- the five steps ----------------------------------------------------------------
    def sample_clients(self, round_index: int) -> np.ndarray:
        """Step 1 (who): the ids of the m clients of round ``round_index`` (0-based)."""
        return sample_clients(self.config.n_clients, self.config.clients_per_round,
                              self.config.seed, round_index)

    def client_data(self, client_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The local data of one client: X (n_k, n_features), y (n_k,)."""
        idx = self.partitions[client_id]
        return self.dataset.X_train[idx], self.dataset.y_train[idx]

    def train_client(self, client_id: int, round_index: int,
                     weights: Sequence[np.ndarray] | None = None, max_steps: int | None = None) -> ClientResult:
        """Step 2: one client trains from ``weights`` (default: the current global model);
        ``max_steps`` caps its local steps further (a straggler's partial work)."""
        X, y = self.client_data(client_id)
        c = self.config
        correction = (unflatten_weights(self.server_control - self.client_controls[client_id],
                                        self.global_weights) if c.scaffold else None)
        return client_update(self.trainer, self.global_weights if weights is None else weights, X, y,
                             epochs=c.local_epochs, batch_size=c.batch_size,
                             max_steps=_smaller(c.local_steps, max_steps),
                             client_learning_rate=c.client_learning_rate,
                             client_momentum=c.client_momentum, mu=c.mu, correction=correction,
                             seed=c.seed, round_index=round_index, client_id=int(client_id))

    def local_batch_sizes(self, client_id: int) -> np.ndarray:
        """The sizes of the mini-batches client ``client_id`` runs in a round (after the step cap)."""
        sizes = batch_plan(len(self.partitions[client_id]), self.config.local_epochs, self.config.batch_size)[1]
        return sizes if self.config.local_steps is None else sizes[:self.config.local_steps]

    def plan_devices(self, round_index: int, clients: np.ndarray):
        """Which sampled clients deliver, with what step caps, in how many simulated seconds."""
        c = self.config
        copies = 2 if c.scaffold else 1
        model_bytes = copies * self.n_parameters * BYTES_PER_PARAMETER
        return plan_round(self.device_profiles, clients,
                          batch_sizes={int(k): self.local_batch_sizes(int(k)) for k in clients},
                          model_bytes=model_bytes, upload_bytes=model_bytes, deadline=c.deadline,
                          policy=c.straggler_policy, seed=c.seed, round_index=round_index)

    def update_controls(self, results: Sequence[ClientResult]) -> None:
        """SCAFFOLD, option II: each client's new control variate from its own progress,
        then the server's. With x the global model, y_k the client's own model after K_k
        steps at learning rate eta_l (before any compression of its upload), and p_k the
        client's weight in the objective (``client_weighting``)::

            c_k+ = c_k - c + (x - y_k) / (K_k * eta_l)
            c    = c + sum_k p_k (c_k+ - c_k)               (over the clients of the round)

        so that c = sum_k p_k c_k over all K clients at every round: c estimates the gradient
        of the very objective the average minimises. Karimireddy et al. (Algorithm 1) use the
        uniform objective, p_k = 1/N, for both the average and c; with the default
        ``client_weighting="examples"`` both use p_k = n_k / n instead, as FedAvg does.
        (Mixing the two, n_k/n for the model and 1/N for c, makes SCAFFOLD converge to the
        minimiser of the uniform objective while FedAvg and FedProx chase the weighted one.)
        """
        x = flatten_weights(self.global_weights)
        lr = np.float32(self.config.client_learning_rate)
        p = (self.client_weights / self.client_weights.sum()).astype(np.float32)
        delta_sum = np.zeros_like(self.server_control)
        for res in results:
            k = res.client_id
            new = (self.client_controls[k] - self.server_control
                   + (x - flatten_weights(res.weights)) / (np.float32(res.n_steps) * lr))
            # c = c + sum_k p_k (c_k+ - c_k)
            delta_sum += p[k] * (new - self.client_controls[k])
            self.client_controls[k] = new
        self.server_control += delta_sum

    def aggregate(self, results: Sequence[ClientResult]) -> list[np.ndarray]:
        """Step 4a: the FedAvg average sum_k (n_k/n) w_k of the returned models (with
        ``client_weighting="uniform"``, the plain mean (1/m) sum_k w_k)."""
        return weighted_average([r.weights for r in results], self.client_weights[[r.client_id for r in results]])

    def server_update(self, averaged: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Step 4b: the server optimizer turns the average into the next global model."""
        new = self.server_optimizer.step(flatten_weights(self.global_weights), flatten_weights(averaged))
        return unflatten_weights(new, self.global_weights)

    def evaluate(self, weights: Sequence[np.ndarray] | None = None) -> tuple[float, float]:
        """Test loss and accuracy of ``weights`` (default: the global model)."""
        return self.trainer.evaluate(self.global_weights if weights is None else weights,
                                     self.dataset.X_test, self.dataset.y_test)

    def reset(self) -> None:
        """Back to the initial global model and a fresh server (and compressor) state."""
        self.global_weights = [w.copy() for w in self.initial_weights]
        self.server_optimizer.reset()
        self.compressor.reset()
        # fresh zeros rather than writing zeros: a (K, P) table nobody uses then costs no memory
        self.server_control = np.zeros(self.n_parameters, np.float32)
        self.client_controls = np.zeros((self.config.n_clients, self.n_parameters), np.float32)

    def compress(self, results: Sequence[ClientResult], round_index: int) -> int:
        """Step 3 on a thin link: each client sends its compressed update; the results are
        replaced by what the server decodes. Returns the bytes sent up."""
        if self.config.compression == "none":       # the models travel as they are
            return len(results) * self.n_parameters * BYTES_PER_PARAMETER
        global_vector = flatten_weights(self.global_weights)
        total = 0
        for res in results:
            decoded, n_bytes = self.compressor(flatten_weights(res.weights) - global_vector,
                                               res.client_id, round_index)
            res.weights = unflatten_weights(global_vector + decoded, self.global_weights)
            total += n_bytes
        return total

    # -- one round (steps 1-4), then the loop (step 5) ------------------------------------
    def plan_round(self, round_index: int, clients: Sequence[int] | None = None) -> RoundPlan:
        """Step 1 on the host: the round's clients, their local step caps, its bytes and its
        simulated seconds (see :mod:`fedlearn_edu.round_plan`). ``clients`` replaces the
        sampling (DP-FedAvg's Poisson sampling)."""
        c = self.config
        sampled = self.sample_clients(round_index) if clients is None else np.asarray(clients, dtype=np.int64)
        local_cap = NO_STEP_CAP if c.local_steps is None else c.local_steps
        caps = np.full(len(sampled), local_cap, dtype=np.int64)
        reached, seconds = len(sampled), None
        if self.device_profiles is not None:
            devices = self.plan_devices(round_index, sampled)
            caps = np.array([_smaller(local_cap, devices.max_steps[int(k)]) if int(k) in devices.max_steps else 0
                             for k in sampled], dtype=np.int64)
            reached, seconds = len(sampled) - len(devices.dropped_out), devices.seconds
        model_bytes = self.n_parameters * BYTES_PER_PARAMETER
        copies = 2 if c.scaffold else 1        # SCAFFOLD also sends c down and delta c_k up
        upload = self.compressor.bytes_per_upload(self.n_parameters) + (copies - 1) * model_bytes
        return RoundPlan(round_index=round_index, sampled=sampled, step_caps=caps, reached=reached,
                         bytes_down=copies * reached * model_bytes, bytes_up=int(np.count_nonzero(caps)) * upload,
                         simulated_seconds=seconds)

    def run_round(self, round_index: int, *, clients: Sequence[int] | None = None,
                  transform_updates: Callable | None = None, aggregate: Callable | None = None) -> RoundOutcome:
        """Steps 1-4 of one round on the per-client engine, and the new global model.

        The one round body: :meth:`run`, the step-by-step widget, DP-FedAvg
        (:func:`fedlearn_edu.privacy.run_dp_fedavg`) and the poisoning runs all call it.
        Plan (sample, devices) -> ``train_client`` -> SCAFFOLD's controls -> ``compress`` ->
        ``aggregate`` -> ``server_update`` -> ``evaluate``; the new model becomes the global
        one unless it is NaN or infinite (then ``outcome.diverged``).

        Hooks, in the style of a Flower Strategy (with either, the clients' updates
        w_k - w_global are combined in float64):

        clients : ids to train instead of sampling them (DP-FedAvg's Poisson sampling)
        transform_updates : f(updates (n, P), clients (n,), round_index) -> updates (n, P),
            changes what the clients send (a poisoning attacker)
        aggregate : f(updates (n, P), weights (n,) u_k) -> (P,), the combined update instead
            of FedAvg's weighted mean (robust rules; DP's clipping and noise); it is called
            even when no client delivered
        """
        plan = self.plan_round(round_index, clients)
        previous = [w.copy() for w in self.global_weights]
        results = [self.train_client(int(k), round_index, max_steps=plan.step_cap(int(k))) for k in plan.clients]
        failed = [res.client_id for res in results
                  if not (np.isfinite(res.loss) and all(np.all(np.isfinite(w)) for w in res.weights))]
        averaged = new_weights = None
        if not failed:
            if self.config.scaffold and results:
                self.update_controls(results)    # from the clients' own models, before compression
            self.compress(results, round_index)
            if transform_updates is not None or aggregate is not None:
                averaged = self._combine_updates(results, round_index, transform_updates, aggregate)
            elif results:
                averaged = self.aggregate(results)
            # nobody delivered (and no hook to call): the global model stays
            new_weights = previous if averaged is None else self.server_update(averaged)
        finite = new_weights is not None and all(np.all(np.isfinite(w)) for w in new_weights)
        loss, accuracy = self.evaluate(new_weights) if finite else (float("nan"), float("nan"))
        diverged = not np.isfinite(loss)
        if not diverged:
            self.global_weights = [w.copy() for w in new_weights]
        return RoundOutcome(plan=plan, results=results, averaged=averaged, previous_weights=previous,
                            new_weights=new_weights, loss=loss, accuracy=accuracy, failed_clients=failed,
                            message=divergence_message(self.config, failed) if diverged else "")

    def _combine_updates(self, results, round_index, transform_updates, aggregate) -> list[np.ndarray]:
        """The hooks' path of :meth:`run_round`: global + combine(transform(w_k - global))."""
        start = flatten_weights(self.global_weights).astype(np.float64)
        updates = np.asarray([flatten_weights(res.weights) - start for res in results]).reshape(-1, start.size)
        ids = np.array([res.client_id for res in results], dtype=np.int64)
        if transform_updates is not None:
            updates = transform_updates(updates, ids, round_index)
        weights = self.client_weights[ids]
        # Delta = sum_k (u_k / sum_j u_j) Delta_k, unless the hook combines them otherwise
        combined = (aggregate(updates, weights) if aggregate is not None
                    else weights @ updates / weights.sum())
        return unflatten_weights(start + combined, self.global_weights)

    def run(self, callback: Callable[["History"], None] | None = None, progress="auto",
            client_metrics: bool = False) -> History:
        """Run all rounds from the initial model and return the :class:`History`.

        Parameters
        ----------
        callback : called with the History so far after every round (for live plots)
        progress : True, False or "auto" (a tqdm bar only when stderr is a terminal)
        client_metrics : also record each client's local loss and accuracy per round
        """
        if self.engine == "vectorized":
            return self._run_vectorized(callback, client_metrics)
        self.reset()
        history = self._new_history("per_client", *self.evaluate()[::-1], client_metrics)
        plans, rows = [], {"accuracy": [], "loss": [], "wall_time": []}
        bar = _progress_bar(self.config.rounds, progress)
        for r in range(self.config.rounds):
            t0 = time.perf_counter()
            outcome = self.run_round(r)
            if outcome.diverged:
                history.diverged_at, history.message = r + 1, outcome.message
                break
            plans.append(outcome.plan)
            rows["accuracy"].append(outcome.accuracy)
            rows["loss"].append(outcome.loss)
            rows["wall_time"].append(time.perf_counter() - t0)
            if client_metrics:
                history.client_metrics.append(_client_metrics(outcome.results))
            _fill(history, rows, plans, self.global_weights)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(accuracy=f"{outcome.accuracy:.3f}")
            if callback is not None:
                callback(history)
        if bar is not None:
            bar.close()
        _fill(history, rows, plans, self.global_weights)
        if not history.diverged:
            history.message = tr("completed {rounds} rounds").format(rounds=history.rounds_completed)
        return history

    def _new_history(self, engine: str, initial_accuracy: float, initial_loss: float,
                     client_metrics: bool) -> History:
        """An empty History of this experiment (rounds are filled in as they complete)."""
        return History(
            config=self.config, engine=engine, accuracy=np.zeros(0), loss=np.zeros(0),
            initial_accuracy=float(initial_accuracy), initial_loss=float(initial_loss), participants=[],
            bytes_down=np.zeros(0, dtype=np.int64), bytes_up=np.zeros(0, dtype=np.int64),
            wall_time=np.zeros(0), diverged_at=None, message="", final_weights=self.global_weights,
            client_sizes=self.client_sizes, label_counts=self.label_counts,
            client_metrics=[] if client_metrics else None)

    def _rounding_draws(self, plans: Sequence[RoundPlan], participants: np.ndarray) -> np.ndarray:
        """The Compressor's uniform draws for every (round, slot): (R, m, P) float64, or an
        empty array when nothing is quantised."""
        if self.config.compression not in ("int8", "int4"):
            return np.zeros((0, 0, 0))
        return np.stack([np.stack([self.compressor.rounding_draws(int(k), plan.round_index, self.n_parameters)
                                   for k in row]) for plan, row in zip(plans, participants, strict=True)])

    def batch_member(self, plans: Sequence[RoundPlan], stop_accuracy: float | None = None) -> BatchMember:
        """This experiment as one member of a vectorised batch (see
        :func:`fedlearn_edu.vectorized.run_batch`), from the host's ``plans`` of its rounds.
        ``stop_accuracy``: stop after the first round whose test accuracy reaches it."""
        c = self.config
        if self._graph_inputs is None:          # what stays the same from run to run: built once
            self._graph_inputs = padded_client_index(self.partitions)
        index, sizes = self._graph_inputs
        stop = NEVER if stop_accuracy is None else float(stop_accuracy) - ACCURACY_TOLERANCE
        knobs = experiment_knobs(c, server_learning_rate=self.server_optimizer.server_learning_rate,
                                 topk_k=self.compressor.topk_count(self.n_parameters),
                                 n_train=self.dataset.X_train.shape[0], stop_accuracy=stop)
        participants, step_caps = padded_rounds(plans, c.n_clients)
        return BatchMember(client_index=index, client_size=sizes, client_weight=self.client_weights.astype(np.float32),
                           initial_weights=tuple(self.initial_weights), participants=participants,
                           step_caps=step_caps, rounding_draws=self._rounding_draws(plans, participants), knobs=knobs)

    def history_from_batch(self, answer: dict, plans: Sequence[RoundPlan], seconds_per_round: float,
                           client_metrics: bool = False) -> History:
        """The :class:`History` of this experiment from its answer in a vectorised batch
        (one dict of :func:`fedlearn_edu.vectorized.split_outputs`); sets the global model."""
        c = self.config
        rounds_run, diverged = answer["rounds_run"], answer["diverged"]
        done = rounds_run - 1 if diverged else rounds_run
        self.global_weights = [np.array(w) for w in answer["final"]]
        history = self._new_history("vectorized", answer["initial_accuracy"], answer["initial_loss"], False)
        rows = {"accuracy": answer["accuracy"][:done], "loss": answer["loss"][:done],
                "wall_time": np.full(done, seconds_per_round)}
        _fill(history, rows, plans[:done], self.global_weights)
        if diverged:
            history.diverged_at, history.message = rounds_run, divergence_message(c, [])
        elif done < c.rounds:
            history.message = tr("stopped after {done} of {rounds} rounds: the accuracy to stop at was reached").format(
                done=done, rounds=c.rounds)
        else:
            history.message = tr("completed {rounds} rounds").format(rounds=done)
        if client_metrics:
            cl, ca = answer["client_loss"], answer["client_accuracy"]
            history.client_metrics = [
                {"ids": plan.clients, "n_examples": self.client_sizes[plan.clients],
                 "loss": cl[r][:len(plan.sampled)][plan.arrived].astype(np.float64),
                 "accuracy": ca[r][:len(plan.sampled)][plan.arrived].astype(np.float64)}
                for r, plan in enumerate(plans[:done])]
        return history

    def _run_vectorized(self, callback, client_metrics: bool) -> History:
        """All rounds in one compiled call (see :mod:`fedlearn_edu.vectorized`): the host plans
        every round first (it does not depend on training), the graph trains them all."""
        self.reset()
        plans = [self.plan_round(r) for r in range(self.config.rounds)]
        t0 = time.perf_counter()
        answer = run_batch(self.architecture, self.dataset, [self.batch_member(plans)],
                           record_client_metrics=client_metrics)[0]
        elapsed = time.perf_counter() - t0
        history = self.history_from_batch(answer, plans, elapsed / max(answer["rounds_run"], 1), client_metrics)
        if callback is not None:
            for r in range(1, history.rounds_completed + 1):
                callback(_truncated(history, r))
        return history


@dataclass
class RoundOutcome:
    """What :meth:`Simulation.run_round` did in one round.

    Attributes
    ----------
    plan : RoundPlan, who was sampled, who delivered, the bytes (step 1)
    results : list of ClientResult of the delivering clients, as the server decoded them (steps 2-3)
    averaged : list of ndarray or None, the combined model before the server step (step 4)
    previous_weights, new_weights : the global model before and after (new_weights None when a
        client failed)
    loss, accuracy : float, the new global model on the test set (NaN when it diverged)
    failed_clients : ids whose update was NaN or infinite
    message : str, why the round diverged ("" when it did not)
    """

    plan: RoundPlan
    results: list
    averaged: list | None
    previous_weights: list
    new_weights: list | None
    loss: float
    accuracy: float
    failed_clients: list
    message: str

    @property
    def diverged(self) -> bool:
        return not np.isfinite(self.loss)


def divergence_message(config: FLConfig, failed_clients: Sequence[int]) -> str:
    """Why a run stopped, and what to try (both engines say it the same way)."""
    where = (tr("client(s) {clients} produced NaN or infinite values").format(clients=list(failed_clients)[:5])
             if len(failed_clients) else tr("the global model became NaN or infinite"))
    return where + tr("; try a smaller client_learning_rate (now {rate}) or server_learning_rate").format(
        rate=f"{config.client_learning_rate:g}")


def _client_metrics(results: Sequence[ClientResult]) -> dict:
    """One round's per-client local metrics, as History.client_metrics stores them."""
    return {"ids": np.array([res.client_id for res in results], dtype=np.int64),
            "n_examples": np.array([res.n_examples for res in results]),
            "loss": np.array([res.loss for res in results]),
            "accuracy": np.array([res.accuracy for res in results])}


def first_round_reaching(accuracy: Sequence[float], target: float) -> int | None:
    """First round (1-based) whose test accuracy is >= ``target``, or None if none is.

    Accuracies within :data:`ACCURACY_TOLERANCE` below the target count as reached: they
    are computed in float32, where 342/360 = 0.95 is stored as 0.94999999.

    Parameters
    ----------
    accuracy : test accuracy after rounds 1, 2, ..., shape (R,)
    target : float in [0, 1]
    """
    target = check_float("target", target, low=0.0, high=1.0)
    acc = np.asarray(accuracy, dtype=np.float64)
    if acc.ndim != 1:
        raise ValueError(f"accuracy must be a 1-D sequence (one value per round), got shape {acc.shape}")
    hits = np.flatnonzero(acc >= target - ACCURACY_TOLERANCE)
    return int(hits[0]) + 1 if hits.size else None


def client_partitions(config: FLConfig, dataset: Dataset) -> list[np.ndarray]:
    """The K index arrays into ``dataset.X_train`` that ``config`` gives its clients
    (what :class:`Simulation` trains on, and what a Flower node is handed)."""
    return make_partition(dataset.y_train, config.n_clients, config.partition, alpha=config.alpha,
                          shards_per_client=config.shards_per_client, min_size=config.min_size,
                          seed=config.seed)


def _truncated(history: History, rounds: int) -> History:
    """The History as it stood after ``rounds`` rounds (for callbacks of the vectorised engine)."""
    return dataclasses.replace(
        history, accuracy=history.accuracy[:rounds], loss=history.loss[:rounds],
        participants=history.participants[:rounds], bytes_down=history.bytes_down[:rounds],
        bytes_up=history.bytes_up[:rounds], wall_time=history.wall_time[:rounds],
        diverged_at=history.diverged_at if rounds == history.rounds_completed else None,
        client_metrics=None if history.client_metrics is None else history.client_metrics[:rounds])


def _smaller(a: int | None, b: int | None) -> int | None:
    """The smaller of two optional caps (None means no cap)."""
    return b if a is None else a if b is None else min(a, b)


def _fill(history: History, rows: dict, plans: Sequence[RoundPlan], weights) -> None:
    """Write the completed rounds into ``history``: measured rows, planned bytes and seconds."""
    history.accuracy = np.asarray(rows["accuracy"], dtype=np.float64)
    history.loss = np.asarray(rows["loss"], dtype=np.float64)
    history.wall_time = np.asarray(rows["wall_time"], dtype=np.float64)
    history.participants = [plan.clients for plan in plans]
    history.bytes_down = np.array([plan.bytes_down for plan in plans], dtype=np.int64)
    history.bytes_up = np.array([plan.bytes_up for plan in plans], dtype=np.int64)
    if plans and plans[0].simulated_seconds is not None:
        history.simulated_seconds = np.array([plan.simulated_seconds for plan in plans], dtype=np.float64)
    history.final_weights = [w.copy() for w in weights]


def _progress_bar(total: int, progress):
    if progress == "auto":
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="rounds", unit="round", leave=False)


def run_experiment(config: FLConfig | None = None, *, dataset: Dataset | None = None,
                   model: keras.Model | None = None, callback: Callable[[History], None] | None = None,
                   progress="auto", client_metrics: bool = False, **overrides) -> History:
    """Run a whole federated experiment and return its :class:`History`.

    Parameters
    ----------
    config : FLConfig, optional (defaults: the article's data, 10 IID clients, 20 rounds, FedAvg)
    dataset : Dataset, optional, instead of ``config.dataset``
    model : keras.Model, optional, instead of the config's MLP
    callback : called with the History after every round
    progress : True, False or "auto"
    client_metrics : record per-client local metrics every round
    **overrides : FLConfig fields to change, e.g. ``run_experiment(n_clients=50, alpha=0.1)``

    A diverging run does not raise: ``history.diverged_at`` names the round.
    """
    config = (config or FLConfig()).replace(**overrides) if overrides else (config or FLConfig())
    return Simulation(config, dataset=dataset, model=model).run(
        callback=callback, progress=progress, client_metrics=client_metrics)
