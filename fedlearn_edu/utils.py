"""Seeding and the environment report printed by every notebook's set-up cell."""
from __future__ import annotations

import platform
import random

import numpy as np

from ._tf import tf
from ._validate import check_seed


def set_seed(seed: int = 42) -> int:
    """Seed Python, NumPy, TensorFlow and Keras in one call; returns the seed.

    The kit's own randomness (split, partition, initial weights, client sampling,
    batch order) is derived from explicit seeds and does not depend on this call;
    it is there for the student's own experiments in a notebook.
    """
    seed = check_seed("seed", seed)
    import keras
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    return seed


def versions() -> dict[str, str]:
    """Versions of Python and of the kit's main dependencies."""
    import ipywidgets
    import keras
    import matplotlib
    import sklearn
    from . import __version__
    return {"python": platform.python_version(), "fedlearn_edu": __version__,
            "tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "matplotlib": matplotlib.__version__,
            "ipywidgets": ipywidgets.__version__}


def print_versions() -> None:
    """Print the versions a notebook ran with (the last line of every set-up cell)."""
    print(" | ".join(f"{name} {version}" for name, version in versions().items()))
