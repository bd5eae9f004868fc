"""The kit's one plotting style: readable on a projector, safe for colour-blind readers.

Every figure of the package gets pyplot from :func:`pyplot`, which applies :data:`RC` once:
fonts of at least 11 pt, 100 dpi, and the Okabe-Ito palette (Okabe and Ito 2008, *Color
Universal Design*), whose eight colours stay distinct under the common colour-vision
deficiencies. ``"C0"``, ``"C1"``, ... in the kit's figures are these colours, in this order.
"""
from __future__ import annotations

__all__ = ["OKABE_ITO", "RC", "apply_style", "pyplot"]

#: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow, black
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: the rcParams the kit's figures use
RC = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 11, "ytick.labelsize": 11,
    "legend.fontsize": 11, "figure.titlesize": 13, "figure.dpi": 100, "savefig.dpi": 100,
    "axes.grid": False, "lines.linewidth": 2.0,
}


def apply_style() -> None:
    """Set :data:`RC` and the Okabe-Ito colour cycle in matplotlib's rcParams (for your own figures too)."""
    import matplotlib as mpl
    from cycler import cycler
    mpl.rcParams.update(RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))


_applied = False


def pyplot():
    """``matplotlib.pyplot``, with the kit's style applied the first time."""
    global _applied
    import matplotlib.pyplot as plt
    if not _applied:
        apply_style()
        _applied = True
    return plt
