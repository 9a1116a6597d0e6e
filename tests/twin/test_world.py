"""The pybullet world on a hand-built one-gondola store: loads, picks, put-backs, sleep."""

from __future__ import annotations

import numpy as np
import pytest

from scenes import load_preset
from scenes.catalog import load_catalogue
from scenes.store import (
    RECT_WALL_NAMES,
    Bins,
    Fixture,
    Store,
    front_gates,
    outline_walls,
    rectangle,
)
from twin.world import G, PhysicsConfig, World

TICK = 1.0 / 60.0  # [s] plate tick
# (sku, facings, rows): baguette 250 g, gallon of milk 3,900 g, 20 oz cola 620 g, beans 439 g
LAYOUT = [("SKU00001", 1, 4), ("SKU00013", 2, 2), ("SKU00033", 4, 3), ("SKU00106", 3, 2)]


def one_gondola_store(layout=LAYOUT) -> Store:
    """A 5 x 6 m store with one gondola; bins side by side on its bottom shelf, facing -x."""
    cat = load_catalogue()
    idx = cat.index()
    n = len(layout)
    gx0, gy0, w = 2.0, 1.0, 0.75
    lo = np.array([[gx0, gy0 + k * w, 0.17] for k in range(n)])
    hi = np.array([[gx0 + 0.45, gy0 + (k + 1) * w, 0.48] for k in range(n)])
    facings = np.array([f for _, f, _ in layout], dtype=np.int32)
    rows = np.array([r for _, _, r in layout], dtype=np.int32)
    outline = rectangle(5.0, 6.0)
    return Store(
        name="one-gondola",
        outline=outline,
        ceiling_height=3.0,
        walls=outline_walls(outline, RECT_WALL_NAMES),
        gates=front_gates(5.0, (0.5, 1.5), (3.5, 4.5)),
        fixtures=(Fixture("gondola-1", "gondola", (gx0, gy0, 0.0),
                          (gx0 + 0.9, gy0 + n * w, 1.8)),),
        bins=Bins(
            fixture=np.zeros(n, dtype=np.int32),
            level=np.zeros(n, dtype=np.int32),
            lo=lo,
            hi=hi,
            normal=np.tile([-1.0, 0.0], (n, 1)),
            access_xy=np.stack([np.full(n, gx0 - 0.8), (lo[:, 1] + hi[:, 1]) / 2], axis=1),
            sku_index=np.array([idx[s] for s, _, _ in layout], dtype=np.int32),
            facings=facings,
            rows=rows,
            count=facings * rows,
        ),
        catalogue=cat,
        aisle_width=1.6,
    )


@pytest.fixture
def store() -> Store:
    return one_gondola_store()


@pytest.fixture
def world(store):
    w = World(store)
    yield w
    w.close()


def unit_g(store: Store, i: int) -> float:
    return float(store.catalogue.mass_g[store.bins.sku_index[i]])


def run(world: World, seconds: float, i: int | None = None) -> np.ndarray:
    """Step ``seconds`` at the plate tick; the load trace of bin ``i`` (or all) [g]."""
    out = []
    for _ in range(int(round(seconds / TICK))):
        world.step(TICK)
        loads = world.plate_loads_g()
        out.append(loads if i is None else loads[i])
    return np.array(out)


def test_untouched_world_reports_weights_without_stepping_physics(store, world) -> None:
    expected = store.bins.count * store.catalogue.mass_g[store.bins.sku_index]
    assert np.allclose(world.plate_loads_g(), expected)
    run(world, 1.0)
    assert world.steps == 0
    assert world.awake_bins == []
    assert world.t == pytest.approx(1.0)
    assert np.allclose(world.plate_loads_g(), expected)


@pytest.mark.parametrize("i", range(len(LAYOUT)))
def test_woken_bin_load_from_contacts_equals_its_weight(store, world, i) -> None:
    world.wake(i)
    assert world.awake_bins == [i]
    trace = run(world, 0.6, i)
    expected = store.bins.count[i] * unit_g(store, i)
    assert trace[-1] == pytest.approx(expected, rel=0.005)
    # before settle_s the plate reports its last settled reading, never a half-spawned one
    n_early = int(world.config.settle_s / TICK) - 1
    assert np.allclose(trace[:n_early], expected)
    assert world.steps > 0


@pytest.mark.parametrize(("i", "n"), [(0, 1), (1, 2), (2, 3)])
def test_pick_lowers_count_and_load_with_a_press_transient(store, world, i, n) -> None:
    world.wake(i)
    run(world, 0.5)
    start = world.plate_loads_g()[i]
    c0 = int(world.count[i])
    assert world.pick(i, n) == n
    assert world.count[i] == c0 - n
    trace = run(world, 1.0, i)
    press_g = n * world.config.press_n / G * 1000.0
    press = trace[: int(world.config.press_s / TICK)]
    assert press.max() > start + 0.8 * press_g
    assert trace[-1] == pytest.approx(start - n * unit_g(store, i), abs=0.005 * start)
    # other bins are untouched
    others = np.delete(np.arange(len(store.bins)), i)
    assert np.array_equal(world.count[others], store.bins.count[others])


def test_put_back_raises_count_and_load(store, world) -> None:
    i = 2
    world.pick(i, 2)
    run(world, 1.0)
    low = world.plate_loads_g()[i]
    assert world.put_back(i, 1) == 1
    assert world.count[i] == store.bins.count[i] - 1
    trace = run(world, 0.8, i)
    assert trace[-1] == pytest.approx(low + unit_g(store, i), rel=0.005)
    assert trace[-1] == pytest.approx((store.bins.count[i] - 1) * unit_g(store, i), rel=0.005)


def test_pick_takes_only_what_is_there_and_put_back_only_what_fits(store, world) -> None:
    i = 0
    c0 = int(world.count[i])
    assert world.pick(i, c0 + 3) == c0
    assert world.count[i] == 0
    assert world.pick(i, 1) == 0
    run(world, 2.5)
    assert world.plate_loads_g()[i] == pytest.approx(0.0, abs=1e-6)
    assert world.put_back(i, c0 + 3) == c0
    assert world.count[i] == c0
    assert world.put_back(i, 1) == 0
    run(world, 1.0)
    assert world.plate_loads_g()[i] == pytest.approx(c0 * unit_g(store, i), rel=0.005)


def test_bins_sleep_after_idle_and_keep_their_settled_load(store, world) -> None:
    i = 1
    world.pick(i, 1)
    idle = world.config.idle_s
    run(world, idle - 0.2)
    assert world.awake_bins == [i]
    run(world, 0.6)
    assert world.awake_bins == []
    assert world.plate_body[i] == -1
    settled = world.plate_loads_g()[i]
    assert settled == pytest.approx((store.bins.count[i] - 1) * unit_g(store, i), rel=0.005)
    steps = world.steps
    trace = run(world, 2.0, i)
    assert world.steps == steps
    assert np.all(trace == settled)


def test_touching_an_awake_bin_keeps_it_awake(world) -> None:
    i = 3
    world.wake(i)
    for _ in range(4):
        run(world, 1.0)
        world.wake(i)
    assert world.awake_bins == [i]


def test_two_awake_neighbours_do_not_disturb_each_other(store, world) -> None:
    world.wake(1)
    world.wake(2)
    run(world, 0.5)
    world.pick(1, 1)
    trace = run(world, 1.0, 2)
    expected = store.bins.count[2] * unit_g(store, 2)
    assert np.allclose(trace, expected, rtol=0.005)


def test_kiosk_stacked_awake_bins_read_their_own_weight() -> None:
    store = load_preset("kiosk")
    b = store.bins
    below = int(np.flatnonzero(store.catalogue.name[b.sku_index] == "Tortilla Chips 11oz")[0])
    above = int(np.flatnonzero((b.fixture == b.fixture[below]) & (b.level == b.level[below] + 1)
                               & np.all(np.isclose(b.lo[:, :2], b.lo[below, :2]), axis=1))[0])
    world = World(store)
    try:
        world.wake(below)
        world.wake(above)
        run(world, 1.0)
        loads = world.plate_loads_g()
        for i in (below, above):
            assert loads[i] == pytest.approx(b.count[i] * unit_g(store, i), rel=0.005)
    finally:
        world.close()


@pytest.mark.parametrize(("field", "value"), [
    ("physics_hz", 0.0), ("idle_s", -1.0), ("press_s", 0.0), ("lift_s", -0.1),
    ("lift_speed", 0.0), ("solver_iterations", 0),
])
def test_invalid_physics_config_names_the_field(field, value) -> None:
    with pytest.raises(ValueError, match=f"PhysicsConfig.{field}"):
        PhysicsConfig(**{field: value})


def test_close_is_idempotent(store) -> None:
    w = World(store)
    w.close()
    w.close()
    assert w.client is None


def test_a_pick_reaches_the_plate_stream_as_a_transient_then_a_step_of_its_weight(store) -> None:
    """pybullet contacts -> load-cell model (noise, drift, offset, ringing) -> 60 Hz messages:
    the pick reads as a disturbance, then settles one unit lighter, to within the noise."""
    from twin.sensors import LoadCellModel, PlateSensors
    world = World(store)
    sensors = PlateSensors(len(store.bins), LoadCellModel(), np.random.default_rng(3))
    i = 1
    trace = []

    def tick(seconds: float) -> None:
        for _ in range(int(round(seconds / TICK))):
            world.step(TICK)
            msg = sensors.sample(0.0, world.plate_loads_g())
            if msg is not None:
                trace.extend(msg.grams[i].tolist())

    world.wake(i)
    tick(1.0)
    n_before = len(trace)
    assert world.pick(i, 1) == 1
    tick(2.0)
    world.close()
    g = np.array(trace)
    before = g[n_before - 30:n_before]
    after = g[-30:]
    unit = unit_g(store, i)
    noise = LoadCellModel().noise_g
    # a step of the item's weight, measured to well within the unit (noise averages down)
    assert before.mean() - after.mean() == pytest.approx(unit, abs=3 * noise)
    # a transient first: the hand presses down before the item leaves
    window = g[n_before:n_before + int(0.5 * 60)]
    assert window.max() > before.mean() + 10 * noise
    # and the reading is steady again within a second
    assert after.std() < 2 * noise
