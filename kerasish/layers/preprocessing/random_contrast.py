"""RandomContrast: scale each image's contrast by a random factor, in training only."""

from __future__ import annotations

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, base_factor, value_range_arg


class RandomContrast(BaseRandomLayer):
    """Adjusts the contrast of each image by its own random factor during
    training; identity at inference.

    For each image and channel, ``(x - mean) * f + mean`` with ``mean`` the
    channel's mean over the pixels and ``f`` drawn in
    ``[1 - lower, 1 + upper]``, then clipped to ``value_range``.

    Args:
        factor: a float in [0, 1] or a pair ``(lower, upper)``. As in Keras 3,
            a single float ``f`` gives ``(lower, upper) = (0, f)``, i.e. ``f``
            drawn in ``[1, 1 + f]``.
        value_range: ``(min, max)`` of the pixel values (default ``(0, 255)``).
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomContrast
        >>> RandomContrast(0.5)(np.full((1, 2, 2, 1), 9.0), training=False)[0, 0, 0, 0].item()  # inference: identity
        9.0
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = base_factor(factor, (0, 1), "RandomContrast")
        self.value_range = value_range_arg(value_range, "RandomContrast")

    def transform(self, images, training):
        if not training:
            return images
        f = self._random.uniform((images.shape[0], 1, 1, 1), 1.0 - self.factor[0], 1.0 + self.factor[1], images).to(images.dtype)
        mean = images.mean(dim=-2, keepdim=True).mean(dim=-1, keepdim=True)
        out = (images - mean) * f + mean
        return out.clamp(float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
