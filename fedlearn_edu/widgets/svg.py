"""A tiny SVG chart writer for the live dashboard.

Rendering a four-panel matplotlib figure to PNG costs a large share of a slider's time
budget on every redraw; writing the same panels as SVG text is much cheaper and the
browser draws them at once (benchmarks/ measure both). Static figures in the notebooks
stay matplotlib PNGs.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

PALETTE = ("#1f77b4", "#7f7f7f", "#ff7f0e", "#2ca02c", "#d62728")


def _nice_ticks(low: float, high: float, count: int = 5) -> np.ndarray:
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** np.floor(np.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = np.ceil(low / step - 1e-9) * step
    return np.arange(start, high + step * 1e-6, step)


def _fmt(value: float) -> str:
    value = 0.0 if abs(value) < 1e-12 else value
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 and abs(value) >= 1 else f"{value:.3g}"


@dataclass
class Panel:
    """One chart: a plot area at (x, y) of size (w, h) in the SVG, with data limits."""

    x: float
    y: float
    w: float
    h: float
    xlim: tuple
    ylim: tuple
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    parts: list = field(default_factory=list)
    legend: list = field(default_factory=list)

    def px(self, xs) -> np.ndarray:
        x0, x1 = self.xlim
        return self.x + (np.asarray(xs, dtype=float) - x0) / ((x1 - x0) or 1.0) * self.w

    def py(self, ys) -> np.ndarray:
        y0, y1 = self.ylim
        span = abs(y1 - y0)
        values = np.clip(np.asarray(ys, dtype=float), min(y0, y1) - span, max(y0, y1) + span)
        return self.y + self.h - (values - y0) / ((y1 - y0) or 1.0) * self.h

    def line(self, xs, ys, color: str, label: str | None = None, dash: str | None = None, dots: bool = False):
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        keep = np.isfinite(ys)
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(self.px(xs[keep]), self.py(ys[keep]), strict=True))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.8"{style}/>')
        if dots:
            self.parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2" fill="{color}"/>'
                           for a, b in zip(self.px(xs[keep]), self.py(ys[keep]), strict=True)]
        if label:
            self.legend.append((label, color, dash))

    def hline(self, y: float, color: str, label: str | None = None, dash: str = "3,3"):
        self.line(self.xlim, [y, y], color, label, dash)

    def vline(self, x: float, color: str, label: str | None = None):
        px = float(self.px([x])[0])
        self.parts.append(f'<line x1="{px:.1f}" y1="{self.y:.1f}" x2="{px:.1f}" y2="{self.y + self.h:.1f}" '
                          f'stroke="{color}" stroke-width="1.5"/>')
        if label:
            self.legend.append((label, color, None))

    def bars(self, edges, heights, color: str):
        base = float(self.py([self.ylim[0]])[0])
        for left, right, height in zip(edges[:-1], edges[1:], heights, strict=True):
            if height <= 0:
                continue
            x0, x1 = self.px([left, right])
            top = float(self.py([height])[0])
            self.parts.append(f'<rect x="{x0 + 0.5:.1f}" y="{top:.1f}" width="{max(x1 - x0 - 1, 0.5):.1f}" '
                              f'height="{base - top:.1f}" fill="{color}"/>')

    def heatmap(self, values: np.ndarray):
        """values (rows along y, columns along x) in [0, 1]."""
        n_rows, n_cols = values.shape
        cell_w, cell_h = self.w / n_cols, self.h / n_rows
        for (r, c), v in np.ndenumerate(values):
            shade = int(round(255 - 200 * float(v)))
            self.parts.append(f'<rect x="{self.x + c * cell_w:.1f}" y="{self.y + r * cell_h:.1f}" '
                              f'width="{cell_w + 0.2:.1f}" height="{cell_h + 0.2:.1f}" '
                              f'fill="rgb({shade},{min(255, shade + 20)},255)"/>')

    def render(self, xticks=None, yticks=None) -> str:
        out = [f'<rect x="{self.x}" y="{self.y}" width="{self.w}" height="{self.h}" fill="white" stroke="#444"/>']
        out += self.parts
        for t, label in _ticks(self.xlim, xticks):
            px = float(self.px([t])[0])
            out.append(f'<line x1="{px:.1f}" y1="{self.y + self.h}" x2="{px:.1f}" y2="{self.y + self.h + 4}" '
                       f'stroke="#444"/>'
                       f'<text x="{px:.1f}" y="{self.y + self.h + 15}" text-anchor="middle">{label}</text>')
        for t, label in _ticks(self.ylim, yticks):
            py = float(self.py([t])[0])
            out.append(f'<line x1="{self.x - 4}" y1="{py:.1f}" x2="{self.x}" y2="{py:.1f}" stroke="#444"/>'
                       f'<text x="{self.x - 6}" y="{py + 4:.1f}" text-anchor="end">{label}</text>')
        out.append(f'<text x="{self.x + self.w / 2}" y="{self.y - 7}" text-anchor="middle" font-weight="bold">'
                   f'{html.escape(self.title)}</text>')
        out.append(f'<text x="{self.x + self.w / 2}" y="{self.y + self.h + 30}" text-anchor="middle">'
                   f'{html.escape(self.xlabel)}</text>')
        out.append(f'<text transform="translate({self.x - 36},{self.y + self.h / 2}) rotate(-90)" '
                   f'text-anchor="middle">{html.escape(self.ylabel)}</text>')
        for i, (label, color, dash) in enumerate(self.legend):
            ly = self.y + self.h - 10 - 13 * (len(self.legend) - 1 - i)
            lx = self.x + self.w - 150
            style = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{color}" '
                       f'stroke-width="2"{style}/>'
                       f'<text x="{lx + 22}" y="{ly}">{html.escape(label)}</text>')
        return "".join(out)


def _ticks(limits, ticks):
    """(value, label) pairs inside the limits; ``ticks`` may give values or (value, label) pairs."""
    low, high = min(limits), max(limits)
    ticks = _nice_ticks(low, high) if ticks is None else ticks
    pairs = [t if isinstance(t, tuple) else (float(t), _fmt(float(t))) for t in ticks]
    return [(v, html.escape(str(label))) for v, label in pairs if low - 1e-9 <= v <= high + 1e-9]


def svg_document(width: int, height: int, panels_svg: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" class="fl-lab-figure">'
            + "".join(panels_svg) + "</svg>")
