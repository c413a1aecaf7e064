"""SpatialDropout1D: dropout of whole feature channels of sequences, on ``nn.Dropout1d``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.layers.regularization.dropout import Dropout


class SpatialDropout1D(Dropout):
    """Dropout of whole 1-D feature maps: in training each channel of each
    sample is zeroed at every step with probability ``rate`` (the others
    scaled by ``1 / (1 - rate)``); identity at inference.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        seed: optional int; the layer then draws a reproducible sequence of masks.

    Input shape: ``(batch, steps, channels)``. Output shape: same as the input.

    The native module is ``nn.Dropout1d``, run on the ``(batch, channels,
    steps)`` view of the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SpatialDropout1D
        >>> y = SpatialDropout1D(0.5)(np.ones((2, 5, 8)), training=True)
        >>> bool(((y == 0).all(axis=1) | (y == 2).all(axis=1)).all())
        True
    """

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def _native_module(self):
        return nn.Dropout1d(p=self._p)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (SpatialDropout1D) expects a 3-D input (batch, steps, channels), got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        p = self._p
        if not training or p == 0.0:
            return inputs
        if p == 1.0:
            return torch.zeros_like(inputs)
        if self._masks is None:
            # sequences keep Keras's (batch, steps, channels) inside a model: drop on the (N, C, L) view
            return F.dropout1d(inputs.transpose(1, 2), p, True).transpose(1, 2)
        return inputs * self._masks.keep_mask((inputs.shape[0], 1, inputs.shape[2]), 1.0 - p, inputs)

    def get_config(self):
        # Keras's SpatialDropout1D config has exactly these keys.
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
