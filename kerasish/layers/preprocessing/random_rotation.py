"""RandomRotation: rotate each image by a random angle, in training only."""

from __future__ import annotations

from kerasish.layers.preprocessing.base_augmentation import (
    FILL_MODES, INTERPOLATIONS, BaseRandomLayer, affine_transform, base_factor, check_choice, check_number, rotation_matrix,
)


class RandomRotation(BaseRandomLayer):
    """Rotates each image by its own random angle during training; identity at inference.

    Args:
        factor: a float in [-1, 1] or a pair ``(lower, upper)``: fractions of
            a full turn (2 pi). ``0.2`` draws angles in ``[-72, 72]`` degrees.
            Positive angles turn counter-clockwise.
        fill_mode: how points outside the image are filled: ``"reflect"``
            (default, ``d c b a | a b c d | d c b a``), ``"wrap"``,
            ``"constant"`` (``fill_value``) or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int; the layer then draws a reproducible sequence.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomRotation
        >>> x = np.random.rand(2, 8, 8, 3)
        >>> RandomRotation(0.1)(x, training=True).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = base_factor(factor, (-1, 1), "RandomRotation")
        self.fill_mode = check_choice(fill_mode, FILL_MODES, "fill_mode", "RandomRotation")
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", "RandomRotation")
        self.fill_value = check_number(fill_value, "fill_value", "RandomRotation")

    def transform(self, images, training):
        if not training:
            return images
        n, _, h, w = images.shape
        angle = self._random.uniform((n,), self.factor[0] * 360.0, self.factor[1] * 360.0, images)
        return affine_transform(images, rotation_matrix(angle, h, w), self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
