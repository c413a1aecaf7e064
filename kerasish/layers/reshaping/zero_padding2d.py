"""ZeroPadding2D: pad images with zero rows and columns, on ``nn.ZeroPad2d``."""

from __future__ import annotations

from torch import nn

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A


_ORDINALS = ("1st", "2nd", "3rd")
_PAIR_HINTS = {
    2: "a tuple of 2 ints (symmetric_height, symmetric_width), or a tuple of 2 tuples of 2 ints ((top, bottom), (left, right))",
    3: "a tuple of 3 ints (symmetric_dim1, symmetric_dim2, symmetric_dim3), or a tuple of 3 tuples of 2 ints "
       "((left_dim1, right_dim1), (left_dim2, right_dim2), (left_dim3, right_dim3))",
}


def normalize_pairs(value, n: int, arg: str, layer: str) -> tuple:
    """Keras's rules for the ``padding`` / ``cropping`` of the 2-D and 3-D
    ZeroPadding and Cropping layers (``n`` spatial axes): ``1`` ->
    ``((1, 1),) * n``; ``(1, 2)`` -> ``((1, 1), (2, 2))``; a tuple of ``n``
    pairs kept; every entry a non-negative int."""
    if isinstance(value, bool):
        raise ValueError(f"{layer}: `{arg}` must be an int, {_PAIR_HINTS[n]}. Received: {arg}={value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{layer}: `{arg}` cannot be negative. Received: {arg}={value!r}")
        return ((value, value),) * n
    if not hasattr(value, "__len__") or isinstance(value, (str, bytes)):
        raise ValueError(f"{layer}: `{arg}` should be either an int, {_PAIR_HINTS[n]}. Received: {arg}={value!r}")
    if len(value) != n:
        raise ValueError(f"{layer}: `{arg}` should have {n} elements. Received: {arg}={value!r}")
    return tuple(A.normalize_tuple(v, 2, f"{_ORDINALS[i]} entry of {arg}", layer, allow_zero=True) for i, v in enumerate(value))


def normalize_2d_pairs(value, arg: str, layer: str) -> tuple:
    """:func:`normalize_pairs` for the two axes of images."""
    return normalize_pairs(value, 2, arg, layer)


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros at the top, bottom, left and right of an image.

    Args:
        padding: int, tuple of 2 ints or tuple of 2 tuples of 2 ints.
            ``p`` pads ``p`` on all four sides; ``(ph, pw)`` pads ``ph`` above
            and below and ``pw`` left and right; ``((top, bottom), (left,
            right))`` sets each side. Default ``(1, 1)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, rows, cols, channels)`` (channels_last) or
    ``(batch, channels, rows, cols)``.
    Output shape: ``(batch, rows + top + bottom, cols + left + right, channels)``
    (or the channels_first equivalent).

    The native module is ``nn.ZeroPad2d((left, right, top, bottom))``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ZeroPadding2D
        >>> ZeroPadding2D(((1, 0), (2, 3)))(np.ones((1, 4, 4, 3))).shape
        torch.Size([1, 5, 9, 3])
    """

    _native_layout = True

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "ZeroPadding2D")
        self.padding = normalize_2d_pairs(padding, "padding", "ZeroPadding2D")

    def build(self, input_shape):
        (t, b), (l, r) = self.padding
        self._set_torch_module(nn.ZeroPad2d((l, r, t, b)))
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(
                f"Layer '{self.name}' (ZeroPadding2D) expects a 4-D input (batch, rows, cols, channels), got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        if self.data_format == "channels_first":  # the user's NCHW is the internal tensor seen in Keras order
            return layout.to_internal(self._torch_module(layout.to_keras(inputs)))
        return self._torch_module(inputs)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = 2 if self.data_format == "channels_first" else 1
        for i, (lo, hi) in enumerate(self.padding):
            if out[first + i] is not None:
                out[first + i] += lo + hi
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
