"""What classic 3x3 kernels do to a picture (seed posts 000 and 002: the
vertical and horizontal Sobel filters, the edge-detection kernel
[[0, -1, 0], [-1, 4, -1], [0, -1, 0]], a blur and a sharpen), computed with a
kerasish ``Conv2D`` (``padding='same'``) whose kernel is set with
``set_weights``; and the activation functions kerasish knows, with their
derivatives.

The picture is generated (no download): a house with a door and a window, a
sun and a hill on a gradient sky, drawn in gray levels.

Writes ``kernel_effects.png`` and ``activations.png`` into the folder given
as the first argument (default ``docs/images/``).

Run: ``python examples/visualize_kernels.py [out_dir]``
"""

import sys
from pathlib import Path

import numpy as np

from kerasish.visualization import plot_activations, plot_kernel_effects

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "docs" / "images"


def make_scene(size=96):
    """A gray-level scene in [0, 1] with straight and curved edges."""
    r, c = np.mgrid[0:size, 0:size].astype("float32") / (size - 1)
    img = 0.75 - 0.35 * r                                        # sky, lighter at the top
    img[(r - 0.2) ** 2 + (c - 0.8) ** 2 < 0.008] = 1.0           # sun
    img[r > 0.78 - 0.12 * np.sin(np.pi * c)] = 0.3               # hill
    house = (r > 0.45) & (r < 0.85) & (c > 0.15) & (c < 0.55)
    img[house] = 0.55                                            # walls
    roof = (r > 0.25) & (r <= 0.45) & (np.abs(c - 0.35) < (r - 0.25) * 1.0 + 0.0)
    img[roof] = 0.15                                             # roof (a triangle)
    img[(r > 0.62) & (r < 0.85) & (c > 0.22) & (c < 0.32)] = 0.1  # door
    img[(r > 0.55) & (r < 0.68) & (c > 0.4) & (c < 0.5)] = 0.95   # window
    return img


plot_kernel_effects(make_scene(), to_file=OUT / "kernel_effects.png")
plot_activations(to_file=OUT / "activations.png")
for name in ("kernel_effects.png", "activations.png"):
    print(f"wrote {OUT / name}")
