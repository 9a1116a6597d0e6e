"""How the report's figures are drawn: a matplotlib (Agg) figure, its ``data:`` URI (SVG,
text as paths, ids salted, so the same figure gives the same bytes), colours, markers, error
bars, and labels placed beside their points without covering one another.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np

from experiments.studies.report.groups import Stat

MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")


def new_figure(w: float, h: float, ncols: int = 1, nrows: int = 1):
    """(figure, axes): a ``w`` x ``h`` [in] figure at 100 dpi with constrained layout and
    ``nrows`` x ``ncols`` gridded axes, row by row."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(nrows * ncols)]
    for ax in axes:
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig, axes


def svg_uri(fig) -> str:
    """The figure as a ``data:image/svg+xml`` URI; text drawn as paths, ids salted so the same
    figure gives the same bytes."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "storetwin-report", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def colors(n: int) -> list:
    """``n`` distinguishable colours (tab10, tab20 past ten)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def errorbar(ax, x, stats: list[Stat], scale: float = 100.0, **kw) -> None:
    """Points at each stat's mean with bars from its lo to its hi, all times ``scale`` (a bar
    that misses its mean, as a pooled interval may by a hair, is cut at the mean)."""
    y = np.array([s.mean for s in stats]) * scale
    lo = np.array([s.lo for s in stats]) * scale
    hi = np.array([s.hi for s in stats]) * scale
    err = np.clip(np.vstack([y - lo, hi - y]), 0.0, None)
    ax.errorbar(x, y, yerr=err, capsize=3, **kw)


def usd_formatter():
    """Axis ticks as whole US dollars."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"${v:,.0f}")


# ---------------------------------------------------------------------------------------------
# labels that do not overlap

#: where a label may stand from its point [pt], tried in this order: right, above, below,
#: left and the diagonals, near first
LABEL_OFFSETS: tuple[tuple[float, float], ...] = tuple(
    (d * dx, d * dy) for d in (6.0, 14.0, 26.0)
    for dx, dy in ((1, 0), (1, 1), (1, -1), (0, 1), (0, -1), (-1, 0), (-1, 1), (-1, -1)))

#: the same, above the point first (a label of a mark on a horizontal line)
ABOVE_FIRST: tuple[tuple[float, float], ...] = tuple(
    sorted(LABEL_OFFSETS, key=lambda o: (o[1] <= 0, abs(o[0]) + abs(o[1]))))


def _overlaps(a, b) -> bool:
    """Two display boxes share area (touching edges do not)."""
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def place_labels(ax, xy: Sequence[tuple[float, float]], texts: Sequence[str],
                 avoid: Sequence[tuple[float, float]] = (), clear_pt: float = 4.0,
                 offsets: Sequence[tuple[float, float]] = LABEL_OFFSETS,
                 **text_kw) -> tuple[list, list[int]]:
    """Label point ``xy[i]`` (data coordinates) with ``texts[i]`` where the label overlaps
    no label placed before it, no point of ``xy`` or ``avoid`` (each a square of half side
    ``clear_pt`` [pt]), no legend, and stays inside the axes: the first of ``offsets``
    [pt] (default :data:`LABEL_OFFSETS`) that fits, in the order given (deterministic). A
    label that fits nowhere is left out. Returns (the placed annotations, the indices left
    out).

    Call it last, when the axes' limits, scales and legend are set: it lays the figure out,
    then freezes that layout (and any legend where it stands) so the labels' boxes, measured
    with the renderer's text extents, stay where they were measured. ``text_kw``: passed to
    ``Axes.annotate`` (fontsize, color, bbox...)."""
    fig = ax.figure
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    taken = []
    for a in fig.axes:       # a legend placed "best" would dodge the labels at saving: pin it
        leg = a.get_legend()
        if leg is not None:
            bb = leg.get_window_extent(renderer)
            taken.append(bb)
            leg.set_bbox_to_anchor(None)     # its corner in the axes' coordinates, as drawn
            leg.set_loc(tuple(a.transAxes.inverted().transform((bb.x0, bb.y0))))
    from matplotlib.transforms import Bbox

    half = clear_pt * fig.dpi / 72.0
    for px, py in ax.transData.transform(np.array([*xy, *avoid], dtype=float).reshape(-1, 2)):
        if np.isfinite(px) and np.isfinite(py):
            taken.append(Bbox([[px - half, py - half], [px + half, py + half]]))
    pad = _bbox_pad(text_kw) * fig.dpi / 72.0
    placed, dropped = [], []
    for i, (p, text) in enumerate(zip(xy, texts, strict=True)):
        ann = ax.annotate(text, p, xytext=(0, 0), textcoords="offset points",
                          annotation_clip=False, **text_kw)
        for dx, dy in offsets:
            ann.set_position((dx, dy))
            ann.set_horizontalalignment("left" if dx > 0 else "right" if dx < 0 else "center")
            ann.set_verticalalignment("bottom" if dy > 0 else "top" if dy < 0 else "center")
            box = ann.get_window_extent(renderer).padded(pad)
            if (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0
                    and box.y1 <= inside.y1 and not any(_overlaps(box, t) for t in taken)):
                taken.append(box)
                placed.append(ann)
                break
        else:
            ann.remove()
            dropped.append(i)
    return placed, dropped


def _bbox_pad(text_kw: dict) -> float:
    """How far a label's drawn box reaches past its text [pt]: the box's pad (matplotlib's
    default 0.3 of the font size) where it has one, else 1 pt of air."""
    bbox = text_kw.get("bbox")
    if not bbox:
        return 1.0
    size = float(text_kw.get("fontsize", 10.0))
    style = str(bbox.get("boxstyle", "square"))
    frac = float(style.split("pad=")[1].split(",")[0]) if "pad=" in style else 0.3
    return frac * size + 1.0
