"""One run: a store, a sampled crowd, the twin's sensors, a core, and the scores.

``run(RunConfig(...), out=...)`` wires the layers together, drives the clock, feeds every
sensor batch to the core (and to the recorder), keeps ground truth on the side, and scores.
Randomness: one ``SeedSequence(seed)`` spawned into independent streams for the crowd, the
cameras and the plates, so the same seed gives the same bytes.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from agents.behaviour import DEFAULT_CONFIG as POPULATION
from agents.crowd import Crowd, ScriptedShopper, ShopperConfig
from core.protocol import Core
from core.records import Receipt
from core.store_core import StoreCore, ledger_json
from experiments.runs.guard import CoreFault, check_receipts, check_step
from experiments.runs.knowledge import knowledge_to_json, store_knowledge
from experiments.runs.pipeline import CoreProcess
from experiments.scoring.scores import score_billing, score_hota, score_tracking
from scenes.presets import load_store
from twin.cameras import CameraSystem, DetectionModel, ceiling_grid
from twin.sensors import EntryGate, LoadCellModel, PlateSensors
from twin.sim import Clock, Simulation
from twin.streams import StreamRecorder
from twin.world import PhysicsConfig, World


class RunConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RunConfig:
    store: str = "kiosk"
    minutes: float = 10.0           # simulated time [min]
    shoppers: float = 15.0          # target shoppers in store (steady crowd)
    seed: int = 0
    camera_spacing_m: float = 2.5   # ceiling grid pitch [m], when no layout is given
    layout: str | None = None       # a camera layout .toml (docs/camera-layout.md)
    dead_cameras: tuple[int, ...] = ()
    dead_plates: tuple[int, ...] = ()
    record_streams: bool = True
    # warm start: ``shoppers`` sampled shoppers already inside at t = 0, mid-trip (a store at
    # its steady crowd without simulating the hours of arrivals that fill it; the scale
    # study's speed runs). The core never saw them enter: tracking is scored on the shoppers
    # who come in through the door only, and billing not at all (see the scoring below).
    warm_start: bool = False
    unscored_tail_s: float = 10.0   # shoppers leaving in the last seconds are not scored
    # run the core in its own process, fed while the twin simulates on (experiments.runs.pipeline):
    # on two or more CPU cores the wall time is about the slower of twin and core, not their
    # sum; tracks and receipts are the same either way. The core must be picklable.
    core_process: bool = False
    # a core that leaves a second of ticks unanswered this long [s] is stopped and the run
    # fails with that reason (runs the core in its own process: a hang cannot be cut short
    # in ours); None: no deadline
    core_deadline_s: float | None = None
    # returning customers (agents.crowd.ShopperConfig.panel): every arrival one of this many
    # accounts; > 0 also scores the tastes recovered from the core's journeys against the
    # agents' latent ones (experiments.scoring.insights, metrics "insights")
    panel: int = 0
    # how much shoppers' tastes choose where they stop to look (agents.behaviour
    # ShopperPopulationConfig.look_taste; 0: at random, as the v1 crowd)
    look_taste: float = 0.0
    # the secret behind the journeys' pseudonymous account ids (experiments.scoring.insights
    # pseudonym_key); "": derived from the seed (reproducible, so not secret: give one to
    # share a dataset). Never written to the run folder.
    pseudonym_key: str = ""
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        if not (isinstance(self.minutes, (int, float)) and 0 < self.minutes <= 24 * 60):
            raise RunConfigError(f"minutes must be in (0, 1440], got {self.minutes}")
        if not (isinstance(self.shoppers, (int, float)) and 0 <= self.shoppers <= 10_000):
            raise RunConfigError(f"shoppers must be in [0, 10000], got {self.shoppers}")
        if not self.camera_spacing_m > 0:
            raise RunConfigError(f"camera_spacing_m must be > 0, got {self.camera_spacing_m}")
        if not 0 <= self.seed < 2**63:
            raise RunConfigError(f"seed must be in [0, 2^63), got {self.seed}")
        if self.core_deadline_s is not None and not self.core_deadline_s > 0:
            raise RunConfigError(f"core_deadline_s must be > 0, got {self.core_deadline_s}")
        if not (isinstance(self.panel, int) and not isinstance(self.panel, bool)
                and 0 <= self.panel <= 1_000_000):
            raise RunConfigError(f"panel must be an integer in [0, 1000000], got {self.panel!r}")
        if not (isinstance(self.look_taste, (int, float)) and 0 <= self.look_taste <= 10):
            raise RunConfigError(f"look_taste must be in [0, 10], got {self.look_taste!r}")


@dataclass
class RunResult:
    metrics: dict
    timing: dict
    receipts: list[Receipt]
    truth: dict[int, dict[str, int]]
    crowd: Crowd | None = None      # the ground truth's holder (events, roster, carts)
    end_s: float = 0.0              # simulated time when the run stopped [s]
    journeys: dict | None = None    # the core's journey rows (core.journeys), if it keeps them


def _receipts_json(receipts: list[Receipt]) -> dict:
    return {"receipts": [r.to_json() for r in sorted(receipts, key=lambda r: r.account)]}


def _dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def shoppers_table(crowd: Crowd) -> pa.Table:
    """One row per shopper who entered: id, account, name (scripted), visit type, desired
    speed, body radius, entry and exit times (NaN while inside) and the latent preference
    weights (columns ``pref_*``; NaN for scripted shoppers)."""
    recs = [crowd.roster[k] for k in sorted(crowd.roster)]
    keys = sorted({k for r in recs for k in r.preferences})
    cols = {
        "shopper_id": pa.array([r.sid for r in recs], pa.int64()),
        "account": pa.array([r.account for r in recs], pa.int64()),
        "name": pa.array([r.name for r in recs], pa.string()),
        "visit": pa.array([r.visit for r in recs], pa.string()),
        "speed_mps": pa.array([r.speed_mps for r in recs], pa.float64()),
        "radius_m": pa.array([r.radius_m for r in recs], pa.float64()),
        "enter_t": pa.array([r.enter_t for r in recs], pa.float64()),
        "exit_t": pa.array([r.exit_t for r in recs], pa.float64()),
    }
    for k in keys:
        cols[f"pref_{k}"] = pa.array([float(r.preferences.get(k, np.nan)) for r in recs],
                                     pa.float64())
    return pa.table(cols)


JOURNEY_SCHEMA = pa.schema([
    ("account", pa.string()), ("visit", pa.string()), ("t", pa.float64()),
    ("event", pa.string()), ("zone", pa.string()), ("sku", pa.string()),
    ("other_sku", pa.string()), ("quantity", pa.int32()), ("duration_s", pa.float64()),
    ("x", pa.float64()), ("y", pa.float64()), ("confidence", pa.float64())])


def write_journeys(journeys: dict, path: Path) -> None:
    """The core's journey rows (core.journeys.COLUMNS) as Parquet, schema
    :data:`JOURNEY_SCHEMA` (docs/insights.md)."""
    pq.write_table(pa.table({f.name: pa.array(journeys[f.name], f.type)
                             for f in JOURNEY_SCHEMA}, schema=JOURNEY_SCHEMA), path,
                   compression="zstd")


def _per_visit(visits, receipts: list[Receipt], scored_until: float):
    """Billing truth, issued receipts, review flags (keyed by (account, exit time)) and
    receipt latencies when accounts come back (a panel): each receipt belongs to its
    account's visit that began last before it was issued; a second receipt for one visit
    adds to the first (its errors count), one for no visit is spurious, one for an unscored
    visit is left out."""
    scored = {(a, x): cart for a, _, x, cart in visits if x <= scored_until}
    per: dict[int, list[tuple[float, float]]] = {}
    for a, e, x, _ in visits:
        per.setdefault(a, []).append((e, x))
    issued: dict = {}
    review: dict = {}
    latencies = []
    for r in sorted(receipts, key=lambda r: (r.t_issued, r.account)):
        began = [(e, x) for e, x in per.get(r.account, []) if e <= r.t_issued]
        k = (r.account, max(began)[1]) if began else (r.account, -r.t_issued)
        if began:
            latencies.append(r.t_issued - k[1])
            if k not in scored:
                continue
        line = issued.setdefault(k, {})
        for p in r.products:
            line[p.sku] = line.get(p.sku, 0) + p.quantity
        review[k] = review.get(k, False) or r.review
    return scored, issued, review, latencies


def visits_table(visits) -> pa.Table:
    """Every finished visit's basket (ground truth), one row per SKU kept (an empty
    basket: one row with sku "" and quantity 0): account, enter_t, exit_t, sku, quantity."""
    rows = [(a, e, x, s, q) for a, e, x, cart in visits
            for s, q in (sorted(cart.items()) or [("", 0)])]
    return pa.table({
        "account": pa.array([r[0] for r in rows], pa.int64()),
        "enter_t": pa.array([r[1] for r in rows], pa.float64()),
        "exit_t": pa.array([r[2] for r in rows], pa.float64()),
        "sku": pa.array([r[3] for r in rows], pa.string()),
        "quantity": pa.array([r[4] for r in rows], pa.int32())})


def _stages(setup_s: float, twin: dict[str, float], core_s: float, sim_wall: float,
            core_wait_s: float | None = None) -> dict[str, float]:
    """Wall seconds per stage. In process the stages take turns and "other" is the loop's
    remainder; with the core in its own process ("core" overlaps the twin's stages) "other"
    is the remainder after set-up, the twin's stages and ``core_wait_s``, the time the twin
    waited for the core at the end."""
    out = {"setup": setup_s, **twin, "core": core_s}
    spent = sum(out.values()) if core_wait_s is None else (
        setup_s + sum(twin.values()) + core_wait_s)
    out["other"] = max(0.0, sim_wall - spent)
    return {k: round(v, 3) for k, v in out.items()}


def run(config: RunConfig, out: str | Path | None = None, core: Core | None = None,
        progress: bool = False, scripted: tuple[ScriptedShopper, ...] = (),
        stop_after_scripted_s: float | None = None) -> RunResult:
    """Simulate ``config.minutes`` of the store and score the core's receipts and tracks.

    ``scripted``: shoppers with given actions (a scenario) beside the sampled crowd; with
    ``stop_after_scripted_s`` the run stops that many seconds after the last of them left
    (or at ``config.minutes``, whichever comes first)."""
    t_wall0 = time.perf_counter()
    store = load_store(config.store)
    ss = np.random.SeedSequence(config.seed)
    rng_crowd, rng_cam, rng_plate = (np.random.default_rng(s) for s in ss.spawn(3))
    clock = config.clock
    if config.layout is not None:
        from twin.layout import load_layout
        cams = load_layout(config.layout, store).cameras()
    else:
        cams = ceiling_grid(store, spacing=config.camera_spacing_m)
    loadcell = LoadCellModel(plate_hz=clock.plate_hz)
    n_cams = len(cams.camera)
    n_plates = store.bins.n_plates
    for name, ids, n in (("dead_cameras", config.dead_cameras, n_cams),
                         ("dead_plates", config.dead_plates, n_plates)):
        bad = [i for i in ids if not 0 <= i < n]
        if bad:
            raise RunConfigError(f"{name}: ids {bad} out of range [0, {n - 1}]")
    dead_c = np.zeros(n_cams, dtype=bool)
    dead_c[list(config.dead_cameras)] = True
    dead_p = np.zeros(n_plates, dtype=bool)
    dead_p[list(config.dead_plates)] = True
    core = core if core is not None else StoreCore()
    knowledge = store_knowledge(store, cams, clock, loadcell)
    piped: CoreProcess | None = None
    core_s = 0.0
    skus = {str(x) for x in store.catalogue.sku}
    from experiments.scoring.insights import pseudonym_key
    key = pseudonym_key(config.pseudonym_key or f"seed:{config.seed}")
    if config.core_process or config.core_deadline_s is not None:
        # started first: its imports overlap building the world
        piped = CoreProcess(core, knowledge, deadline_s=config.core_deadline_s,
                            journey_key=key)
    world: World | None = None
    try:
        world = World(store, PhysicsConfig(physics_hz=clock.physics_hz))
        duration = config.minutes * 60.0
        crowd = Crowd(store, ShopperConfig(
            shoppers_in_store=config.shoppers, panel=config.panel,
            population=replace(POPULATION, look_taste=float(config.look_taste))),
            rng_crowd, arrivals_until_s=duration, scripted=scripted)
        warm_ids: set[int] = set()
        warm_accounts: set[int] = set()
        if config.warm_start and config.shoppers >= 1:
            crowd.populate(int(round(config.shoppers)))
            warm_ids = {int(i) for i in crowd.ids}
            warm_accounts = set(crowd.carts)
        warm_arr = np.array(sorted(warm_ids), dtype=np.int64)
        sim = Simulation(world, crowd,
                         CameraSystem(store, cams, DetectionModel(), rng_cam, dead_c),
                         PlateSensors(n_plates, loadcell, rng_plate, dead_p), EntryGate(),
                         clock)
        if piped is None:
            t0 = time.perf_counter()
            try:
                core.start(knowledge)
            except Exception as e:  # noqa: BLE001 - the core's failure, reported as such
                raise CoreFault(None, f"{type(e).__name__}: {e}") from e
            core_s = time.perf_counter() - t0
    except BaseException:
        if piped is not None:
            piped.close()
        if world is not None:
            world.close()
        raise
    setup_s = time.perf_counter() - t_wall0 - core_s
    recorder = StreamRecorder(clock.plate_hz) if config.record_streams else None
    receipts: list[Receipt] = []
    gt_rows: list[tuple[np.ndarray, ...]] = []
    hy_rows: list[tuple[np.ndarray, ...]] = []
    detections = plate_samples = frames = people = 0
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=int(duration), unit="sim s", desc=f"{config.store} seed {config.seed}",
                   leave=False)
    last = 0
    end = duration
    done_at: float | None = None

    tick_t: list[float] = []     # piped: each submitted tick's time, to name a bad answer

    def collect(tracks, issued) -> None:
        receipts.extend(issued)
        for tr in tracks:
            hy_rows.append((np.full(tr.track_id.size, tr.frame), np.full(tr.track_id.size, tr.t),
                            tr.track_id, tr.xy))

    try:
        for tick in sim.run(duration):
            b = tick.batch
            if stop_after_scripted_s is not None:
                if done_at is None and crowd.done:
                    done_at = b.t
                if done_at is not None and b.t >= done_at + stop_after_scripted_s:
                    end = b.t
                    break
            for f in b.frames:
                detections += len(f)
            for p in b.plates:
                plate_samples += p.grams.size
            if recorder is not None:
                recorder.add(b)
            if piped is None:
                t1 = time.perf_counter()
                try:
                    out_b = core.step(b)
                except Exception as e:  # noqa: BLE001 - the core's failure, with its tick
                    raise CoreFault(b.t, f"{type(e).__name__}: {e}") from e
                core_s += time.perf_counter() - t1
                collect(*check_step(out_b, b.t, skus))
            else:
                piped.submit(b)
                tick_t.append(b.t)
            if tick.frame >= 0:
                frames += 1
                people += tick.people_id.size
                pid, pxy = tick.people_id, tick.people_xy
                if warm_ids:
                    keep = ~np.isin(pid, warm_arr)
                    pid, pxy = pid[keep], pxy[keep]
                gt_rows.append((np.full(pid.size, tick.frame), np.full(pid.size, b.t), pid,
                                pxy))
            if bar is not None and int(b.t) > last:
                bar.update(int(b.t) - last)
                last = int(b.t)
        stats = getattr(core, "stats", None)
        if piped is None:
            t1 = time.perf_counter()
            try:
                final = core.finish(end)
            except Exception as e:  # noqa: BLE001
                raise CoreFault(end, f"finish: {type(e).__name__}: {e}") from e
            receipts.extend(check_receipts(final, end, skus))
            core_s += time.perf_counter() - t1
            jt = getattr(core, "journeys", None)
            journeys = jt(key) if callable(jt) else None
        else:
            steps, final, core_s, summary = piped.finish(end)
            for t_b, out_b in zip(tick_t, steps, strict=True):
                collect(*check_step(out_b, t_b, skus))
            receipts.extend(check_receipts(final, end, skus))
            stats = summary.stats
            journeys = summary.journeys
    except BaseException:
        if piped is not None:
            piped.close()
        world.close()
        raise
    if bar is not None:
        bar.close()
    world.close()
    sim_wall = time.perf_counter() - t_wall0

    # -- scoring (ground truth only from here on) -------------------------------------------
    truth_all = crowd.truth_receipts()
    scripted_accounts = {s.account for s in scripted}
    # A warm start bills nothing: the core, started with people already inside whom it never
    # saw enter, gives their picks to the shoppers it does track, so no receipt of such a
    # run says anything about the core (a core that picks up people already inside, as after
    # a restart at opening hours, would be needed). Tracking is scored on door shoppers.
    scored = {} if warm_accounts else {
        a: r for a, r in truth_all.items()
        if crowd.exited[a] <= end - config.unscored_tail_s or a in scripted_accounts}
    unscored = set(crowd.carts) - set(scored)
    issued = {r.account: {p.sku: p.quantity for p in r.products} for r in receipts
              if r.account not in unscored}
    review = {r.account: r.review for r in receipts if r.account not in unscored}
    visits = crowd.truth_visits()
    latencies = None
    if not warm_accounts and len({v[0] for v in visits}) < len(visits):
        scored, issued, review, latencies = _per_visit(visits, receipts,
                                                       end - config.unscored_tail_s)
    billing = score_billing(scored, issued, store.catalogue.prices(), review)

    def cat(rows, k):
        return np.concatenate([r[k] for r in rows]) if rows else np.zeros(0)

    gt = [cat(gt_rows, k) for k in range(4)]
    hy = [cat(hy_rows, k) for k in range(4)]
    gt_xy = gt[3].reshape(-1, 2)
    hy_xy = hy[3].reshape(-1, 2)
    tracking = score_tracking(gt[0].astype(np.int64), gt[2].astype(np.int64), gt_xy,
                              hy[0].astype(np.int64), hy[2].astype(np.int64), hy_xy,
                              threshold_m=1.0)
    n_enter = sum(1 for e in crowd.truth if e.action == "enter")
    exits = {e.account: e.t for e in crowd.truth if e.action == "exit"}
    if latencies is None:
        latencies = [r.t_issued - exits[r.account] for r in receipts if r.account in exits]
    metrics = {
        "run": {
            "store": store.name, "minutes": config.minutes, "shoppers": config.shoppers,
            "seed": config.seed, "cameras": n_cams, "dead_cameras": len(config.dead_cameras),
            "plates": n_plates, "dead_plates": len(config.dead_plates),
            "skus": len(store.catalogue), "area_sqft": round(store.area_sqft),
        },
        "crowd": {
            "entered": n_enter, "exited": len(crowd.exited) + len(crowd.past_visits),
            "scored_receipts": len(scored),
            "picks": sum(e.quantity for e in crowd.truth if e.action == "pick"),
            "put_backs": sum(e.quantity for e in crowd.truth if e.action == "put_back"),
            "mean_in_store": round(people / frames if frames else 0.0, 3),
            "warm_start": len(warm_ids),
        },
        "billing": billing.as_dict(),
        "tracking": {**tracking.as_dict(), **score_hota(
            gt[0].astype(np.int64), gt[2].astype(np.int64), gt_xy, hy[0].astype(np.int64),
            hy[2].astype(np.int64), hy_xy, threshold_m=1.0).as_dict()},
        "core": {
            "detections": detections, "plate_samples": plate_samples,
            "receipts": len(receipts),
            "shelf_events": getattr(stats, "shelf_events", None),
            "unattributed_events": getattr(stats, "unattributed_events", None),
            "hand_attributions": getattr(stats, "hand_attributions", None),
            "blind_attributions": getattr(stats, "blind_attributions", None),
            "misplaced_units": getattr(stats, "misplaced_units", None),
            "untracked_accounts": getattr(stats, "untracked_accounts", None),
            "hand_overs": getattr(stats, "hand_overs", None),
            "receipt_latency_s_mean": round(float(np.mean(latencies)), 4) if latencies else None,
            "receipt_latency_s_p95": round(float(np.percentile(latencies, 95)), 4)
            if latencies else None,
        },
    }
    wall = time.perf_counter() - t_wall0
    timing = {
        "wall_s": round(wall, 3),
        "sim_s": round(end, 3),
        "real_time_factor": round(end / sim_wall, 2),
        "core_s": round(core_s, 3),
        "core_detections_per_s": round(detections / core_s) if core_s > 0 else None,
        "core_plate_samples_per_s": round(plate_samples / core_s) if core_s > 0 else None,
        "core_real_time_factor": round(end / core_s, 1) if core_s > 0 else None,
        "frames": frames,
        "core_ms_per_tick": round(1000.0 * core_s / frames, 4) if frames else None,
        # wall seconds per stage: building the world, then each stage of the loop (the
        # twin's, from Simulation.stage_s, and the core's); "other" is the loop's remainder
        # (recording, ground truth, the progress bar)
        "stage_s": _stages(setup_s, getattr(sim, "stage_s", {}), core_s, sim_wall,
                           None if piped is None else piped.finish_wait_s),
        "core_process": piped is not None,
    }
    insights = None
    if config.panel > 0 and journeys is not None:
        from experiments.scoring.insights import analyse
        latent = {r.account: r.preferences for r in crowd.roster.values() if r.preferences}
        insights = analyse(store, journeys, [v for v in visits if v[2] <= end], latent, key)
        metrics["insights"] = insights.metrics
    result = RunResult(metrics, timing, receipts, scored, crowd, end, journeys)
    if out is not None:
        out = Path(out)
        (out / "ground_truth").mkdir(parents=True, exist_ok=True)
        _dump(out / "receipts.json", _receipts_json(receipts))
        ledger = ledger_json(core) if piped is None else summary.ledger
        if ledger is not None:   # shelf events no cart took, and units left in wrong bins
            _dump(out / "ledger.json", ledger)
        _dump(out / "ground_truth" / "receipts.json", {"receipts": [
            {**({"account": a[0], "exit_t": round(a[1], 4)} if isinstance(a, tuple)
                else {"account": a}),
             "products": [{"sku": s, "quantity": q} for s, q in r.items()],
             "total": int(sum(store.catalogue.price_cents[store.catalogue.index()[s]] * q
                              for s, q in r.items()))}
            for a, r in scored.items()]})
        _dump(out / "metrics.json", metrics)
        _dump(out / "timing.json", timing)
        _dump(out / "config.json", {k: (("(given)" if v else "") if k == "pseudonym_key" else v)
                                    for k, v in asdict(config).items()})
        if journeys is not None:
            write_journeys(journeys, out / "journeys.parquet")
        if insights is not None:
            (out / "insights").mkdir(exist_ok=True)
            pq.write_table(pa.table(insights.accounts), out / "insights" / "accounts.parquet",
                           compression="zstd")
            pq.write_table(pa.table({
                "from_sku": pa.array(insights.substitutions["from_sku"], pa.string()),
                "to_sku": pa.array(insights.substitutions["to_sku"], pa.string()),
                "count": pa.array(insights.substitutions["count"], pa.int64()),
                "share_of_put_backs": pa.array(insights.substitutions["share_of_put_backs"],
                                               pa.float64())}),
                out / "insights" / "substitutions.parquet", compression="zstd")
        (out / "knowledge.json").write_text(json.dumps(knowledge_to_json(knowledge),
                                                       allow_nan=False) + "\n")
        pq.write_table(pa.table({"frame": gt[0].astype(np.int64), "t": gt[1].astype(np.float64),
                                 "shopper_id": gt[2].astype(np.int64),
                                 "x": gt_xy[:, 0], "y": gt_xy[:, 1]}),
                       out / "ground_truth" / "tracks.parquet", compression="zstd")
        ev = crowd.truth
        pq.write_table(pa.table({
            "t": pa.array([e.t for e in ev], pa.float64()),
            "shopper_id": pa.array([e.shopper for e in ev], pa.int64()),
            "account": pa.array([e.account for e in ev], pa.int64()),
            "action": pa.array([e.action for e in ev], pa.string()),
            "bin": pa.array([e.bin for e in ev], pa.int32()),
            "sku": pa.array([e.sku for e in ev], pa.string()),
            "quantity": pa.array([e.quantity for e in ev], pa.int32()),
            "other": pa.array([e.other for e in ev], pa.int64()),
        }), out / "ground_truth" / "events.parquet", compression="zstd")
        pq.write_table(shoppers_table(crowd), out / "ground_truth" / "shoppers.parquet",
                       compression="zstd")
        pq.write_table(visits_table(visits), out / "ground_truth" / "visits.parquet",
                       compression="zstd")
        pq.write_table(pa.table({"frame": hy[0].astype(np.int64), "t": hy[1].astype(np.float64),
                                 "track_id": hy[2].astype(np.int64),
                                 "x": hy_xy[:, 0], "y": hy_xy[:, 1]}),
                       out / "tracks.parquet", compression="zstd")
        if recorder is not None:
            recorder.write(out / "streams")
    return result
