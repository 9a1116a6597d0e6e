"""How often a pick's hand is seen by no camera: the twin's hand model over a sampled crowd,
by camera pitch (issue 22).

A reach is one shopper's hand in one shelf bin for consecutive camera ticks (a pick or a
put-back). It is *seen* when, at one tick of it at least, one camera sees enough of the hand
to report it at all (:meth:`twin.cameras.CameraSystem.hand_fractions` above
``DetectionModel.hand_min_visible``); whether that camera then reports it is the hand
model's draw, not counted here. For comparison, ``unseen_sight`` counts the reaches no
camera has a clear line of sight to (:meth:`~twin.cameras.CameraSystem.hands_visible`, the
rule before hands were measured). Hand-overs between shoppers are left out.

Run: ``python -m experiments.bench.hands [--store kiosk] [--minutes 10] [--shoppers 15]
[--seed 0] [--spacing 2.5 3 3.5 4] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

import numpy as np

from agents.crowd import ShopperConfig
from experiments.runs.assembly import TwinConfig, build_twin


@dataclass(frozen=True)
class HandSight:
    """Reaches of one run and how many of them no camera saw."""
    spacing_m: float
    cameras: int
    reaches: int
    unseen: int              # no camera sees enough of the hand to report it
    mean_cameras: float      # cameras that see enough of it, best tick of each reach
    unseen_sight: int = 0    # no camera has a clear line of sight to the hand centre

    @property
    def unseen_fraction(self) -> float:
        return self.unseen / self.reaches if self.reaches else float("nan")


def hand_sight(store: str = "kiosk", spacing_m: float = 2.5, minutes: float = 10.0,
               shoppers: float = 15.0, seed: int = 0) -> HandSight:
    """Simulate ``minutes`` of the store at ``shoppers`` and count its reaches and the ones
    no camera of the default grid at ``spacing_m`` could see."""
    cfg = TwinConfig(store=store, seed=seed, camera_spacing_m=spacing_m,
                     crowd=ShopperConfig(shoppers_in_store=shoppers),
                     arrivals_until_s=minutes * 60.0)
    best: dict[tuple, int] = {}          # reach key -> most cameras at one tick
    best_sight: dict[tuple, int] = {}
    open_keys: dict[int, tuple] = {}     # shopper -> its reach in progress
    n = 0
    with build_twin(cfg) as twin:
        crowd, cams = twin.crowd, twin.sim.cameras
        for tick in twin.sim.run(minutes * 60.0):
            if tick.frame < 0:
                continue
            ids, xy = crowd.positions()
            hands = crowd.hands()
            rows = np.flatnonzero(np.isfinite(hands).all(axis=1)
                                  & (hands[:, 2] != crowd.HAND_OVER_Z_M))
            if rows.size:
                reach = np.full_like(hands, np.nan)
                reach[rows] = hands[rows]
                frac = cams.hand_fractions(reach, xy)[:, rows]
                seen = (cams.model.p_hand_seen(frac) > 0).sum(axis=0)
                sight = cams.hands_visible(hands[rows], xy).sum(axis=0)
            else:
                seen = sight = []
            now = {}
            for r, k, k_los in zip(rows, seen, sight, strict=True):
                sid = int(ids[r])
                key = open_keys.get(sid)
                here = tuple(np.round(hands[r], 4))
                if key is None or key[1] != here:
                    n += 1
                    key = (sid, here, n)
                now[sid] = key
                best[key] = max(best.get(key, 0), int(k))
                best_sight[key] = max(best_sight.get(key, 0), int(k_los))
            open_keys = now
        n_cams = len(twin.cameras.camera)
    counts = np.array(list(best.values()), dtype=np.int64)
    los = np.array(list(best_sight.values()), dtype=np.int64)
    return HandSight(float(spacing_m), n_cams, int(counts.size),
                     int(np.count_nonzero(counts == 0)),
                     float(counts.mean()) if counts.size else float("nan"),
                     int(np.count_nonzero(los == 0)))


@dataclass(frozen=True)
class HandPixels:
    """The hand model against the pixels: one row per (reach, camera) whose view of the hand
    centre falls in the image, at the reach's first camera tick."""
    model_seen: np.ndarray        # (n,) bool: the model's clear line of sight
    rendered: np.ndarray          # (n,) float64: hand pixels seen / hand pixels alone
    occluders: np.ndarray         # (n,) int64: other people in the store at that tick
    model_fraction: np.ndarray    # (n,) float64: CameraSystem.hand_fractions

    def table(self) -> dict:
        """Agreement: how much of the hand the pixels show where the model sees it, and
        where it does not."""
        out = {"pairs": int(self.model_seen.size)}
        for name, m in (("model_seen", self.model_seen), ("model_hidden", ~self.model_seen)):
            r = self.rendered[m]
            out[name] = {"pairs": int(m.sum()),
                         "rendered_mean": round(float(r.mean()), 4) if r.size else None,
                         "rendered_under_0.1": round(float(np.mean(r < 0.1)), 4)
                         if r.size else None,
                         "rendered_over_0.5": round(float(np.mean(r > 0.5)), 4)
                         if r.size else None}
        return out


def hand_pixels(store: str = "kiosk", spacing_m: float = 2.5, seconds: float = 120.0,
                shoppers: float = 15.0, seed: int = 0, size: tuple[int, int] = (672, 380)
                ) -> HandPixels:
    """Render every reach of ``seconds`` of a crowd from each camera that frames its hand
    (at ``size``, the same field of view) and compare the rendered visible fraction of the
    hand with the model's line of sight."""
    from experiments.runs.render import scale_cameras
    from twin.camgeom import project
    from twin.render import Renderer

    cfg = TwinConfig(store=store, seed=seed, camera_spacing_m=spacing_m,
                     crowd=ShopperConfig(shoppers_in_store=shoppers),
                     arrivals_until_s=seconds)
    seen_l, frac_l, occ_l, mf_l = [], [], [], []
    done: set[tuple] = set()
    with build_twin(cfg) as twin, Renderer(twin.store) as r:
        crowd, model = twin.crowd, twin.sim.cameras
        cams = scale_cameras(twin.cameras, *size)
        for tick in twin.sim.run(seconds):
            if tick.frame < 0:
                continue
            ids, xy = crowd.positions()
            hands = crowd.hands()
            for k in np.flatnonzero(np.isfinite(hands).all(axis=1)
                                    & (hands[:, 2] != crowd.HAND_OVER_Z_M)):
                key = (int(ids[k]), tuple(np.round(hands[k], 4)))
                if key in done:
                    continue
                done.add(key)
                one = np.full_like(hands, np.nan)
                one[k] = hands[k]
                sees = model.hands_visible(hands[k:k + 1], xy)[:, 0]
                mfrac = model.hand_fractions(one, xy)[:, k]
                u, v_, _ = project(cams, hands[k:k + 1])
                res = cams.resolution
                ok = ((u[:, 0] >= 0) & (u[:, 0] < res[:, 0]) & (v_[:, 0] >= 0)
                      & (v_[:, 0] < res[:, 1]))
                for c in np.flatnonzero(ok):
                    alone = r.hand_pixels(cams, c, xy, one)[k]
                    if alone == 0:
                        continue
                    v = r.render_parts(cams, c, xy, ids, rgb=False, hands=one)
                    seen_l.append(bool(sees[c]))
                    frac_l.append(np.count_nonzero(v.hand == ids[k]) / alone)
                    occ_l.append(len(ids) - 1)
                    mf_l.append(float(mfrac[c]))
    return HandPixels(np.array(seen_l, bool), np.array(frac_l, np.float64),
                      np.array(occ_l, np.int64), np.array(mf_l, np.float64))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.bench.hands",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--store", default="kiosk")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--shoppers", type=float, default=15.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--spacing", type=float, nargs="+", default=[2.5, 3.0, 3.5, 4.0])
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    rows = [hand_sight(a.store, s, a.minutes, a.shoppers, a.seed) for s in a.spacing]
    out = sys.stdout
    if a.json:
        out.write(json.dumps([{**asdict(r), "unseen_fraction": r.unseen_fraction
                               if r.reaches else None, "mean_cameras": r.mean_cameras
                               if r.reaches else None} for r in rows], allow_nan=False) + "\n")
    else:
        out.write("pitch [m]  cameras  reaches  seen by no camera  cameras per reach  "
                  "no line of sight\n")
        for r in rows:
            out.write(f"{r.spacing_m:9.1f}  {r.cameras:7d}  {r.reaches:7d}  {r.unseen:5d} "
                      f"({100 * r.unseen_fraction:5.1f} %)  {r.mean_cameras:17.2f}  "
                      f"{r.unseen_sight:5d}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
