"""Accuracy of bs_greeks(dtype=np.float32) against float64, per Greek: `python -m bench.float32_accuracy`.

Two batches of 200,000 random options (float64 inputs, rounded to float32 by the kernel):
"typical" (K/S within e^{+-0.3}, 1 day to 3 years, vol 1-80 %) and "wide" (K/S within e^{+-1.5},
1 day to 30 years, vol 1-300 %). Relative errors are taken where a Greek is above 1e-3 of its
batch's largest value (relative error of a value near 0 says nothing); "max abs / scale" is the
largest error over the whole batch divided by that largest value. docs/performance.md quotes it.
"""

from __future__ import annotations

import numpy as np

import dispersionkit as dk
from dispersionkit.benchmark import random_options


def main() -> None:
    for label, wide in (("typical", False), ("wide", True)):
        inputs = random_options(200_000, 3, wide)
        f64 = dk.bs_greeks(**inputs)
        f32 = dk.bs_greeks(**inputs, dtype=np.float32)
        print(f"\n{label}: Greek, median / 99th percentile / max relative error, max abs error / scale")
        for name in dk.GREEK_NAMES:
            x, y = getattr(f64, name), getattr(f32, name).astype(np.float64)
            scale = np.abs(x).max()
            big = np.abs(x) > 1e-3 * scale
            relative = np.abs(y[big] - x[big]) / np.abs(x[big])
            print(
                f"  {name:8s} {np.median(relative):.1e}  {np.percentile(relative, 99):.1e}  "
                f"{relative.max():.1e}  {np.abs(y - x).max() / scale:.1e}"
            )


if __name__ == "__main__":
    main()
