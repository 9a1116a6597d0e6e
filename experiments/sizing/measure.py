"""The table's "measured here" appearance figure: a ResNet-50 re-id backbone (torchreid's
``resnet50``: 2.7 G multiply-adds at 256x128 px) timed on one CPU thread with PyTorch.

``python -m experiments.sizing.measure`` prints milliseconds per 256x128 crop (random
weights: the arithmetic, not the accuracy, sets the time). torch is a dev dependency
(stable-baselines3 brings it); nothing else of storetwin imports this module.
"""

from __future__ import annotations

import platform
import time


def _resnet50():
    """ResNet-50 (bottleneck blocks 3-4-6-3, widths 64-128-256-512 x4), classifier removed:
    the torchreid ``resnet50`` feature extractor's layers, written out with torch.nn."""
    from torch import nn

    def block(cin: int, width: int, stride: int) -> nn.Module:
        out = width * 4
        body = nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(inplace=True), nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out))
        short = (nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                 if stride != 1 or cin != out else nn.Identity())

        class Bottleneck(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.body, self.short, self.relu = body, short, nn.ReLU(inplace=True)

            def forward(self, x):
                return self.relu(self.body(x) + self.short(x))
        return Bottleneck()

    layers: list = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                    nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(n):
            layers.append(block(cin, width, stride if i == 0 else 1))
            cin = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def measure(batch: int = 16, repeats: int = 3) -> dict:
    """Milliseconds per 256x128 crop, best of ``repeats`` batches of ``batch``, 1 thread."""
    import torch
    torch.set_num_threads(1)
    model = _resnet50().eval()
    x = torch.rand(batch, 3, 256, 128)
    with torch.inference_mode():
        model(x[:2])
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    return {"ms_per_crop": round(1000 * min(times) / batch, 2), "torch": torch.__version__,
            "machine": platform.machine(), "batch": batch}


if __name__ == "__main__":   # pragma: no cover - a measurement, run by hand
    import json
    import sys
    json.dump(measure(), sys.stdout)
    sys.stdout.write("\n")
