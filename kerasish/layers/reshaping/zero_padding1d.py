"""ZeroPadding1D: pad sequences with zero steps, on ``nn.ZeroPad2d`` / ``nn.ZeroPad1d``."""

from __future__ import annotations

from torch import nn

from kerasish.engine.layer import Layer
from kerasish.layers import args as A


class ZeroPadding1D(Layer):
    """Adds zero steps at the start and the end of sequences.

    Args:
        padding: int or tuple of 2 ints: ``p`` adds ``p`` steps at both ends,
            ``(start, end)`` sets each end. Default 1.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, steps, features)`` (channels_last) or ``(batch, features, steps)``.
    Output shape: ``(batch, start + steps + end, features)`` (or the channels_first equivalent).

    The native module pads the steps axis where it is: ``nn.ZeroPad2d((0, 0,
    start, end))`` on ``(batch, steps, features)`` (its last two axes), and
    ``nn.ZeroPad1d((start, end))`` on ``(batch, features, steps)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ZeroPadding1D
        >>> ZeroPadding1D((1, 2))(np.ones((2, 5, 3))).shape
        torch.Size([2, 8, 3])
    """

    _native_layout = True

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "ZeroPadding1D")
        self.padding = A.normalize_tuple(padding, 2, "padding", "ZeroPadding1D", allow_zero=True)

    def build(self, input_shape):
        start, end = self.padding
        if self.data_format == "channels_last":
            module = nn.ZeroPad2d((0, 0, start, end))
        else:
            module = nn.ZeroPad1d((start, end))
        self._set_torch_module(module)
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (ZeroPadding1D) expects a 3-D input (batch, steps, features), got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        return self._torch_module(inputs)  # sequences keep Keras's axis order inside a model

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        axis = 2 if self.data_format == "channels_first" else 1
        if out[axis] is not None:
            out[axis] += sum(self.padding)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
