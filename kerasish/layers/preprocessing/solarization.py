"""Solarization: invert the pixels above a random threshold, after a random addition (training only).

Keras's math in torch: torchvision's ``solarize`` inverts pixels ``>=`` a fixed
threshold on a [0, 1] / uint8 scale and has no addition; Keras inverts pixels
``>=`` the threshold on a [0, 255] scale after adding an offset and clipping.
"""

from __future__ import annotations

import numbers

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer
from kerasish.layers.preprocessing.color_utils import per_image, sorted_value_range, transform_value_range


def solarization_factor(factor, arg):
    """Keras's Solarization factors: ``f`` in [0, 1] gives ``(0, f)``, a pair in [0, 1] is sorted."""
    msg = (f"Solarization: the `addition_factor` and `threshold_factor` arguments should be a number (or a list of two "
           f"numbers) in the range [0, 1]. Received: {arg}={factor!r}")
    values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
    if len(values) not in (1, 2) or (isinstance(factor, (tuple, list)) and len(values) != 2):
        raise ValueError(msg)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or v < 0 or v > 1:
            raise ValueError(msg)
    return tuple(sorted(values)) if len(values) == 2 else (0, factor)


class Solarization(BaseRandomLayer):
    """Solarizes images: in training, each image gets an addition ``a`` and a
    threshold ``t`` (on a [0, 255] scale) drawn for it; pixels become
    ``y = clip(x + a, 0, 255)`` and then ``255 - y`` where ``y >= t``.
    Identity at inference.

    As in Keras, ``a`` is drawn in ``[addition_factor[0], addition_factor[1] * 255]``
    and ``t`` in ``[threshold_factor[0], threshold_factor[1] * 255]`` (the lower
    ends are not scaled). The defaults ``(0, 0)`` invert every pixel.

    Args:
        addition_factor: a float in [0, 1] (``f`` gives ``(0, f)``) or a pair.
        threshold_factor: a float in [0, 1] (``f`` gives ``(0, f)``) or a pair.
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.solarization import Solarization
        >>> Solarization()(np.array([[[0.0], [55.0]]]), training=True)[:, :, 0].tolist()
        [[255.0, 200.0]]
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = solarization_factor(addition_factor, "addition_factor")
        self.threshold_factor = solarization_factor(threshold_factor, "threshold_factor")
        self.value_range = sorted_value_range(value_range, "Solarization")

    def draw(self, images):
        """Per-image ``(additions, thresholds)`` on the [0, 255] scale, each ``(N,)``."""
        n = images.shape[0]
        add = self._random.uniform((n,), self.addition_factor[0], self.addition_factor[1] * 255, images)
        thr = self._random.uniform((n,), self.threshold_factor[0], self.threshold_factor[1] * 255, images)
        return add, thr

    def solarize(self, images, additions, thresholds):
        """Solarize an NCHW float batch in ``value_range`` with the given ``(N,)`` additions and thresholds."""
        x = transform_value_range(images, self.value_range, (0, 255))
        x = (x + per_image(additions, x)).clamp(0.0, 255.0)
        x = torch.where(x < per_image(thresholds, x), x, 255.0 - x)
        return transform_value_range(x, (0, 255), self.value_range)

    def transform(self, images, training):
        if not training:
            return images
        return self.solarize(images, *self.draw(images))

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "seed": self.seed}
