"""The kit's one plotting style: readable on a projector, safe for colour-blind readers.

Every figure of the package gets pyplot from :func:`pyplot`, which applies :data:`RC` once:
fonts of at least 11 pt, 100 dpi, and the Okabe-Ito palette (Okabe and Ito 2008, *Color
Universal Design*), whose eight colours stay distinct under the common colour-vision
deficiencies. ``"C0"``, ``"C1"``, ... in the kit's figures are these colours, in this order.

Figures are laid out by matplotlib's constrained layout while they are drawn, so a figure is
drawn once: no ``tight_layout()`` pass before, and (in Jupyter) no second, ``bbox_inches="tight"``
pass of the inline backend after. A slider's figure then appears in about half the time.
"""
from __future__ import annotations

__all__ = ["OKABE_ITO", "RC", "apply_style", "pyplot"]

#: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow, black
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: the rcParams the kit's figures use
RC = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 11, "ytick.labelsize": 11,
    "legend.fontsize": 11, "figure.titlesize": 13, "figure.dpi": 100, "savefig.dpi": 100,
    "axes.grid": False, "lines.linewidth": 2.0, "figure.constrained_layout.use": True,
}


def apply_style() -> None:
    """Set :data:`RC` and the Okabe-Ito colour cycle in matplotlib's rcParams (for your own figures too)."""
    import matplotlib as mpl
    from cycler import cycler
    mpl.rcParams.update(RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))
    _inline_without_second_pass()


def _inline_without_second_pass() -> None:
    """In a Jupyter kernel, let the inline backend save figures as laid out (constrained layout
    already fits every label) instead of measuring them again for ``bbox_inches="tight"``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and "IPKernelApp" in getattr(shell, "config", {}):
        shell.run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None}")


_applied = False


def pyplot():
    """``matplotlib.pyplot``, with the kit's style applied the first time."""
    global _applied
    import matplotlib.pyplot as plt
    if not _applied:
        apply_style()
        _applied = True
    return plt
