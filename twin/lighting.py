"""How the twin lights a store: the renderer bakes it into the pixels' colours
(:mod:`twin.render`), and the appearance model (:mod:`twin.appearance`) shades a shopper's
clothes with the same lights, so a camera's colour cue and the rendered pixels see one store.

The light figures are assumptions: an evenly lit store, a key light from above, slanted, a
weaker fill from elsewhere, and no shadows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Lighting:
    """Lights of a store lit evenly from above, baked into vertex colours (Lambert).

    A face with unit normal n and albedo a gets a * (ambient + sum_i k_i max(0, -n . d_i)),
    clipped to 1, with d_i each light's travelling direction. Baked light keeps the colour
    pass on pyrender's unlit shader: llvmpipe draws the store ~5x faster than with its PBR
    shader. No shadows (they would also be foreground to a background subtractor).
    """

    ambient: float = 0.45
    key: float = 0.45                                            # from above, slanted
    key_direction: tuple[float, float, float] = (0.25, 0.35, -1.0)
    fill: float = 0.2                                            # weaker, from elsewhere
    fill_direction: tuple[float, float, float] = (-0.4, -0.2, -1.0)

    def shade(self, normals: np.ndarray) -> np.ndarray:
        """(n,) float64 light factor of faces with unit normals (n, 3)."""
        out = np.full(normals.shape[0], self.ambient)
        for k, d in ((self.key, self.key_direction), (self.fill, self.fill_direction)):
            d = np.asarray(d, np.float64)
            out += k * np.clip(-(normals @ (d / np.linalg.norm(d))), 0.0, None)
        return out

    def bake(self, colors: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """(n, 4) uint8 lit RGBA of albedo ``colors`` (n, 4) uint8 on ``normals`` (n, 3)."""
        out = colors.copy()
        lit = colors[:, :3].astype(np.float64) * self.shade(normals)[:, None]
        out[:, :3] = np.clip(np.round(lit), 0, 255).astype(np.uint8)
        return out


    def table(self) -> np.ndarray:
        """(9,) float64 the lights as the compiled kernels take them: ambient, key, the key's
        unit travelling direction (3), fill, the fill's unit direction (3)."""
        kd = np.asarray(self.key_direction, np.float64)
        fd = np.asarray(self.fill_direction, np.float64)
        return np.concatenate([[self.ambient, self.key], kd / np.linalg.norm(kd), [self.fill],
                               fd / np.linalg.norm(fd)])
