"""Merges, splits, misses and position error of the pixel detector on rendered kiosk crowds,
and the detection model's fit to them (issue 22, part 3).

A kiosk crowd (inside from the start, ``warm_start``) is rendered every ``every_s`` seconds
from every camera at ``size`` px (the same field of view), :class:`twin.pixdetect.PixelDetector`
runs on each image, and the twin's model (:meth:`twin.cameras.CameraSystem.detect`) reports
the same ticks. Per camera, detections are paired with the people the model sees at all
(visible fraction > 0.05) by the Hungarian method on floor distance (none over ``match_m``);
a person counts (is *eligible*) when the model's visible fraction is >= ``min_visible``.

- *miss*: an eligible person no detection is paired with;
- *split*: an eligible, paired person nearest to an unpaired detection within ``reach_m``
  (the rate is per paired person, as the model's ``split_rate`` is per detection);
- *merge*: a pair of eligible people of one camera whose image boxes overlap
  (:func:`twin.merges.image_boxes`, IoU > 0) of whom exactly one is paired, its detection
  within ``reach_m`` of the other (one detection for two people);
- *error*: the paired detection's floor distance from the person's foot point [m].

The fit (:func:`fit`): the model with merges and splits off gives each rate's part that
independent misses and false positives make (``base``); the merge probability in an overlap
bin is (pixels - base) / (1 - base), and a logistic in the IoU is fitted to those bins
(weighted by pairs); the split rate is the pixels' less the base, over the share of the
model's own splits (at its current rate) that the count sees. The detection probability and
foot-point noise (:func:`fit_detection`) come from the pixels alone: maximum likelihood of
the model's p(visible fraction, distance) over lone people, and a line through the binned
error. The merge fit takes the model's misses as they are: fit the detection first, set it
as the default, then fit the merges (the shipped figures went round twice; the second round
moved the merge logistic by < 0.1).

Run: ``python -m experiments.bench.merges --shoppers 10 20 40 --seed 1 2 [--seconds 20]
[--every 5] [--fit] [--split-probe 0.0217] [--json]`` (the ``model`` rows: the default model
with splits at ``--split-probe``).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment, minimize

from agents.crowd import ShopperConfig
from experiments.runs.assembly import TwinConfig, build_twin
from twin.merges import MERGE_OFF, body_outline, box_iou, camera_pairs, image_boxes

IOU_BINS = (0.0, 0.1, 0.2, 0.35, 0.5, 1.01)
VIS_BINS = (0.2, 0.4, 0.6, 0.8, 1.01)
DIST_BINS = (0.0, 1.0, 2.0, 3.0, 5.0)
# people at or above this visible fraction are counted in the merge, split and miss tables
# (the model's min_visible when merges were fitted); the detection fit sees every record
ELIGIBLE = 0.2


@dataclass
class Tally:
    """Per eligible camera-person pair: vis, dist [m], missed, split, err [m] (NaN: missed),
    alone (no other eligible person's image box overlaps this one's); per overlapping
    eligible pair: iou, merged; and the detection count."""
    vis: list
    dist: list
    missed: list
    split: list
    err: list
    alone: list
    iou: list
    merged: list
    detections: int = 0

    @classmethod
    def new(cls) -> Tally:
        return cls([], [], [], [], [], [], [], [])

    def arrays(self, min_visible: float | None = ELIGIBLE) -> dict:
        """The tally as float64 arrays, the person records those at ``min_visible`` and above
        (None: every record, down to the 0.05 the pairing starts at)."""
        out = {k: np.asarray(getattr(self, k), np.float64) for k in FIELDS}
        if min_visible is not None:
            keep = out["vis"] >= min_visible
            for k in PERSON_FIELDS:
                out[k] = out[k][keep]
        return out


PERSON_FIELDS = ("vis", "dist", "missed", "split", "err", "alone")
FIELDS = (*PERSON_FIELDS, "iou", "merged")


def score_camera(t: Tally, det: np.ndarray, xy: np.ndarray, vis: np.ndarray,
                 boxes: np.ndarray, cam_xy: np.ndarray, min_visible: float = ELIGIBLE,
                 match_m: float = 0.5, reach_m: float = 0.8) -> None:
    """Add one camera's detections ``det`` (d, 2) [m] of people at ``xy`` (s, 2) with
    visible fractions ``vis`` (s,) and image boxes ``boxes`` (s, 4) to the tally: a record
    for each person seen at all (vis > 0.05); splits and merges among those at
    ``min_visible`` and above."""
    t.detections += det.shape[0]
    seen = np.flatnonzero(vis > 0.05)
    match = np.full(xy.shape[0], -1)
    owner = np.full(det.shape[0], -1)
    if det.shape[0] and seen.size:
        d = np.linalg.norm(det[:, None] - xy[seen][None], axis=2)
        rr, cc = linear_sum_assignment(np.where(d <= match_m, d, 1e6))
        ok = d[rr, cc] <= match_m
        match[seen[cc[ok]]] = rr[ok]
        owner[rr[ok]] = seen[cc[ok]]
    elig = np.flatnonzero(vis >= min_visible)
    split = np.zeros(xy.shape[0], bool)
    free = np.flatnonzero(owner < 0)
    if free.size and elig.size:
        d = np.linalg.norm(det[free][:, None] - xy[elig][None], axis=2)
        near = d.argmin(axis=1)
        split[elig[near[d.min(axis=1) <= reach_m]]] = True
    i, j = camera_pairs(np.zeros(elig.size))
    a, b = elig[i], elig[j]
    o = box_iou(boxes[a], boxes[b])
    crowded = np.zeros(xy.shape[0], bool)
    crowded[a[o > 0]] = crowded[b[o > 0]] = True
    for k in seen:
        t.alone.append(not crowded[k])
        t.vis.append(vis[k])
        t.dist.append(float(np.linalg.norm(xy[k] - cam_xy)))
        t.missed.append(match[k] < 0)
        t.split.append(bool(split[k] and match[k] >= 0))
        t.err.append(float(np.linalg.norm(det[match[k]] - xy[k])) if match[k] >= 0
                     else np.nan)
    for p, q, ov in zip(a[o > 0], b[o > 0], o[o > 0], strict=True):
        one = (match[p] >= 0) != (match[q] >= 0)
        if one:
            hit, other = (p, q) if match[p] >= 0 else (q, p)
            one = np.linalg.norm(det[match[hit]] - xy[other]) <= reach_m
        t.iou.append(ov)
        t.merged.append(bool(one))


def _variant(cs, model, rng: np.random.Generator):
    """The twin's camera system ``cs`` (built by the assembly) with another model's detection
    figures (same body and sampling) and a generator of its own; appearance not described."""
    from twin.merges import Merger

    if (model.body_radius, model.body_height, model.samples_per_pair) != (
            cs.model.body_radius, cs.model.body_height, cs.model.samples_per_pair):
        raise ValueError("merges: a variant model must keep the body and its sampling")
    out = copy.copy(cs)
    out.model, out.rng = model, rng
    out._merger = Merger(model, cs.cams, rng)
    return out


def crowd_frames(shoppers: int, seed: int, seconds: float = 20.0, every_s: float = 5.0,
                 size: tuple[int, int] = (320, 240), models: dict | None = None,
                 pixels: bool = True, store: str = "kiosk", spacing_m: float = 2.5) -> dict:
    """Render a crowd of ``shoppers`` every ``every_s`` of ``seconds`` and score the pixel
    detector (``pixels``) and each of ``models`` (name -> DetectionModel, run through a
    :class:`twin.cameras.CameraSystem` of the twin's cameras with a generator of its own).
    Returns name -> :class:`Tally`."""
    from experiments.runs.render import scale_cameras
    from twin.pixdetect import PixelDetector
    from twin.render import Renderer

    cfg = TwinConfig(store=store, seed=seed, camera_spacing_m=spacing_m,
                     crowd=ShopperConfig(shoppers_in_store=float(shoppers)),
                     arrivals_until_s=0.0, warm_start=shoppers)
    models = models or {}
    out = {name: Tally.new() for name in (["pixels"] if pixels else []) + list(models)}
    every = max(1, int(round(every_s * cfg.clock.camera_hz)))
    with build_twin(cfg) as twin, Renderer(twin.store) as r:
        crowd, cs = twin.crowd, twin.sim.cameras
        m = cs.model
        outline = body_outline(m.body_radius, m.body_height)
        systems = {name: _variant(cs, mod, np.random.default_rng([seed, 7, k]))
                   for k, (name, mod) in enumerate(models.items())}
        cams = scale_cameras(twin.cameras, *size)
        nc = len(cams.camera)
        det = None
        if pixels:
            bgs = [r.background(cams, i) for i in range(nc)]
            det = PixelDetector(cams, [b[0] for b in bgs], m, None, [b[1] for b in bgs])
        for tick in twin.sim.run(seconds):
            if tick.frame < 0 or tick.frame % every:
                continue
            ids, xy = crowd.positions()
            hands, looks = crowd.hands(), crowd.looks(ids)
            vis = cs.visible_fraction(xy)
            frames = {name: s.detect(tick.frame, 0.0, xy) for name, s in systems.items()}
            for c in range(nc):
                if not (vis[c] > 0.05).any():
                    continue
                boxes = image_boxes(cams, np.full(xy.shape[0], c), xy, outline, m.near_m)
                found = dict((name, f.xy[f.camera == c]) for name, f in frames.items())
                if det is not None:
                    rgb = r.render(cams, c, xy, ids, seg=False, hands=hands, looks=looks)[0]
                    found["pixels"] = det.detect_image(c, rgb)[0]
                for name, d in found.items():
                    score_camera(out[name], d, xy, vis[c], boxes, cams.position[c, :2])
    return out


def _rate(x: np.ndarray, key: np.ndarray, bins) -> list:
    """(lo, hi, n, mean of x) per bin of key."""
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        k = (key >= lo) & (key < hi)
        rows.append((lo, hi, int(k.sum()), float(x[k].mean()) if k.any() else float("nan")))
    return rows


def split_rate(t: Tally) -> float:
    """Splits per detected (paired) eligible person: the model's ``split_rate`` is per
    detection."""
    a = t.arrays()
    found = a["missed"] == 0
    return float(a["split"][found].mean()) if found.any() else float("nan")


def merge_rate(t: Tally) -> float:
    """Merged pairs per overlapping eligible pair."""
    a = t.arrays()
    return float(a["merged"].mean()) if a["merged"].size else float("nan")


def summary(t: Tally) -> dict:
    """The tally's table: merge rate per IoU bin, split rate, miss rate per visible-fraction
    and distance bin, position error (median, RMS per axis) per distance bin."""
    a = t.arrays()
    ok = np.isfinite(a["err"])
    return {
        "persons": int(a["vis"].size), "pairs": int(a["iou"].size),
        "detections": t.detections,
        "merge_by_iou": _rate(a["merged"], a["iou"], IOU_BINS),
        "split_rate": split_rate(t),
        "miss_rate": float(a["missed"].mean()) if a["missed"].size else float("nan"),
        "miss_by_vis": _rate(a["missed"], a["vis"], VIS_BINS),
        "miss_by_dist": _rate(a["missed"], a["dist"], DIST_BINS),
        "median_err_m": float(np.median(a["err"][ok])) if ok.any() else float("nan"),
        "sigma_by_dist": [(lo, hi, n, float(np.sqrt(np.mean(a["err"][ok][k] ** 2) / 2))
                           if n else float("nan"))
                          for lo, hi, n, k in _bins(a["dist"][ok], DIST_BINS)],
        "sigma_by_vis": [(lo, hi, n, float(np.sqrt(np.mean(a["err"][ok][k] ** 2) / 2))
                          if n else float("nan"))
                         for lo, hi, n, k in _bins(a["vis"][ok], VIS_BINS)],
    }


def _bins(key: np.ndarray, bins):
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        k = (key >= lo) & (key < hi)
        yield lo, hi, int(k.sum()), k


def merge(tallies: list[Tally]) -> Tally:
    out = Tally.new()
    for t in tallies:
        for k in FIELDS:
            getattr(out, k).extend(getattr(t, k))
        out.detections += t.detections
    return out


def fit(pix: Tally, base: Tally, model: Tally, model_split: float) -> dict:
    """The merge logistic and split rate (module docstring) from the
    pixels' tally, the model's with merges and splits off and the model's with splits at
    ``model_split`` per detection, on the same frames (the last says what share of the
    model's splits the count sees: a part may pair with a neighbour)."""
    sp, sb = summary(pix), summary(base)
    seen = (split_rate(model) - sb["split_rate"]) / model_split if model_split > 0 else 1.0
    x, y, w = [], [], []
    for (lo, hi, n, rp), (_, _, _, rb) in zip(sp["merge_by_iou"], sb["merge_by_iou"],
                                              strict=True):
        if n >= 5 and np.isfinite(rb):
            x.append(np.mean([lo, min(hi, 1.0)]))
            y.append(float(np.clip((rp - rb) / max(1.0 - rb, 1e-6), 1e-4, 1 - 1e-4)))
            w.append(n)
    x, y, w = np.array(x), np.array(y), np.array(w, np.float64)

    def loss(c):
        p = 1.0 / (1.0 + np.exp(-(c[0] + c[1] * x)))
        return float((w * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() * -1)

    c = minimize(loss, x0=[-3.0, 5.0], method="Nelder-Mead").x if x.size else (MERGE_OFF, 0)
    return {"merge_logit0": round(float(c[0]), 2),
            "merge_logit_slope": round(max(float(c[1]), 0.0), 2),
            "split_rate": round(max(sp["split_rate"] - sb["split_rate"], 0.0)
                                / max(seen, 0.1), 4)}


def detection_p(c, vis: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """The model's detection probability (``twin._detect_kernels.detection_hits``) at
    parameters c = (p_max, min_visible, full_visible, full_range_m, range_scale_m)."""
    p_max, v0, v1, r, sc = c
    ramp = np.clip((vis - v0) / max(v1 - v0, 1e-6), 0.0, 1.0) * (vis > v0)
    return p_max * ramp * np.exp(-np.maximum(dist - r, 0.0) / sc)


def fit_detection(pix: Tally) -> dict:
    """The detection probability's parameters (:func:`detection_p`) by maximum likelihood on
    the pixels' lone person records (no other person's image box overlaps: merges are the
    merge model's), every visible fraction from 0.05; and the foot-point noise line: the
    model's per-axis sigma is (sigma0_m + sigma_per_m d) (2 - vis), so the paired errors
    over (2 - vis), RMS per distance bin over sqrt 2, get a weighted line through them
    (people at ``ELIGIBLE`` visible and above, within 3 m: farther out the pixel detector
    pairs few people, most of them cut by the image's edge, with small errors that a line
    in distance does not describe)."""
    a = pix.arrays(None)
    lone = a["alone"] > 0
    v, d, hit = a["vis"][lone], a["dist"][lone], a["missed"][lone] == 0

    def nll(c):
        p = np.clip(detection_p(c, v, d), 1e-6, 1 - 1e-6)
        return -float(np.sum(np.where(hit, np.log(p), np.log1p(-p))))

    bounds = [(0.05, 1.0), (0.0, 0.5), (0.1, 1.0), (0.0, 8.0), (0.3, 50.0)]
    best = None
    for x0 in ([0.8, 0.1, 0.5, 3.0, 4.0], [0.9, 0.2, 1.0, 4.0, 4.0], [0.7, 0.05, 0.3, 2.0, 8.0]):
        c = minimize(nll, x0=x0, method="Nelder-Mead", bounds=bounds,
                     options={"maxiter": 4000, "xatol": 1e-4, "fatol": 1e-6}).x
        c[2] = max(c[2], c[1] + 0.05)
        if best is None or nll(c) < nll(best):
            best = c
    ok = np.isfinite(a["err"]) & (a["vis"] >= ELIGIBLE) & (a["dist"] < 3.0)
    e = a["err"][ok] / (2.0 - a["vis"][ok])
    rows = [(np.mean(a["dist"][ok][k]), np.sqrt(np.mean(e[k] ** 2) / 2), n)
            for lo, hi, n, k in _bins(a["dist"][ok], DIST_BINS) if n >= 5]
    dd, ss, nn = (np.array(x, np.float64) for x in zip(*rows, strict=True))
    line = np.polyfit(dd, ss, 1, w=np.sqrt(nn))
    return {"p_max": round(float(best[0]), 3), "min_visible": round(float(best[1]), 3),
            "full_visible": round(float(best[2]), 3), "full_range_m": round(float(best[3]), 2),
            "range_scale_m": round(float(best[4]), 2), "lone_records": int(lone.sum()),
            "sigma0_m": round(max(float(line[1]), 0.0), 4),
            "sigma_per_m": round(max(float(line[0]), 0.0), 4)}


def table(name: str, s: dict) -> str:
    """One crowd size's summary as Markdown lines."""
    f = "{:.3f}".format
    lines = [f"**{name}**: {s['persons']} camera-person pairs, {s['pairs']} overlapping pairs, "
             f"split rate {f(s['split_rate'])}, miss rate {f(s['miss_rate'])}, median error "
             f"{f(s['median_err_m'])} m", "",
             "| bin | merge (IoU) | pairs | miss (vis) | persons | miss (dist m) | persons "
             "| sigma (dist) [m] |", "|---|---|---|---|---|---|---|---|"]
    rows = max(len(s["merge_by_iou"]), len(s["miss_by_vis"]), len(s["miss_by_dist"]))
    for k in range(rows):
        cells = [str(k)]
        for key in ("merge_by_iou", "miss_by_vis", "miss_by_dist"):
            if k < len(s[key]):
                lo, hi, n, r = s[key][k]
                cells += [f"{lo:g}-{1.0 if hi == 1.01 else hi:g}: {f(r)}", str(n)]
            else:
                cells += ["", ""]
        cells.append(f(s["sigma_by_dist"][k][3]) if k < len(s["sigma_by_dist"]) else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from twin.cameras import DetectionModel

    p = argparse.ArgumentParser(prog="python -m experiments.bench.merges",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--shoppers", type=int, nargs="+", default=[10, 20, 40])
    p.add_argument("--seed", type=int, nargs="+", default=[1, 2])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--every", type=float, default=5.0)
    p.add_argument("--fit", action="store_true")
    p.add_argument("--split-probe", type=float, default=0.0217,
                   help="split rate of the 'model' rows (the fit's count of its own splits)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    off = replace(DetectionModel(), merge_logit0=MERGE_OFF, split_rate=0.0)
    models = {"model_off": off, "model": replace(DetectionModel(), split_rate=a.split_probe)}
    per = {}
    for n in a.shoppers:
        runs = [crowd_frames(n, s, a.seconds, a.every, models=models) for s in a.seed]
        per[n] = {k: merge([r[k] for r in runs]) for k in runs[0]}
    out = {str(n): {k: summary(t) for k, t in v.items()} for n, v in per.items()}
    if a.fit:
        pooled = [merge([v[k] for v in per.values()]) for k in ("pixels", "model_off", "model")]
        out["fit"] = {**fit_detection(pooled[0]), **fit(*pooled, models["model"].split_rate)}
    if a.json:
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        for n, v in out.items():
            if n == "fit":
                sys.stdout.write(f"fit: {v}\n")
                continue
            for k, s in v.items():
                sys.stdout.write(table(f"{n} shoppers, {k}", s) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
