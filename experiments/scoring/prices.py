"""The hardware price table studies cost layouts with, and its overrides.

Every figure here is a planning ASSUMPTION (typical 2024 list prices), not a quote; a study
file replaces any of them in its ``[prices]`` table (docs/studies.md), and the report prints
the table it used. Camera prices default to the list price of each model in
:data:`twin.layout.DEFAULT_MODELS` (a layout file may carry its own per-camera prices, which
then win unless the study names the model).

- Load-cell plate: one shelf plate of the AiFi Nanostore kind (REFERENCES.md: ~12 plates per
  shelf, 20 kg rated, 60 Hz), i.e. a 20 kg single-point load cell, its 24-bit ADC channel and
  the plate itself: assumed USD 40 per plate.
- Installation: a ceiling camera drop (PoE cable run, mount, aiming) assumed USD 150 per
  camera; a plate fitted and wired to its shelf's hub assumed USD 10 per plate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin.layout import DEFAULT_MODELS, CameraLayout

PLATE_USD = 40.0                  # one load-cell plate with its ADC channel (assumption)
INSTALL_PER_CAMERA_USD = 150.0    # cable run, mount and aiming per camera (assumption)
INSTALL_PER_PLATE_USD = 10.0      # fitting and wiring per plate (assumption)


@dataclass(frozen=True)
class Prices:
    """USD. cameras: model name -> list price per camera (models not named keep the price
    the layout carries)."""

    cameras: dict[str, float] = field(
        default_factory=lambda: {k: m.cost_usd for k, m in DEFAULT_MODELS.items()})
    plate_usd: float = PLATE_USD
    install_per_camera_usd: float = INSTALL_PER_CAMERA_USD
    install_per_plate_usd: float = INSTALL_PER_PLATE_USD

    def as_dict(self) -> dict:
        return {"cameras": dict(sorted(self.cameras.items())), "plate_usd": self.plate_usd,
                "install_per_camera_usd": self.install_per_camera_usd,
                "install_per_plate_usd": self.install_per_plate_usd}


def hardware_cost(layout: CameraLayout, n_plates: int, prices: Prices) -> dict[str, float]:
    """Cost of a store's sensors [USD]: cameras (per model), plates and installation."""
    per_cam = np.array([prices.cameras.get(str(m), float(c))
                        for m, c in zip(layout.model, layout.cost_usd, strict=True)],
                       dtype=np.float64)
    cams = float(per_cam.sum())
    plates = n_plates * prices.plate_usd
    install = len(layout) * prices.install_per_camera_usd + \
        n_plates * prices.install_per_plate_usd
    return {"cost_cameras_usd": round(cams, 2), "cost_plates_usd": round(plates, 2),
            "cost_install_usd": round(install, 2),
            "cost_total_usd": round(cams + plates + install, 2)}
