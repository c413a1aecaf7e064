"""AutoContrast: stretch each image channel over the whole value range (always active).

Keras's math in torch (torchvision's ``autocontrast`` assumes [0, 1] or uint8
ranges and treats flat channels differently). Unlike Keras, whose min / max run
over axes (1, 2) whatever the ``data_format``, channels_first images are
stretched per channel too.
"""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseImageLayer
from kerasish.layers.preprocessing.color_utils import sorted_value_range, transform_value_range


class AutoContrast(BaseImageLayer):
    """Stretches each image's channels so their minimum maps to ``value_range[0]``
    and their maximum to ``value_range[1]``. Active in training and inference.
    A flat channel (max == min) is left unchanged.

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same (float).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.auto_contrast import AutoContrast
        >>> x = np.array([[[[10.0], [20.0]], [[30.0], [50.0]]]])
        >>> AutoContrast()(x)[0, :, :, 0].tolist()
        [[0.0, 63.75], [127.5, 255.0]]
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = sorted_value_range(value_range, "AutoContrast")

    def transform(self, images, training):
        return self.stretch(images)

    def stretch(self, images):
        """Auto-contrast an NCHW float batch in ``value_range``."""
        x = transform_value_range(images, self.value_range, (0, 255))
        low = x.amin(dim=(-2, -1), keepdim=True)
        high = x.amax(dim=(-2, -1), keepdim=True)
        scale = 255.0 / (high - low)
        out = (x * scale - low * scale).clamp(0.0, 255.0)
        out = transform_value_range(out, (0, 255), self.value_range)
        # flat channels give inf * 0 = nan: Keras keeps the input there
        return torch.where(torch.isnan(out), images, out)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}
