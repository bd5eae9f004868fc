"""Claims a notebook makes, checked where the student reads them: ``fl.check(...)`` prints one line.

A notebook states a claim ("FedAvg reaches 85% on the article's data") and checks it on the
numbers it just measured. ``assert`` would stop the notebook with a traceback as soon as a
student moves a parameter and the claim no longer holds, which is often the point of moving it.
:func:`check` prints a verdict instead and never raises::

    ✔ FedAvg reaches 85% on the article's data: measured 0.885, expected ≥ 0.85
    ✘ FedAvg reaches 85% on the article's data: measured 0.612, expected ≥ 0.85

On the committed defaults a verdict that flips changes the cell's output, so strict nbval still
catches a regression. Checks that guard only the kit's own correctness belong in ``tests/``.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Callable

import numpy as np

from .exercises import Verdict
from .i18n import tr

__all__ = ["check", "verdict", "format_value"]


def format_value(value: Any) -> str:
    """A short, stable text for a measured or expected value.

    Integers print whole (``1539``), floats with 4 significant digits (``0.8854``), arrays and lists
    element by element (at most 8 shown), strings as they are.
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        value = float(value)
        return str(value) if not math.isfinite(value) else f"{value:.4g}"
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return format_value(value.item())
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [format_value(v) for v in list(value)[:8]]
        return "[" + ", ".join(items) + (", …" if len(value) > 8 else "") + "]"
    return str(value)


def verdict(condition: bool | Callable[[], bool], claim: str, *, measured: Any = None,
            expected: Any = None) -> Verdict:
    """The verdict on ``claim``: passed iff ``condition`` is true; it never raises.

    Parameters
    ----------
    condition : bool, or a function of no arguments returning one
        Whether the claim holds. A function is called inside ``try``: if it raises (a NaN model,
        a shape that changed with a student's parameter), the verdict is ✘ and says why.
    claim : str
        The claim in words, as the student reads it in the prose above.
    measured, expected : optional
        What was measured and what the claim expects (a number, or text such as ``"≥ 0.85"``).

    Returns
    -------
    Verdict
        Truthy iff the claim holds; ``str()`` is the one line.
    """
    try:
        holds = bool(condition() if callable(condition) else condition)
        problem = ""
    except Exception as exc:          # the check must not stop the notebook: say what went wrong
        holds, problem = False, tr("could not be checked ({error})").format(error=f"{type(exc).__name__}: {exc}")
    if isinstance(expected, str):
        expected = tr(expected)       # words such as "increasing", in the kit's language when the catalogue has them
    parts = [part for part in (
        tr("measured {value}").format(value=format_value(measured)) if measured is not None else "",
        tr("expected {value}").format(value=format_value(expected)) if expected is not None else "",
        problem) if part]
    claim = tr(claim)                 # a notebook's claim, in the kit's language when the catalogue has it
    # TRANSLATORS: the claim, then what was measured and expected (full-width colon and comma in Chinese)
    colon, comma = tr(": "), tr(", ")
    return Verdict(holds, claim + colon + comma.join(parts) if parts else claim)


def check(condition: bool | Callable[[], bool], claim: str, *, measured: Any = None, expected: Any = None) -> None:
    """Print the verdict on ``claim`` (one line, ✔ or ✘); never raises. See :func:`verdict`."""
    print(verdict(condition, claim, measured=measured, expected=expected))
