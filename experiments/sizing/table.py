"""The cited per-unit cost table (``costs.toml``, format ``storetwin-costs/1``): hardware,
per-frame and per-crop costs of named models on named hardware, decode capacities, model
operation counts and camera bitrates, each with its source; and the rows derived from them
(a model's time from its operation count at another model's measured or cited rate).

:func:`load_costs` reads and checks the table; a problem is a :class:`CostTableError` naming
the file, the row and the field.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

COSTS_FILE = Path(__file__).with_name("costs.toml")
FORMAT = "storetwin-costs/1"
STAGES = ("decode", "detect", "pose", "appearance")
UNITS = {"decode": ("frames/s",), "detect": ("ms/frame",), "pose": ("ms/frame", "ms/crop"),
         "appearance": ("ms/crop",)}
ENGINES = ("cpu", "gpu", "nvdec")
KINDS = ("cited", "measured here")
CONVENTIONS = {"MAC": 2.0, "FLOP": 1.0}   # FLOPs per counted operation


class CostTableError(ValueError):
    """A cost table that cannot be read or breaks its format (names file, row, field)."""


@dataclass(frozen=True)
class Hardware:
    """A device a cost is stated for. group: the hardware choice it belongs to (``--hardware``);
    unit: what one device is (counted in the sizing's totals)."""
    id: str
    group: str
    unit: str
    name: str


@dataclass(frozen=True)
class Figure:
    """One cost. value: frames/s (decode), or ms per frame or per crop (unit says); input:
    the image the figure is stated at, "WxH" [px]; per: "frame" or "crop"; kind: "cited",
    "measured here" or "derived"; source/where/accessed: where it comes from."""
    id: str
    stage: str
    model: str
    hardware: str
    engine: str
    value: float
    unit: str
    input: str
    kind: str
    source: str
    where: str
    accessed: str

    @property
    def per(self) -> str:
        """"crop" for a per-person-crop cost, else "frame"."""
        return "crop" if self.unit.endswith("/crop") else "frame"

    @property
    def pixels(self) -> int:
        """Pixels of the image the figure is stated at [px]."""
        w, h = (int(v) for v in self.input.lower().split("x"))
        return w * h


@dataclass(frozen=True)
class Bitrate:
    """One camera main stream's bitrate [kbit/s] at ``input`` ("WxH" [px]) and ``fps`` [Hz]."""
    codec: str
    input: str
    fps: float
    value: float
    source: str
    where: str
    accessed: str

    @property
    def pixels(self) -> int:
        w, h = (int(v) for v in self.input.lower().split("x"))
        return w * h


@dataclass(frozen=True)
class CostTable:
    """The loaded table: hardware by id, figures (cited, measured and derived, in file
    order: derived last), bitrates; ``path`` it came from."""
    hardware: dict[str, Hardware]
    figures: tuple[Figure, ...]
    bitrates: tuple[Bitrate, ...]
    path: Path

    def groups(self) -> list[str]:
        """The hardware choices, in file order."""
        return list(dict.fromkeys(h.group for h in self.hardware.values()))

    def find(self, stage: str, model: str, group: str) -> Figure | None:
        """The first figure of ``model`` for ``stage`` on hardware of ``group``, or None."""
        for f in self.figures:
            if f.stage == stage and f.model == model and self.hardware[f.hardware].group == group:
                return f
        return None

    def models(self, stage: str) -> list[str]:
        """Every model the table has a figure for at ``stage``, in file order."""
        return list(dict.fromkeys(f.model for f in self.figures if f.stage == stage))

    def bitrate(self, pixels: int, fps: float) -> Bitrate | None:
        """The bitrate row at ``fps`` [Hz] whose pixel count is nearest ``pixels`` (no
        scaling), or None when no row is stated at that frame rate."""
        rows = [b for b in self.bitrates if math.isclose(b.fps, fps)]
        return min(rows, key=lambda b: abs(b.pixels - pixels)) if rows else None


_FIGURE_FIELDS = ("id", "stage", "model", "hardware", "engine", "value", "unit", "input", "kind",
                  "source", "where", "accessed")
_FLOPS_FIELDS = ("model", "value", "convention", "input", "source", "where", "accessed")
_BITRATE_FIELDS = ("codec", "input", "fps", "value", "source", "where", "accessed")


def _need(where: str, row: dict, fields: tuple[str, ...]) -> None:
    """Every field present and non-empty; numbers finite and positive."""
    for k in fields:
        v = row.get(k)
        if v is None or (isinstance(v, str) and not v.strip()):
            raise CostTableError(f"{where}: field {k!r} is missing or empty")
        if k in ("value", "fps") and (isinstance(v, bool) or not isinstance(v, (int, float))
                                      or not math.isfinite(v) or v <= 0):
            raise CostTableError(f"{where}: {k} must be a number > 0, got {v!r}")
        if k == "input" and not _is_size(str(v)):
            raise CostTableError(f"{where}: input must be WIDTHxHEIGHT in px, got {v!r}")


def _is_size(text: str) -> bool:
    parts = text.lower().split("x")
    return len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts)


def _figure(where: str, row: dict, hardware: dict[str, Hardware]) -> Figure:
    _need(where, row, _FIGURE_FIELDS)
    checks = (("stage", STAGES), ("engine", ENGINES), ("kind", KINDS),
              ("hardware", tuple(hardware)))
    for k, allowed in checks:
        if row[k] not in allowed:
            raise CostTableError(f"{where}: {k} must be one of {', '.join(allowed)}, "
                                 f"got {row[k]!r}")
    if row["unit"] not in UNITS[row["stage"]]:
        raise CostTableError(f"{where}: unit of a {row['stage']} figure must be one of "
                             f"{', '.join(UNITS[row['stage']])}, got {row['unit']!r}")
    return Figure(**{k: (float(row[k]) if k == "value" else str(row[k]))
                     for k in _FIGURE_FIELDS})


def _derived(where: str, row: dict, flops: dict[str, dict], figures: dict[str, Figure],
             hardware: dict[str, Hardware]) -> Figure:
    """The time of ``model`` from its operation count at ``rate_model``'s rate in figure
    ``rate_figure``: ops(model) / ops(rate_model) x time(rate_figure)."""
    _need(where, row, ("model", "rate_model", "rate_figure"))
    for k in ("model", "rate_model"):
        if row[k] not in flops:
            raise CostTableError(f"{where}: {k} {row[k]!r} has no [[flops]] row")
    base = figures.get(row["rate_figure"])
    if base is None or not base.unit.startswith("ms/"):
        raise CostTableError(f"{where}: rate_figure {row['rate_figure']!r} is no ms figure "
                             "of this table")
    if base.model != row["rate_model"]:
        raise CostTableError(f"{where}: rate_figure {base.id!r} is a figure of {base.model!r}, "
                             f"not of rate_model {row['rate_model']!r}")
    a, b = flops[row["model"]], flops[row["rate_model"]]
    ratio = (a["value"] * CONVENTIONS[a["convention"]]) / (b["value"] * CONVENTIONS[b["convention"]])
    hw = hardware[base.hardware]
    return Figure(
        id=f"appearance-{row['model']}-from-{base.id}", stage="appearance", model=row["model"],
        hardware=base.hardware, engine=base.engine, value=round(base.value * ratio, 4),
        unit="ms/crop", input=a["input"], kind="derived",
        source=(f"derived: {a['value']:g} G{a['convention']} ({row['model']}) / "
                f"{b['value']:g} G{b['convention']} ({row['rate_model']}) x {base.value:g} ms "
                f"({base.id}, {base.kind}) on {hw.name}"),
        where=f"{a['source']} ({a['where']}); {b['source']} ({b['where']})",
        accessed=max(a["accessed"], b["accessed"], base.accessed))


def _hardware(path: Path, doc: dict) -> dict[str, Hardware]:
    out: dict[str, Hardware] = {}
    for i, row in enumerate(doc.get("hardware", [])):
        where = f"{path}: [[hardware]] {i + 1}"
        _need(where, row, ("id", "group", "unit", "name"))
        if row["id"] in out:
            raise CostTableError(f"{where}: id {row['id']!r} repeats")
        out[row["id"]] = Hardware(row["id"], row["group"], row["unit"], row["name"])
    if not out:
        raise CostTableError(f"{path}: no [[hardware]] rows")
    return out


def load_costs(path: str | Path | None = None) -> CostTable:
    """The cost table at ``path`` (default: the shipped ``costs.toml``), checked: every row
    has its fields, a positive value and a source; references resolve."""
    path = Path(path) if path is not None else COSTS_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CostTableError(f"{path}: cannot read ({e.strerror or e})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CostTableError(f"{path}: not valid TOML ({e})") from None
    if doc.get("format") != FORMAT:
        raise CostTableError(f"{path}: format must be {FORMAT!r}, got {doc.get('format')!r}")
    hardware = _hardware(path, doc)
    figures: dict[str, Figure] = {}
    for i, row in enumerate(doc.get("figure", [])):
        f = _figure(f"{path}: [[figure]] {i + 1} ({row.get('id', '?')})", row, hardware)
        if f.id in figures:
            raise CostTableError(f"{path}: [[figure]] {i + 1}: id {f.id!r} repeats")
        figures[f.id] = f
    flops: dict[str, dict] = {}
    for i, row in enumerate(doc.get("flops", [])):
        where = f"{path}: [[flops]] {i + 1} ({row.get('model', '?')})"
        _need(where, row, _FLOPS_FIELDS)
        if row["convention"] not in CONVENTIONS:
            raise CostTableError(f"{where}: convention must be one of MAC, FLOP, got "
                                 f"{row['convention']!r}")
        flops[row["model"]] = row
    derived = [_derived(f"{path}: [[derived]] {i + 1}", row, flops, figures, hardware)
               for i, row in enumerate(doc.get("derived", []))]
    bitrates = []
    for i, row in enumerate(doc.get("bitrate", [])):
        _need(f"{path}: [[bitrate]] {i + 1}", row, _BITRATE_FIELDS)
        bitrates.append(Bitrate(**{k: (float(row[k]) if k in ("fps", "value") else str(row[k]))
                                   for k in _BITRATE_FIELDS}))
    return CostTable(hardware, (*figures.values(), *derived), tuple(bitrates), path)
