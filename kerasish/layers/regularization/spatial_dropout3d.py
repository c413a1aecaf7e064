"""SpatialDropout3D: dropout of whole feature channels of volumes, on ``nn.Dropout3d``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.regularization.dropout import Dropout


class SpatialDropout3D(Dropout):
    """Dropout of whole 3-D feature maps: in training each channel of each
    sample is zeroed over the whole volume with probability ``rate`` (the
    others scaled by ``1 / (1 - rate)``); identity at inference.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence of masks.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``. Output shape: same as the input.

    The native module is ``nn.Dropout3d``, run on the volume's NCDHW view.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SpatialDropout3D
        >>> y = SpatialDropout3D(0.5)(np.ones((2, 3, 3, 3, 8)), training=True)
        >>> bool(((y == 0).all(axis=(1, 2, 3)) | (y == 2).all(axis=(1, 2, 3))).all())
        True
    """

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = A.normalize_data_format(data_format, "SpatialDropout3D")

    def _native_module(self):
        return nn.Dropout3d(p=self._p)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 5:
            raise ValueError(
                f"Layer '{self.name}' (SpatialDropout3D) expects a 5-D input (batch, depth, height, width, channels), "
                f"got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        p = self._p
        if not training or p == 0.0:
            return inputs
        if p == 1.0:
            return torch.zeros_like(inputs)
        x = nd_layout.to_channels_first(inputs, self.data_format)  # NCDHW view
        if self._masks is None:
            y = F.dropout3d(x, p, True)
        else:
            y = x * self._masks.keep_mask(x.shape[:2] + (1, 1, 1), 1.0 - p, x)
        return nd_layout.from_channels_first(y, self.data_format)

    def get_config(self):
        # Keras's SpatialDropout config has exactly these keys.
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype, "data_format": self.data_format}
