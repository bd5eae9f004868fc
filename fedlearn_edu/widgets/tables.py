"""Printed tables that stay aligned in both languages.

A Chinese character takes two columns of a monospaced font, so ``f"{text:>10}"`` misaligns a translated
table. These pad by display width (``unicodedata.east_asian_width``); English text comes out exactly as
``format`` pads it, so the English notebooks' outputs do not change.
"""
from __future__ import annotations

import math
import unicodedata
from typing import Sequence

from ..i18n import tr

__all__ = ["columns", "pad", "table_row", "table_header", "never_or", "diverged_row"]


def columns(text: str) -> int:
    """How many columns ``text`` takes in a monospaced font: two for a wide (CJK) character, one for the rest."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, align: str = ">") -> str:
    """``text`` padded with spaces to ``width`` columns, aligned right (">") or left ("<")."""
    fill = " " * max(0, width - columns(text))
    return text + fill if align == "<" else fill + text


def table_row(cells: Sequence[str], widths: Sequence[int], first: str = "<") -> str:
    """One table line: the first cell aligned ``first`` (left by default), the others right, each padded to its
    width in columns."""
    return " ".join([pad(cells[0], widths[0], first)]
                    + [pad(c, w) for c, w in zip(cells[1:], widths[1:], strict=True)])


def table_header(headers: Sequence[tuple[str, str]], widths: Sequence[int], first: str = "<") -> tuple[str, list[int]]:
    """A table's header line and its column widths from (English, shown) column titles: a translated title
    wider than its column widens the column (English keeps its widths, overflow included)."""
    widths = [width if shown == english else max(width, columns(shown))
              for (english, shown), width in zip(headers, widths, strict=True)]
    return table_row([shown for _, shown in headers], widths, first), widths


def never_or(value: float | None, spec: str = ".2f") -> str:
    """``value`` formatted with ``spec``, or "never" for a target never reached: None, or an infinite median."""
    return tr("never") if value is None or math.isinf(value) else format(value, spec)


def diverged_row(name: str, width: int, diverged_at: int) -> str:
    """The table row of a run that diverged."""
    return pad(name, width, "<") + " " + tr("DIVERGED in round {round}: lower the client learning rate").format(
        round=diverged_at)
