"""The algorithms the kit compares, by name: what each changes in an :class:`FLConfig`.

Every algorithm here is FedAvg's round with some fields changed (the round itself is
:meth:`fedlearn_edu.Simulation.run_round`), so one registry serves the lab's menu, the
comparison widgets, their labels and the docs:

>>> from fedlearn_edu.algorithms import algorithm_config
>>> algorithm_config("FedProx", mu=0.1).mu
0.1
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ._validate import check_choice
from .simulation import FLConfig

__all__ = ["ALGORITHMS", "Algorithm", "algorithm_changes", "algorithm_config"]


@dataclass(frozen=True)
class Algorithm:
    """One algorithm as FLConfig changes.

    Attributes
    ----------
    name : str, as labels show it
    description : str, one line for labels and docs (with the paper it comes from)
    changes : dict, the FLConfig fields that turn FedAvg into it, with their default values
    knobs : tuple of str, the fields of ``changes`` a student may set (e.g. FedProx's ``mu``)
    """

    name: str
    description: str
    changes: dict = field(default_factory=dict)
    knobs: tuple = ()


#: name -> Algorithm, in the order menus list them
ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (
    Algorithm("FedSGD", "one full-batch gradient step per client and round, E = 1, B = inf (McMahan et al. 2017)",
              {"local_epochs": 1, "batch_size": None}),
    Algorithm("FedAvg", "E epochs of local SGD, then the average weighted by n_k/n (McMahan et al. 2017)"),
    Algorithm("FedProx", "FedAvg with the proximal term (mu/2)||w - w_global||^2 in every local step (Li et al. 2020)",
              {"mu": 0.01}, ("mu",)),
    Algorithm("FedAvgM", "FedAvg with server momentum beta on the averaged update (Hsu et al. 2019)",
              {"server_optimizer": "fedavgm", "server_momentum": 0.9}, ("server_momentum", "server_learning_rate")),
    Algorithm("FedAdagrad", "Adagrad on the server, fed the averaged update (Reddi et al. 2021)",
              {"server_optimizer": "fedadagrad"}, ("server_learning_rate",)),
    Algorithm("FedAdam", "Adam on the server, fed the averaged update (Reddi et al. 2021)",
              {"server_optimizer": "fedadam"}, ("server_learning_rate",)),
    Algorithm("FedYogi", "Yogi on the server, fed the averaged update (Reddi et al. 2021)",
              {"server_optimizer": "fedyogi"}, ("server_learning_rate",)),
    Algorithm("SCAFFOLD", "control variates correct each client's drift; twice the bytes (Karimireddy et al. 2020)",
              {"scaffold": True}),
)}


def algorithm_changes(name: str, **knobs) -> dict:
    """The FLConfig fields that turn FedAvg into ``name``, with its ``knobs`` set.

    >>> algorithm_changes("FedAvgM", server_momentum=0.5)
    {'server_optimizer': 'fedavgm', 'server_momentum': 0.5}
    """
    algorithm = ALGORITHMS[check_choice("algorithm", name, tuple(ALGORITHMS))]
    unknown = sorted(set(knobs) - set(algorithm.knobs))
    if unknown:
        allowed = ", ".join(algorithm.knobs) or "none"
        raise ValueError(f"{name} has no setting {', '.join(unknown)} (got {knobs}); its settings: {allowed}")
    return {**algorithm.changes, **knobs}


def algorithm_config(name: str, base: FLConfig | None = None, **knobs) -> FLConfig:
    """``base`` (default ``FLConfig()``) turned into the algorithm ``name`` with its ``knobs``."""
    return (base or FLConfig()).replace(**algorithm_changes(name, **knobs))
