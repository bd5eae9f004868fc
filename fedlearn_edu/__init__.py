"""fedlearn_edu: a Jupyter-first teaching kit for federated learning.

Import it before TensorFlow: it sets ``TF_CPP_MIN_LOG_LEVEL=3`` and
``TF_ENABLE_ONEDNN_OPTS=0`` first, so no TensorFlow log lines reach a notebook.

One concept per module: :mod:`~fedlearn_edu.data`, :mod:`~fedlearn_edu.partition`,
:mod:`~fedlearn_edu.model`, :mod:`~fedlearn_edu.client`, :mod:`~fedlearn_edu.aggregate`,
:mod:`~fedlearn_edu.server`, :mod:`~fedlearn_edu.simulation`, :mod:`~fedlearn_edu.batch` (sweeps in one
compiled call), :mod:`~fedlearn_edu.plots`.
The challenges: :mod:`~fedlearn_edu.compression`, :mod:`~fedlearn_edu.devices`,
:mod:`~fedlearn_edu.paper` (McMahan et al. 2017 reproduced). Imported on demand (they need
the extras): :mod:`~fedlearn_edu.privacy`, :mod:`~fedlearn_edu.secure_aggregation`,
:mod:`~fedlearn_edu.poisoning` (``[privacy]``) and :mod:`~fedlearn_edu.flower` (``[flower]``).
"""
from . import _tf  # noqa: F401  (must come first: silences TensorFlow)

from .aggregate import (coordinate_median, fedavg_coefficients, seed_formula, trimmed_mean,
                        unweighted_average, weighted_average)
from .client import ClientResult, LocalTrainer, batch_plan, client_update
from .data import (DATASETS, Dataset, article_make_classification, cached_dataset, load_breast_cancer_dataset,
                   load_dataset, load_digits_dataset, make_seed_arrays, make_seed_dataset,
                   split_and_standardise)
from .model import (build_article_model, build_model, count_parameters, flatten_weights,
                    get_weights, set_weights, unflatten_weights)
from .partition import (PARTITIONS, dirichlet_partition, iid_partition, label_distribution,
                        make_partition, non_iid_score, quantity_skew_partition, shard_partition)
from .server import (SERVER_OPTIMIZERS, FedAdagradServer, FedAdamServer, FedAvgMServer,
                     FedAvgServer, FedYogiServer, make_server_optimizer)
from .simulation import FLConfig, History, RoundOutcome, Simulation, divergence_message, run_experiment
from .round_plan import RoundPlan
from .batch import run_experiments
from .algorithms import ALGORITHMS, Algorithm, algorithm_changes, algorithm_config
from .utils import MissingExtra, print_versions, require_extra, set_seed, versions
from .claims import check
from .i18n import LANGUAGES, get_language, set_language, tr
from . import algorithms, baselines, exercises, plots, widgets  # noqa: F401  (fl.widgets.*, fl.exercises.*, ...)

__version__ = "0.1.0"

#: what ``from fedlearn_edu import *`` brings: functions and classes only, never a module name
#: such as ``data``, ``model`` or ``client`` that would overwrite a student's variable
__all__ = [
    # data and partitions
    "DATASETS", "Dataset", "article_make_classification", "cached_dataset", "load_breast_cancer_dataset",
    "load_dataset",
    "load_digits_dataset", "make_seed_arrays", "make_seed_dataset", "split_and_standardise",
    "PARTITIONS", "dirichlet_partition", "iid_partition", "label_distribution", "make_partition",
    "non_iid_score", "quantity_skew_partition", "shard_partition",
    # model and local training (steps 1-3)
    "build_article_model", "build_model", "count_parameters", "flatten_weights", "get_weights", "set_weights",
    "unflatten_weights", "ClientResult", "LocalTrainer", "batch_plan", "client_update",
    # aggregation and the server (step 4)
    "coordinate_median", "fedavg_coefficients", "seed_formula", "trimmed_mean", "unweighted_average",
    "weighted_average", "SERVER_OPTIMIZERS", "FedAdagradServer", "FedAdamServer", "FedAvgMServer",
    "FedAvgServer", "FedYogiServer", "make_server_optimizer",
    # one round (steps 1-4), the loop (step 5) and the algorithms it runs
    "FLConfig", "History", "RoundOutcome", "RoundPlan", "Simulation", "divergence_message", "run_experiment",
    "run_experiments", "ALGORITHMS", "Algorithm", "algorithm_changes", "algorithm_config",
    # a notebook's claims, checked where the student reads them
    "check",
    # the language the kit speaks (English, 简体中文)
    "LANGUAGES", "get_language", "set_language", "tr",
    # the environment
    "MissingExtra", "print_versions", "require_extra", "set_seed", "versions",
]
