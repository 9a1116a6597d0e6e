"""Camera layouts as data: the ``storetwin-layout/1`` TOML format and its checks. The
generators that make layouts for a store (ceiling grid, aisle pairs, shelf facing, greedy
coverage) are :mod:`twin.placement`, which may look at coverage; this module does not.

A :class:`CameraLayout` is columns of c cameras (name, pose, intrinsics, resolution, rate,
model, price); :meth:`CameraLayout.cameras` hands the calibration part to the core as
:class:`core.knowledge.Cameras`. The file format is documented key by key in
``docs/camera-layout.md``. Every problem in a layout file is reported, one line each, naming
the file, the field path (e.g. ``cameras[3].hfov_deg``) and what is allowed; a file with
problems raises :class:`LayoutError` holding all of them, and nothing else escapes the loader.

Orientation convention (yaw, pitch, roll in degrees):

- yaw: heading of the optical axis on the floor, counter-clockwise from +x (0 looks toward
  +x, 90 toward +y);
- pitch: elevation of the optical axis above the horizontal (0 level, -90 straight down);
- roll: turn of the image about the optical axis, positive turning the image's x axis toward
  its y axis (clockwise as seen from behind the camera).

At roll 0 the image's x axis is horizontal, to the right of the heading, and its y axis
points as far down as it can; for a down-looking camera (pitch -90) the top of the image
faces the yaw direction, so yaw 90, pitch -90 is :func:`twin.cameras.ceiling_grid`'s pose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.knowledge import Cameras
from scenes.checks import ProblemsError, Reader, is_real, kind_of, parse_toml, read_text, show
from scenes.store import Store
from scenes.tomlw import dumps

FORMAT = "storetwin-layout/1"
MOUNT_BELOW_CEILING_M = 0.2     # default mounting height: this far under the ceiling [m]
MAX_HFOV_DEG = 170.0            # a pinhole cannot reach 180 deg [deg]


@dataclass(frozen=True)
class CameraModel:
    """A camera product: what ``model = "<name>"`` fills in.

    resolution: (width, height) [px]; hfov_deg: horizontal field of view of the pinhole
    stand-in [deg]; fps: frame rate [Hz]; cost_usd: list price per camera [USD].
    """

    name: str
    resolution: tuple[int, int]
    hfov_deg: float
    fps: float
    cost_usd: float
    description: str = ""


# Typical list prices of 2024 professional IP cameras: ASSUMPTIONS for planning, not quotes.
# The twin's cameras are distortion-free pinholes, so a wide lens is modelled by a pinhole of
# its horizontal field of view; a 180-deg fisheye is approximated by a 140-deg pinhole (its
# rim, where a real fisheye has few pixels per metre, is left out).
DEFAULT_MODELS: dict[str, CameraModel] = {
    "dome-4mp": CameraModel("dome-4mp", (2688, 1520), 100.0, 20.0, 400.0,
                            "4 MP ceiling dome, 2.8 mm lens (typical list price, assumption)"),
    "fisheye-12mp": CameraModel("fisheye-12mp", (2992, 2992), 140.0, 15.0, 800.0,
                                "12 MP ceiling fisheye as a 140-deg pinhole (typical list "
                                "price, assumption)"),
    "bullet-4mp": CameraModel("bullet-4mp", (2688, 1520), 60.0, 20.0, 350.0,
                              "4 MP mini bullet, 4 mm lens, for long views (typical list "
                              "price, assumption)"),
}
DEFAULT_MODEL = "dome-4mp"


# ---------------------------------------------------------------------------------------------
# orientation and intrinsics (scalar math, so the same angles always give the same bits)


def rotation_from_angles(yaw_deg: float, pitch_deg: float, roll_deg: float = 0.0
                         ) -> np.ndarray:
    """(3, 3) float64 world-from-camera rotation (columns: the camera's x, y, z axes in the
    world) of a camera with the given yaw, pitch and roll [deg] (module docstring)."""
    y, p, r = math.radians(yaw_deg), math.radians(pitch_deg), math.radians(roll_deg)
    cy, sy, cp, sp, cr, sr = (math.cos(y), math.sin(y), math.cos(p), math.sin(p),
                              math.cos(r), math.sin(r))
    z = (cp * cy, cp * sy, sp)
    x0 = (sy, -cy, 0.0)
    y0 = (z[1] * x0[2] - z[2] * x0[1], z[2] * x0[0] - z[0] * x0[2],
          z[0] * x0[1] - z[1] * x0[0])                              # z x x0
    x = [cr * a + sr * b for a, b in zip(x0, y0, strict=True)]
    yy = [-sr * a + cr * b for a, b in zip(x0, y0, strict=True)]
    return np.array([x, yy, list(z)], dtype=np.float64).T


def angles_from_rotation(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) [deg] of a world-from-camera rotation (3, 3); for a camera looking
    straight up or down, yaw is taken from the image x axis and roll is 0."""
    rot = np.asarray(rot, dtype=np.float64)
    z = rot[:, 2]
    x = rot[:, 0]
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(z[2])))))
    if math.hypot(z[0], z[1]) < 1e-6:
        return math.degrees(math.atan2(float(x[0]), float(-x[1]))), pitch, 0.0
    yaw = math.degrees(math.atan2(float(z[1]), float(z[0])))
    r0 = rotation_from_angles(yaw, pitch, 0.0)
    roll = math.degrees(math.atan2(float(x @ r0[:, 1]), float(x @ r0[:, 0])))
    return yaw, pitch, roll


def look_at_angles(position, target) -> tuple[float, float]:
    """(yaw, pitch) [deg] of a camera at ``position`` (3,) looking at ``target`` (3,) [m]."""
    d = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    n = float(np.linalg.norm(d))
    h = math.hypot(float(d[0]), float(d[1]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(d[2]) / n))))
    yaw = 90.0 if h < 1e-9 * n else math.degrees(math.atan2(float(d[1]), float(d[0])))
    return yaw, pitch


def focal_from_hfov(width_px: int, hfov_deg: float) -> float:
    """Focal length [px] of a pinhole ``width_px`` wide with horizontal field ``hfov_deg``."""
    return (width_px / 2) / math.tan(math.radians(hfov_deg) / 2)


def intrinsics_from_hfov(resolution: tuple[int, int], hfov_deg: float) -> np.ndarray:
    """(4,) float64 fx, fy, cx, cy [px]: square pixels, principal point at the centre."""
    w, h = resolution
    f = focal_from_hfov(w, hfov_deg)
    return np.array([f, f, w / 2, h / 2], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# the layout


@dataclass(frozen=True, eq=False)
class CameraLayout:
    """c cameras as columns.

    name: (c,) str unique; position: (c, 3) float64 [m]; rotation: (c, 3, 3) float64
    world-from-camera (camera looks along its +z, x right, y down); intrinsics: (c, 4) float64
    fx, fy, cx, cy [px]; resolution: (c, 2) int32 width, height [px]; fps: (c,) float64 [Hz];
    model: (c,) str product name ("" for none); cost_usd: (c,) float64 list price [USD];
    store: name of the store the layout was made for (informative).
    """

    name: np.ndarray
    position: np.ndarray
    rotation: np.ndarray
    intrinsics: np.ndarray
    resolution: np.ndarray
    fps: np.ndarray
    model: np.ndarray
    cost_usd: np.ndarray
    store: str = ""

    def __post_init__(self) -> None:
        cols = {
            "name": np.asarray(self.name, dtype=str).reshape(-1),
            "position": np.asarray(self.position, dtype=np.float64).reshape(-1, 3),
            "rotation": np.asarray(self.rotation, dtype=np.float64).reshape(-1, 3, 3),
            "intrinsics": np.asarray(self.intrinsics, dtype=np.float64).reshape(-1, 4),
            "resolution": np.asarray(self.resolution, dtype=np.int32).reshape(-1, 2),
            "fps": np.asarray(self.fps, dtype=np.float64).reshape(-1),
            "model": np.asarray(self.model, dtype=str).reshape(-1),
            "cost_usd": np.asarray(self.cost_usd, dtype=np.float64).reshape(-1),
        }
        n = cols["name"].shape[0]
        for k, v in cols.items():
            if v.shape[0] != n:
                raise ValueError(f"CameraLayout.{k} has {v.shape[0]} rows; name has {n}")
            object.__setattr__(self, k, v)

    def __len__(self) -> int:
        return int(self.name.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CameraLayout):
            return NotImplemented
        return self.store == other.store and all(
            np.array_equal(getattr(self, k), getattr(other, k))
            for k in ("name", "position", "rotation", "intrinsics", "resolution", "fps",
                      "model", "cost_usd"))

    __hash__ = None  # type: ignore[assignment]

    @property
    def total_cost(self) -> float:
        """Sum of the list prices [USD]."""
        return float(self.cost_usd.sum())

    def cameras(self) -> Cameras:
        """The calibration the core gets: ids 0 .. c-1 in layout order."""
        return Cameras(camera=np.arange(len(self), dtype=np.int32),
                       position=self.position.copy(), rotation=self.rotation.copy(),
                       intrinsics=self.intrinsics.copy(), resolution=self.resolution.copy())

    def take(self, index) -> CameraLayout:
        """The cameras at ``index`` (int array or bool mask), in that order."""
        i = np.asarray(index)
        return CameraLayout(self.name[i], self.position[i], self.rotation[i],
                            self.intrinsics[i], self.resolution[i], self.fps[i],
                            self.model[i], self.cost_usd[i], self.store)

    @classmethod
    def empty(cls, store: str = "") -> CameraLayout:
        return cls(np.zeros(0, str), np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 4)),
                   np.zeros((0, 2), np.int32), np.zeros(0), np.zeros(0, str), np.zeros(0),
                   store)

    @classmethod
    def concat(cls, layouts: list[CameraLayout], store: str | None = None) -> CameraLayout:
        """The cameras of all ``layouts`` in order (names must stay unique)."""
        if not layouts:
            return cls.empty(store or "")
        out = cls(*(np.concatenate([getattr(x, k) for x in layouts]) for k in (
            "name", "position", "rotation", "intrinsics", "resolution", "fps", "model",
            "cost_usd")), store=layouts[0].store if store is None else store)
        if np.unique(out.name).size != len(out):
            raise ValueError("CameraLayout.concat: camera names repeat")
        return out


def make_layout(store_name: str, names: list[str], positions, angles, model: CameraModel,
                hfov_deg: float | None = None) -> CameraLayout:
    """A layout of one model from names, positions (c, 3) [m] and angles (c, 3) yaw, pitch,
    roll [deg]; hfov_deg overrides the model's field of view [deg]."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    ang = np.asarray(angles, dtype=np.float64).reshape(-1, 3)
    n = pos.shape[0]
    rot = (np.stack([rotation_from_angles(*a) for a in ang]) if n else np.zeros((0, 3, 3)))
    intr = intrinsics_from_hfov(model.resolution, model.hfov_deg if hfov_deg is None
                                else hfov_deg)
    return CameraLayout(np.array(names, dtype=str).reshape(-1), pos, rot,
                        np.tile(intr, (n, 1)), np.tile(model.resolution, (n, 1)),
                        np.full(n, model.fps), np.full(n, model.name).astype(str),
                        np.full(n, model.cost_usd), store_name)


# ---------------------------------------------------------------------------------------------
# the TOML format


class LayoutError(ProblemsError):
    """A layout file with problems: ``problems`` is a list of (field path, message)."""


TOP_KEYS = ("format", "store", "description", "defaults", "models", "cameras")
MODEL_KEYS = ("resolution", "hfov_deg", "fps", "cost_usd", "description")
ANGLE_KEYS = ("yaw_deg", "pitch_deg", "roll_deg")
FX_KEYS = ("fx_px", "fy_px", "cx_px", "cy_px")
INTRINSIC_KEYS = ("hfov_deg",) + FX_KEYS
DEFAULT_KEYS = ("model",) + ANGLE_KEYS + INTRINSIC_KEYS + ("resolution", "fps", "cost_usd")
CAMERA_KEYS = ("name", "model", "position_m", "look_at_m", "rotation") + ANGLE_KEYS + (
    INTRINSIC_KEYS + ("resolution", "fps", "cost_usd"))
_NUMBERS = {   # key: bounds and unit of a plain number
    "yaw_deg": dict(ge=-360.0, le=360.0, unit="deg"),
    "pitch_deg": dict(ge=-90.0, le=90.0, unit="deg"),
    "roll_deg": dict(ge=-180.0, le=180.0, unit="deg"),
    "hfov_deg": dict(gt=0.0, le=MAX_HFOV_DEG, unit="deg"),
    "fx_px": dict(gt=0.0, le=1e6, unit="px"),
    "fy_px": dict(gt=0.0, le=1e6, unit="px"),
    "cx_px": dict(ge=0.0, le=1e6, unit="px"),
    "cy_px": dict(ge=0.0, le=1e6, unit="px"),
    "fps": dict(gt=0.0, le=1000.0, unit="frames per second"),
    "cost_usd": dict(ge=0.0, le=1e6, unit="USD"),
}
MAX_RESOLUTION_PX = 20000
MAX_COORD_M = 2000.0
MAX_HEIGHT_M = 30.0   # the highest ceiling a store spec allows


@dataclass
class _Level:
    """One source of camera values: the camera itself, its model, or [defaults]."""

    path: str
    present: set
    vals: dict


def _values(r: Reader, t: dict, path: str, keys: tuple[str, ...], models: dict | None
            ) -> _Level:
    """Check the value of every key of ``keys`` present in table ``t``."""
    vals: dict = {}
    present = {k for k in t if k in keys}
    for k in present:
        p = f"{path}.{k}" if path else k
        v = t[k]
        if k in _NUMBERS:
            x = r.number(t, k, path, **_NUMBERS[k])
            if x is not None:
                vals[k] = x
        elif k == "resolution":
            if (isinstance(v, list) and len(v) == 2 and all(
                    isinstance(x, int) and not isinstance(x, bool)
                    and 16 <= x <= MAX_RESOLUTION_PX for x in v)):
                vals[k] = (int(v[0]), int(v[1]))
            else:
                r.bad(p, f"= {show(v)} is not allowed; expected [width, height], two integers "
                      f">= 16 and <= {MAX_RESOLUTION_PX} (px)")
        elif k == "model":
            name = r.string(t, k, path)
            if name is not None and models is not None:
                if name in models:
                    vals[k] = name
                else:
                    r.bad(p, f"= {show(v)} is not allowed; expected one of "
                          f"{', '.join(sorted(models))} (built in or under [models])")
        elif k in ("name", "description"):
            if k == "name":
                s = r.string(t, k, path)
                if s is not None:
                    vals[k] = s
            elif not isinstance(v, str):
                r.bad(p, f"is {kind_of(v)}; expected a string")
        elif k in ("position_m", "look_at_m"):
            if (isinstance(v, list) and len(v) == 3 and all(is_real(x) for x in v)
                    and all(abs(x) <= MAX_COORD_M for x in v)):
                vals[k] = np.array(v, dtype=np.float64)
                if k == "position_m" and not 0 < v[2] <= MAX_HEIGHT_M:
                    r.bad(p, f"has z = {v[2]:g}; expected a camera above the floor, "
                          f"0 < z <= {MAX_HEIGHT_M:g} (m)")
                    del vals[k]
            else:
                r.bad(p, f"= {show(v)} is not allowed; expected a point [x, y, z] in metres "
                      f"within {MAX_COORD_M:g} m of the origin")
        elif k == "rotation":
            m = None
            if (isinstance(v, list) and len(v) == 3 and all(
                    isinstance(row, list) and len(row) == 3 and all(is_real(x) for x in row)
                    for row in v)):
                m = np.array(v, dtype=np.float64)
                if not (np.abs(m.T @ m - np.eye(3)).max() < 1e-6 and np.linalg.det(m) > 0):
                    m = None
            if m is None:
                r.bad(p, f"= {show(v)} is not allowed; expected a 3 x 3 rotation matrix "
                      "(three rows; world-from-camera, its columns the camera's x, y, z axes "
                      "in the world; orthonormal, determinant +1)")
            else:
                vals[k] = m
    return _Level(path, present, vals)


def _models(r: Reader, doc: dict) -> dict[str, _Level] | None:
    """Built-in models, then the file's [models] (an entry replaces a built-in one); None
    when [models] is not a table (its problem is reported; model names are then not
    checked, and cameras that name one are not looked at further)."""
    out = {k: _Level(f"models.{k}", {"resolution", "hfov_deg", "fps", "cost_usd"},
                     {"resolution": m.resolution, "hfov_deg": m.hfov_deg, "fps": m.fps,
                      "cost_usd": m.cost_usd}) for k, m in DEFAULT_MODELS.items()}
    if "models" not in doc:
        return out
    t = doc["models"]
    if not isinstance(t, dict):
        r.bad("models", f"is {kind_of(t)}; expected a table of camera models, "
              "[models.<name>] with keys " + ", ".join(MODEL_KEYS))
        return None
    for name, m in t.items():
        p = f"models.{name}"
        if not name.strip():
            r.bad("models", "has a model with an empty name; expected a name")
            continue
        tm = r.table(m, p, MODEL_KEYS)
        # a broken entry: its values count as given (and rejected), so cameras stay quiet
        out[name] = (_Level(p, set(MODEL_KEYS), {}) if tm is None
                     else _values(r, tm, p, MODEL_KEYS, None))
    return out


def _first(levels: list[_Level], key: str):
    """(found, value) of ``key`` from the most specific level that has it; value is None
    when that level's value was rejected (its problem is already reported)."""
    for lv in levels:
        if key in lv.present:
            return True, lv.vals.get(key)
    return False, None


def _intrinsics(r: Reader, levels: list[_Level], res, path: str):
    """fx, fy, cx, cy from the most specific level giving any intrinsic key."""
    for lv in levels:
        keys = lv.present & set(INTRINSIC_KEYS)
        if not keys:
            continue
        if "hfov_deg" in keys and keys - {"hfov_deg"}:
            r.bad(lv.path, "gives hfov_deg and fx_px/fy_px/cx_px/cy_px; expected one of them")
            return None
        if "hfov_deg" in keys:
            hf = lv.vals.get("hfov_deg")
            return None if hf is None or res is None else intrinsics_from_hfov(res, hf)
        missing = [k for k in FX_KEYS if k not in keys]
        if missing:
            r.bad(lv.path, f"gives {', '.join(sorted(keys))} without {', '.join(missing)}; "
                  "expected all four of fx_px, fy_px, cx_px, cy_px, or hfov_deg")
            return None
        if any(k not in lv.vals for k in FX_KEYS):
            return None
        k = np.array([lv.vals[k] for k in FX_KEYS], dtype=np.float64)
        if res is not None:
            for j, (kk, lim) in enumerate((("cx_px", res[0]), ("cy_px", res[1])), start=2):
                if k[j] > lim:
                    r.bad(f"{path}.{kk}" if lv.path == path else f"{lv.path}.{kk}",
                          f"= {k[j]:g} lies outside the image ({lim} px); expected "
                          f"0 <= {kk} <= {lim}")
                    return None
        return k
    r.bad(f"{path}.hfov_deg", "is missing (required): give hfov_deg or fx_px, fy_px, cx_px, "
          "cy_px here, in the camera's model or in [defaults]")
    return None


def _store_checks(r: Reader, store: Store, path: str, pos: np.ndarray) -> None:
    p = f"{path}.position_m"
    at = f"[{pos[0]:g}, {pos[1]:g}, {pos[2]:g}]"
    if not store.contains(pos[None, :2])[0]:
        x0, y0, x1, y1 = store.bounds
        r.bad(p, f"= {at} lies outside the floor outline of store {store.name!r} (x {x0:g}.."
              f"{x1:g}, y {y0:g}..{y1:g}); expected a camera above the floor")
    if pos[2] > store.ceiling_height:
        r.bad(p, f"= {at} is above the ceiling of store {store.name!r}; expected "
              f"0 < z <= {store.ceiling_height:g} (m)")
    for f in store.fixtures:
        if all(f.lo[i] < pos[i] < f.hi[i] for i in range(3)):
            r.bad(p, f"= {at} lies inside fixture {f.name!r}; expected a camera in free space")
            break


def build_layout(doc: dict, source: str = "<layout>", store: Store | None = None
                 ) -> CameraLayout:
    """Check a parsed layout document and build it; raise :class:`LayoutError` listing every
    problem. With a store, cameras must also lie over its floor, under its ceiling and outside
    its fixtures."""
    r = Reader()
    if not isinstance(doc, dict):
        raise LayoutError(source, [("", f"is {kind_of(doc)}; expected a TOML document")])
    r.table(doc, "", TOP_KEYS, ("cameras",))
    if "format" in doc and doc["format"] != FORMAT:
        r.bad("format", f"= {show(doc['format'])} is not allowed; expected {FORMAT!r}")
    store_name = ""
    if "store" in doc:
        store_name = r.string(doc, "store", "") or ""
    if "description" in doc and not isinstance(doc["description"], str):
        r.bad("description", f"is {kind_of(doc['description'])}; expected a string")
    models = _models(r, doc)
    defaults = _Level("defaults", set(), {})
    if "defaults" in doc:
        t = r.table(doc["defaults"], "defaults", DEFAULT_KEYS)
        if t is not None:
            defaults = _values(r, t, "defaults", DEFAULT_KEYS, models)
            keys = defaults.present & set(INTRINSIC_KEYS)
            if "hfov_deg" in keys and keys - {"hfov_deg"}:
                r.bad("defaults", "gives hfov_deg and fx_px/fy_px/cx_px/cy_px; expected one "
                      "of them")
    cams = r.array(doc, "cameras", "")
    rows: list[tuple] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cams or []):
        path = f"cameras[{i}]"
        t = r.table(c, path, CAMERA_KEYS, ("name", "position_m"))
        if t is None:
            continue
        own = _values(r, t, path, CAMERA_KEYS, models)
        name = own.vals.get("name")
        if name is not None:
            if name in seen:
                r.bad(f"{path}.name", f"= {name!r} is also the name of cameras[{seen[name]}]; "
                      "expected unique camera names")
            else:
                seen[name] = i
        found, model = _first([own, defaults], "model")
        model_level = models[model] if model else _Level("models", set(), {})
        levels = [own, model_level, defaults]
        row: dict = {"name": name, "model": model if found else ""}
        ok = name is not None
        if found and model is None:   # a rejected model: its values are unknown, say no more
            if own.vals.get("position_m") is not None and store is not None:
                _store_checks(r, store, path, own.vals["position_m"])
            continue
        for key in ("resolution", "fps", "cost_usd"):
            f, v = _first(levels, key)
            if not f:
                r.bad(f"{path}.{key}", "is missing (required): give it here, in the camera's "
                      "model or in [defaults]")
            ok &= v is not None
            row[key] = v
        intr = _intrinsics(r, levels, row["resolution"], path)
        ok &= intr is not None
        row["intrinsics"] = intr
        # orientation: look_at_m, rotation, or yaw/pitch/roll (these fall back to [defaults])
        pos = own.vals.get("position_m")
        ok &= pos is not None
        forms = [k for k in ("look_at_m", "rotation") if k in own.present]
        if forms and own.present & {"yaw_deg", "pitch_deg"} or len(forms) > 1 or (
                "rotation" in forms and "roll_deg" in own.present):
            r.bad(path, "gives more than one orientation; expected look_at_m (with an "
                  "optional roll_deg), rotation, or yaw_deg/pitch_deg/roll_deg")
            ok = False
            rot = None
        elif "rotation" in forms:
            rot = own.vals.get("rotation")
        else:
            f_r, roll = _first([own, defaults], "roll_deg")
            roll = 0.0 if not f_r else roll
            if "look_at_m" in forms:
                target = own.vals.get("look_at_m")
                yaw = pitch = None
                if target is not None and pos is not None:
                    if np.linalg.norm(target - pos) < 0.01:
                        r.bad(f"{path}.look_at_m", "is within 1 cm of position_m; expected a "
                              "point the camera looks at")
                    else:
                        yaw, pitch = look_at_angles(pos, target)
            else:
                f_y, yaw = _first([own, defaults], "yaw_deg")
                yaw = 0.0 if not f_y else yaw
                f_p, pitch = _first([own, defaults], "pitch_deg")
                if not f_p:
                    r.bad(f"{path}.pitch_deg", "is missing (required): give look_at_m, "
                          "rotation or pitch_deg here, or pitch_deg in [defaults]")
            rot = (None if yaw is None or pitch is None or roll is None
                   else rotation_from_angles(yaw, pitch, roll))
        ok &= rot is not None
        if pos is not None and store is not None:
            _store_checks(r, store, path, pos)
        if ok:
            rows.append((name, pos, rot, intr, row["resolution"], row["fps"], row["model"],
                         row["cost_usd"]))
    if r.problems:
        raise LayoutError(source, r.problems)
    if not rows:
        return CameraLayout.empty(store_name)
    cols = list(zip(*rows, strict=True))
    return CameraLayout(np.array(cols[0], dtype=str), np.stack(cols[1]), np.stack(cols[2]),
                        np.stack(cols[3]), np.array(cols[4], dtype=np.int32),
                        np.array(cols[5], dtype=np.float64), np.array(cols[6], dtype=str),
                        np.array(cols[7], dtype=np.float64), store_name)


def parse_layout(text: str, source: str = "<layout>", store: Store | None = None
                 ) -> CameraLayout:
    """Build a layout from TOML text (see :func:`build_layout`)."""
    return build_layout(parse_toml(text, source, LayoutError, "a camera layout"), source, store)


def load_layout(path: str | Path, store: Store | None = None) -> CameraLayout:
    """Read and check a layout file (``.toml``); see :func:`build_layout`."""
    text = read_text(path, LayoutError)
    return parse_layout(text, str(path), store)


def _exact_angles(rot: np.ndarray) -> tuple[float, float, float] | None:
    """Angles that rebuild ``rot`` bit for bit, preferring round numbers; None if none do."""
    raw = angles_from_rotation(rot)
    for cand in (tuple(round(a, 9) + 0.0 for a in raw), raw):
        if np.array_equal(rotation_from_angles(*cand), rot):
            return cand
    return None


def _exact_hfov(res: np.ndarray, intr: np.ndarray) -> float | None:
    """A horizontal field of view that rebuilds ``intr`` bit for bit, or None."""
    w, h = int(res[0]), int(res[1])
    fx, fy, cx, cy = (float(x) for x in intr)
    if fx != fy or cx != w / 2 or cy != h / 2:
        return None
    raw = math.degrees(2 * math.atan((w / 2) / fx))
    for cand in (round(raw, 9) + 0.0, raw):
        if 0 < cand <= MAX_HFOV_DEG and np.array_equal(intrinsics_from_hfov((w, h), cand), intr):
            return cand
    return None


def dumps_layout(layout: CameraLayout, description: str = "") -> str:
    """The layout as ``storetwin-layout/1`` TOML; :func:`parse_layout` reads it back equal.

    Values every camera of a model shares go to a ``[models.<name>]`` table (which replaces
    any built-in model of that name); orientation is written as yaw/pitch/roll where those
    angles rebuild the rotation exactly, else as the ``rotation`` matrix."""
    cams: list[dict] = []
    for i in range(len(layout)):
        d: dict = {"name": str(layout.name[i])}
        if layout.model[i]:
            d["model"] = str(layout.model[i])
        d["position_m"] = [float(x) for x in layout.position[i]]
        ang = _exact_angles(layout.rotation[i])
        if ang is None:
            d["rotation"] = [[float(x) for x in row] for row in layout.rotation[i]]
        else:
            d["yaw_deg"], d["pitch_deg"] = ang[0], ang[1]
            if ang[2] != 0.0:
                d["roll_deg"] = ang[2]
        hf = _exact_hfov(layout.resolution[i], layout.intrinsics[i])
        if hf is None:
            d.update(zip(FX_KEYS, (float(x) for x in layout.intrinsics[i]), strict=True))
        else:
            d["hfov_deg"] = hf
        d["resolution"] = [int(x) for x in layout.resolution[i]]
        d["fps"] = float(layout.fps[i])
        d["cost_usd"] = float(layout.cost_usd[i])
        cams.append(d)
    models: dict[str, dict] = {}
    for m in dict.fromkeys(str(x) for x in layout.model if x):
        mine = [d for d in cams if d.get("model") == m]
        table = {}
        for key in ("resolution", "hfov_deg", "fps", "cost_usd"):
            vals = [d.get(key) for d in mine]
            if vals[0] is not None and all(v == vals[0] for v in vals):
                table[key] = vals[0]
                for d in mine:
                    del d[key]
        models[m] = table
    doc: dict = {"format": FORMAT}
    if layout.store:
        doc["store"] = layout.store
    if description:
        doc["description"] = description
    if models:
        doc["models"] = models
    doc["cameras"] = cams
    head = (f"storetwin camera layout: {len(layout)} cameras, ${layout.total_cost:,.0f} at list "
            "prices\nformat: docs/camera-layout.md")
    return dumps(doc, head)
