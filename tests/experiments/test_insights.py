"""Behaviour insights: the taste fit, journeys against the till, substitutions in the
journeys table, and no raw id in any output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from agents import behaviour as bh
from agents import tastes
from core.journeys import pseudonym
from experiments.runs.config import RunConfig
from experiments.runs.run import run
from experiments.scoring import insights as ins
from scenes.presets import load_store


@pytest.fixture(scope="module")
def kiosk():
    return load_store("kiosk")


@pytest.fixture(scope="module")
def data(kiosk):
    return ins.ChoiceData(kiosk)


def synthetic(data: ins.ChoiceData, n: int, visits: int, look_taste: float, seed: int = 0
              ) -> tuple[list[ins.Obs], list[ins.Obs], dict[str, dict[str, float]]]:
    """Journeys' and the till's observations of ``n`` accounts choosing by the agents' own
    logit (agents.behaviour.choose): per visit three list lines (kept SKU: a basket line
    for both) and one look at the bin of a taste-driven choice among every stocked SKU
    (``look_taste`` 0: a random one), seen as the SKUs within reach of where it stood."""
    rng = np.random.default_rng(seed)
    cat = data.catalogue
    prefs = tastes.sample_preferences(rng, n, cat)
    groups = [c for c in data.members.values() if c.size >= 2]
    till, jour, latent = [], [], {}
    for a in range(n):
        row = prefs.row(a)
        name = f"acct{a}"
        latent[name] = {"gluten_free": row.gluten_free, "organic": row.organic,
                        "vegan": row.vegan, "price_per_dollar": row.price_per_dollar,
                        "brand_weight": row.brand_weight}
        for v in range(visits):
            for k in rng.choice(len(groups), 3, replace=False):
                c = groups[k]
                o = ins.Obs(name, v, float(v), "basket", (bh.choose(rng, row, c, cat).final,), c)
                till.append(o)
                jour.append(o)
            u = look_taste * tastes.utility(row, data.stocked, cat) + rng.gumbel(
                0.0, 1.0, data.stocked.size)
            sku = int(data.stocked[int(np.argmax(u))])
            b = int(np.flatnonzero(data.bin_sku == sku)[0])
            jour.append(ins.Obs(name, v, float(v), "look", data.in_reach(*data.access[b]),
                                data.stocked))
    return jour, till, latent


def test_looks_that_follow_taste_teach_more_than_the_till(data):
    jour, till, latent = synthetic(data, 60, 8, look_taste=1.0)
    accounts = sorted(latent)
    fj, ft = ins.fit(data, jour, accounts), ins.fit(data, till, accounts)
    rj, rt = ins.recovery(fj, latent), ins.recovery(ft, latent)
    assert rj["mean"] > rt["mean"] + 0.15, (rj, rt)
    assert rj["price"] > 0.6
    assert 0.6 < fj.look_scale < 1.5          # the looks' attention to taste, recovered


def test_random_looks_are_found_to_say_nothing(data):
    jour, till, latent = synthetic(data, 60, 8, look_taste=0.0)
    accounts = sorted(latent)
    fj, ft = ins.fit(data, jour, accounts), ins.fit(data, till, accounts)
    assert fj.look_scale < 0.25
    rj, rt = ins.recovery(fj, latent), ins.recovery(ft, latent)
    assert abs(rj["mean"] - rt["mean"]) < 0.1    # nothing added, nothing lost


def test_next_visit_prediction_beats_the_population_with_enough_visits(data):
    _, till, latent = synthetic(data, 60, 12, look_taste=0.0, seed=3)
    accounts = sorted(latent)
    train = [o for o in till if o.visit < 11]
    test = [o for o in till if o.visit == 11]
    f = ins.fit(data, train, accounts)
    personal, _ = ins.predict_accuracy(data, f, test)
    pooled, _ = ins.predict_accuracy(data, f, test, personal=False)
    assert personal > pooled


def test_the_visit_predicted_is_never_in_its_own_fit(data):
    c = data.stocked[:3]
    tested = ins.Obs("a", 1, 400.00004, "basket", (int(c[0]),), c)   # the till's visit start
    same_visit = ins.Obs("a", 1, 400.0, "basket", (int(c[0]),), c)   # journeys: rounded down
    earlier = ins.Obs("a", 0, 100.0, "basket", (int(c[1]),), c)
    other = ins.Obs("b", 1, 50.0, "basket", (int(c[1]),), c)          # not tested
    assert ins.history([same_visit, earlier, other], [tested]) == [earlier]


def test_recovery_is_undefined_where_the_latent_tastes_do_not_vary(data):
    f = ins.Fit(("a", "b", "c"), np.arange(15.0).reshape(3, 5), np.zeros(5),
                np.ones(3), {})
    latent = {a: {"gluten_free": 0.0, "organic": o, "vegan": 0.0, "price_per_dollar": p,
                  "brand_weight": 0.5} for a, o, p in (("a", 0.1, 3.0), ("b", 0.2, 2.0),
                                                       ("c", 0.3, 1.0))}
    r = ins.recovery(f, latent)
    assert r["gluten_free"] is None and r["vegan"] is None and r["brand"] is None
    assert r["organic"] == pytest.approx(1.0) and r["price"] == pytest.approx(-1.0)
    assert r["mean"] == pytest.approx(0.0)


# ------------------------------------------------------------------------ the twin end to end


def _journeys(name: str):
    from agents.scenario import load_scenario
    from experiments.runs.scenario import run_scenario
    res = run_scenario(load_scenario(name))
    j = res.run.journeys
    return res, [dict(zip(j, r, strict=True)) for r in zip(*j.values(), strict=True)]


def test_two_baguettes_one_put_back_for_the_gluten_free_is_a_substitution():
    res, rows = _journeys("two_baguettes_gf")
    assert [r.issued for r in res.rows] == [{"SKU00002": 1}]
    subs = [r for r in rows if r["event"] == "substitution"]
    assert [(s["other_sku"], s["sku"]) for s in subs] == [("SKU00001", "SKU00002")]
    assert subs[0]["zone"] == "bakery"
    assert [(r["sku"], r["quantity"]) for r in rows if r["event"] == "purchase"] == [
        ("SKU00002", 1)]


def test_two_of_the_same_baguette_one_put_back_is_no_substitution():
    _, rows = _journeys("two_baguettes")
    assert not [r for r in rows if r["event"] == "substitution"]
    assert [(r["event"], r["sku"], r["quantity"]) for r in rows
            if r["event"] in ("pick", "put_back")] == [("pick", "SKU00001", 2),
                                                     ("put_back", "SKU00001", 1)]


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("panel") / "run"
    cfg = RunConfig(minutes=8.0, shoppers=10, seed=5, panel=8, look_taste=1.0,
                    record_streams=False, pseudonym_key="s3cret-study-key")
    return run(cfg, out=out), out, cfg


def test_a_panel_comes_back_and_is_billed_per_visit(panel_run):
    res, _, _ = panel_run
    visits = res.crowd.truth_visits()
    accounts = {v[0] for v in visits}
    assert len(accounts) <= 8 and len(visits) > len(accounts)      # returning shoppers
    b = res.metrics["billing"]
    assert b["receipts_true"] > len(accounts)          # one scored receipt per visit
    assert b["exact_match"] > 0.7
    m = res.metrics["insights"]
    assert m["accounts"] == len(accounts) and m["visits_per_account"] > 1
    assert m["observations"]["journeys"].get("look", 0) > 0


def test_no_output_holds_a_raw_id(panel_run):
    """Journeys, the per-account estimates, the substitution table and the metrics name
    accounts by keyed pseudonyms only; the key is not written anywhere."""
    res, out, cfg = panel_run
    raw_accounts = {str(r.account) for r in res.crowd.roster.values()}
    key = ins.pseudonym_key(cfg.pseudonym_key)
    j = pq.read_table(out / "journeys.parquet")
    assert set(j.column("account").to_pylist()) <= {pseudonym(int(a), key)
                                                    for a in raw_accounts}
    outputs = [out / "journeys.parquet", out / "insights" / "accounts.parquet",
               out / "insights" / "substitutions.parquet", out / "metrics.json"]
    for f in outputs:
        text = (json.dumps(pq.read_table(f).to_pylist(), default=str)
                if f.suffix == ".parquet" else f.read_text())
        assert "shopper_id" not in text
        leaked = [a for a in raw_accounts if a in text]
        assert not leaked, f"{f.name} holds raw account ids {leaked[:3]}"
    for f in out.rglob("*"):
        if f.is_file() and f.suffix in (".json", ".parquet"):
            assert b"s3cret-study-key" not in f.read_bytes(), f"{f} holds the key"
    acc = pq.read_table(out / "insights" / "accounts.parquet").to_pydict()
    assert set(acc["account"]) <= set(j.column("account").to_pylist())


def test_a_run_folder_is_analysed_again_to_the_same_figures(panel_run):
    res, out, cfg = panel_run
    again = ins.analyse_folder(out, ins.pseudonym_key(cfg.pseudonym_key))
    assert again.metrics == json.loads(json.dumps(res.metrics["insights"]))
    with pytest.raises(ValueError, match="pseudonym key"):
        ins.analyse_folder(out)       # given a key: the default one would not match


def test_cli_run_with_a_panel(tmp_path: Path):
    from experiments.cli import main
    keyfile = tmp_path / "key.txt"
    keyfile.write_text("another secret\n")
    rc = main(["run", "--minutes", "2", "--shoppers", "5", "--panel", "3", "--look-taste", "1",
               "--pseudonym-key-file", str(keyfile), "--out", str(tmp_path / "r"),
               "--core-process", "off", "--json"])
    assert rc == 0
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["panel"] == 3 and cfg["pseudonym_key"] == "(given)"
    assert (tmp_path / "r" / "journeys.parquet").is_file()
