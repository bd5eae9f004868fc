"""Sliders for the notebooks, and the plain functions they call.

Every interactive figure in the notebooks is ``interact(callback, ...)`` or explicit
widgets plus an ``Output``, where ``callback`` is a plain function defined in this
package (one module per notebook topic) that returns its numbers, so pytest can
call it over a grid of slider values. Sliders that train use
``continuous_update=False``: the value is taken when the slider is released.
"""
from __future__ import annotations

import ipywidgets as widgets

from ..i18n import N_, tr

__all__ = ["client_slider", "learning_rate_slider", "int_slider", "float_slider", "batch_size_slider",
           "ControlPanel", "log_value_slider", "show_examples_per_client", "ENVIRONMENT_PRESETS"]

_STYLE = {"description_width": "initial"}


def client_slider(value: int = 10, min: int = 1, max: int = 100,
                  description: str = N_("clients K")) -> widgets.IntSlider:
    """Number of clients, released-value only (training follows a change)."""
    return widgets.IntSlider(value=value, min=min, max=max, step=1, description=tr(description),
                             continuous_update=False, style=_STYLE)


def learning_rate_slider(value: float = 0.1, min_exponent: float = -3, max_exponent: float = 1,
                         description: str = N_("client learning rate")) -> widgets.FloatLogSlider:
    """A learning rate on a log scale, 10**min_exponent .. 10**max_exponent."""
    return widgets.FloatLogSlider(value=value, base=10, min=min_exponent, max=max_exponent, step=0.1,
                                  description=tr(description), continuous_update=False, readout_format=".3g",
                                  style=_STYLE)


def int_slider(value: int, min: int, max: int, description: str, step: int = 1) -> widgets.IntSlider:
    """An integer slider that reports only the released value."""
    return widgets.IntSlider(value=value, min=min, max=max, step=step, description=tr(description),
                             continuous_update=False, style=_STYLE)


def float_slider(value: float, min: float, max: float, description: str, step: float = 0.05,
                 readout_format: str = ".2f") -> widgets.FloatSlider:
    """A float slider that reports only the released value."""
    return widgets.FloatSlider(value=value, min=min, max=max, step=step, description=tr(description),
                               continuous_update=False, readout_format=readout_format, style=_STYLE)


def batch_size_slider(value: int | None = 32, sizes: tuple = (1, 2, 4, 8, 16, 32, 64, 128),
                      description: str = N_("batch size B")) -> widgets.SelectionSlider:
    """The local batch size B over ``sizes`` and ∞, one full batch per epoch.

    ∞ is the value ``math.inf`` (a selection cannot hold ``None``); ``FLConfig`` reads it as
    ``batch_size=None``. ``value=None`` selects ∞.
    """
    full = float("inf")       # not math.inf: `math` here is the submodule widgets/math.py
    value = full if value is None else value
    options = [(str(size), size) for size in sorted(set(sizes) | ({value} - {full}))] + [("∞", full)]
    return widgets.SelectionSlider(options=options, value=value, description=tr(description),
                                   continuous_update=False, style=_STYLE)


from .classroom import (  # noqa: E402  (after the sliders it builds on)
    ENVIRONMENT_PRESETS,
    ControlPanel,
    log_value_slider,
    show_examples_per_client,
)
