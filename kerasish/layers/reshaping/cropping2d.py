"""Cropping2D: remove rows and columns at the borders of images (a view)."""

from __future__ import annotations

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.reshaping.zero_padding2d import normalize_2d_pairs


class Cropping2D(Layer):
    """Crops rows and columns off the top, bottom, left and right of an image.

    Args:
        cropping: int, tuple of 2 ints or tuple of 2 tuples of 2 ints.
            ``c`` crops ``c`` on all four sides; ``(ch, cw)`` crops ``ch``
            above and below and ``cw`` left and right; ``((top, bottom),
            (left, right))`` sets each side. Default ``((0, 0), (0, 0))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, rows, cols, channels)`` (channels_last) or
    ``(batch, channels, rows, cols)``.
    Output shape: ``(batch, rows - top - bottom, cols - left - right, channels)``
    (or the channels_first equivalent). What is cropped must leave at least
    one row and one column.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Cropping2D
        >>> Cropping2D(((2, 2), (4, 4)))(np.zeros((2, 28, 28, 3))).shape
        torch.Size([2, 24, 20, 3])
    """

    _native_layout = True

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "Cropping2D")
        self.cropping = normalize_2d_pairs(cropping, "cropping", "Cropping2D")
        (t, b), (l, r) = self.cropping
        self._rows = slice(t, -b if b else None)
        self._cols = slice(l, -r if r else None)

    def _spatial(self, s):
        return tuple(s[2:4]) if self.data_format == "channels_first" else tuple(s[1:3])

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(
                f"Layer '{self.name}' (Cropping2D) expects a 4-D input (batch, rows, cols, channels), got shape {input_shape}."
            )
        for size, crop in zip(self._spatial(input_shape), self.cropping):
            if size is not None and sum(crop) >= size:
                raise ValueError(
                    f"Layer '{self.name}' (Cropping2D): values in `cropping` should be smaller than the corresponding "
                    f"spatial dimension of the input. Received: input_shape={input_shape}, cropping={self.cropping}"
                )

    def native_call(self, inputs, training=False):
        if self.data_format == "channels_first":
            return layout.to_internal(layout.to_keras(inputs)[:, :, self._rows, self._cols])
        return inputs[:, :, self._rows, self._cols]  # internal NCHW

    def compute_output_shape(self, input_shape):
        self._check_input(tuple(input_shape))
        out = list(input_shape)
        first = 2 if self.data_format == "channels_first" else 1
        for i, (lo, hi) in enumerate(self.cropping):
            if out[first + i] is not None:
                out[first + i] -= lo + hi
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
