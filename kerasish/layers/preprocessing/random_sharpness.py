"""RandomSharpness: sharpen or blur each image by a random amount (training only).

Keras's math in torch: a zero-padded 3x3 smoothing kernel over every pixel;
torchvision's ``adjust_sharpness`` leaves the border pixels untouched.
"""

from __future__ import annotations

from kerasish.layers.preprocessing.color_utils import FactorColorLayer, sharpen


class RandomSharpness(FactorColorLayer):
    """Adjusts the sharpness of each image in training; identity at inference.

    With ``f`` drawn per image in ``[factor[0], factor[1]]``, the image is
    blended with its 3x3 smoothing (``[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13``,
    zero padded) as ``x + (1 - 2 f) (smooth - x)``: ``f = 0.5`` keeps the
    image, ``f = 0`` blurs it, ``f = 1`` sharpens it. Clipped to ``value_range``.

    Args:
        factor: a float in [0, 1] (``f`` gives ``(0, f)``) or a pair.
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_sharpness import RandomSharpness
        >>> x = np.full((1, 3, 3, 1), 13.0)
        >>> y = RandomSharpness(factor=(0.0, 0.0))(x, training=True)  # blur; zero padding darkens the border
        >>> y[0, :, :, 0].round().tolist()
        [[8.0, 10.0, 8.0], [10.0, 13.0, 10.0], [8.0, 10.0, 8.0]]
    """

    _factor_bounds = (0, 1)

    def sharpen(self, images, factor):
        """Sharpen an NCHW batch by ``factor`` (``(N,)``, 0.5 = unchanged)."""
        return sharpen(images, factor, self.value_range)

    adjust = sharpen
