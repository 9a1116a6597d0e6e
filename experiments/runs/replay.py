"""Replay a recorded run: its ``knowledge.json`` and ``streams/`` fed to a core, nothing else.

The core sees exactly what it saw live (same records, same tick grouping), so the same core
issues the same receipts; a different core (or a changed one) can be compared on the very
same sensor data.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from core.protocol import Core
from core.records import Receipt, Tracks
from core.store_core import StoreCore
from experiments.runs.knowledge import KnowledgeFileError, knowledge_from_json
from twin.streams import StreamFileError, read_streams


class ReplayError(ValueError):
    pass


@dataclass
class ReplayResult:
    receipts: list[Receipt]
    tracks: list[Tracks]
    live_receipts: dict | None     # the run's receipts.json, when there is one
    wall_s: float
    sim_s: float

    def receipts_json(self) -> dict:
        return {"receipts": [r.to_json() for r in sorted(self.receipts,
                                                          key=lambda r: r.account)]}

    @property
    def same_as_live(self) -> bool | None:
        if self.live_receipts is None:
            return None
        return self.receipts_json() == self.live_receipts


def replay(run_dir: str | Path, core: Core | None = None) -> ReplayResult:
    """Feed a run folder's recorded streams to ``core`` (default: storetwin's own)."""
    run_dir = Path(run_dir)
    kpath = run_dir / "knowledge.json"
    if not run_dir.is_dir():
        raise ReplayError(f"{run_dir}: not a run folder (no such folder)")
    try:
        kdoc = json.loads(kpath.read_text())
    except FileNotFoundError:
        raise ReplayError(f"{kpath}: missing; a run folder written by 'storetwin run' has "
                          "it") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReplayError(f"{kpath}: not readable JSON ({e})") from None
    try:
        knowledge = knowledge_from_json(kdoc, str(kpath))
    except KnowledgeFileError as e:
        raise ReplayError(str(e)) from None
    duration = None
    delivery = None
    try:
        cfg = json.loads((run_dir / "config.json").read_text())
        duration = float(cfg["minutes"]) * 60.0
    except (OSError, ValueError, KeyError, TypeError):
        cfg = {}
    if isinstance(cfg, dict) and cfg.get("faults"):
        from twin.faults import Delivery, FaultFileError, faults_from_dict
        try:    # late delivery is not in the streams: the same schedule and seed re-apply it
            late = faults_from_dict(cfg["faults"], f"{run_dir / 'config.json'}: faults")
        except FaultFileError as e:
            raise ReplayError(str(e)) from None
        if late.streams.late_s > 0:
            delivery = Delivery(late.streams.late_s, int(cfg.get("seed", 0)))
    live = None
    try:
        live = json.loads((run_dir / "receipts.json").read_text())
    except (OSError, ValueError):
        pass
    core = core if core is not None else StoreCore()
    t0 = time.perf_counter()
    core.start(knowledge)
    receipts: list[Receipt] = []
    tracks: list[Tracks] = []
    last_t = 0.0
    try:
        for batch in read_streams(run_dir / "streams", (knowledge.cameras.camera,
                                                         knowledge.plates.plate,
                                                         knowledge.bounds)):
            last_t = batch.t
            if delivery is not None:
                batch = delivery.push(batch)
            tr, issued = core.step(batch)
            tracks.extend(tr)
            receipts.extend(issued)
    except StreamFileError as e:
        raise ReplayError(str(e)) from None
    end = duration if duration is not None else last_t
    if delivery is not None and (late := delivery.flush(end)) is not None:
        tr, issued = core.step(late)
        tracks.extend(tr)
        receipts.extend(issued)
    receipts.extend(core.finish(end))
    tracks.extend(getattr(core, "final_tracks", ()))
    return ReplayResult(receipts, tracks, live, time.perf_counter() - t0,
                        duration if duration is not None else last_t)
