"""Max and average pooling of sequences and volumes (ranks 1 and 3) on torch's
``MaxPool1d`` / ``AvgPool1d`` / ``MaxPool3d`` / ``AvgPool3d``, with the 2-D
layers' 'same' rule: TensorFlow's padding (the odd element at the end), left
out of every maximum and average, as Keras does.

The 2-D poolings keep their own base (``base_pooling.py``): images run in
channels_last memory inside a model with kernels of their own."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.convolutional.base_conv_nd import conv_pads

_MODULES = {("max", 1): nn.MaxPool1d, ("avg", 1): nn.AvgPool1d, ("max", 3): nn.MaxPool3d, ("avg", 3): nn.AvgPool3d}
_SPATIAL_NAMES = {1: "steps", 3: "depth, height, width"}


class BasePoolingND(Layer):
    """Shared base of the rank-``rank`` poolings; subclasses set ``rank`` and ``_mode``."""

    _native_layout = True
    rank = 1
    _mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        cls = type(self).__name__
        super().__init__(**kwargs)
        self.pool_size = A.normalize_tuple(pool_size, self.rank, "pool_size", cls)
        self.strides = self.pool_size if strides is None else A.normalize_tuple(strides, self.rank, "strides", cls)
        self.padding = A.normalize_padding(padding, cls)
        self.data_format = A.normalize_data_format(data_format, cls)

    def _spatial(self, s):
        return tuple(s[a] for a in nd_layout.spatial_axes(self.rank, self.data_format))

    def _check_input(self, input_shape):
        cls, r = type(self).__name__, self.rank
        if not isinstance(input_shape, tuple) or len(input_shape) != r + 2:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) expects a {r + 2}-D input (batch, {_SPATIAL_NAMES[r]}, channels), got shape {input_shape}."
            )
        if self.padding == "valid":
            for size, k in zip(self._spatial(input_shape), self.pool_size):
                if size is not None and size < k:
                    raise ValueError(
                        f"Layer '{self.name}' ({cls}): pool_size {self.pool_size} is {'longer' if r == 1 else 'larger'} than the input's spatial size "
                        f"{self._spatial(input_shape)} with padding='valid'. Input shape: {input_shape}."
                    )

    def build(self, input_shape):
        # The module pools unpadded windows; 'same' pads explicitly per call,
        # since with strides > 1 the padding depends on the input size.
        self._set_torch_module(_MODULES[(self._mode, self.rank)](self.pool_size, self.strides))
        self._divisor_cache = {}
        self.built = True

    def native_call(self, inputs, training=False):
        x = nd_layout.to_channels_first(inputs, self.data_format)
        pads = conv_pads(self.padding, x.shape[2:], self.pool_size, self.strides, (1,) * self.rank)
        if not any(pads):
            y = self._torch_module(x)
        elif self._mode == "max":
            y = self._torch_module(F.pad(x, pads, value=float("-inf")))
        else:
            y = self._avg_excluding_padding(x, pads)
        return nd_layout.from_channels_first(y, self.data_format)

    def _avg_excluding_padding(self, x, pads):
        # Keras averages over the real elements only: divide the zero-padded
        # window sums by the number of real elements in each window.
        sums = self._torch_module(F.pad(x, pads))
        key = (tuple(x.shape[2:]), x.device, x.dtype)
        divisor = self._divisor_cache.get(key)
        if divisor is None:
            ones = torch.ones((1, 1) + tuple(x.shape[2:]), device=x.device, dtype=x.dtype)
            divisor = self._torch_module(F.pad(ones, pads))
            if not torch.compiler.is_compiling():
                self._divisor_cache[key] = divisor
        return sums / divisor

    def compute_output_shape(self, input_shape):
        spatial = tuple(A.conv_output_length(s, k, st, self.padding)
                        for s, k, st in zip(self._spatial(input_shape), self.pool_size, self.strides))
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, input_shape[-1])
        return (input_shape[0], input_shape[1], *spatial)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "strides": list(self.strides),
            "data_format": self.data_format,
        }
