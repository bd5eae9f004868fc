"""Draw the static figures used by the fedlearn_edu notebooks.

Run from anywhere (no network needed):

    python assets/draw_figures.py

It (re)writes two PNG files next to this script:

* ``architecture.png`` - a server and several edge devices exchanging models.
* ``five_steps.png``   - the five-step federated learning protocol (FedAvg).

The output is deterministic: the Agg backend is used, a fixed font is chosen
and the PNG metadata does not embed any software version.
"""

from __future__ import annotations

import os
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402
from matplotlib.path import Path  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DPI = 110

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "mathtext.fontset": "dejavusans",
        "font.size": 10,
        "savefig.facecolor": "white",
    }
)

# Palette (colour-blind friendly, Okabe-Ito inspired)
SERVER_FACE, SERVER_EDGE = "#dbe9f6", "#1f4e79"
DOWN_COLOR = "#0072B2"  # broadcast of the global model
UP_COLOR = "#D55E00"  # model updates sent back
DEVICE_STYLES = {
    "Phone": ("#e8f4ea", "#2e7d32"),
    "Laptop": ("#fdf3e1", "#b26a00"),
    "Hospital": ("#fbe9ec", "#a61b3c"),
}
STEP_FACE, STEP_EDGE = "#f4f6fa", "#33415c"
LOOP_COLOR = "#6a3d9a"


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def rounded_box(ax, x, y, w, h, face, edge, lw=1.6, pad=0.02, zorder=2):
    """Rounded rectangle with lower-left corner (x, y), size (w, h)."""
    box = FancyBboxPatch(
        (x, y),
        w,
        h,
        boxstyle=f"round,pad={pad},rounding_size={min(w, h) * 0.12:.4f}",
        facecolor=face,
        edgecolor=edge,
        linewidth=lw,
        zorder=zorder,
    )
    ax.add_patch(box)
    return box


def arrow(ax, start, end, color, lw=2.0, style="-|>", rad=0.0, zorder=3, ms=14):
    a = FancyArrowPatch(
        start,
        end,
        arrowstyle=style,
        mutation_scale=ms,
        color=color,
        linewidth=lw,
        connectionstyle=f"arc3,rad={rad}",
        shrinkA=0,
        shrinkB=0,
        zorder=zorder,
    )
    ax.add_patch(a)
    return a


def check_fits(fig, pairs, name):
    """Warn if a text artist sticks out of the box patch it belongs to."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bad = []
    for text, patch in pairs:
        tb = text.get_window_extent(renderer)
        pb = patch.get_window_extent(renderer)
        if (
            tb.x0 < pb.x0
            or tb.x1 > pb.x1
            or tb.y0 < pb.y0
            or tb.y1 > pb.y1
        ):
            bad.append(text.get_text())
    for t in bad:
        print(f"warning [{name}]: text does not fit its box: {t!r}", file=sys.stderr)
    return not bad


def save(fig, filename):
    path = os.path.join(HERE, filename)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path) / 1024:.1f} KB)")
    return path


# --------------------------------------------------------------------------- #
# figure 1: architecture
# --------------------------------------------------------------------------- #
def draw_architecture():
    fig = plt.figure(figsize=(8, 5))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 8)
    ax.set_ylim(0, 5)
    ax.set_axis_off()

    pairs = []

    # ---- server ------------------------------------------------------------ #
    sw, sh = 3.0, 0.85
    sx, sy = 4 - sw / 2, 3.85
    srv = rounded_box(ax, sx, sy, sw, sh, SERVER_FACE, SERVER_EDGE, lw=2.0)
    t = ax.text(
        4,
        sy + sh * 0.64,
        "Server",
        ha="center",
        va="center",
        fontsize=12.5,
        fontweight="bold",
        color=SERVER_EDGE,
        zorder=4,
    )
    pairs.append((t, srv))
    t = ax.text(
        4,
        sy + sh * 0.28,
        r"global model $w_t$",
        ha="center",
        va="center",
        fontsize=11,
        color="#222222",
        zorder=4,
    )
    pairs.append((t, srv))

    # ---- clients ----------------------------------------------------------- #
    clients = ["Phone", "Laptop", "Hospital", "Phone", "Laptop"]
    n = len(clients)
    cw, ch = 1.34, 1.18
    gap = (8 - 0.3 - n * cw) / (n - 1)
    cy = 0.42
    centers = []
    for k, kind in enumerate(clients, start=1):
        cx = 0.15 + (k - 1) * (cw + gap)
        face, edge = DEVICE_STYLES[kind]
        box = rounded_box(ax, cx, cy, cw, ch, face, edge)
        mid = cx + cw / 2
        centers.append(mid)
        t = ax.text(
            mid,
            cy + ch * 0.80,
            f"Client {k}",
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color=edge,
            zorder=4,
        )
        pairs.append((t, box))
        t = ax.text(
            mid,
            cy + ch * 0.56,
            kind,
            ha="center",
            va="center",
            fontsize=9,
            style="italic",
            color=edge,
            zorder=4,
        )
        pairs.append((t, box))
        t = ax.text(
            mid,
            cy + ch * 0.23,
            f"local data $D_{k}$\n$n_{k}$ samples",
            ha="center",
            va="center",
            fontsize=8.8,
            linespacing=1.35,
            color="#222222",
            zorder=4,
        )
        pairs.append((t, box))

    # ---- arrows ------------------------------------------------------------ #
    top_y = cy + ch + 0.06  # just above the client boxes
    bot_y = sy - 0.06  # just below the server box
    off = 0.09  # horizontal offset between the down and up arrow of a pair
    for mid in centers:
        # anchor points on the server spread along its bottom edge
        sxm = 4 + (mid - 4) * 0.55
        arrow(ax, (sxm - off, bot_y), (mid - off, top_y), DOWN_COLOR, lw=1.8)
        arrow(ax, (mid + off, top_y), (sxm + off, bot_y), UP_COLOR, lw=1.8)

    # ---- arrow key: one label per direction, beside the server ------------- #
    key_y = sy + sh / 2
    # broadcast (left of the server)
    arrow(ax, (0.32, key_y + 0.22), (0.32, key_y - 0.22), DOWN_COLOR, lw=1.8)
    ax.text(
        0.5,
        key_y,
        r"$w_t$ (broadcast)",
        ha="left",
        va="center",
        fontsize=11,
        color=DOWN_COLOR,
        zorder=5,
    )
    # update (right of the server)
    ux = sx + sw + 0.32
    arrow(ax, (ux, key_y - 0.22), (ux, key_y + 0.22), UP_COLOR, lw=1.8)
    ax.text(
        ux + 0.18,
        key_y,
        r"$w_k^{t+1}$ (model update;" "\nraw data never leave)",
        ha="left",
        va="center",
        fontsize=10.5,
        linespacing=1.35,
        color=UP_COLOR,
        zorder=5,
    )

    ax.text(
        4,
        0.12,
        "Only model parameters travel over the network; each client's data stay on the device.",
        ha="center",
        va="center",
        fontsize=9,
        color="#555555",
        style="italic",
    )

    check_fits(fig, pairs, "architecture")
    return save(fig, "architecture.png")


# --------------------------------------------------------------------------- #
# figure 2: the five steps
# --------------------------------------------------------------------------- #
STEPS = [
    "Server initialises\nthe global model\nand sends it to\nthe clients",
    "Each client trains\non its local data\n"
    r"($E$ epochs, batch $B$," "\n" r"learning rate $\eta_l$)",
    "Clients send their\nupdated models\nback to the server",
    None,  # step 4 (formula) is laid out separately, see draw_five_steps
    "Repeat steps 2–4\nuntil convergence",
]


def draw_five_steps():
    W, H = 10.0, 3.7
    fig = plt.figure(figsize=(W, H))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, W)
    ax.set_ylim(0, H)
    ax.set_axis_off()

    ax.text(
        W / 2,
        H - 0.28,
        "Federated learning in five steps (FedAvg)",
        ha="center",
        va="center",
        fontsize=13,
        fontweight="bold",
        color="#1b2a41",
    )

    n = len(STEPS)
    bw, bh = 1.62, 1.72
    margin = 0.22
    gap = (W - 2 * margin - n * bw) / (n - 1)
    by = 1.05
    pairs = []
    boxes = []
    for i, label in enumerate(STEPS):
        bx = margin + i * (gap + bw)
        face, edge = STEP_FACE, STEP_EDGE
        if i == 3:  # aggregation step: highlight
            face, edge = "#e6eef8", SERVER_EDGE
        if i == 4:
            face, edge = "#f1ebf7", LOOP_COLOR
        box = rounded_box(ax, bx, by, bw, bh, face, edge, lw=1.6)
        boxes.append((bx, by, bw, bh))

        # step number badge on the top edge
        ax.add_patch(
            Circle(
                (bx + bw / 2, by + bh + 0.02),
                0.19,
                facecolor=edge,
                edgecolor="white",
                linewidth=1.5,
                zorder=5,
            )
        )
        ax.text(
            bx + bw / 2,
            by + bh + 0.02,
            str(i + 1),
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold",
            color="white",
            zorder=6,
        )
        if label is None:  # step 4: caption + display-size formula
            t = ax.text(
                bx + bw / 2,
                by + bh * 0.66,
                "Server aggregates\n(weighted average):",
                ha="center",
                va="center",
                fontsize=9.6,
                linespacing=1.4,
                color="#1b2a41",
                zorder=4,
            )
            pairs.append((t, box))
            t = ax.text(
                bx + bw / 2,
                by + bh * 0.30,
                r"$w_{t+1}=\sum_k \dfrac{n_k}{n}\,w_k^{t+1}$",
                ha="center",
                va="center",
                fontsize=12,
                color="#1b2a41",
                zorder=4,
            )
            pairs.append((t, box))
            continue
        t = ax.text(
            bx + bw / 2,
            by + bh / 2 - 0.06,
            label,
            ha="center",
            va="center",
            fontsize=9.6,
            linespacing=1.4,
            color="#1b2a41",
            zorder=4,
        )
        pairs.append((t, box))

    # straight arrows 1->2->3->4->5
    for i in range(n - 1):
        x0 = boxes[i][0] + bw + 0.05
        x1 = boxes[i + 1][0] - 0.05
        y = by + bh / 2
        arrow(ax, (x0, y), (x1, y), STEP_EDGE, lw=1.8, ms=13)

    # loop arrow from 5 back to 2, running below the boxes
    b2, b5 = boxes[1], boxes[4]
    x5 = b5[0] + bw / 2
    x2 = b2[0] + bw / 2
    ybot = by - 0.06
    ylow = 0.42
    lw = 1.9
    loop = FancyArrowPatch(
        path=Path(
            [(x5, ybot), (x5, ylow), (x2, ylow), (x2, ybot)],
            [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO],
        ),
        arrowstyle="-|>",
        mutation_scale=14,
        color=LOOP_COLOR,
        linewidth=lw,
        joinstyle="round",
        zorder=3,
    )
    ax.add_patch(loop)
    ax.text(
        (x2 + x5) / 2,
        ylow,
        r"next round  $t \leftarrow t+1$",
        ha="center",
        va="center",
        fontsize=10,
        color=LOOP_COLOR,
        fontweight="bold",
        bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="none"),
        zorder=4,
    )

    check_fits(fig, pairs, "five_steps")
    return save(fig, "five_steps.png")


def main():
    draw_architecture()
    draw_five_steps()


if __name__ == "__main__":
    main()
