"""RandomTranslation: shift each image by a random offset, in training only."""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import (
    FILL_MODES, INTERPOLATIONS, BaseRandomLayer, affine_transform, check_choice, check_number, range_factor,
)


class RandomTranslation(BaseRandomLayer):
    """Shifts each image by its own random offsets during training; identity at inference.

    Args:
        height_factor: a float in [-1, 1] or a pair ``(lower, upper)``: the
            vertical shift as a fraction of the height (``0.2``: up to 20%
            up or down; positive values shift down).
        width_factor: the same for the horizontal shift (positive: right).
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int; the layer then draws a reproducible sequence.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomTranslation
        >>> RandomTranslation(0.1, 0.1)(np.random.rand(2, 8, 8, 3), training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = range_factor(height_factor, "height_factor", "RandomTranslation", open_low=False)
        self.width_factor = width_factor
        self.width_lower, self.width_upper = range_factor(width_factor, "width_factor", "RandomTranslation", open_low=False)
        self.fill_mode = check_choice(fill_mode, FILL_MODES, "fill_mode", "RandomTranslation")
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", "RandomTranslation")
        self.fill_value = check_number(fill_value, "fill_value", "RandomTranslation")

    def transform(self, images, training):
        if not training:
            return images
        n, _, h, w = images.shape
        dy = self._random.uniform((n,), self.height_lower, self.height_upper, images) * h
        dx = self._random.uniform((n,), self.width_lower, self.width_upper, images) * w
        ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
        matrix = torch.stack([ones, zeros, -dx, zeros, ones, -dy], dim=1)
        return affine_transform(images, matrix, self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
        }
