"""Equalization: histogram equalization per channel (in training, and on a direct call).

Keras's math in torch: torchvision's ``equalize`` builds its lookup table
differently (step-based, uint8 only). As in Keras, one histogram per channel
is built over the whole batch (all images together), with ``bins`` bins on a
[0, 255] scale; a channel with a single occupied bin is left unchanged.
"""

from __future__ import annotations

import numbers

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseImageLayer
from kerasish.layers.preprocessing.color_utils import TrainingByDefault, sorted_value_range, transform_value_range


class Equalization(TrainingByDefault, BaseImageLayer):
    """Spreads the intensities of each channel by histogram equalization.

    Like Keras, it applies when called directly (``training`` defaults to True)
    and during ``fit``, and is the identity in ``predict`` / ``evaluate``.

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        bins: number of histogram bins (default 256).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same (float).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.equalization import Equalization
        >>> x = np.array([[[[10.0], [10.0]], [[20.0], [40.0]]]])
        >>> Equalization()(x)[0, :, :, 0].tolist()
        [[0.0, 0.0], [128.0, 255.0]]
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 2:
            raise ValueError(f"Equalization: `bins` must be an int >= 2. Received: bins={bins!r}")
        self.bins = int(bins)
        self.value_range = sorted_value_range(value_range, "Equalization")

    def transform(self, images, training):
        if not training:
            return images
        return self.equalize(images)

    def equalize(self, images):
        """Equalize an NCHW float batch in ``value_range`` (histograms over the batch, per channel)."""
        n, c, h, w = images.shape
        bins = self.bins
        x = transform_value_range(images, self.value_range, (0, 255)).transpose(0, 1).reshape(c, n * h * w)
        idx = (x * (bins - 1) / 255.0).to(torch.int32).clamp(0, bins - 1).long()
        hist = torch.zeros(c, bins, dtype=torch.int64, device=x.device).scatter_add_(1, idx, torch.ones_like(idx))
        cdf = hist.cumsum(1)
        # the cdf does not decrease: its first non-zero value is its smallest non-zero one
        cdf_min = torch.where(cdf > 0, cdf, cdf[:, -1:]).amin(1, keepdim=True)
        denom = cdf[:, -1:] - cdf_min
        denom = torch.where(denom == 0, torch.ones_like(denom), denom)
        lut = torch.round(((cdf - cdf_min) * 255) / denom).clamp(0, 255).to(x.dtype)
        lut_idx = ((x / 255.0) * (bins - 1)).clamp(0, bins - 1).to(torch.int32).long()
        eq = lut.gather(1, lut_idx)
        eq = torch.where(((hist > 0).sum(1, keepdim=True) <= 1), x, eq)
        out = eq.reshape(c, n, h, w).transpose(0, 1)
        return transform_value_range(out, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}
