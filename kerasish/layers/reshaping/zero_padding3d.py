"""ZeroPadding3D: pad volumes with zeros along depth, height and width."""

from __future__ import annotations

import torch.nn.functional as F

from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.reshaping.zero_padding2d import normalize_pairs


class ZeroPadding3D(Layer):
    """Adds zeros before and after each spatial axis of a volume.

    Args:
        padding: int, tuple of 3 ints or tuple of 3 tuples of 2 ints. ``p``
            pads ``p`` on both sides of every axis; ``(pd, ph, pw)`` pads each
            axis symmetrically; ``((d1, d2), (h1, h2), (w1, w2))`` sets each
            side. Default ``((1, 1), (1, 1), (1, 1))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: each spatial axis grown by its two paddings.

    No module: ``F.pad`` pads the three axes where they are (volumes keep
    Keras's axis order inside a model; ``nn.ZeroPad3d`` pads the last three
    axes, the channels among them for channels_last).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ZeroPadding3D
        >>> ZeroPadding3D(((1, 0), (2, 3), (0, 1)))(np.ones((1, 4, 4, 4, 2))).shape
        torch.Size([1, 5, 9, 5, 2])
    """

    _native_layout = True

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "ZeroPadding3D")
        self.padding = normalize_pairs(padding, 3, "padding", "ZeroPadding3D")
        # F.pad lists the last axis first.
        pads = tuple(v for pair in reversed(self.padding) for v in pair)
        self._pads = (0, 0) + pads if self.data_format == "channels_last" else pads

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 5:
            raise ValueError(
                f"Layer '{self.name}' (ZeroPadding3D) expects a 5-D input (batch, depth, height, width, channels), got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        return F.pad(inputs, self._pads) if any(self._pads) else inputs

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (lo, hi) in zip(nd_layout.spatial_axes(3, self.data_format), self.padding):
            if out[axis] is not None:
                out[axis] += lo + hi
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
