"""Seeding, the environment report printed by every notebook's set-up cell, and the check
that a notebook's optional extra is installed."""
from __future__ import annotations

import importlib.util
import platform
import random
import sys
from pathlib import Path

import numpy as np

from ._tf import tf
from ._validate import check_choice, check_seed

#: the kit's optional extras (pyproject.toml) and the modules each one brings
EXTRAS = {
    "notebooks": ("jupyterlab",),
    "privacy": ("dp_accounting", "cryptography"),       # notebook 09
    "flower": ("flwr", "ray", "cryptography"),           # notebook 10
}


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


class MissingExtra(ImportError):
    """An optional part of the kit is not installed. Its message is the one line that says
    how to install it; in a notebook it is shown without a traceback."""

    def _render_traceback_(self) -> list[str]:      # IPython prints these lines instead of a traceback
        return [f"{type(self).__name__}: {self}"]


def install_command(extra: str) -> str:
    """The command that installs the kit's ``extra`` into the running Python's environment."""
    extra = check_choice("extra", extra, EXTRAS)
    source = Path(__file__).resolve().parents[1]
    target = f'-e "{source}[{extra}]"' if (source / "pyproject.toml").is_file() else f'"fedlearn_edu[{extra}]"'
    return f'"{sys.executable}" -m pip install {target}'


def require_extra(extra: str) -> None:
    """Raise :class:`MissingExtra` with a one-line install hint unless ``extra`` is installed.

    Called in the set-up cell of the notebooks that need an extra (09: "privacy", 10: "flower").
    """
    extra = check_choice("extra", extra, EXTRAS)
    missing = [module for module in EXTRAS[extra] if importlib.util.find_spec(module) is None]
    if missing == ["ray"] and sys.platform == "win32" and sys.version_info >= (3, 13):
        raise MissingExtra("Flower's simulation engine needs Ray, which Flower does not install on Windows with "
                           "Python 3.13; use Python 3.10-3.12 for this notebook")
    if missing:
        raise MissingExtra(f"this needs the kit's [{extra}] extra ({', '.join(missing)} not installed); "
                           f"install it with: {install_command(extra)}")
