"""RandomBrightness: add a random offset to each image, in training only."""

from __future__ import annotations

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, base_factor, value_range_arg


class RandomBrightness(BaseRandomLayer):
    """Adds to each image its own random brightness offset during training;
    identity at inference.

    The offset is ``u * (value_range[1] - value_range[0])`` with ``u`` drawn in
    ``[lower, upper]``; the result is clipped to ``value_range``.

    Args:
        factor: a float in [-1, 1] (``f`` gives ``[-|f|, |f|]``) or a pair
            ``(lower, upper)``, fractions of the value range.
        value_range: ``(min, max)`` of the pixel values (default ``(0, 255)``).
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomBrightness
        >>> y = RandomBrightness(0.1, value_range=(0, 1))(np.full((4, 2, 2, 3), 0.5), training=True)
        >>> bool(((y >= 0.4) & (y <= 0.6)).all())
        True
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, data_format=kwargs.pop("data_format", None), **kwargs)
        self.factor = base_factor(factor, (-1, 1), "RandomBrightness")
        self.value_range = sorted(value_range_arg(value_range, "RandomBrightness"))

    def transform(self, images, training):
        if not training:
            return images
        lo, hi = float(self.value_range[0]), float(self.value_range[1])
        delta = self._random.uniform((images.shape[0], 1, 1, 1), self.factor[0], self.factor[1], images) * (hi - lo)
        return (images + delta.to(images.dtype)).clamp(lo, hi)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
