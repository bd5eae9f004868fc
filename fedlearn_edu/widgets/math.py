"""Notebook 05 (the math): the article's section 3.3 formula against FedSGD, FedAvg and FedAvgM.

The article writes::

    theta_t     = alpha * sum_i (1 / n_i) * grad L_i(theta_{t-1})
    theta_{t+1} = beta * theta_t + (1 - beta) * theta_t

:func:`fedlearn_edu.aggregate.seed_formula` implements it literally. This module
supplies what the notebook feeds it -- real per-client gradients of the article's
model on real client data -- and the slider callback that runs the literal formula
next to FedAvgM (server momentum beta), the most likely intent of the article's beta.

Gradients use the FedSGD identity: one full-batch local step with learning rate 1
(E = 1, B = inf) moves a client from theta to theta - grad L_k(theta), so

    grad L_k(theta) = theta - client_update(theta, lr=1, E=1, B=None)

which is computed by the same compiled local trainer the engine uses.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .._tf import tf
from .._validate import check_float, check_int, check_positive, check_seed
from ..aggregate import fedavg_coefficients, seed_formula
from ..batch import run_experiments
from ..client import LocalTrainer, client_update, cross_entropy
from ..data import cached_dataset
from ..i18n import N_, tr, tr_figure
from ..model import build_model, flatten_weights, set_weights, unflatten_weights
from ..simulation import FLConfig, Simulation
from ..style import pyplot

__all__ = ["client_gradients", "tape_gradient", "formula_weights", "literal_formula_run",
           "FormulaComparison", "compute_formula_comparison", "PRESETS", "show_formula_comparison"]


# -- gradients ---------------------------------------------------------------------------
def client_gradients(simulation: Simulation, weights: Sequence[np.ndarray],
                     trainer: LocalTrainer | None = None) -> np.ndarray:
    """Full-batch gradient of every client's mean loss at ``weights``, by the FedSGD identity.

    Parameters
    ----------
    simulation : Simulation, supplies the clients' data (``client_data``) and, by default, the trainer
    weights : list of ndarray, the model theta at which the gradients are taken
    trainer : LocalTrainer for the same architecture, optional (reuse one to avoid a new trace)

    Returns
    -------
    ndarray, shape (K, P) float64: row k is grad L_k(theta), flattened like
    :func:`fedlearn_edu.model.flatten_weights`.
    """
    trainer = trainer or simulation.trainer
    theta = flatten_weights(weights).astype(np.float64)
    rows = []
    for k in range(simulation.config.n_clients):
        X, y = simulation.client_data(k)
        stepped = client_update(trainer, weights, X, y, epochs=1, batch_size=None,
                                client_learning_rate=1.0, client_id=k)
        rows.append(theta - flatten_weights(stepped.weights).astype(np.float64))
    return np.asarray(rows)


def tape_gradient(model, weights: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reference gradient of the mean cross-entropy with ``tf.GradientTape``.

    Parameters
    ----------
    model : keras.Model whose trainable weights are overwritten with ``weights``
    weights : list of ndarray
    X : ndarray (n, n_features); y : ndarray (n,)

    Returns
    -------
    ndarray (P,) float64, the flattened gradient.
    """
    set_weights(model, weights)
    with tf.GradientTape() as tape:
        loss = cross_entropy(tf.constant(y, tf.int64), model(tf.constant(X, tf.float32), training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    return flatten_weights([g.numpy() for g in grads]).astype(np.float64)


def formula_weights(n_examples: Sequence[int]) -> dict[str, np.ndarray]:
    """How much each client's mean gradient g_i counts: the article's formula against FedAvg's n_i/n.

    The article writes sum_i (1/n_i) grad L_i and does not say what L_i is. Its two readings:

    * L_i a *mean* loss, grad L_i = g_i: client i is weighted by 1/n_i, normalised the share
      ``(1/n_i) / sum_j (1/n_j)`` ("article"): the smallest client counts most;
    * L_i a *sum* over the client's examples, grad L_i = n_i g_i: (1/n_i) grad L_i = g_i and
      every client counts 1/N ("article_sum"): not inverted, but still not FedAvg.

    FedAvg (and FedSGD) weight g_i by the data share ``n_i / n`` ("fedavg").

    Returns
    -------
    dict with "article", "article_sum" and "fedavg", each ndarray (K,) summing to 1.
    """
    fedavg = fedavg_coefficients(n_examples)
    inverse = 1.0 / np.asarray(n_examples, dtype=np.float64)
    return {"article": inverse / inverse.sum(), "article_sum": np.full(len(fedavg), 1.0 / len(fedavg)),
            "fedavg": fedavg}


# -- the literal formula, iterated ---------------------------------------------------------
def literal_formula_run(simulation: Simulation, alpha: float, beta: float, rounds: int,
                        trainer: LocalTrainer | None = None) -> dict[str, np.ndarray]:
    """Iterate the article's formula from the initial model, evaluating every "model" it gives.

    theta_0 is the simulation's initial model; round t computes the clients' gradients
    at theta_{t-1}, then ``theta_{t+1}`` of :func:`fedlearn_edu.aggregate.seed_formula`,
    and uses it as the next global model.

    Returns
    -------
    dict: "accuracy", "loss" ndarray (rounds + 1,) on the test set (index 0 is theta_0),
    "norm" ndarray (rounds + 1,), the Euclidean norm of each theta.
    """
    alpha = check_positive("alpha", alpha)
    beta = check_float("beta", beta, low=0.0, high=1.0)
    rounds = check_int("rounds", rounds, minimum=1)
    trainer = trainer or simulation.trainer
    weights = [w.copy() for w in simulation.initial_weights]
    test = (simulation.dataset.X_test, simulation.dataset.y_test)
    accuracy, loss, norm = [], [], []
    for t in range(rounds + 1):
        if t > 0:
            gradients = client_gradients(simulation, weights, trainer)
            _, theta_next = seed_formula(flatten_weights(weights), gradients, simulation.client_sizes,
                                         alpha=alpha, beta=beta)
            weights = unflatten_weights(theta_next, weights)
        test_loss, test_accuracy = trainer.evaluate(weights, *test)
        accuracy.append(test_accuracy)
        loss.append(test_loss)
        norm.append(float(np.linalg.norm(flatten_weights(weights))))
    return {"accuracy": np.asarray(accuracy), "loss": np.asarray(loss), "norm": np.asarray(norm)}


# -- the slider callback -------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _trainer(n_features: int, n_classes: int, hidden_units: tuple) -> LocalTrainer:
    """One compiled trainer per architecture, reused by every slider move (no new trace)."""
    return LocalTrainer(build_model(n_features, n_classes, hidden_units))


@dataclass
class FormulaComparison:
    """What :func:`compute_formula_comparison` measured.

    Attributes
    ----------
    rounds : ndarray (R + 1,), 0..R
    literal_accuracy : ndarray (R + 1,), test accuracy of the article's formula, iterated
    literal_accuracy_beta0 : ndarray (R + 1,), the same with beta = 0 (identical: beta does nothing)
    fedavg_accuracy : ndarray (R + 1,), FedAvg (FedAvgM with beta = 0), client learning rate alpha
    fedavgm_accuracy : ndarray (R + 1,), FedAvgM with server momentum beta
    fedavgm_diverged : bool
    client_sizes : ndarray (K,), n_k
    article_weights, fedavg_weights : ndarray (K,), each client's share under 1/n_i and n_i/n
    chance : float, 1 / n_classes
    """

    rounds: np.ndarray
    literal_accuracy: np.ndarray
    literal_accuracy_beta0: np.ndarray
    fedavg_accuracy: np.ndarray
    fedavgm_accuracy: np.ndarray
    fedavgm_diverged: bool
    client_sizes: np.ndarray
    article_weights: np.ndarray
    fedavg_weights: np.ndarray
    chance: float

    @property
    def beta_changes_literal(self) -> bool:
        """False: the article's second line makes beta irrelevant."""
        return not np.array_equal(self.literal_accuracy, self.literal_accuracy_beta0)

    @property
    def smallest_client(self) -> int:
        return int(np.argmin(self.client_sizes))


def _curve(history) -> np.ndarray:
    """Initial accuracy then one value per round; NaN after a divergence."""
    values = np.full(history.config.rounds + 1, np.nan)
    values[0] = history.initial_accuracy
    values[1:1 + history.rounds_completed] = history.accuracy
    return values


def compute_formula_comparison(n_clients: int = 10, learning_rate: float = 0.03, beta: float = 0.9,
                               rounds: int = 10, partition: str = "quantity", alpha: float = 0.5,
                               dataset: str = "article", seed: int = 0, *, server_learning_rate: float = 1.0,
                               local_epochs: int = 1, batch_size: int | None = 32) -> FormulaComparison:
    """Run the article's formula and FedAvgM with the same alpha (learning rate) and beta.

    Parameters
    ----------
    n_clients : int >= 1, N, the number of edge devices
    learning_rate : float > 0, the article's alpha; FedAvg/FedAvgM use it as the client learning rate
    beta : float in [0, 1), the article's "decay rate"; FedAvgM uses it as server momentum
    rounds : int >= 1
    partition, alpha : how the data is split (default: quantity skew, Dir(0.5) client sizes)
    dataset : one of the kit's data sets
    seed : int >= 0
    server_learning_rate : float > 0, η_g of FedAvg and FedAvgM (w_{t+1} = w_t - η_g v_t)
    local_epochs, batch_size : E and B of FedAvg and FedAvgM (B = None or math.inf: full batch; E = 1 and
        B = ∞ is FedSGD); the article's formula takes one full gradient per client whatever they are

    Returns
    -------
    FormulaComparison (no drawing).
    """
    n_clients = check_int("n_clients", n_clients, minimum=1)
    learning_rate = check_positive("learning_rate", learning_rate)
    beta = check_float("beta", beta, low=0.0, high=1.0, high_inclusive=False)
    rounds = check_int("rounds", rounds, minimum=1)
    seed = check_seed("seed", seed)
    data = cached_dataset(dataset)
    config = FLConfig(n_clients=n_clients, rounds=rounds, partition=partition, alpha=alpha,
                      client_learning_rate=learning_rate, server_optimizer="fedavgm",
                      server_momentum=beta, dataset=dataset, seed=seed, local_epochs=local_epochs,
                      batch_size=batch_size,
                      server_learning_rate=check_positive("server_learning_rate", server_learning_rate))
    simulation = Simulation(config, dataset=data)
    trainer = _trainer(data.n_features, data.n_classes, config.hidden_units)
    literal = literal_formula_run(simulation, learning_rate, beta, rounds, trainer)
    literal0 = literal_formula_run(simulation, learning_rate, 0.0, rounds, trainer)
    fedavgm, fedavg = run_experiments([config, config.replace(server_momentum=0.0)], dataset=data, progress=False)
    shares = formula_weights(simulation.client_sizes)
    return FormulaComparison(
        rounds=np.arange(rounds + 1), literal_accuracy=literal["accuracy"],
        literal_accuracy_beta0=literal0["accuracy"], fedavg_accuracy=_curve(fedavg),
        fedavgm_accuracy=_curve(fedavgm), fedavgm_diverged=fedavgm.diverged,
        client_sizes=simulation.client_sizes.copy(), article_weights=shares["article"],
        fedavg_weights=shares["fedavg"], chance=1.0 / data.n_classes)


#: classroom presets of notebook 05's panel (each changes only what it names)
PRESETS: dict[str, dict] = {
    N_("FedSGD: E = 1, B = ∞"): dict(local_epochs=1, batch_size=float("inf")),
    N_("more local work: E = 5"): dict(local_epochs=5),
    N_("no momentum: β = 0"): dict(beta=0.0),
    N_("too much momentum: β = 0.9 at η_l = 0.1"): dict(beta=0.9, learning_rate=0.1),
    N_("a half server step: η_g = 0.5"): dict(server_learning_rate=0.5),
    N_("the article's α near 1"): dict(learning_rate=1.0),
}


def show_formula_comparison(n_clients: int = 10, learning_rate: float = 0.03, beta: float = 0.9, *,
                            server_learning_rate: float = 1.0, local_epochs: int = 1, batch_size: int | None = 32,
                            **kwargs) -> FormulaComparison:
    """Slider callback: compute, print three lines, draw accuracy curves and client weights.

    Parameters as :func:`compute_formula_comparison` (K, the article's α used as η_l, β, η_g, E, B)."""
    plt = pyplot()
    result = compute_formula_comparison(n_clients, learning_rate, beta, server_learning_rate=server_learning_rate,
                                        local_epochs=local_epochs, batch_size=batch_size, **kwargs)
    s = result.smallest_client
    print(tr("article's formula (its α = η_l = {rate}, β = {beta}): final accuracy {accuracy} (chance {chance}); "
             "same curve with beta=0: {same}").format(
        rate=f"{learning_rate:.3g}", beta=f"{beta:.2f}", accuracy=f"{result.literal_accuracy[-1]:.3f}",
        chance=f"{result.chance:.3f}", same=not result.beta_changes_literal))
    fedavgm = (tr("diverged") if result.fedavgm_diverged
               else tr("final accuracy {accuracy}").format(accuracy=f"{result.fedavgm_accuracy[-1]:.3f}"))
    batch = "∞" if batch_size in (None, float("inf")) else batch_size
    print(f"FedAvgM (η_l = {learning_rate:.3g}, β = {beta:.2f}, η_g = {server_learning_rate:.3g}, E = {local_epochs}, "
          f"B = {batch}){tr(': ')}{fedavgm}; FedAvg (beta=0){tr(': ')}{result.fedavg_accuracy[-1]:.3f}")
    print(tr("smallest client holds {share} of the data; the article's 1/n_i gives it {say} of the say").format(
        share=f"{result.fedavg_weights[s]:.3f}", say=f"{result.article_weights[s]:.3f}"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    left.plot(result.rounds, result.literal_accuracy, marker="o", markersize=3, label=tr_figure("article's formula"))
    left.plot(result.rounds, result.fedavg_accuracy, marker="o", markersize=3, label="FedAvg (β=0)")
    left.plot(result.rounds, result.fedavgm_accuracy, marker="o", markersize=3, label=f"FedAvgM (β={beta:.2f})")
    left.axhline(result.chance, color="gray", linestyle=":", linewidth=1, label=tr_figure("chance"))
    left.set(xlabel=tr_figure("round"), ylabel=tr_figure("test accuracy"), ylim=(0, 1),
             title=tr_figure("the formula against FedAvg(M)"))
    left.legend()
    left.grid(alpha=0.3)
    clients = np.arange(len(result.client_sizes))
    right.bar(clients - 0.2, result.fedavg_weights, width=0.4, label="n_i / n (FedAvg)")
    right.bar(clients + 0.2, result.article_weights, width=0.4, label=tr_figure("1/n_i (article)"))
    right.set(xlabel=tr_figure("client"), ylabel=tr_figure("share of the say"), title=tr_figure("each client's say"))
    right.legend()
    plt.show()
    return result
