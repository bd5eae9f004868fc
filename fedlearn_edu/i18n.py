"""The kit in two languages: English, and Simplified Chinese for the article's own readers.

``fl.set_language("zh")`` (the set-up cell of every notebook in ``notebooks/zh/`` calls it) switches what the
package says: widget labels, presets, check verdicts, exercise hints, summaries, figure labels. Numbers and
symbols stay the same. The strings live in one gettext catalogue,
``fedlearn_edu/locale/zh/LC_MESSAGES/fedlearn_edu.po``, whose ``msgid`` is the English text; the code marks a
user-visible string with :func:`tr` (gettext's ``_``), or :func:`tr_figure` for text drawn in a figure, so
``pybabel extract -k tr -k tr_figure`` (Babel) finds every one of them. ``tests/test_i18n.py`` checks that each
has a current Chinese translation.

Figures need a font with Chinese glyphs: :func:`set_language` puts the CJK fonts it finds
(:data:`fedlearn_edu.style.CJK_FONTS`) behind the kit's Latin font, so matplotlib takes each Chinese glyph from
them. Where none is installed, figure text stays English and one warning line says so: never empty boxes.
"""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

__all__ = ["LANGUAGES", "N_", "catalogue", "get_language", "set_language", "tr", "tr_figure"]

#: the languages the kit speaks: code -> name
LANGUAGES = {"en": "English", "zh": "简体中文"}
#: where the catalogues live: locale/<language>/LC_MESSAGES/fedlearn_edu.po (gettext's layout)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "fedlearn_edu"

_state = {"language": "en", "figures": "en"}


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    """The translations of ``language``: {English msgid: text}; empty for English. Untranslated and fuzzy
    (stale) entries are left out, so they show in English rather than wrong."""
    if language == "en":
        return {}
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as f:
        entries = read_po(f)
    return {m.id: m.string for m in entries if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


def set_language(language: str, *, figures: bool = True) -> None:
    """Speak ``language`` from now on: "en" or "zh".

    For "zh" the kit's figure style also gains the CJK fonts installed here; without any, figure labels
    stay English (one warning line), so nothing renders as empty boxes. ``figures=False`` switches only
    the text and leaves figures English without loading matplotlib (the command line's ``--help``).
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, got {language!r}")
    catalogue(language)                      # a missing or broken catalogue fails here, not mid-figure
    _state["language"] = language
    _state["figures"] = language if figures else "en"
    if not figures or language == "en":
        return
    from .style import use_cjk_fonts

    if not use_cjk_fonts():
        _state["figures"] = "en"
        warnings.warn("no font with Chinese glyphs was found (install Noto Sans CJK SC, e.g. Debian's "
                      "fonts-noto-cjk): figure labels stay in English", UserWarning, stacklevel=2)


def get_language() -> str:
    """The language the kit speaks now ("en" unless :func:`set_language` changed it)."""
    return _state["language"]


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it yet (gettext's ``N_``): a default value
    or a table key, translated with :func:`tr` where it is shown."""
    return message


def tr(message: str) -> str:
    """``message`` (English) in the kit's language; English where there is no current translation."""
    return catalogue(_state["language"]).get(message, message) if _state["language"] != "en" else message


def tr_figure(message: str) -> str:
    """Like :func:`tr`, for text drawn in a figure: English when no CJK font is installed."""
    return catalogue(_state["figures"]).get(message, message) if _state["figures"] != "en" else message
