"""Flatten: collapse every axis but the batch one, in channels_last order."""

from __future__ import annotations

import math

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A


class Flatten(Layer):
    """Flattens the input, keeping the batch axis.

    The order is Keras's: an image ``(batch, h, w, c)`` flattens with the
    channel varying fastest, so a Dense kernel copied from Keras fits. Inside a
    model that is a free view of the channels_last memory, not a copy.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, ...)``. Output shape: ``(batch, product of the rest)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Flatten
        >>> Flatten()(np.zeros((2, 6, 6, 256))).shape
        torch.Size([2, 9216])
    """

    _native_layout = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "Flatten")

    def native_call(self, inputs, training=False):
        x = layout.to_keras(inputs)  # images: NCHW -> NHWC, a view of channels_last memory
        if self.data_format == "channels_first" and x.dim() > 2:
            x = x.movedim(1, -1)  # Keras moves the channel axis last before flattening
        # The size spelled out, not -1: a batch of 0 samples (a data-parallel
        # process without any in a small batch) must flatten too.
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
