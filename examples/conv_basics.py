"""Convolution by hand, with a Keras Conv2D layer whose kernel is set with
``set_weights`` (Keras kernel layout: (height, width, in_channels, filters)).

1. Seed post 000: the 4x4 image convolved with the vertical Sobel filter
   ("valid" padding) gives a 2x2 output whose top-left value is 62 - 33 = 29.
2. Seed post 002: the high-pass (edge-detection) kernel
   [[0, -1, 0], [-1, 4, -1], [0, -1, 0]] with padding='same' on a small
   gradient image: the interior of a linear ramp has no edges (zeros); the
   zero padding makes the borders light up.

Run: ``python examples/conv_basics.py``
"""

import numpy as np

from kerasish.layers import Conv2D


def correlate(image, kernel, pad=0):
    """What a conv layer computes (cross-correlation), in plain numpy."""
    image = np.pad(image, pad)
    kh, kw = kernel.shape
    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    return np.array([[np.sum(image[i:i + kh, j:j + kw] * kernel) for j in range(w)] for i in range(h)])


def conv_with_kernel(image, kernel, padding):
    """Run ``image`` (H, W) through Conv2D(1, 3) holding ``kernel`` (3, 3)."""
    layer = Conv2D(1, 3, padding=padding, use_bias=False)
    x = image.astype("float32")[None, :, :, None]  # (batch, height, width, channels)
    layer(x)  # build
    layer.set_weights([kernel.astype("float32").reshape(3, 3, 1, 1)])
    return layer(x).detach().numpy()[0, :, :, 0]


np.set_printoptions(suppress=True)

# 1. Seed 000: vertical Sobel filter on a 4x4 image.
image = np.array([[0, 50, 0, 29],
                  [0, 80, 31, 2],
                  [33, 90, 0, 75],
                  [0, 9, 0, 95]])
sobel = np.array([[-1, 0, 1],
                  [-2, 0, 2],
                  [-1, 0, 1]])
out = conv_with_kernel(image, sobel, padding="valid")
print("Vertical Sobel filter on the 4x4 image ('valid' padding -> 2x2):")
print(out.astype(int))
print(f"top-left value: {int(out[0, 0])}")
print(f"matches numpy: {np.allclose(out, correlate(image, sobel))}")

# 2. Seed 002: edge-detection kernel, 'same' padding, on a 5x5 gradient image.
gradient = np.tile(np.arange(0, 250, 50), (5, 1))
edge = np.array([[0, -1, 0],
                 [-1, 4, -1],
                 [0, -1, 0]])
out = conv_with_kernel(gradient, edge, padding="same")
print("\nGradient image:")
print(gradient)
print("Edge-detection kernel, 'same' padding (output keeps the 5x5 size):")
print(out.astype(int))
print(f"output shape: {out.shape}")
print(f"matches numpy: {np.allclose(out, correlate(gradient, edge, pad=1))}")
