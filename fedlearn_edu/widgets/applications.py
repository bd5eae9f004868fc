"""Notebook 08 (FAQ and applications): hospitals sharing a model, and what an update reveals.

The article's FAQ (section 6) names medical diagnosis as an application. Here the
Wisconsin breast-cancer data is split across a few "hospitals" (a cross-silo
federation) and three ways of learning are compared on one held-out test set:

* each hospital **alone**, training only on its own patients;
* **FedAvg** across the hospitals (the patients' records stay where they are);
* **pooling** every record in one place (what privacy rules usually forbid).

:func:`~fedlearn_edu.privacy.reconstruct_single_example` (re-exported here) backs the notebook's correction
of the article's
claim that federated learning "improves data security": an update computed from one
example gives that example back exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_int, check_positive, check_seed
from ..baselines import train_centralised
from ..data import Dataset, cached_dataset
from ..i18n import N_, tr, tr_figure
from ..partition import non_iid_score
from ..privacy import reconstruct_single_example  # noqa: F401  (moved to fedlearn_edu.privacy; re-exported for notebook 08)
from ..simulation import FLConfig, History, Simulation
from ..style import pyplot

__all__ = ["hospital_datasets", "HospitalStudy", "compute_hospital_study", "show_hospital_study",
           "reconstruct_single_example", "PRESETS", "HOSPITAL_PARTITIONS"]

HOSPITAL_PARTITIONS = ("dirichlet", "quantity", "iid")

#: presets of notebook 08's hospital panel (each starts from the notebook's settings and changes what it names)
PRESETS: dict[str, dict] = {
    N_("IID hospitals"): dict(partition="iid"),
    N_("very different hospitals: α_D = 0.1"): dict(alpha=0.1),
    N_("many small, very different hospitals: K = 20, α_D = 0.1"): dict(n_hospitals=20, alpha=0.1),
    N_("sizes differ, same mix of diagnoses"): dict(partition="quantity"),
    N_("too-large learning rate: η_l = 10"): dict(client_learning_rate=10.0),
    N_("too-small learning rate: η_l = 0.01"): dict(client_learning_rate=0.01),
    N_("another seed: 1"): dict(seed=1),
}


def hospital_datasets(simulation: Simulation) -> list[Dataset]:
    """One Dataset per client of ``simulation``: its own training rows, the shared test set.

    Parameters
    ----------
    simulation : Simulation whose partition says which training rows each hospital holds

    Returns
    -------
    list of K Dataset; hospital k has ``X_train`` of shape (n_k, n_features) and the
    simulation's full ``X_test``/``y_test``, so that every model is judged on the same patients.
    """
    d = simulation.dataset
    hospitals = []
    for k in range(simulation.config.n_clients):
        X, y = simulation.client_data(k)
        hospitals.append(Dataset(X_train=X, y_train=y, X_test=d.X_test, y_test=d.y_test,
                                 n_classes=d.n_classes, name=f"{d.name}, hospital {k}",
                                 class_names=d.class_names))
    return hospitals


@dataclass
class HospitalStudy:
    """What :func:`compute_hospital_study` measured (all accuracies on the same test set).

    Attributes
    ----------
    hospital_sizes : ndarray (H,), patients per hospital
    label_counts : ndarray (H, n_classes), patients per hospital and diagnosis
    lone_accuracy : ndarray (H,), each hospital trained on its own patients only
    fedavg_accuracy : float, FedAvg across the hospitals
    pooled_accuracy : float, one model trained on all patients pooled
    fedavg_history, pooled_history : History of the two runs
    non_iid : float, :func:`fedlearn_edu.partition.non_iid_score` of the split
    class_names : tuple of str
    """

    hospital_sizes: np.ndarray
    label_counts: np.ndarray
    lone_accuracy: np.ndarray
    fedavg_accuracy: float
    pooled_accuracy: float
    fedavg_history: History
    pooled_history: History
    non_iid: float
    class_names: tuple

    @property
    def mean_lone_accuracy(self) -> float:
        """The average hospital's accuracy when it trains alone."""
        return float(np.mean(self.lone_accuracy))

    @property
    def worst_lone_accuracy(self) -> float:
        return float(np.min(self.lone_accuracy))

    def __repr__(self) -> str:
        return "HospitalStudy(" + tr("{hospitals} hospitals: alone {alone} on average, FedAvg {fedavg}, "
                                     "pooled {pooled}").format(
            hospitals=len(self.hospital_sizes), alone=f"{self.mean_lone_accuracy:.3f}",
            fedavg=f"{self.fedavg_accuracy:.3f}", pooled=f"{self.pooled_accuracy:.3f}") + ")"


def compute_hospital_study(n_hospitals: int = 5, client_learning_rate: float = 0.1, alpha: float = 0.5,
                           partition: str = "dirichlet", rounds: int = 20, seed: int = 0,
                           dataset: str = "breast_cancer") -> HospitalStudy:
    """Alone, federated, pooled: the article's medical example, measured.

    Every model gets the same amount of local training: ``rounds`` epochs for a lone
    hospital and for the pooled model, ``rounds`` FedAvg rounds of one local epoch
    each (batch size 32, same learning rate) for the federation.

    Parameters
    ----------
    n_hospitals : int, 1..40, the number of hospitals (clients)
    client_learning_rate : float > 0, local SGD learning rate (also used alone and pooled)
    alpha : float > 0, Dirichlet concentration: label skew for "dirichlet", size skew for "quantity"
    partition : "dirichlet" (label skew), "quantity" (size skew) or "iid"
    rounds : int >= 1
    seed : int >= 0
    dataset : a kit data set name (default the breast-cancer data)

    Returns
    -------
    HospitalStudy (no drawing).
    """
    n_hospitals = check_int("n_hospitals", n_hospitals, minimum=1, maximum=40)
    client_learning_rate = check_positive("client_learning_rate", client_learning_rate)
    alpha = check_positive("alpha", alpha)
    check_choice("partition", partition, HOSPITAL_PARTITIONS)
    rounds = check_int("rounds", rounds, minimum=1)
    seed = check_seed("seed", seed)
    data = cached_dataset(dataset)
    config = FLConfig(n_clients=n_hospitals, rounds=rounds, partition=partition, alpha=alpha,
                      client_learning_rate=client_learning_rate, dataset=dataset, seed=seed)
    federation = Simulation(config, dataset=data)
    fedavg = federation.run(progress=False)
    lone = [train_centralised(hospital, epochs=rounds, learning_rate=client_learning_rate, seed=seed)
            for hospital in hospital_datasets(federation)]
    pooled = train_centralised(data, epochs=rounds, learning_rate=client_learning_rate, seed=seed)
    return HospitalStudy(
        hospital_sizes=federation.client_sizes.copy(), label_counts=federation.label_counts.copy(),
        lone_accuracy=np.array([h.final_accuracy for h in lone]),
        fedavg_accuracy=fedavg.final_accuracy, pooled_accuracy=pooled.final_accuracy,
        fedavg_history=fedavg, pooled_history=pooled,
        non_iid=non_iid_score(federation.label_counts), class_names=data.class_names)


def show_hospital_study(n_hospitals: int = 5, client_learning_rate: float = 0.1, alpha: float = 0.5,
                        **kwargs) -> HospitalStudy:
    """Slider callback: compute, print two lines, draw each hospital alone against FedAvg and pooling."""
    plt = pyplot()
    study = compute_hospital_study(n_hospitals, client_learning_rate, alpha, **kwargs)
    print(tr("{hospitals} hospitals, sizes {sizes}, non-IID score {score}").format(
        hospitals=n_hospitals, sizes=study.hospital_sizes.tolist(), score=f"{study.non_iid:.3f}"))
    print(tr("alone: {alone} on average (worst {worst}); FedAvg: {fedavg}; pooled: {pooled}").format(
        alone=f"{study.mean_lone_accuracy:.3f}", worst=f"{study.worst_lone_accuracy:.3f}",
        fedavg=f"{study.fedavg_accuracy:.3f}", pooled=f"{study.pooled_accuracy:.3f}"))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    hospitals = np.arange(n_hospitals)
    ax.bar(hospitals, study.lone_accuracy, color="lightgray", edgecolor="gray", label=tr_figure("hospital alone"))
    ax.axhline(study.fedavg_accuracy, color="C0", linewidth=2, label=tr_figure("FedAvg across hospitals"))
    ax.axhline(study.pooled_accuracy, color="C2", linestyle="--", label=tr_figure("all records pooled"))
    ax.set_xticks(hospitals, [f"{k}\n" + "/".join(str(c) for c in study.label_counts[k]) for k in hospitals],
                  fontsize=7 if n_hospitals <= 8 else 5)
    ax.set(xlabel=tr_figure("hospital, and its patients per class ({classes})").format(
               classes="/".join(tr_figure(name) for name in study.class_names)),
           ylabel=tr_figure("test accuracy"), ylim=(0, 1.25), yticks=np.linspace(0, 1, 6))
    ax.set_title(tr_figure("{hospitals} hospitals: alone, FedAvg, pooled").format(hospitals=n_hospitals))
    ax.legend(loc="upper center", ncol=3, frameon=False)
    plt.show()
    return study
