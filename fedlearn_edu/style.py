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

__all__ = ["CJK_FONTS", "OKABE_ITO", "RC", "apply_style", "available_cjk_fonts", "pyplot", "use_cjk_fonts"]

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


#: fonts with Chinese glyphs, in the order the kit prefers them (Linux, Adobe, macOS, Windows, older Linux)
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "SimHei",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")


def available_cjk_fonts() -> list[str]:
    """The fonts of :data:`CJK_FONTS` that matplotlib finds on this machine, in that order."""
    from matplotlib import font_manager
    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = [name for name in CJK_FONTS if name in installed]
    if not found and not _rescanned:          # a font installed after matplotlib cached its font list
        _rescanned.append(True)
        try:
            font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        except Exception:                     # a private helper of matplotlib: without it, keep the cached list
            return []
        return available_cjk_fonts()
    return found


_rescanned: list = []


def use_cjk_fonts() -> bool:
    """Put the installed CJK fonts behind the kit's Latin font: matplotlib (3.6+) takes each glyph from the
    first font of ``font.family`` that has it, so Latin letters, Greek symbols and digits look as before
    and Chinese characters come from the CJK font. Returns whether any CJK font was found."""
    import matplotlib as mpl
    found = available_cjk_fonts()
    if found:
        pyplot()
        families = [name for name in mpl.rcParams["font.sans-serif"] if name not in CJK_FONTS]
        mpl.rcParams["font.sans-serif"] = families[:1] + found + families[1:]
        # the fallback runs over font.family's concrete names (a generic "sans-serif" resolves to one font)
        mpl.rcParams["font.family"] = families[:1] + found
    return bool(found)
