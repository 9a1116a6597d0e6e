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
                            price_cents=c.price_cents.copy(), mass_g=c.mass_g.copy()),
        plates=Plates(plate=np.arange(len(b), dtype=np.int32), sku_index=b.sku_index.copy(),
                      center=b.center, access_xy=b.access_xy.copy()),
        cameras=cameras,
        camera_hz=clock.camera_hz,
        plate_hz=clock.plate_hz,
        plate_noise_g=loadcell.noise_g,
    )
