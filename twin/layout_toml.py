"""Camera layout files: the ``storetwin-layout/1`` TOML format, its checks, and the writer.

The format is documented key by key in ``docs/camera-layout.md``. Every problem in a layout
file is reported, one line each, naming the file, the field path (e.g.
``cameras[3].hfov_deg``) and what is allowed; a file with problems raises
:class:`LayoutError` holding all of them, and nothing else escapes the loader. A layout read
back from :func:`dumps_layout` is the same :class:`twin.layout.CameraLayout`, bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenes.checks import ProblemsError, Reader, is_real, kind_of, parse_toml, read_text, show
from scenes.store import Store
from scenes.tomlw import dumps
from twin.camgeom import (
    angles_from_rotation,
    intrinsics_from_hfov,
    look_at_angles,
    rotation_from_angles,
)
from twin.layout import DEFAULT_MODELS, MAX_HFOV_DEG, CameraLayout

FORMAT = "storetwin-layout/1"


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
    defaults = _defaults(r, doc, models)
    cams = r.array(doc, "cameras", "")
    rows: list[tuple] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cams or []):
        row = _camera(r, c, i, models, defaults, store, seen)
        if row is not None:
            rows.append(row)
    if r.problems:
        raise LayoutError(source, r.problems)
    if not rows:
        return CameraLayout.empty(store_name)
    cols = list(zip(*rows, strict=True))
    return CameraLayout(np.array(cols[0], dtype=str), np.stack(cols[1]), np.stack(cols[2]),
                        np.stack(cols[3]), np.array(cols[4], dtype=np.int32),
                        np.array(cols[5], dtype=np.float64), np.array(cols[6], dtype=str),
                        np.array(cols[7], dtype=np.float64), store_name)


def _defaults(r: Reader, doc: dict, models: dict | None) -> _Level:
    """The file's [defaults]: values every camera falls back on."""
    defaults = _Level("defaults", set(), {})
    if "defaults" in doc:
        t = r.table(doc["defaults"], "defaults", DEFAULT_KEYS)
        if t is not None:
            defaults = _values(r, t, "defaults", DEFAULT_KEYS, models)
            keys = defaults.present & set(INTRINSIC_KEYS)
            if "hfov_deg" in keys and keys - {"hfov_deg"}:
                r.bad("defaults", "gives hfov_deg and fx_px/fy_px/cx_px/cy_px; expected one "
                      "of them")
    return defaults


def _camera(r: Reader, c, i: int, models: dict | None, defaults: _Level, store: Store | None,
            seen: dict[str, int]) -> tuple | None:
    """``cameras[i]`` as a row (name, position, rotation, intrinsics, resolution, fps, model,
    cost), or None when it has problems (reported); ``seen``: camera names so far."""
    path = f"cameras[{i}]"
    t = r.table(c, path, CAMERA_KEYS, ("name", "position_m"))
    if t is None:
        return None
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
        return None
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
    pos = own.vals.get("position_m")
    ok &= pos is not None
    rot = _orientation(r, own, defaults, path, pos)
    ok &= rot is not None
    if pos is not None and store is not None:
        _store_checks(r, store, path, pos)
    if not ok:
        return None
    return (name, pos, rot, intr, row["resolution"], row["fps"], row["model"], row["cost_usd"])


def _orientation(r: Reader, own: _Level, defaults: _Level, path: str, pos):
    """A camera's rotation from look_at_m, rotation, or yaw/pitch/roll (these fall back to
    [defaults]); None when it has problems (reported)."""
    forms = [k for k in ("look_at_m", "rotation") if k in own.present]
    if forms and own.present & {"yaw_deg", "pitch_deg"} or len(forms) > 1 or (
            "rotation" in forms and "roll_deg" in own.present):
        r.bad(path, "gives more than one orientation; expected look_at_m (with an "
              "optional roll_deg), rotation, or yaw_deg/pitch_deg/roll_deg")
        return None
    if "rotation" in forms:
        return own.vals.get("rotation")
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
    return (None if yaw is None or pitch is None or roll is None
            else rotation_from_angles(yaw, pitch, roll))


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
