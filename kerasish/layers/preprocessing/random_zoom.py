"""RandomZoom: zoom each image in or out by a random factor, in training only."""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import (
    FILL_MODES, INTERPOLATIONS, BaseRandomLayer, affine_transform, check_choice, check_number, range_factor,
)


class RandomZoom(BaseRandomLayer):
    """Zooms each image by its own random factors during training; identity at inference.

    Args:
        height_factor: a float in (-1, 1] or a pair ``(lower, upper)``: the
            vertical zoom, as a fraction of the height. Positive values zoom
            *out* (``0.2``: from 20% in to 20% out), negative ones zoom in.
        width_factor: the same for the width; ``None`` (default) zooms both
            axes by the same drawn factor, keeping the aspect ratio.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int; the layer then draws a reproducible sequence.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomZoom
        >>> RandomZoom(0.2)(np.random.rand(2, 8, 8, 3), training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = range_factor(height_factor, "height_factor", "RandomZoom", open_low=True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = range_factor(width_factor, "width_factor", "RandomZoom", open_low=True)
        self.fill_mode = check_choice(fill_mode, FILL_MODES, "fill_mode", "RandomZoom")
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", "RandomZoom")
        self.fill_value = check_number(fill_value, "fill_value", "RandomZoom")

    def transform(self, images, training):
        if not training:
            return images
        n, _, h, w = images.shape
        zy = self._random.uniform((n,), 1.0 + self.height_lower, 1.0 + self.height_upper, images)
        if self.width_factor is not None:
            zx = self._random.uniform((n,), 1.0 + self.width_lower, 1.0 + self.width_upper, images)
        else:
            zx = zy
        zeros = torch.zeros_like(zx)
        matrix = torch.stack([zx, zeros, (w - 1.0) / 2.0 * (1.0 - zx), zeros, zy, (h - 1.0) / 2.0 * (1.0 - zy)], dim=1)
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
