"""Floor plans: a store seen from above, drawn with matplotlib's object API and the Agg
renderer (no display, no pyplot, no global backend switch).

What is drawn, bottom to top: the floor inside the outline (lightly shaded: everything not
covered by a fixture is walkable), fixtures filled by kind (:data:`scenes.meshes.KIND_COLORS`),
one short tick per bin column along its shelf face coloured by the SKU of its bottom bin
(:func:`scenes.meshes.sku_colors`), walls (dark, with gaps at the gates), gates (a coloured line
across the opening and a label) and optional camera markers. Every layer is one collection,
so a 50,000-bin supercenter draws in about a second.
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from scenes.meshes import (
    CATEGORY_HUES,
    FLOOR_COLOR,
    KIND_COLORS,
    OTHER_KIND_COLOR,
    fixture_colors,
    sku_colors,
    wall_quads,
)
from scenes.store import Store

WALL_INK = (0.13, 0.13, 0.16)
GATE_COLORS = {"entrance": (0.10, 0.62, 0.25), "exit": (0.84, 0.19, 0.15),
               "both": (0.45, 0.25, 0.70)}
CAMERA_COLOR = (0.85, 0.05, 0.55)
BACKGROUND = (1.0, 1.0, 1.0)


def _c(rgba) -> tuple[float, ...]:
    return tuple(float(v) / 255.0 for v in rgba)


def _bin_ticks(store: Store, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """(c, 2, 2) tick segments [m], ``offset`` metres out from the shelf face into the aisle,
    one per bin column (bins stacked on one face share a tick), and (c, 4) uint8 colours of
    the lowest bin's SKU."""
    bins = store.bins
    n = len(bins)
    if n == 0:
        return np.zeros((0, 2, 2)), np.zeros((0, 4), np.uint8)
    lo, hi, face = bins.lo, bins.hi, bins.face
    along_x = face >= 2
    neg = (face % 2) == 0
    # the face line: x = lo/hi x for -x/+x faces, y = lo/hi y for -y/+y faces
    fixed = np.where(along_x, np.where(neg, lo[:, 1], hi[:, 1]),
                     np.where(neg, lo[:, 0], hi[:, 0]))
    fixed = fixed + np.where(neg, -offset, offset)
    a0 = np.where(along_x, lo[:, 0], lo[:, 1])
    a1 = np.where(along_x, hi[:, 0], hi[:, 1])
    inset = 0.1 * (a1 - a0)
    a0, a1 = a0 + inset, a1 - inset
    seg = np.empty((n, 2, 2))
    seg[:, 0, 0] = np.where(along_x, a0, fixed)
    seg[:, 0, 1] = np.where(along_x, fixed, a0)
    seg[:, 1, 0] = np.where(along_x, a1, fixed)
    seg[:, 1, 1] = np.where(along_x, fixed, a1)
    key = np.round(seg.reshape(n, 4) * 1000.0).astype(np.int64)
    order = np.lexsort((bins.level, key[:, 3], key[:, 2], key[:, 1], key[:, 0]))
    k = key[order]
    first = np.r_[True, np.any(k[1:] != k[:-1], axis=1)]
    pick = order[first]
    return seg[pick], sku_colors(store.catalogue)[bins.sku_index[pick]]


def _draw(ax, store: Store, cameras_xy: np.ndarray | None, pt_per_m: float,
          label_gap: float | None, fontsize: float = 8.0) -> None:
    """Draw the plan layers into ``ax`` (data units: metres). pt_per_m: points per metre;
    label_gap: gate labels this far outside their opening [m], None for no labels;
    fontsize: of the gate labels [pt]."""
    ax.set_facecolor(BACKGROUND)
    ax.add_patch(Polygon(np.asarray(store.outline, np.float64), closed=True,
                         facecolor=_c(FLOOR_COLOR), edgecolor="none", zorder=0))
    if store.fixtures:
        lo, hi = store.fixture_boxes()
        rects = np.stack([lo[:, :2], np.stack([hi[:, 0], lo[:, 1]], axis=1), hi[:, :2],
                          np.stack([lo[:, 0], hi[:, 1]], axis=1)], axis=1)
        fc = fixture_colors(store) / 255.0
        ax.add_collection(PolyCollection(rects, facecolors=fc, edgecolors=fc[:, :3] * 0.6,
                                         linewidths=0.5, zorder=2))
    tick_w = float(np.clip(0.1 * pt_per_m, 0.6, 2.5))         # [pt], about 0.1 m wide
    seg, col = _bin_ticks(store, offset=0.6 * tick_w / pt_per_m)  # just clear of the face
    if len(seg):
        ax.add_collection(LineCollection(seg, colors=col / 255.0, linewidths=tick_w,
                                         capstyle="butt", zorder=3))
    quads = list(wall_quads(store).values())
    if quads:
        ax.add_collection(PolyCollection(np.concatenate(quads), facecolors=WALL_INK,
                                         edgecolors=WALL_INK, linewidths=0.8, zorder=4))
    for g in store.gates:
        color = GATE_COLORS.get(g.kind, GATE_COLORS["both"])
        a, b = np.asarray(g.a), np.asarray(g.b)
        ax.add_line(Line2D([a[0], b[0]], [a[1], b[1]], color=color, linewidth=2.0,
                           linestyle=(0, (2, 1)), zorder=5))
        if label_gap is not None:
            at = g.mid - label_gap * np.asarray(g.inward)    # just outside the opening
            ax.text(at[0], at[1], g.kind, color=color, fontsize=fontsize, fontweight="bold",
                    ha="center", va="center", zorder=6)
    if cameras_xy is not None:
        cam = np.asarray(cameras_xy, dtype=np.float64).reshape(-1, 2)
        if len(cam):
            ax.scatter(cam[:, 0], cam[:, 1], s=28, marker="^", facecolor=CAMERA_COLOR,
                       edgecolor="black", linewidths=0.5, zorder=7)


def plan_extent(store: Store, margin: float = 1.0) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) [m] of the area :func:`plan_image` draws: the store's bounds
    grown by ``margin`` metres on every side."""
    x0, y0, x1, y1 = store.bounds
    return (x0 - margin, y0 - margin, x1 + margin, y1 + margin)


def world_to_pixel(xy: np.ndarray, extent: tuple[float, float, float, float],
                   shape: tuple[int, ...]) -> np.ndarray:
    """(m, 2) int64 (row, col) of floor points xy (m, 2) [m] in an image of ``shape`` (H, W,
    ...) that shows ``extent`` (xmin, ymin, xmax, ymax) [m] edge to edge, y up."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    x0, y0, x1, y1 = extent
    h, w = shape[0], shape[1]
    col = np.floor((xy[:, 0] - x0) / (x1 - x0) * w)
    row = np.floor((y1 - xy[:, 1]) / (y1 - y0) * h)
    return np.stack([np.clip(row, 0, h - 1), np.clip(col, 0, w - 1)], axis=1).astype(np.int64)


def plan_image(store: Store, cameras_xy: np.ndarray | None = None, px_per_m: float = 20.0,
               margin: float = 1.0) -> np.ndarray:
    """(H, W, 3) uint8 top view of the store without title, legend or axes.

    The image shows :func:`plan_extent` (store bounds + ``margin`` [m]) edge to edge, x to the
    right, y up, about ``px_per_m`` pixels per metre; map points with :func:`world_to_pixel`.
    cameras_xy: (m, 2) float64 camera floor positions [m] to mark, or None.
    """
    extent = plan_extent(store, margin)
    x0, y0, x1, y1 = extent
    dpi = 100.0
    w_px = max(1, int(round((x1 - x0) * px_per_m)))
    h_px = max(1, int(round((y1 - y0) * px_per_m)))
    fig = Figure(figsize=(w_px / dpi, h_px / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    _draw(ax, store, cameras_xy, pt_per_m=px_per_m * 72.0 / dpi, label_gap=None)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _nice_length(span: float) -> float:
    """A 1/2/5 x 10^k length near a fifth of ``span`` [m]."""
    target = max(span / 5.0, 1e-3)
    k = 10.0 ** np.floor(np.log10(target))
    return float(max(m * k for m in (1.0, 2.0, 5.0) if m * k <= target))


def _figure_inches(store: Store) -> tuple[float, float]:
    """Axes size [in]: the longer side 6-24 in (about 7.5 m per inch up to a 180 m store),
    the shorter side in proportion, at least 3 in."""
    x0, y0, x1, y1 = store.bounds
    w, h = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
    longest = float(np.clip(max(w, h) / 7.5, 6.0, 24.0))
    return max(3.0, longest * w / max(w, h)), max(3.0, longest * h / max(w, h))


def draw_plan(store: Store, path: str | Path, cameras_xy: np.ndarray | None = None,
              dpi: float = 150, title: str | None = None) -> None:
    """Write the store's floor plan as a PNG at ``path``.

    cameras_xy: (m, 2) float64 camera floor positions [m] to mark, or None; dpi: dots per inch;
    title: the heading (default: the store's name); the area in m2 and sq ft is added below.
    The figure scales with the store: up to 24 in on the longer side, so a 180 m x 110 m
    supercenter gets about 20 pixels per metre at 150 dpi.
    """
    x0, y0, x1, y1 = store.bounds
    margin = max(1.5, 0.05 * max(x1 - x0, y1 - y0))
    xlim = (x0 - margin, x1 + margin)
    ylim = (y0 - 2.2 * margin, y1 + margin)          # a strip below for the scale bar
    aw, ah = _figure_inches(store)
    ah *= (ylim[1] - ylim[0]) / (y1 - y0 + 2 * margin)
    fig = Figure(figsize=(aw, ah), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    pt_per_m = 72.0 * min(aw / (xlim[1] - xlim[0]), ah / (ylim[1] - ylim[0]))
    fs = float(np.clip(aw / 1.5, 8.0, 16.0))    # text grows with the figure
    _draw(ax, store, cameras_xy, pt_per_m=pt_per_m, label_gap=0.45 * margin, fontsize=fs)

    # scale bar in the strip below the plan (gate labels stay within 0.45 margin of the walls)
    bar = _nice_length(x1 - x0)
    yb = y0 - 1.5 * margin
    ax.add_line(Line2D([x0, x0 + bar], [yb, yb], color="black", linewidth=4,
                       solid_capstyle="butt"))
    for xe in (x0, x0 + bar):
        ax.add_line(Line2D([xe, xe], [yb - 0.15 * margin, yb + 0.15 * margin], color="black",
                           linewidth=1))
    ax.text(x0 + bar / 2, yb - 0.25 * margin, f"{bar:g} m", ha="center", va="top", fontsize=fs)

    heading = title if title is not None else store.name
    ax.set_title(f"{heading}\n{store.area_m2:,.0f} m\u00b2 ({store.area_sqft:,.0f} sq ft), "
                 f"{len(store.fixtures):,} fixtures, {len(store.bins):,} bins", fontsize=fs + 3)

    handles: list = [Patch(facecolor=_c(FLOOR_COLOR), edgecolor="none", label="floor (walkable)"),
                     Line2D([], [], color=WALL_INK, linewidth=3, label="wall")]
    for kind in sorted({g.kind for g in store.gates}):
        handles.append(Line2D([], [], color=GATE_COLORS.get(kind, GATE_COLORS["both"]),
                              linewidth=2, linestyle=(0, (2, 1)), label=f"gate: {kind}"))
    for kind in dict.fromkeys(f.kind for f in store.fixtures):
        handles.append(Patch(facecolor=_c(KIND_COLORS.get(kind, OTHER_KIND_COLOR)),
                             edgecolor="0.3", label=kind.replace("_", " ")))
    cats = sorted({str(c) for c in store.catalogue.category[np.unique(store.bins.sku_index)]})
    if cats and len(cats) <= 16:
        for c in cats:
            hue = CATEGORY_HUES.get(c)
            if hue is None:
                continue
            rgb = colorsys.hsv_to_rgb(hue % 1.0, 0.68, 0.75)   # a typical SKU of it
            handles.append(Line2D([], [], color=rgb, linewidth=3, label=f"bins: {c}"))
    if cameras_xy is not None and len(np.asarray(cameras_xy).reshape(-1, 2)):
        handles.append(Line2D([], [], color="none", marker="^", markerfacecolor=CAMERA_COLOR,
                              markeredgecolor="black", label="camera"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=fs,
              frameon=False, borderaxespad=0.0)
    fig.savefig(path, format="png", dpi=dpi, facecolor="white", bbox_inches="tight",
                pad_inches=0.2)

