"""The ``storetwin`` command line.

Every verb: ``--help`` with an example, ``--seed`` where randomness enters, ``--json`` where a
machine reads the answer, and exit code 2 with one clear line on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own code too)
        self.exit(EXIT_BAD_INPUT, f"storetwin: error: {message}\n")


SEED_LIMIT = 2**63   # numpy's SeedSequence takes any int >= 0; int64 columns hold < 2^63


def _seed(text: str) -> int:
    """``--seed``, checked once here for every verb: an integer in [0, 2^63)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2^63), got {text!r}") from None
    if not 0 <= v < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2^63), got {text!r}")
    return v


def _fmt(v, pct=False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if pct:
        return f"{100 * v:6.1f} %"
    if isinstance(v, float):
        return f"{v:,.3f}"
    return f"{v:,}"


def _table(m: dict, timing: dict) -> str:
    b, t, cr, r = m["billing"], m["tracking"], m["crowd"], m["run"]
    rows = [
        ("store", f"{r['store']} ({r['area_sqft']:,} sq ft, {r['cameras']} cameras, "
                  f"{r['plates']} plates, {r['skus']} SKUs)"),
        ("simulated", f"{r['minutes']:g} min, seed {r['seed']}, "
                      f"{cr['entered']} shoppers entered, {cr['exited']} left, "
                      f"{cr['mean_in_store']:.1f} in store on average"),
        ("", ""),
        ("BILLING", f"{b['receipts_true']} receipts scored"),
        ("  receipt exact match", _fmt(b["exact_match"], pct=True)),
        ("  receipt F1 (AutoCheckout)", _fmt(b["receipt_f1"], pct=True)),
        ("  item precision / recall", f"{_fmt(b['item_precision'], True)} / "
                                      f"{_fmt(b['item_recall'], True)}"),
        ("  money error per receipt", f"${(b['money_mae_cents'] or 0) / 100:.2f} mean abs "
                                      f"(over ${b['overcharge_cents'] / 100:.2f}, "
                                      f"under ${b['undercharge_cents'] / 100:.2f})"),
        ("  missing / spurious", f"{b['receipts_missing']} / {b['receipts_spurious']}"),
        ("  sent to review", f"{_fmt(b['review_rate_per_1000'])} per 1,000"),
        ("TRACKING", ""),
        ("  HOTA (DetA x AssA)", _fmt(t.get("hota"), pct=True)),
        ("  IDF1", _fmt(t["idf1"], pct=True)),
        ("  MOTA", _fmt(t["mota"], pct=True)),
        ("  ID switches", _fmt(t["id_switches"])),
        ("THROUGHPUT", ""),
        ("  real-time factor", f"{timing['real_time_factor']:.1f}x "
                               f"({timing['wall_s']:.1f} s wall)"),
        ("  core", f"{_fmt(timing['core_detections_per_s'])} detections/s, "
                   f"{_fmt(timing['core_plate_samples_per_s'])} plate samples/s"),
    ]
    ins = m.get("insights")
    if ins:
        j, t_ = ins["journeys"], ins["receipts"]

        def rho(x):
            return "n/a" if x is None else f"{x:+.2f}"
        rows += [
            ("INSIGHTS", f"{ins['accounts']} returning accounts, "
                         f"{ins['visits_per_account']:.1f} visits each"),
            ("  taste recovery (rho)", f"journeys {rho(j['rho']['mean'])}, "
                                       f"till {rho(t_['rho']['mean'])}"),
            ("  next-visit choice", f"journeys {_fmt(j['next_visit_accuracy'], True)}, "
                                    f"till {_fmt(t_['next_visit_accuracy'], True)}, "
                                    f"population "
                                    f"{_fmt(ins['population']['next_visit_accuracy'], True)}"),
            ("  substitutions seen", _fmt(ins["substitutions"])),
        ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" if k else "" for k, v in rows)


def _check_out(path: Path) -> None:
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise CliError(f"--out {path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise CliError(f"--out {path}: {probe} is not writable")


def _load_store(ref: str, flag: str = "STORE"):
    """A preset name or a spec file, or a CliError naming every problem."""
    from scenes.presets import UnknownPresetError, load_store
    from scenes.spec import SpecError

    try:
        return load_store(ref)
    except UnknownPresetError as e:
        raise CliError(f"{flag} {e}") from None
    except SpecError as e:
        raise CliError("\n".join(e.lines())) from None


def _core_failed(e, out: Path, core_name: str) -> int:
    """A core that raised, hung or broke the protocol: the run failed (exit 1), with the
    reason on one line and in ``OUT/failure.json``; not a crash."""
    first = str(e).splitlines()[0]
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure.json").write_text(json.dumps(
        {"status": "failed", "core": core_name, "t": e.t, "error": e.what}, indent=2) + "\n")
    print(f"storetwin: run failed: {first}  (core {core_name}; {out / 'failure.json'})",
          file=sys.stderr)
    return 1


def _core_process(choice: str) -> bool:
    """--core-process: on, off, or auto (on where this process may use 2+ CPU cores)."""
    if choice != "auto":
        return choice == "on"
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity
        n = os.cpu_count() or 1
    return n >= 2


def cmd_run(a: argparse.Namespace) -> int:
    from experiments.run import RunConfig, RunConfigError, run

    _load_store(a.store, "--store")   # a bad store fails here, before any simulation
    if not 0 < a.minutes <= 1440:
        raise CliError(f"--minutes must be in (0, 1440], got {a.minutes:g}")
    if not 0 <= a.shoppers <= 10_000:
        raise CliError(f"--shoppers must be in [0, 10000], got {a.shoppers:g}")
    if a.layout is not None:
        from twin.layout import LayoutError, load_layout
        try:
            load_layout(a.layout, _load_store(a.store, "--store"))
        except LayoutError as e:
            raise CliError("\n".join(e.lines())) from None
    out = Path(a.out) if a.out else Path("runs") / f"{Path(a.store).stem}-seed{a.seed}"
    _check_out(out)
    if not 0 <= a.panel <= 1_000_000:
        raise CliError(f"--panel must be in [0, 1000000], got {a.panel}")
    if not 0 <= a.look_taste <= 10:
        raise CliError(f"--look-taste must be in [0, 10], got {a.look_taste:g}")
    key = ""
    if a.pseudonym_key_file is not None:
        try:
            key = Path(a.pseudonym_key_file).read_text().strip()
        except OSError as e:
            raise CliError(f"--pseudonym-key-file {a.pseudonym_key_file}: cannot read "
                           f"({e.strerror})") from None
        except UnicodeDecodeError:
            raise CliError(f"--pseudonym-key-file {a.pseudonym_key_file}: not a text "
                           "file; expected the secret on one line") from None
        if not key:
            raise CliError(f"--pseudonym-key-file {a.pseudonym_key_file}: is empty; "
                           "expected the secret on one line")
    try:
        cfg = RunConfig(store=a.store, minutes=a.minutes, shoppers=a.shoppers, seed=a.seed,
                        camera_spacing_m=a.camera_spacing, layout=a.layout,
                        core_process=_core_process(a.core_process),
                        core_deadline_s=a.core_deadline, panel=a.panel,
                        look_taste=a.look_taste, pseudonym_key=key)
        (core_name,) = _core_names(a.core)
    except RunConfigError as e:
        raise CliError(str(e)) from None
    progress = sys.stdout.isatty() and not a.json
    from experiments.cores import make_core
    from experiments.guard import CoreFault
    try:
        res = run(cfg, out=out, progress=progress, core=make_core(core_name))
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    except CoreFault as e:
        return _core_failed(e, out, core_name)
    if a.json:
        print(json.dumps({**res.metrics, "timing": res.timing, "out": str(out)},
                         sort_keys=True, allow_nan=False))
    else:
        print(_table(res.metrics, res.timing))
        print(f"\nrun folder: {out}  (receipts.json, journeys.parquet, ground_truth/, "
              "metrics.json, streams/)")
    return 0


def cmd_study(a: argparse.Namespace) -> int:
    from experiments.study import ResultsError, StudyError, expand, load_study, run_study
    from scenes.checks import ProblemsError

    try:
        study = load_study(a.file)
    except StudyError as e:
        raise CliError("\n".join(e.lines())) from None
    if a.workers is not None and a.workers < 1:
        raise CliError(f"--workers must be >= 1, got {a.workers}")
    if a.address and a.executor != "ray":
        raise CliError("--address names a Ray cluster: give it with --executor ray")
    out = Path(a.out) if a.out else Path("results") / study.name
    if a.dry_run:
        specs = expand(study)
        rows = [{"run_id": s.run_id, **{k: v for k, v in s.params.items()
                                        if not k.startswith("_")}} for s in specs]
        if a.json:
            print(json.dumps({"study": study.name, "runs": rows}, sort_keys=True))
        else:
            print(f"study {study.name}: {len(rows)} runs -> {out}")
            for r in rows:
                what = r["scenario"] or (f"{r['store']} bpp={r['bins_per_plate']} "
                                         f"{r['layout']} shoppers={r['shoppers']:g} "
                                         f"seed={r['seed']}")
                if r.get("panel"):
                    what += f" panel={r['panel']} look_taste={r['look_taste']:g}"
                print(f"  {r['run_id']}  {what}  core={r['core']}")
        return 0
    _check_out(out)
    progress = sys.stderr.isatty() and not a.json
    try:
        o = run_study(a.file, out, executor=a.executor, workers=a.workers, address=a.address,
                      retry_failed=a.retry_failed, progress=progress,
                      log=(lambda m: print(f"storetwin study: {m}", file=sys.stderr))
                      if not a.json else (lambda m: None))
    except ProblemsError as e:   # the study file, or a store spec or layout file it names
        raise CliError("\n".join(e.lines())) from None
    except ResultsError as e:
        raise CliError(str(e)) from None
    summary = {"study": study.name, "runs": o.total, "skipped": o.skipped, "done": o.done,
               "failed": o.failed, "results": str(o.results / "results.parquet"),
               "wall_s": o.wall_s, "executor": a.executor}
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"study {study.name}: {o.total} runs; {o.skipped} already in {o.results}, "
              f"{o.done} ran, {o.failed} failed ({o.wall_s:.1f} s)")
        print(f"results: {o.results / 'results.parquet'}  (one row per run; "
              f"'storetwin report {o.results}' draws them)")
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from experiments.bench import (
        BenchError,
        bench,
        compare,
        format_compare,
        parse_thresholds,
        regenerate,
    )

    try:
        if a.regenerate:
            print(f"suite written: {regenerate(a.suite)}")
            return 0
        (core,) = _core_names(a.core)
        old = None
        if a.compare:
            try:
                old = json.loads(Path(a.compare).read_text())
            except (OSError, ValueError) as e:
                raise CliError(f"--compare {a.compare}: cannot read a bench result ({e})"
                               ) from None
            if not isinstance(old, dict) or "cases" not in old:
                raise CliError(f"--compare {a.compare}: not a bench result (no 'cases')")
        thresholds = parse_thresholds(a.max_drop, 0.0)
        res = bench(core, a.suite, a.case)
        if a.out:
            Path(a.out).write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
        if a.json:
            print(json.dumps(res, sort_keys=True))
        else:
            for c in res["cases"]:
                m = c.get("metrics", {})
                print(f"{c['id']:<18} {c['status']:<7} exact {m.get('exact_match')}  "
                      f"F1 {m.get('receipt_f1')}  HOTA {m.get('hota')}" if c["status"] == "ok"
                      else f"{c['id']:<18} failed  {c['error']}")
        if old is not None:
            rows, regressed = compare(old, res, thresholds)
            print(format_compare(rows), file=sys.stderr if a.json else sys.stdout)
            if regressed:
                print("storetwin bench: regressions against " + a.compare, file=sys.stderr)
                return 1
    except BenchError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"--out {a.out}: cannot write ({e.strerror})") from None
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from experiments.report import ReportError, write_report
    from experiments.study import ResultsError

    if a.target is not None and not 0 < a.target <= 1:
        raise CliError(f"--target must be in (0, 1], got {a.target:g}")
    try:
        path = write_report(a.results, a.out, target=a.target)
    except (ReportError, ResultsError) as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"--out {a.out}: cannot write ({e.strerror})") from None
    print(f"report: {path}")
    return 0


def _core_names(text: str) -> list[str]:
    from experiments.cores import BUILTIN, check_spec

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or len(set(names)) != len(names):
        raise CliError(f"--core {text!r}: give one or more of {', '.join(BUILTIN)} or "
                       "package.module:Name, comma-separated, each once")
    for n in names:
        why = check_spec(n)
        if why is not None:
            raise CliError(f"--core: {why}")
    return names


def _id_list(text: str | None, flag: str) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        ids = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise CliError(f"{flag} {text!r}: give comma-separated ids, e.g. 3,4,7") from None
    if any(i < 0 for i in ids):
        raise CliError(f"{flag} {text!r}: ids must be >= 0")
    return ids


def cmd_scenario(a: argparse.Namespace) -> int:
    from agents.scenario import ScenarioError, library, library_path, load_scenario

    if a.list:
        rows = []
        for name in library():
            sc = load_scenario(library_path(name))
            rows.append({"name": name, "store": sc.store_ref, "shoppers": len(sc.shoppers),
                         "description": sc.description})
        if a.json:
            print(json.dumps({"scenarios": rows}, sort_keys=True))
        else:
            w = max(len(r["name"]) for r in rows)
            for r in rows:
                print(f"{r['name'].ljust(w)}  {r['description']}")
        return 0
    cores = _core_names(a.core or ("full,naive" if a.all else "full"))
    dead = _id_list(a.dead_cameras, "--dead-cameras")
    if a.all and (a.file or a.out):
        raise CliError("--all runs every shipped scenario: give no FILE and no --out")
    if not a.file and not a.all:
        raise CliError("name a scenario FILE (a .toml, or a library name; see "
                       "'storetwin scenario --list'), or --all")
    try:
        scs = [load_scenario(library_path(n)) for n in library()] if a.all \
            else [load_scenario(a.file)]
    except ScenarioError as e:
        raise CliError("\n".join(e.lines())) from None
    if a.seed is not None:
        from dataclasses import replace
        scs = [replace(sc, seed=a.seed) for sc in scs]
    out = Path(a.out) if a.out else None
    if out is not None:
        _check_out(out)
    from experiments.guard import CoreFault
    from experiments.run import RunConfigError
    from experiments.scenario import format_library, format_result, make_core, run_scenario
    results = []
    for sc in scs:
        try:
            results.append(run_scenario(
                sc, out=out, core=make_core(cores[0]), core_name=cores[0],
                others={c: make_core(c) for c in cores[1:]}, dead_cameras=dead,
                progress=sys.stdout.isatty() and not a.json and not a.all))
        except RunConfigError as e:
            raise CliError(f"--dead-cameras: {e}") from None
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
        except CoreFault as e:
            print(f"storetwin: scenario {sc.name} failed: {str(e).splitlines()[0]}",
                  file=sys.stderr)
            return 1
    if a.json:
        doc = {"scenarios": [r.as_dict() for r in results]} if a.all else results[0].as_dict()
        print(json.dumps(doc, sort_keys=True, allow_nan=False))
    elif a.all:
        print(format_library(results))
    else:
        print(format_result(results[0]))
        if out is not None:
            print(f"\nrun folder: {out}")
    if a.strict and any(not r.ran_as_written or r.billed_right < len(r.rows)
                        for r in results):
        return 1
    return 0


def cmd_scene_new(a: argparse.Namespace) -> int:
    from scenes.generate import (
        GenerationError,
        generate_spec,
        params_for_area,
        parse_area,
        spec_header,
    )
    from scenes.spec import SpecError, build_store
    from scenes.tomlw import dumps

    try:
        area = parse_area(a.area)
        p = params_for_area(area, name=a.name, aisle_width_m=a.aisle_width,
                            gondola_length_m=a.gondola_length, levels=a.levels,
                            bin_width_m=a.bin_width, skus=a.skus, seed=a.seed)
        doc = generate_spec(p)
        store = build_store(doc, "generated spec")
    except GenerationError as e:
        raise CliError(str(e)) from None
    except SpecError as e:   # parameters that make a store that fails its own checks
        raise CliError("\n".join(e.lines())) from None
    if a.catalogue_csv:
        if not a.out:
            raise CliError("--catalogue-csv needs --out (the CSV is written beside the spec)")
        from scenes.catalog_gen import write_catalogue_csv
        csv = Path(a.out).with_suffix(".catalog.csv")
        _check_out(csv.parent if str(csv.parent) else Path("."))
        try:
            write_catalogue_csv(store.catalogue, csv)
        except OSError as e:
            raise CliError(f"--out {csv}: cannot write ({e.strerror})") from None
        doc["catalogue"] = {"file": csv.name}
    text = dumps(doc, spec_header(p))
    if a.out:
        out = Path(a.out)
        _check_out(out.parent if str(out.parent) else Path("."))
        try:
            out.write_text(text)
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
        s = store.summary()
        print(f"wrote {out}: {s['area_sqft']:,} sq ft, {s['fixtures']} fixtures, "
              f"{s['bins']:,} bins, {s['skus']:,} skus", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_scene_info(a: argparse.Namespace) -> int:
    from scenes.info import store_info

    info = store_info(_load_store(a.store))
    if a.json:
        print(json.dumps(info, sort_keys=True))
        return 0
    kinds = ", ".join(f"{v} {k}" for k, v in info["fixtures_by_kind"].items())
    gates = ", ".join(f"{g['name']} ({g['kind']}, {g['wall']} wall, {g['width_m']:g} m)"
                      for g in info["gates"])
    rows = [
        ("store", info["name"]),
        ("floor area", f"{info['area_sqft']:,} sq ft ({info['area_m2']:,} m2), "
                       f"{info['walkable_m2']:,} m2 walkable"),
        ("ceiling", f"{info['ceiling_height_m']:g} m"),
        ("aisles", f"{info['aisle_length_m']:,} m long, narrowest {info['aisle_width_m']} m"),
        ("shelf faces", f"{info['shelf_frontage_m']:,} m frontage, "
                        f"{info['shelf_face_area_m2']:,} m2"),
        ("fixtures", f"{info['fixtures']:,} ({kinds})"),
        ("bins (plates)", f"{info['bins']:,} holding {info['units']:,} units "
                          f"(${info['stock_value_usd']:,.2f})"),
        ("skus", f"{info['skus']:,} in the catalogue, {info['skus_placed']:,} placed, "
                 f"{info['categories']} categories, {info['lookalike_pairs']:,} look-alike "
                 "pairs"),
        ("gates", gates),
    ]
    w = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{w}}  {v}" for k, v in rows))
    return 0


def _writable_file(path: str, flag: str) -> Path:
    out = Path(path)
    _check_out(out.parent if str(out.parent) else Path("."))
    if out.is_dir():
        raise CliError(f"{flag} {out}: is a folder; expected a file name")
    return out


def cmd_scene_plan(a: argparse.Namespace) -> int:
    from scenes.plan import draw_plan

    store = _load_store(a.store)
    out = _writable_file(a.png, "--png")
    cams = None
    if a.camera_spacing is not None:
        if not a.camera_spacing > 0:
            raise CliError(f"--camera-spacing must be > 0 m, got {a.camera_spacing:g}")
        from twin.cameras import ceiling_grid
        cams = ceiling_grid(store, spacing=a.camera_spacing).position[:, :2]
    if not 30 <= a.dpi <= 600:
        raise CliError(f"--dpi must be in [30, 600], got {a.dpi}")
    try:
        draw_plan(store, out, cameras_xy=cams, dpi=a.dpi)
    except OSError as e:
        raise CliError(f"--png {out}: cannot write ({e.strerror})") from None
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_scene_export(a: argparse.Namespace) -> int:
    from scenes.meshes import export_glb

    store = _load_store(a.store)
    out = _writable_file(a.glb, "--glb")
    try:
        export_glb(store, out)
    except OSError as e:
        raise CliError(f"--glb {out}: cannot write ({e.strerror})") from None
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_track(a: argparse.Namespace) -> int:
    from experiments.track import DetectionFileError, read_detections, track, write_tracks_csv

    if a.hz is not None and not (math.isfinite(a.hz) and a.hz > 0):
        raise CliError(f"--hz must be a rate > 0 Hz, got {a.hz:g}")
    out = _writable_file(a.out, "--out")
    stats = _writable_file(a.stats, "--stats") if a.stats else None
    entrance = exit_ = None
    if a.store:
        store = _load_store(a.store, "--store")
        entrance, exit_ = np.asarray(store.entrance_region), np.asarray(store.exit_region)
    try:
        d = read_detections(a.detections)
        res = track(d, a.hz, entrance, exit_)
    except DetectionFileError as e:
        raise CliError(str(e)) from None
    try:
        write_tracks_csv(out, res)
        if stats is not None:
            stats.write_text(json.dumps(res.stats(), indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    summary = {**res.stats(), "out": str(out)}
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"{summary['detections']:,} detections in {summary['frames']:,} frames at "
              f"{res.camera_hz:g} Hz -> {summary['tracks']} tracks ({summary['track_rows']:,} "
              f"rows) in {out}; tracking loop {res.loop_s:.3f} s "
              f"({summary['detections_per_s'] or 0:,} detections/s)")
    return 0


def cmd_replay(a: argparse.Namespace) -> int:
    from experiments.replay import ReplayError, replay

    try:
        res = replay(a.run_dir)
    except ReplayError as e:
        raise CliError(str(e)) from None
    same = res.same_as_live
    if a.out:
        out = _writable_file(a.out, "--out")
        try:
            out.write_text(json.dumps(res.receipts_json(), indent=2, sort_keys=True) + "\n")
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    summary = {"run_dir": str(a.run_dir), "receipts": len(res.receipts),
               "same_as_live": same, "sim_s": res.sim_s, "wall_s": round(res.wall_s, 3),
               "real_time_factor": round(res.sim_s / res.wall_s, 1) if res.wall_s else None}
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        verdict = {True: "identical to the live run's receipts.json",
                   False: "DIFFERENT from the live run's receipts.json",
                   None: "no live receipts.json to compare"}[same]
        print(f"replayed {res.sim_s:g} s of streams in {res.wall_s:.1f} s "
              f"({summary['real_time_factor']}x real time): {len(res.receipts)} receipts, "
              f"{verdict}")
    return 0 if same is not False else 1


def _coverage_out(a, store, layout, extra: dict | None = None) -> int:
    """Coverage report of ``layout`` (stdout or JSON) and the optional heatmap."""
    from twin.coverage import coverage, heatmap_png

    rep = coverage(store, layout, cell=a.cell)
    d = {**rep.to_dict(), **(extra or {})}
    if a.heatmap:
        out = _writable_file(a.heatmap, "--heatmap")
        try:
            heatmap_png(store, rep, out, cameras=layout)
        except OSError as e:
            raise CliError(f"--heatmap {out}: cannot write ({e.strerror})") from None
        d["heatmap"] = str(out)
    if a.json:
        print(json.dumps(d, sort_keys=True))
        return 0

    def pct(x):
        return "n/a" if x is None else f"{100 * x:5.1f} %"
    rows = [
        ("store", f"{store.name} ({round(store.area_sqft):,} sq ft)"),
        ("cameras", f"{d['cameras']} (${d['cost_usd']:,.0f} at list prices)"),
        ("floor seen by >= 1", pct(d["floor_k1"])),
        ("floor seen by >= 2", pct(d["floor_k2"])),
        ("floor seen by >= 3", pct(d["floor_k3"])),
        ("bin faces seen", pct(d["bin_faces_k1"])),
    ]
    if extra and "stopped" in extra:
        rows.append(("greedy stopped", extra["stopped"]))
    w = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{w}}  {v}" for k, v in rows))
    return 0


def cmd_layout(a: argparse.Namespace) -> int:
    from twin import layout as L
    from twin import placement as P

    store = _load_store(a.store, "--store")
    if a.cell is not None and not 0.05 <= a.cell <= 2.0:
        raise CliError(f"--cell must be in [0.05, 2] m, got {a.cell:g}")
    a.cell = a.cell or 0.25
    model = getattr(a, "model", None) or "dome-4mp"
    if model not in L.DEFAULT_MODELS:
        raise CliError(f"--model {model!r} is not a known camera model; allowed: "
                       f"{', '.join(L.DEFAULT_MODELS)}")
    h = getattr(a, "height", None)
    if h is not None and not 1.5 <= h < store.ceiling_height:
        raise CliError(f"--height must be in [1.5, {store.ceiling_height:g}) m (under the "
                       f"ceiling), got {h:g}")
    extra: dict = {}
    if a.layout_verb == "coverage":
        try:
            lay = L.load_layout(a.file, store)
        except L.LayoutError as e:
            raise CliError("\n".join(e.lines())) from None
        return _coverage_out(a, store, lay)
    if a.layout_verb == "grid":
        if not 0.5 <= a.spacing <= 50:
            raise CliError(f"--spacing must be in [0.5, 50] m, got {a.spacing:g}")
        lay = P.grid_layout(store, spacing=a.spacing, height=h, model=model)
    elif a.layout_verb == "aisles":
        lay = P.aisle_pairs(store, height=h, model=model)
    elif a.layout_verb == "shelves":
        lay = P.shelf_facing(store, height=h, model=model)
    else:
        if not 0 < a.target <= 1:
            raise CliError(f"--target must be in (0, 1], got {a.target:g}")
        if not 1 <= a.k <= 5:
            raise CliError(f"--k must be in [1, 5], got {a.k}")
        if a.budget is not None and not a.budget > 0:
            raise CliError(f"--budget must be > 0 USD, got {a.budget:g}")
        if not 0.25 <= a.candidate_spacing <= 10:
            raise CliError(f"--candidate-spacing must be in [0.25, 10] m, got "
                           f"{a.candidate_spacing:g}")
        cand = P.candidate_layout(store, spacing=a.candidate_spacing, height=h, model=model)
        res = P.greedy_layout(store, target=a.target, k=a.k, candidates=cand,
                              budget_usd=a.budget, cell=a.cell)
        lay = res.layout
        extra = {"stopped": res.stopped, "candidates": res.candidates,
                 "trace": [round(float(x), 4) for x in res.trace]}
    if len(lay) == 0:
        raise CliError(f"the {a.layout_verb} generator placed no camera in {store.name!r}")
    if a.out:
        out = _writable_file(a.out, "--out")
        try:
            out.write_text(L.dumps_layout(lay, f"storetwin layout {a.layout_verb} for "
                                               f"{store.name}"))
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
        extra["out"] = str(out)
    return _coverage_out(a, store, lay, extra)


def _add_layout(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    lp = sub.add_parser("layout", help="generate camera layouts and report their coverage",
                        description="Camera layouts as data (TOML, docs/camera-layout.md): "
                                    "generate one, and report the floor seen by >= 1, 2, 3 "
                                    "cameras and the bin faces seen, with a heatmap.")
    ls = lp.add_subparsers(dest="layout_verb", metavar="LAYOUT_VERB", parser_class=_Parser)

    def common(p, gen: bool = True) -> None:
        p.add_argument("--store", default="kiosk", help="preset or spec .toml (default kiosk)")
        p.add_argument("--heatmap", help="write a cameras-per-cell heatmap PNG")
        p.add_argument("--cell", type=float, default=None,
                       help="floor sample cell [m] (default 0.25)")
        p.add_argument("--json", action="store_true", help="print the report as JSON")
        if gen:
            p.add_argument("--out", help="write the layout TOML")
            p.add_argument("--model", help="camera model (dome-4mp, fisheye-12mp, bullet-4mp)")
            p.add_argument("--height", type=float, help="mounting height [m]")

    g = ls.add_parser("grid", help="ceiling cameras looking down on a square grid",
                      epilog="example: storetwin layout grid --spacing 3 --out grid.toml "
                             "--heatmap grid.png", formatter_class=fmt)
    g.add_argument("--spacing", type=float, default=3.0, help="grid pitch [m] (default 3)")
    common(g)
    a_ = ls.add_parser("aisles", help="a pair of cameras at the ends of each aisle, looking "
                       "down it", epilog="example: storetwin layout aisles --store grocery",
                       formatter_class=fmt)
    common(a_)
    sh = ls.add_parser("shelves", help="cameras across each aisle looking at each shelf face",
                       epilog="example: storetwin layout shelves --out shelves.toml",
                       formatter_class=fmt)
    common(sh)
    gr = ls.add_parser("greedy", help="add the camera with the best coverage gain per dollar "
                       "until a target is met",
                       epilog="example: storetwin layout greedy --target 0.95 --k 2 "
                              "--out greedy.toml --heatmap greedy.png", formatter_class=fmt)
    gr.add_argument("--target", type=float, default=0.95,
                    help="fraction of the floor to see with >= k cameras (default 0.95)")
    gr.add_argument("--k", type=int, default=2, help="cameras per floor point (default 2)")
    gr.add_argument("--budget", type=float, help="stop before spending more [USD]")
    gr.add_argument("--candidate-spacing", type=float, default=1.0,
                    help="pitch of the candidate positions [m] (default 1)")
    common(gr)
    cv = ls.add_parser("coverage", help="report the coverage of a layout file",
                       epilog="example: storetwin layout coverage grid.toml --heatmap grid.png",
                       formatter_class=fmt)
    cv.add_argument("file", metavar="LAYOUT", help="a layout .toml")
    common(cv, gen=False)
    for p in (g, a_, sh, gr, cv):
        p.set_defaults(func=cmd_layout)


def cmd_compile(a: argparse.Namespace) -> int:
    import time

    import numba
    from llvmlite import binding

    from experiments.compile import compile_kernels

    t0 = time.perf_counter()
    reports = compile_kernels()
    wall = time.perf_counter() - t0
    target = numba.config.CPU_NAME or binding.get_host_cpu_name()
    if a.json:
        print(json.dumps({"target": target, "numba": numba.__version__, "wall_s": round(wall, 2),
                          "groups": [vars(r) for r in reports]}, sort_keys=True))
        return 0
    print(f"numba {numba.__version__} kernels for this processor ({target}):")
    for r in reports:
        print(f"  {r.name:<22}{r.compiled:>4} compiled, {r.loaded:>3} from the cache"
              f"{r.seconds:>8.1f} s")
    where = (f"in NUMBA_CACHE_DIR ({numba.config.CACHE_DIR})" if numba.config.CACHE_DIR else
             "beside each kernel module (__pycache__; the user's cache folder where that is "
             "not writable)")
    print(f"ready in {wall:.1f} s; numba keeps them {where}")
    return 0


def cmd_render(a: argparse.Namespace) -> int:
    from experiments.render import render_run, scale_cameras

    store = _load_store(a.store, "--store")
    if a.layout is not None:
        from twin.layout import LayoutError, load_layout
        try:
            cams = load_layout(a.layout, store).cameras()
        except LayoutError as e:
            raise CliError("\n".join(e.lines())) from None
    else:
        from twin.cameras import ceiling_grid
        if not a.camera_spacing > 0:
            raise CliError(f"--camera-spacing must be > 0 m, got {a.camera_spacing:g}")
        cams = ceiling_grid(store, spacing=a.camera_spacing)
    if not 0 < a.seconds <= 3600:
        raise CliError(f"--seconds must be in (0, 3600], got {a.seconds:g}")
    if not 0 <= a.every < a.seconds or (a.every and a.seconds / a.every > 1000):
        raise CliError(f"--every must be 0 (one tick) or in (0, --seconds) with at most 1,000 "
                       f"ticks, got {a.every:g}")
    chosen = None
    if a.cameras:
        try:
            chosen = sorted({int(x) for x in a.cameras.split(",")})
        except ValueError:
            raise CliError(f"--cameras {a.cameras!r}: expected camera indices like 0,3,7"
                           ) from None
        bad = [c for c in chosen if not 0 <= c < len(cams.camera)]
        if bad:
            raise CliError(f"--cameras {bad} out of range; this layout has cameras 0.."
                           f"{len(cams.camera) - 1}")
    if a.size:
        try:
            w, h = (int(v) for v in a.size.lower().split("x"))
        except ValueError:
            raise CliError(f"--size {a.size!r}: expected WIDTHxHEIGHT, e.g. 640x480") from None
        if not (16 <= w <= 4096 and 16 <= h <= 4096):
            raise CliError(f"--size {a.size}: width and height must be in [16, 4096] px")
        cams = scale_cameras(cams, w, h)
    out = Path(a.out)
    _check_out(out)
    try:
        summary = render_run(store, cams, out, seconds=a.seconds, every_s=a.every,
                             cameras=chosen, seed=a.seed, shoppers=a.shoppers,
                             coco=a.coco, mot=a.mot)
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"rendered {summary['images']} images ({summary['cameras']} cameras x "
              f"{summary['ticks']} ticks, {summary['width']}x{summary['height']}) of "
              f"{store.name}: {summary['person_instances']} person instances in view; "
              f"rgb/, depth/, seg/{', coco/' if a.coco else ''}{', mot/' if a.mot else ''} "
              f"in {out}")
    return 0


def _add_scene(sub) -> None:
    sc = sub.add_parser("scene", help="write, inspect, draw and export store specs",
                        description="Store specs: generate one, check and summarise it, draw "
                                    "its floor plan, export it as glTF.")
    ss = sc.add_subparsers(dest="scene_verb", metavar="SCENE_VERB", parser_class=_Parser)
    fmt = argparse.RawDescriptionHelpFormatter
    n = ss.add_parser("new", help="generate a store spec from a floor area",
                      description="Generate a full store spec (fixtures, gates, catalogue, "
                                  "planogram) from a floor area and a few parameters; the "
                                  "other parameters come from the preset nearest in size.",
                      epilog="example: storetwin scene new --area 10400sqft --out my.toml",
                      formatter_class=fmt)
    n.add_argument("--area", required=True, help="floor area with a unit: 10400sqft or 966m2")
    n.add_argument("--name", help="store name (default: store)")
    n.add_argument("--aisle-width", type=float, help="narrowest aisle [m]")
    n.add_argument("--gondola-length", type=float, help="longest gondola run [m]")
    n.add_argument("--levels", type=int, help="shelf levels per gondola")
    n.add_argument("--bin-width", type=float, help="bin (plate) width [m]")
    n.add_argument("--skus", type=int, help="catalogue size (0: the shipped 127 items)")
    n.add_argument("--seed", type=_seed, default=0, help="random seed for the catalogue "
                   "(default 0)")
    n.add_argument("--out", help="spec file to write (default: stdout)")
    n.add_argument("--catalogue-csv", action="store_true",
                   help="write the catalogue beside the spec as OUT.catalog.csv, to edit, "
                        "instead of a generate = {...} rule")
    n.set_defaults(func=cmd_scene_new)
    i = ss.add_parser("info", help="check a store and print its sizes and counts",
                      description="Load and check a store (preset or spec file) and print "
                                  "area, aisle length, fixture/bin/sku counts, shelf-face area.",
                      epilog="example: storetwin scene info supercenter --json",
                      formatter_class=fmt)
    i.add_argument("store", metavar="STORE", help="preset name or spec .toml")
    i.add_argument("--json", action="store_true", help="print JSON on stdout")
    i.set_defaults(func=cmd_scene_info)
    pl = ss.add_parser("plan", help="draw a top-down floor plan as PNG",
                       description="Draw the floor plan: fixtures, aisles, gates, bin faces "
                                   "and optionally a ceiling camera grid.",
                       epilog="example: storetwin scene plan grocery --png grocery.png "
                              "--camera-spacing 3", formatter_class=fmt)
    pl.add_argument("store", metavar="STORE", help="preset name or spec .toml")
    pl.add_argument("--png", required=True, help="PNG file to write")
    pl.add_argument("--camera-spacing", type=float, help="overlay a ceiling camera grid at "
                    "this pitch [m]")
    pl.add_argument("--dpi", type=int, default=150, help="resolution (default 150)")
    pl.set_defaults(func=cmd_scene_plan)
    e = ss.add_parser("export", help="export the store as one glTF binary (GLB)",
                      description="Export floor, walls, fixtures, plates and products (coloured "
                                  "by SKU) as one GLB with named nodes.",
                      epilog="example: storetwin scene export kiosk --glb kiosk.glb",
                      formatter_class=fmt)
    e.add_argument("store", metavar="STORE", help="preset name or spec .toml")
    e.add_argument("--glb", required=True, help="GLB file to write")
    e.set_defaults(func=cmd_scene_export)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="storetwin", description="Digital twin of a walk-out (cashierless) store.")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    r = sub.add_parser(
        "run", help="simulate a store with a sampled crowd through the whole pipeline",
        description="Simulate a store with a steady crowd: physics shelves, cameras and "
                    "plates feed the tracking and billing core; receipts are scored against "
                    "ground truth. Writes a run folder.",
        epilog="examples: storetwin run --minutes 5 --seed 1 --json\n"
               "          storetwin run --minutes 60 --panel 40 --look-taste 1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--store", default="kiosk",
                   help="preset (kiosk, grocery, large, supercenter) or a store spec .toml "
                        "(default: kiosk)")
    r.add_argument("--minutes", type=float, default=10.0, help="simulated minutes (default 10)")
    r.add_argument("--shoppers", type=float, default=15.0,
                   help="target shoppers in the store at once (default 15)")
    r.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    r.add_argument("--camera-spacing", type=float, default=2.5,
                   help="ceiling camera grid pitch in metres (default 2.5)")
    r.add_argument("--layout", help="camera layout .toml (from 'storetwin layout'); default: "
                   "a ceiling grid at --camera-spacing")
    r.add_argument("--out", help="run folder (default runs/STORE-seedSEED)")
    r.add_argument("--core", default="full",
                   help="the core that bills the run: full (storetwin's), naive (the "
                        "baseline) or package.module:Name, any importable class or factory of "
                        "a core (docs/core-protocol.md); default full")
    r.add_argument("--core-deadline", type=float, metavar="S",
                   help="fail the run when the core leaves a second of ticks unanswered for S "
                        "seconds (runs it in its own process); default: no deadline")
    r.add_argument("--core-process", choices=("auto", "on", "off"), default="auto",
                   help="run the core in its own process beside the twin (same receipts, "
                        "less wall time on 2+ CPU cores); auto: on where there are 2+ cores")
    r.add_argument("--panel", type=int, default=0, metavar="N",
                   help="returning customers: every arrival is one of N accounts, and the "
                        "tastes the core's journeys reveal are scored against the agents' "
                        "(docs/insights.md); default 0: every arrival a new account")
    r.add_argument("--look-taste", type=float, default=0.0, metavar="X",
                   help="how much shoppers' tastes choose where they stop to look, 0-10 "
                        "(default 0: at random; 1: as much as what they buy)")
    r.add_argument("--pseudonym-key-file", metavar="FILE",
                   help="a text file holding the secret behind the journeys' pseudonymous "
                        "account ids (default: derived from --seed, so not secret)")
    r.add_argument("--json", action="store_true", help="print the metrics as JSON on stdout")
    r.set_defaults(func=cmd_run)
    sn = sub.add_parser(
        "scenario", help="run a scripted scenario; expected vs issued receipts",
        description="Run a scripted scenario (docs/scenarios.md) through the whole pipeline: "
                    "the scripted shoppers (and any background crowd) act in the physics "
                    "store, the core bills them from the sensors alone. Prints, per account, "
                    "the receipt the script implies, the ground truth and the core's receipt. "
                    "Exit 0; with --strict, 1 when any receipt is wrong or the script could "
                    "not be carried out; 2 on bad input.",
        epilog="examples: storetwin scenario --list\n"
               "          storetwin scenario two_baguettes\n"
               "          storetwin scenario my_case.toml --json --strict\n"
               "          storetwin scenario --all --core full,naive",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sn.add_argument("file", metavar="FILE", nargs="?",
                    help="a scenario .toml, or the name of a shipped one")
    sn.add_argument("--list", action="store_true", help="list the shipped scenarios")
    sn.add_argument("--all", action="store_true",
                    help="run every shipped scenario; one summary line each")
    sn.add_argument("--core", help="core(s) that bill the run, comma-separated, the first "
                    "one reported in full: full (storetwin's core), naive (the baseline: "
                    "weight only, nearest person); default full, with --all full,naive")
    sn.add_argument("--dead-cameras", metavar="IDS",
                    help="camera ids that deliver nothing, e.g. 3,4 (a blind spot)")
    sn.add_argument("--seed", type=_seed, help="override the scenario's seed")
    sn.add_argument("--out", help="also write a run folder (streams, ground truth, receipts)")
    sn.add_argument("--strict", action="store_true",
                    help="exit 1 unless every receipt matches the script")
    sn.add_argument("--json", action="store_true", help="print the result as JSON")
    sn.set_defaults(func=cmd_scenario)
    _add_scene(sub)
    _add_layout(sub)
    rd = sub.add_parser(
        "render", help="render RGB, depth and segmentation frames; COCO / MOT export",
        description="Simulate the store's crowd, then render chosen cameras with pyrender "
                    "(EGL; software OpenGL without a GPU): RGB, depth [mm] and per-person "
                    "segmentation PNGs, and optionally the frames as COCO and MOTChallenge "
                    "datasets.",
        epilog="example: storetwin render --seconds 60 --cameras 4,12 --size 640x480 --coco "
               "--mot --out renders/kiosk",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rd.add_argument("--store", default="kiosk", help="preset or spec .toml (default kiosk)")
    rd.add_argument("--layout", help="camera layout .toml (default: a ceiling grid)")
    rd.add_argument("--camera-spacing", type=float, default=2.5,
                    help="ceiling grid pitch [m] when no layout is given (default 2.5)")
    rd.add_argument("--cameras", help="camera indices to render, e.g. 0,3,7 (default all)")
    rd.add_argument("--size", help="render at WIDTHxHEIGHT, same field of view "
                    "(default: the cameras' own resolution)")
    rd.add_argument("--seconds", type=float, default=60.0,
                    help="simulated seconds before the (last) rendered tick (default 60)")
    rd.add_argument("--every", type=float, default=0.0,
                    help="render every so many seconds instead of once at the end")
    rd.add_argument("--shoppers", type=float, default=15.0, help="crowd size (default 15)")
    rd.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    rd.add_argument("--coco", action="store_true", help="also write coco/annotations.json")
    rd.add_argument("--mot", action="store_true", help="also write MOTChallenge sequences")
    rd.add_argument("--out", required=True, help="output folder")
    rd.add_argument("--json", action="store_true", help="print the summary as JSON")
    rd.set_defaults(func=cmd_render)
    st = sub.add_parser(
        "study", help="run a capacity-planning study (a sweep) into a results store",
        description="Expand a study file (docs/studies.md: stores, layouts, crowd levels, "
                    "faults, seeds, cores, scenarios) into runs and execute the ones the "
                    "results folder lacks, on a local process pool or on Ray. One Parquet row "
                    "per run (parameters, metrics, timings, versions) in RESULTS/runs/, "
                    "gathered into RESULTS/results.parquet. Killed and restarted, it skips "
                    "finished runs; a run that crashes is recorded as failed.",
        epilog="examples: storetwin study experiments/studies/kiosk_layouts.toml\n"
               "          storetwin study my.toml --out results/my --executor ray\n"
               "          storetwin study my.toml --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("file", metavar="FILE", help="a study .toml")
    st.add_argument("--out", help="results folder (default results/<study name>)")
    st.add_argument("--executor", choices=("local", "ray"), default="local",
                    help="local process pool (default) or Ray")
    st.add_argument("--address", help="a Ray cluster to join (with --executor ray; default: "
                    "start Ray on this machine)")
    st.add_argument("--workers", type=int, help="parallel runs (default: all cores)")
    st.add_argument("--retry-failed", action="store_true",
                    help="run again the runs recorded as failed")
    st.add_argument("--dry-run", action="store_true", help="list the runs; run nothing")
    st.add_argument("--json", action="store_true", help="print the summary as JSON")
    st.set_defaults(func=cmd_study)
    rep = sub.add_parser(
        "report", help="an HTML report of a study's results",
        description="Write a self-contained HTML page (plots embedded, opens offline) from a "
                    "results folder: accuracy vs cost Pareto frontier per store with the "
                    "cheapest layout meeting the target, accuracy vs shoppers, real-time "
                    "factor and core time per tick vs store size with a fitted growth law, "
                    "where the time goes, coverage heatmaps, and every run.",
        epilog="example: storetwin report results/kiosk_layouts --out kiosk.html",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("results", metavar="RESULTS", help="a folder 'storetwin study' wrote")
    rep.add_argument("--out", help="HTML file to write (default RESULTS/report.html)")
    rep.add_argument("--target", type=float, help="receipt exact-match target, 0-1 (default: "
                     "the study's target_exact, else 0.995)")
    rep.set_defaults(func=cmd_report)
    bn = sub.add_parser(
        "bench", help="the versioned benchmark suite against any core",
        description="Run a fixed, versioned suite of short cases (sampled crowds and scripted "
                    "scenarios on the kiosk, ground truth checked into the package) against a "
                    "core; write one JSON result with every metric per case. With --compare, "
                    "flag the metrics that fell past a threshold against an earlier result "
                    "and exit 1 if any did.",
        epilog="example: storetwin bench --core mypkg.mod:MyCore --out new.json "
               "--compare old.json --max-drop 0.02 --max-drop hota=0.01",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bn.add_argument("--core", default="full", help="full, naive or package.module:Name "
                    "(docs/core-protocol.md); default full")
    bn.add_argument("--suite", default="v1", help="suite version (default v1)")
    bn.add_argument("--case", action="append", help="run only this case (repeatable)")
    bn.add_argument("--out", help="write the result JSON here")
    bn.add_argument("--compare", metavar="OLD", help="an earlier result JSON to compare with")
    bn.add_argument("--max-drop", action="append", metavar="[METRIC=]X",
                    help="a fall larger than X in a metric (a rise, for lower-is-better ones) "
                         "is a regression; default 0 for every metric but speed")
    bn.add_argument("--json", action="store_true", help="print the result JSON")
    bn.add_argument("--regenerate", action="store_true",
                    help="(maintainers) rewrite the suite file from its seeds")
    bn.set_defaults(func=cmd_bench)
    tk = sub.add_parser(
        "track", help="run the tracker alone on a floor-detection file",
        description="Run storetwin's multi-camera tracker alone on a floor-detection file "
                    "(CSV frame,t,camera,x,y,conf in metres and seconds, or a run folder's "
                    "streams/detections.parquet) and write its tracks as CSV "
                    "frame,t,track_id,x,y, for comparison with other trackers and standard "
                    "MOT scoring tools.",
        epilog="example: storetwin track runs/kiosk-seed0/streams/detections.parquet --store "
               "kiosk --out tracks.csv --stats stats.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    tk.add_argument("detections", metavar="DETECTIONS", help="detection file (.csv or .parquet)")
    tk.add_argument("--out", required=True, help="tracks CSV to write")
    tk.add_argument("--stats", help="also write JSON: loop_s (the tracking loop alone), "
                    "detections, frames, tracks, detections_per_s")
    tk.add_argument("--store", help="preset or spec .toml: track births at its entrance and "
                    "departures at its exit (default: anywhere, and after a timeout)")
    tk.add_argument("--hz", type=float, help="camera rate [Hz] (default: from the file's "
                    "frame numbers and times)")
    tk.add_argument("--json", action="store_true", help="print the summary as JSON")
    tk.set_defaults(func=cmd_track)
    cp = sub.add_parser(
        "compile", help="compile the numba kernels for this processor, before the first run",
        description="Compile the numba kernels a run calls (crowd, load cells, cameras, "
                    "tracker) for this processor and keep them in numba's cache, so that the "
                    "first run does not wait for them (25-80 s on 2 cores). .ci/setup runs "
                    "it; run it after 'pip install storetwin'. Again, it loads them from the "
                    "cache in a few seconds. An edited kernel module is compiled afresh.",
        epilog="example: storetwin compile",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    cp.add_argument("--json", action="store_true", help="print the report as JSON")
    cp.set_defaults(func=cmd_compile)
    rp = sub.add_parser(
        "replay", help="feed a recorded run's streams to the core",
        description="Feed a run folder's recorded sensor streams (streams/) and store "
                    "knowledge (knowledge.json) to the core, as live, and compare the receipts "
                    "with the live run's. Exit 0 when identical (or nothing to compare), 1 when "
                    "they differ, 2 on bad input.",
        epilog="example: storetwin replay runs/kiosk-seed0 --out replayed.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'storetwin run'")
    rp.add_argument("--out", help="write the replayed receipts JSON here")
    rp.add_argument("--json", action="store_true", help="print the summary as JSON")
    rp.set_defaults(func=cmd_replay)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    if not getattr(a, "verb", None):
        print("storetwin: error: name a verb (run, scenario, study, report, scene, layout, render, replay, track, bench, compile); see 'storetwin --help'",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if a.verb == "layout" and not getattr(a, "layout_verb", None):
        print("storetwin: error: name a layout verb (grid, aisles, shelves, greedy, coverage); "
              "see 'storetwin layout --help'", file=sys.stderr)
        return EXIT_BAD_INPUT
    if a.verb == "scene" and not getattr(a, "scene_verb", None):
        print("storetwin: error: name a scene verb (new, info, plan, export); see "
              "'storetwin scene --help'", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return a.func(a)
    except CliError as e:
        for line in str(e).splitlines() or [""]:
            print(f"storetwin: error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("storetwin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
