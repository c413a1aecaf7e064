"""MaxPooling1D and AveragePooling1D on ``nn.MaxPool1d`` / ``nn.AvgPool1d``,
with the 2-D layers' 'same' rule: TensorFlow's padding (the odd step at the
end), left out of every maximum and average, as Keras does."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A


class BasePooling1D(Layer):
    _native_layout = True
    _mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        cls = type(self).__name__
        super().__init__(**kwargs)
        self.pool_size = A.normalize_tuple(pool_size, 1, "pool_size", cls)
        self.strides = self.pool_size if strides is None else A.normalize_tuple(strides, 1, "strides", cls)
        self.padding = A.normalize_padding(padding, cls)
        self.data_format = A.normalize_data_format(data_format, cls)

    def _steps(self, s):
        return s[1] if self.data_format == "channels_last" else s[2]

    def _check_input(self, input_shape):
        cls = type(self).__name__
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}' ({cls}) expects a 3-D input (batch, steps, channels), got shape {input_shape}.")
        steps = self._steps(input_shape)
        if self.padding == "valid" and steps is not None and steps < self.pool_size[0]:
            raise ValueError(
                f"Layer '{self.name}' ({cls}): pool_size {self.pool_size} is longer than the input's {steps} steps "
                f"with padding='valid'. Input shape: {input_shape}."
            )

    def build(self, input_shape):
        # The module pools unpadded windows; 'same' pads explicitly per call,
        # since with strides > 1 the padding depends on the length.
        if self._mode == "max":
            module = nn.MaxPool1d(self.pool_size, self.strides)
        else:
            module = nn.AvgPool1d(self.pool_size, self.strides)
        self._set_torch_module(module)
        self._divisor_cache = {}
        self.built = True

    def _pads(self, length):
        if self.padding != "same":
            return (0, 0)
        return A.same_padding(length, self.pool_size[0], self.strides[0])

    def native_call(self, inputs, training=False):
        x = layout.sequence_to_ncl(inputs, self.data_format)
        pads = self._pads(x.shape[2])
        if not any(pads):
            y = self._torch_module(x)
        elif self._mode == "max":
            y = self._torch_module(F.pad(x, pads, value=float("-inf")))
        else:
            y = self._avg_excluding_padding(x, pads)
        return layout.ncl_to_sequence(y, self.data_format)

    def _avg_excluding_padding(self, x, pads):
        # Keras averages over the real steps only: divide the zero-padded
        # window sums by the number of real steps in each window.
        sums = self._torch_module(F.pad(x, pads))
        key = (x.shape[2], x.device, x.dtype)
        divisor = self._divisor_cache.get(key)
        if divisor is None:
            ones = torch.ones((1, 1, x.shape[2]), device=x.device, dtype=x.dtype)
            divisor = self._torch_module(F.pad(ones, pads))
            if not torch.compiler.is_compiling():
                self._divisor_cache[key] = divisor
        return sums / divisor

    def compute_output_shape(self, input_shape):
        new = A.conv_output_length(self._steps(input_shape), self.pool_size[0], self.strides[0], self.padding)
        if self.data_format == "channels_last":
            return (input_shape[0], new, input_shape[2])
        return (input_shape[0], input_shape[1], new)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "strides": list(self.strides),
            "data_format": self.data_format,
        }


class MaxPooling1D(BasePooling1D):
    """Max pooling over windows of steps.

    Args:
        pool_size: int or tuple of 1 int, default 2.
        strides: int or tuple of 1 int, default ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (the padding never wins a maximum).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, pooled_steps, channels)`` (or the channels_first equivalent).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import MaxPooling1D
        >>> MaxPooling1D()(np.zeros((2, 10, 4))).shape
        torch.Size([2, 5, 4])
    """

    _mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling1D):
    """Average pooling over windows of steps; with ``padding="same"`` the
    padding is left out of each average, as in Keras.

    Args:
        pool_size: int or tuple of 1 int, default 2 as in Keras 2 (Keras 3
            requires it).
        strides: int or tuple of 1 int, default ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, pooled_steps, channels)`` (or the channels_first equivalent).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import AveragePooling1D
        >>> AveragePooling1D(2)(np.ones((1, 4, 3))).shape
        torch.Size([1, 2, 3])
    """

    _mode = "avg"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
