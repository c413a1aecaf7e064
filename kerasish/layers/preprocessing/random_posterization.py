"""RandomPosterization: keep a random number of bits per colour channel (training only).

Keras's math: values are mapped to [0, 255], truncated to uint8 and shifted
right then left by ``8 - bits``. torchvision's ``posterize`` takes one bit count
for the whole batch; this draws one per image, so it is written in torch.
"""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.color_utils import FactorColorLayer, posterize


class RandomPosterization(FactorColorLayer):
    """Reduces each image to ``bits`` bits per channel in training; identity at inference.

    As in Keras, ``bits`` is drawn per image as an integer in
    ``[factor[0], factor[1])`` (the upper end excluded), or is ``factor[0]``
    when both ends are equal; a single number ``f`` gives ``(1, f)``.

    Args:
        factor: an int in [1, 8] or a pair, the number of bits kept.
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_posterization import RandomPosterization
        >>> RandomPosterization(factor=(2, 2))(np.array([[[100.0], [255.0]]]), training=True)[:, :, 0].tolist()
        [[64.0, 192.0]]
    """

    _MAX_BITS = 8
    _factor_bounds = (1, 8)

    def draw(self, images):
        """The number of bits each image keeps: ``(N,)`` ints."""
        n = images.shape[0]
        lo, hi = self.factor
        if lo == hi:
            return torch.full((n,), int(lo), dtype=torch.int64, device=images.device)
        # Keras's randint(minval, maxval) excludes maxval
        return torch.floor(self._random.uniform((n,), lo, hi, images)).to(torch.int64).clamp(int(lo), int(hi) - 1)

    def posterize(self, images, bits):
        """Keep ``bits`` (``(N,)`` ints) bits per channel of each image of an NCHW batch."""
        return posterize(images, self._MAX_BITS - bits, self.value_range)

    adjust = posterize
