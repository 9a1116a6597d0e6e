"""The viewer folder of a run (``RUN/view/`` by default): the page, three.js, our script and
the run's data as ``data.js`` (a script, not a fetched file, so the page also opens from
disk), written whole beside the old one and put in its place; and a localhost server.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq

from experiments.runs.knowledge import KnowledgeFileError, knowledge_from_json
from experiments.runs.outputs import commit_folder, partial_folder
from experiments.view import evidence, motion
from experiments.view.blobs import records
from experiments.view.scene import scene_data

FORMAT = "storetwin-view/1"
# The files of static/ the page needs, as they go into the folder.
STATIC = ("index.html", "viewer.css", "viewer.js", "panels.js", "three.iife.min.js",
          "THREE-LICENSE.txt")
MARKER = '<meta name="generator" content="storetwin view">'
# Margin around the store's bounds for quantised positions [m]: shoppers queue at the gates.
POSITION_MARGIN_M = 3.0


class ViewError(ValueError):
    """A run folder the viewer cannot read, or a place it cannot write: one line, exit 2."""


def _json(path: Path, required: bool = True) -> dict | list | None:
    if not path.is_file():
        if required:
            raise ViewError(f"{path}: missing (is this a folder written by 'storetwin run'?)")
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ViewError(f"{path}: not valid JSON ({e})") from None


def _store(cfg: dict, run: Path):
    from scenes.presets import load_store
    ref = cfg.get("store")
    if not isinstance(ref, str) or not ref:
        raise ViewError(f"{run / 'config.json'}: field 'store' must name a store preset or "
                        f"file, got {ref!r}")
    try:
        return load_store(ref)
    except (ValueError, OSError) as e:
        raise ViewError(f"{run / 'config.json'}: field 'store' = {ref!r}: {e}") from None


def _rows(path: Path) -> int:
    try:
        return pq.ParquetFile(path).metadata.num_rows if path.is_file() else 0
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise ViewError(f"{path}: not a readable Parquet file ({type(e).__name__}: {e})"
                        ) from None


def _tracks(path: Path, id_col: str, step: int) -> dict | None:
    if not path.is_file():
        return None
    try:
        return motion.read_sampled(path, id_col, step)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise ViewError(f"{path}: cannot read its columns frame, {id_col}, x, y "
                        f"({type(e).__name__}: {e})") from None


def read_run(run_dir: str | Path):
    """(folder, config, knowledge, store) of a run folder, checked against each other.
    Raises ViewError naming the file and what is wrong."""
    run = Path(run_dir)
    if not run.is_dir():
        raise ViewError(f"{run}: not a folder")
    cfg = _json(run / "config.json")
    try:
        k = knowledge_from_json(_json(run / "knowledge.json"), str(run / "knowledge.json"))
    except KnowledgeFileError as e:
        raise ViewError(str(e)) from None
    store = _store(cfg, run)
    if len(store.bins) != k.plates.plate.shape[0]:
        raise ViewError(f"{run / 'config.json'}: store {cfg['store']!r} has {len(store.bins)} "
                        f"bins, knowledge.json {k.plates.plate.shape[0]}: not this run's store")
    return run, cfg, k, store


def view_data(run_dir: str | Path) -> dict:
    """Everything the page shows of the run folder ``run_dir`` (see the package docstring).
    Raises ViewError naming the file and what is wrong."""
    run, cfg, k, store = read_run(run_dir)
    x0, y0, x1, y1 = store.bounds
    m = POSITION_MARGIN_M
    qb = (x0 - m, y0 - m, x1 + m, y1 + m)
    gt_path, hy_path = run / "ground_truth" / "tracks.parquet", run / "tracks.parquet"
    step = motion.sampling_step(max(_rows(gt_path), _rows(hy_path)))
    gt, hy = _tracks(gt_path, "shopper_id", step), _tracks(hy_path, "track_id", step)
    people = evidence.shoppers(run / "ground_truth" / "shoppers.parquet")
    ledger = _json(run / "ledger.json", required=False) or {}
    gt_acct = {p["id"]: p["account"] for p in people}
    hy_acct = {int(t): int(a) for t, a in ledger.get("track_accounts", {}).items()}
    events = evidence.truth_events(run / "ground_truth" / "events.parquet", store)
    billed = evidence.billed_events(ledger, store)
    issued = (_json(run / "receipts.json", required=False) or {}).get("receipts", [])
    truth = (_json(run / "ground_truth" / "receipts.json", required=False) or {}).get(
        "receipts", [])
    metrics = _json(run / "metrics.json", required=False) or {}
    hz = float(k.camera_hz)
    frames = [int(t["frame"].max()) for t in (gt, hy) if t is not None and t["frame"].size]
    return {
        "format": FORMAT, "run": run.resolve().name, "config": cfg, "metrics": metrics,
        "hz": hz, "t_end": round(max(frames, default=0) / hz, 4),
        "qbounds": list(qb), "scene": scene_data(store, k.cameras),
        "truth": None if gt is None else motion.track_data(gt, step, qb, gt_acct),
        "core": None if hy is None else motion.track_data(hy, step, qb, hy_acct),
        "switches": records([] if gt is None or hy is None else
                            motion.identity_switches(gt, hy, step, hz)),
        "shoppers": records(people), "events": records(events), "billed": records(billed),
        "evidence_kept": "billed" in ledger,
        "hand_overs": ledger.get("hand_overs", []),
        "receipts": records(evidence.receipts(issued, truth, events, billed)),
    }


def _static(name: str) -> bytes:
    return resources.files("experiments.view").joinpath("static", name).read_bytes()


def write_view(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the viewer of ``run_dir`` to ``out`` (default ``run_dir/view``), replacing an
    earlier viewer there whole; returns the page's path. Refuses (ViewError) to replace a
    folder that is not a viewer's."""
    data = view_data(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / "view"
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and MARKER.encode() not in
                                              _read(out / "index.html"))):
        raise ViewError(f"--out {out}: exists and is not a viewer folder; name a new or "
                        "empty folder (the viewer replaces its folder whole)")
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, sort_keys=True)
    tmp = None
    try:
        tmp = partial_folder(out)
        for name in STATIC:
            (tmp / name).write_bytes(_static(name))
        (tmp / "data.js").write_text(f"window.STORETWIN_VIEW = {text};\n")
        commit_folder(tmp, out)
    except OSError as e:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise ViewError(f"--out {out}: cannot write ({e.strerror})") from None
    return out / "index.html"


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.is_file() else b""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:   # the page's requests are not the user's business
        pass


def serve(folder: Path, port: int = 0) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``folder`` on 127.0.0.1 (``port`` 0: any free one) in a daemon thread; returns
    the server and the page's address."""
    handler = functools.partial(_Quiet, directory=str(folder))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/index.html"
