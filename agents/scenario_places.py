"""Where a scripted shopper stands: the ``stand`` action's ``at`` key, a floor point given
outright or found from the cameras.

Part of the ``storetwin-scenario/1`` reader (:mod:`agents.scenario`); documented in
docs/scenarios.md ("Places relative to the cameras"). The cameras are the scenario's
``layout``, or the run's default ceiling grid (``experiments.runs.assembly.default_cameras``:
the ``dome-4mp`` model on a 2.5 m grid). Camera numbers are rows of that layout, 0 .. c-1
(as ``--dead-cameras`` counts them). Visibility is :mod:`twin.coverage`'s: a floor cell is
seen by a camera when the camera sees a person's torso and head there (1.0 m and 1.7 m),
at >= 125 px/m, with no fixture or wall in the way; a bin's face is seen when 3 of its 5
samples are, at most 75 degrees off its normal.

- ``at = [x, y]``: that floor point [m], inside the store's outline.
- ``at = "blind_spot"``: the walkable floor cell seen by the fewest cameras; with
  ``camera = N``, among the cells camera N does not see; ties go to the cell nearest the
  floor point under camera N (without ``camera``: nearest the entrance).
- ``at = "block"``, ``bin = B`` (and optionally ``camera = N``): a spot that hides a hand in
  bin B from camera N. The hand is where a picker's hand is (``agents.crowd.Crowd.hands``:
  the bin's front, 8 cm above its plate), the picker at the bin's access point; how much of
  it a camera sees is the twin's own hand model (``twin.cameras.CameraSystem.
  hand_fractions``: bodies, arms, fixtures and the bin's stock hide it). Candidates are the
  centres of the walkable floor's ``BLOCK_CELL_M`` cells (``scenes.walkable``) between
  ``BLOCK_CLEAR_M`` and ``BLOCK_REACH_M`` from the access point; the one nearest the hand
  (ties: lowest x, then y) with a body there that leaves camera N at most ``BLOCK_LEFT`` of
  the share of the hand it saw without it wins.
  Without ``camera``: the camera that sees the most of that hand ("in front of the only
  camera on bin B" when one camera sees it). A bin no camera sees, or a camera no spot
  hides it from, is a problem of the file.

Each becomes a :class:`agents.actions.Stand` at resolved coordinates (the canonical text
writes ``at = [x, y]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenes.checks import show

AT_WORDS = ("blind_spot", "block")
BLOCK_CLEAR_M = 0.55     # a blocker stands at least this far from the picker's spot [m]
BLOCK_LEFT = 0.25        # ... and leaves the camera at most this share of what it saw
BLOCK_REACH_M = 1.5      # ... and at most this far from it [m]
BLOCK_CELL_M = 0.05      # candidate spots: centres of walkable cells this size [m]
HAND_ABOVE_PLATE_M = 0.08   # agents.crowd.Crowd.HAND_ABOVE_PLATE_M
DEFAULT_SPACING_M = 2.5  # experiments.runs.config.RunConfig.camera_spacing_m


@dataclass
class Places:
    """A store's cameras and what they see, for the ``stand`` action's ``at`` words."""

    store: object
    position: np.ndarray       # (c, 3) camera centres [m]
    floor: np.ndarray          # (c, n) bool: camera sees walkable cell
    cells: np.ndarray          # (n, 2) walkable cell centres [m]
    faces: np.ndarray          # (c, b) bool: camera sees bin face
    walkable: np.ndarray       # (ny, nx) bool: a body's centre may stand (fine grid)
    origin: np.ndarray         # (2,) its lower-left corner [m]
    cell: float                # its cell [m]

    cams: object = None        # core.knowledge.Cameras
    _system: object = None     # twin.cameras.CameraSystem, built when first needed

    @classmethod
    def of(cls, store, layout: str | None) -> Places:
        from twin.coverage import visibility
        if layout is None:
            from twin.layout import DEFAULT_MODEL
            from twin.placement import grid_layout
            cams = grid_layout(store, spacing=DEFAULT_SPACING_M, model=DEFAULT_MODEL).cameras()
        else:
            from twin.layout_toml import load_layout
            cams = load_layout(layout, store).cameras()
        from scenes.walkable import BODY_RADIUS_M, walkable_grid
        v = visibility(store, cams)
        fs = v.samples
        jj, ii = np.nonzero(fs.walkable)
        cells = fs.origin + (np.stack([ii, jj], axis=1) + 0.5) * fs.cell
        lo, hi = store.fixture_boxes()
        free, origin, cell = walkable_grid(store.outline, store.walls, store.gates, lo[:, :2],
                                           hi[:, :2], BLOCK_CELL_M, BODY_RADIUS_M)
        return cls(store, np.asarray(cams.position, np.float64), v.floor, cells, v.faces,
                   free, np.asarray(origin, np.float64), float(cell), cams)

    @property
    def n_cameras(self) -> int:
        return int(self.position.shape[0])

    def free(self, xy: np.ndarray) -> bool:
        ij = np.floor((np.asarray(xy) - self.origin) / self.cell).astype(int)
        ny, nx = self.walkable.shape
        return bool(0 <= ij[0] < nx and 0 <= ij[1] < ny and self.walkable[ij[1], ij[0]])

    def blind_spot(self, camera: int | None) -> np.ndarray:
        """(2,) [m]: the walkable cell seen by the fewest cameras (see the module docstring)."""
        count = self.floor.sum(axis=0)
        ok = np.ones(count.size, bool) if camera is None else ~self.floor[camera]
        ref = (self.position[camera, :2] if camera is not None
               else self.store.entrance.inside(0.35))
        least = count[ok].min()
        cand = np.flatnonzero(ok & (count == least))
        d = np.hypot(*(self.cells[cand] - ref).T)
        return self.cells[cand[int(np.argmin(d))]].copy()

    def hand(self, b: int) -> np.ndarray:
        """(3,) [m]: a picker's hand in bin ``b`` (as ``agents.crowd.Crowd.hands``)."""
        bins = self.store.bins
        n = bins.normal[b]
        size = np.abs(bins.hi[b, :2] - bins.lo[b, :2])
        face = bins.center[b, :2] + n * (0.5 * size @ np.abs(n))
        return np.array([face[0], face[1], bins.lo[b, 2] + HAND_ABOVE_PLATE_M])

    def hand_seen(self, b: int, blocker: np.ndarray | None = None) -> np.ndarray:
        """(c,) float64 share of a picker's hand in bin ``b`` each camera sees, the picker at
        the bin's access point, and a body at ``blocker`` (2,) [m] when given."""
        if self._system is None:
            from twin.cameras import CameraSystem, DetectionModel
            # the random stream is never drawn from: hand_fractions is geometry only
            self._system = CameraSystem(self.store, self.cams, DetectionModel(),
                                        np.random.default_rng(0))
        xy = self.store.bins.access_xy[b][None]
        hands = self.hand(b)[None]
        if blocker is not None:
            xy = np.vstack([xy, blocker[None]])
            hands = np.vstack([hands, np.full((1, 3), np.nan)])
        return self._system.hand_fractions(hands, xy)[:, 0]

    def block_camera(self, b: int) -> list[int]:
        """Cameras that see some of a hand in bin ``b``, the most first."""
        f = self.hand_seen(b)
        seen = np.flatnonzero(f > 0)
        return [int(i) for i in seen[np.argsort(-f[seen], kind="stable")]]

    def block(self, b: int, camera: int) -> np.ndarray | None:
        """(2,) [m]: the spot nearest bin ``b``'s hand that hides it from ``camera`` (module
        docstring), or None when there is none."""
        base = float(self.hand_seen(b)[camera])
        if base <= 0:
            return None
        hand = self.hand(b)
        access = self.store.bins.access_xy[b]
        jj, ii = np.nonzero(self.walkable)
        pts = self.origin + (np.stack([ii, jj], axis=1) + 0.5) * self.cell
        d_access = np.hypot(*(pts - access).T)
        pts = pts[(d_access >= BLOCK_CLEAR_M) & (d_access <= BLOCK_REACH_M)]
        d_hand = np.round(np.hypot(*(pts - hand[:2]).T), 6)
        for p in pts[np.lexsort((pts[:, 1], pts[:, 0], d_hand))]:
            if float(self.hand_seen(b, p)[camera]) <= BLOCK_LEFT * base:
                return np.round(p, 3)
        return None


def _places(rd) -> Places | None:
    if rd.places is None and rd.view is not None:
        try:
            rd.places = Places.of(rd.view.store, rd.layout)
        except Exception:  # noqa: BLE001 - a broken layout is reported by the layout check
            return None
    return rd.places


def _camera(rd, t: dict, path: str, pl: Places) -> int | None:
    v = t["camera"]
    c = pl.n_cameras
    if not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < c):
        rd.r.bad(f"{path}.camera", f"= {show(v)} is not allowed; expected a camera of the "
                 f"scenario's {'layout' if rd.layout else 'default ceiling grid'}, an integer "
                 f">= 0 and <= {c - 1}")
        return None
    return int(v)


def read_stand(rd, t: dict, path: str) -> tuple[float, float] | None:
    """The floor point [m] of a ``stand`` action's ``at`` (problems reported through the
    action reader ``rd``, an :class:`agents.scenario_actions.ActionReader`)."""
    r = rd.r
    at = t["at"]
    if isinstance(at, list):
        for key in ("camera", "bin"):
            if key in t:
                r.bad(f"{path}.{key}", "is not allowed with at = [x, y]; expected it only "
                      "with at = \"blind_spot\" (camera) or at = \"block\" (bin, camera)")
                return None
        p = r.point(at, f"{path}.at")
        if p is None or rd.view is None:
            return None
        x0, y0, x1, y1 = rd.view.store.bounds
        if not (x0 <= p[0] <= x1 and y0 <= p[1] <= y1):
            r.bad(f"{path}.at", f"= {show(at)} is outside store {rd.view.store.name!r}; "
                  f"expected x in [{x0:g}, {x1:g}] and y in [{y0:g}, {y1:g}] (m)")
            return None
        return p
    if at not in AT_WORDS:
        r.bad(f"{path}.at", f"= {show(at)} is not allowed; expected a point [x, y] (m) or "
              "one of " + ", ".join(repr(w) for w in AT_WORDS))
        return None
    if at == "blind_spot" and "bin" in t:
        r.bad(f"{path}.bin", "is not allowed with at = \"blind_spot\"; expected camera only")
        return None
    if at == "block" and "bin" not in t:
        r.bad(f"{path}.bin", "is missing (required with at = \"block\"); expected the bin "
              "row whose hand the body hides")
        return None
    b = rd.bin(t, path) if "bin" in t else -1
    pl = _places(rd)
    if b is None or pl is None:
        return None
    cam = _camera(rd, t, path, pl) if "camera" in t else -1
    if cam is None:
        return None
    if at == "blind_spot":
        p = pl.blind_spot(None if cam < 0 else cam)
        return float(p[0]), float(p[1])
    seers = pl.block_camera(b)
    if cam < 0:
        if not seers:
            r.bad(f"{path}.bin", f"= {b}: no camera sees a hand in this bin, so there is no "
                  "view to block; expected a bin a camera sees")
            return None
        cam = seers[0]
    p = pl.block(b, cam)
    if p is None:
        r.bad(f"{path}.camera" if "camera" in t else f"{path}.bin",
              f"camera {cam} and bin {b}: no free floor spot between them hides a hand in "
              "the bin from that camera (it does not see the hand, or looks down on it too "
              "steeply); expected another camera or bin")
        return None
    return float(p[0]), float(p[1])
