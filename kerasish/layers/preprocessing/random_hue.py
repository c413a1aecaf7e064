"""RandomHue: rotate the hue of each image by a random amount (training only).

Keras's math in torch: its HSV conversion (dm_pix's) and its wrap of the hue;
torchvision's ``adjust_hue`` converts to HSV differently and takes one factor
for the whole batch.
"""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import value_range_arg
from kerasish.layers.preprocessing.color_utils import FactorColorLayer, adjust_hue, check_channels


class RandomHue(FactorColorLayer):
    """Shifts the hue of each RGB image in training; identity at inference.

    For each image a magnitude ``m`` is drawn in ``[factor[0], factor[1]]`` and
    a random sign ``s``; the hue (in turns, [0, 1)) moves by ``s * m / 2``, so
    ``factor = 1`` reaches half a turn either way.

    Args:
        factor: a float in [0, 1] (``f`` gives ``(0, f)``) or a pair.
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, 3)`` or ``(H, W, 3)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_hue import RandomHue
        >>> y = RandomHue(factor=(1.0, 1.0))(np.array([[[255.0, 0.0, 0.0]]]), training=True)  # half a turn: red -> cyan
        >>> [round(v) for v in y[0, 0].tolist()]
        [0, 255, 255]
    """

    _factor_bounds = (0, 1)
    _value_range_arg = staticmethod(value_range_arg)  # kept as given, not sorted

    def draw(self, images):
        """The hue shift of each image, in turns: ``(N,)``."""
        n = images.shape[0]
        sign = torch.where(self._random.uniform((n,), 0.0, 1.0, images) > 0.5, -1.0, 1.0)
        return sign * self._random.uniform((n,), self.factor[0], self.factor[1], images) * 0.5

    def shift_hue(self, images, delta):
        """Shift the hue of an NCHW RGB batch by ``delta`` (``(N,)``, turns)."""
        check_channels(images, (3,), "RandomHue")
        return adjust_hue(images, delta, self.value_range)

    adjust = shift_hue
