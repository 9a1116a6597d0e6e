"""Build the store knowledge a real deployment would hand its core (no simulator state)."""

from __future__ import annotations

import numpy as np

from core.knowledge import Cameras, Catalogue, Plates, StoreKnowledge
from scenes.store import Store
from twin.sensors import LoadCellModel
from twin.sim import Clock


def store_knowledge(store: Store, cameras: Cameras, clock: Clock,
                    loadcell: LoadCellModel) -> StoreKnowledge:
    b = store.bins
    c = store.catalogue
    return StoreKnowledge(
        name=store.name,
        bounds=np.asarray(store.bounds, dtype=np.float64),
        entrance=np.asarray(store.entrance_region, dtype=np.float64),
        exit=np.asarray(store.exit_region, dtype=np.float64),
        catalogue=Catalogue(sku=c.sku.copy(), name=c.name.copy(),
                            price_cents=c.price_cents.copy(), mass_g=c.mass_g.copy(),
                            category=c.category.copy()),
        plates=Plates(plate=b.plate.copy(), sku_index=b.sku_index.copy(),
                      center=b.center, access_xy=b.access_xy.copy(), size=b.hi - b.lo),
        cameras=cameras,
        camera_hz=clock.camera_hz,
        plate_hz=clock.plate_hz,
        plate_noise_g=loadcell.noise_g,
    )


# The knowledge file of a run folder (``knowledge.json``): everything the core was handed at
# start, so a recorded run replays without the simulator or the store spec.
KNOWLEDGE_FORMAT = "storetwin-knowledge/1"


class KnowledgeFileError(ValueError):
    pass


def knowledge_to_json(k: StoreKnowledge) -> dict:
    c, p, cam = k.catalogue, k.plates, k.cameras
    return {
        "format": KNOWLEDGE_FORMAT,
        "name": k.name,
        "bounds": k.bounds.tolist(), "entrance": k.entrance.tolist(), "exit": k.exit.tolist(),
        "camera_hz": k.camera_hz, "plate_hz": k.plate_hz, "plate_noise_g": k.plate_noise_g,
        "catalogue": {"sku": c.sku.tolist(), "name": c.name.tolist(),
                      "price_cents": c.price_cents.tolist(), "mass_g": c.mass_g.tolist(),
                      **({"category": c.category.tolist()} if c.category is not None
                         else {})},
        "plates": {"plate": p.plate.tolist(), "sku_index": p.sku_index.tolist(),
                   "center": p.center.tolist(), "access_xy": p.access_xy.tolist(),
                   **({"size": p.size.tolist()} if p.size is not None else {})},
        "cameras": {"camera": cam.camera.tolist(), "position": cam.position.tolist(),
                    "rotation": cam.rotation.tolist(), "intrinsics": cam.intrinsics.tolist(),
                    "resolution": cam.resolution.tolist()},
    }


def knowledge_from_json(d: dict, source: str = "knowledge.json") -> StoreKnowledge:
    """The inverse of :func:`knowledge_to_json`; a malformed file raises
    :class:`KnowledgeFileError` naming the field."""
    def get(path: str, shape_tail: tuple[int, ...] = (), dtype=np.float64):
        node = d
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KnowledgeFileError(f"{source}: {path} is missing")
            node = node[part]
        try:
            a = np.asarray(node, dtype=dtype)
        except (TypeError, ValueError):
            raise KnowledgeFileError(f"{source}: {path} is not an array of "
                                     f"{np.dtype(dtype).name}") from None
        if shape_tail and (a.ndim != 1 + len(shape_tail) or a.shape[1:] != shape_tail):
            raise KnowledgeFileError(f"{source}: {path} has shape {a.shape}; expected "
                                     f"(n, {', '.join(map(str, shape_tail))})")
        return a

    if not isinstance(d, dict) or d.get("format") != KNOWLEDGE_FORMAT:
        raise KnowledgeFileError(f"{source}: format is not {KNOWLEDGE_FORMAT!r}")
    try:
        k = StoreKnowledge(
            name=str(d.get("name", "")),
            bounds=get("bounds"), entrance=get("entrance"), exit=get("exit"),
            catalogue=Catalogue(sku=get("catalogue.sku", dtype=str),
                                name=get("catalogue.name", dtype=str),
                                price_cents=get("catalogue.price_cents", dtype=np.int64),
                                mass_g=get("catalogue.mass_g"),
                                category=get("catalogue.category", dtype=str)
                                if "category" in d.get("catalogue", {}) else None),
            plates=Plates(plate=get("plates.plate", dtype=np.int32),
                          sku_index=get("plates.sku_index", dtype=np.int32),
                          center=get("plates.center", (3,)),
                          access_xy=get("plates.access_xy", (2,)),
                          size=get("plates.size", (3,)) if "size" in d.get("plates", {})
                          else None),
            cameras=Cameras(camera=get("cameras.camera", dtype=np.int32),
                            position=get("cameras.position", (3,)),
                            rotation=get("cameras.rotation", (3, 3)),
                            intrinsics=get("cameras.intrinsics", (4,)),
                            resolution=get("cameras.resolution", (2,), np.int32)),
            camera_hz=float(get("camera_hz")), plate_hz=float(get("plate_hz")),
            plate_noise_g=float(get("plate_noise_g")),
        )
    except (TypeError, ValueError) as e:
        if isinstance(e, KnowledgeFileError):
            raise
        raise KnowledgeFileError(f"{source}: {e}") from None
    _check_ranges(k, source)
    return k


def _bad(source: str, path: str, a: np.ndarray, bad: np.ndarray, allowed: str) -> None:
    """One KnowledgeFileError naming the field, the first bad entry and what is allowed."""
    rows = np.flatnonzero(np.asarray(bad).reshape(len(a), -1).any(axis=1)) if len(a) else []
    if len(rows):
        i = int(rows[0])
        raise KnowledgeFileError(f"{source}: {path}[{i}] = {np.asarray(a)[i].tolist()!r} is not "
                                 f"allowed; expected {allowed}")


def _check_ranges(k: StoreKnowledge, source: str) -> None:
    """The values a core divides by, indexes with or compares against: finite, in range."""
    c, p, cam = k.catalogue, k.plates, k.cameras
    n_sku = c.sku.shape[0]
    for path, v in (("camera_hz", k.camera_hz), ("plate_hz", k.plate_hz),
                    ("plate_noise_g", k.plate_noise_g)):
        if not (np.isfinite(v) and 0 < v <= 1e5):
            raise KnowledgeFileError(f"{source}: {path} = {v!r} is not allowed; expected a "
                                     "number in (0, 100000]")
    for path, a in (("bounds", k.bounds), ("entrance", k.entrance), ("exit", k.exit)):
        if a.shape != (4,) or not np.isfinite(a).all() or a[2] <= a[0] or a[3] <= a[1]:
            raise KnowledgeFileError(f"{source}: {path} = {a.tolist()!r} is not allowed; "
                                     "expected [xmin, ymin, xmax, ymax], finite, min < max")
    lens = {c.name.shape[0], c.price_cents.shape[0], c.mass_g.shape[0]}
    if lens != {n_sku}:
        raise KnowledgeFileError(f"{source}: catalogue columns have lengths {sorted(lens)} "
                                 f"and sku {n_sku}; expected one length")
    _bad(source, "catalogue.mass_g", c.mass_g, ~(np.isfinite(c.mass_g) & (c.mass_g > 0)),
         "a mass > 0 [g]")
    _bad(source, "catalogue.price_cents", c.price_cents, c.price_cents < 0,
         "a price >= 0 [cents]")
    b = p.plate.shape[0]
    if {p.sku_index.shape[0], p.center.shape[0], p.access_xy.shape[0]} != {b}:
        raise KnowledgeFileError(f"{source}: plates columns differ in length; expected one "
                                 f"row per bin ({b})")
    _bad(source, "plates.plate", p.plate, p.plate < 0, "a plate id >= 0")
    _bad(source, "plates.sku_index", p.sku_index, (p.sku_index < 0) | (p.sku_index >= n_sku),
         f"a catalogue row in [0, {n_sku - 1}]")
    for path, a in (("plates.center", p.center), ("plates.access_xy", p.access_xy),
                    ("cameras.position", cam.position), ("cameras.rotation", cam.rotation)):
        _bad(source, path, a, ~np.isfinite(a), "finite numbers")
    if p.size is not None:
        _bad(source, "plates.size", p.size, ~(np.isfinite(p.size) & (p.size > 0)),
             "sizes > 0 [m]")
    nc = cam.camera.shape[0]
    if {cam.position.shape[0], cam.rotation.shape[0], cam.intrinsics.shape[0],
            cam.resolution.shape[0]} != {nc}:
        raise KnowledgeFileError(f"{source}: cameras columns differ in length; expected one "
                                 f"row per camera ({nc})")
    _bad(source, "cameras.camera", cam.camera, cam.camera < 0, "a camera id >= 0")
    if np.unique(cam.camera).size != nc:
        raise KnowledgeFileError(f"{source}: cameras.camera repeats an id; expected unique ids")
    _bad(source, "cameras.intrinsics", cam.intrinsics,
         ~np.isfinite(cam.intrinsics) | (cam.intrinsics[:, :2] <= 0).any(axis=1)[:, None],
         "fx, fy > 0 and finite cx, cy [px]")
    _bad(source, "cameras.resolution", cam.resolution, cam.resolution <= 0,
         "a width and height > 0 [px]")
