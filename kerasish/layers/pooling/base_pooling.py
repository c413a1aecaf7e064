"""MaxPooling2D and AveragePooling2D on torch's pooling ops, with Keras's
'same' padding (the average leaves the padding out, as Keras does)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.engine import layout
from kerasish.engine.hooks import has_forward_hooks
from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.convolutional.base_conv import SpatialPadding
from kerasish.layers.pooling.max_pool_kernels import halving_applies, halving_max_pool, opaque_applies, opaque_max_pool


class BasePooling2D(Layer):
    _native_layout = True
    _mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        cls = type(self).__name__
        super().__init__(**kwargs)
        self.pool_size = A.normalize_tuple(pool_size, 2, "pool_size", cls)
        self.strides = self.pool_size if strides is None else A.normalize_tuple(strides, 2, "strides", cls)
        self.padding = A.normalize_padding(padding, cls)
        self.data_format = A.normalize_data_format(data_format, cls)

    def _spatial(self, s):
        return tuple(s[1:3]) if self.data_format == "channels_last" else tuple(s[2:4])

    def _check_input(self, input_shape):
        cls = type(self).__name__
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(f"Layer '{self.name}' ({cls}) expects a 4-D input (batch, height, width, channels), got shape {input_shape}.")
        if self.padding == "valid":
            for size, k in zip(self._spatial(input_shape), self.pool_size):
                if size is not None and size < k:
                    raise ValueError(
                        f"Layer '{self.name}' ({cls}): pool_size {self.pool_size} is larger than the input's spatial size "
                        f"{self._spatial(input_shape)} with padding='valid'. Input shape: {input_shape}."
                    )

    def build(self, input_shape):
        pad_value = float("-inf") if self._mode == "max" else 0.0
        self._pad = SpatialPadding(self.padding, self.pool_size, self.strides, (1, 1), self._spatial(input_shape), pad_value)
        if self._mode == "max":
            module = nn.MaxPool2d(self.pool_size, self.strides, padding=self._pad.module_padding)
        else:
            module = nn.AvgPool2d(self.pool_size, self.strides, padding=self._pad.module_padding, count_include_pad=False)
        self._set_torch_module(module)
        self._divisor_cache = {}
        # the default 2x2 / stride 2 max pool: see max_pool_kernels
        self._halving_max = self._mode == "max" and self.pool_size == (2, 2) and self.strides == (2, 2)
        self.built = True

    def native_call(self, inputs, training=False):
        x = layout.to_keras(inputs) if self.data_format == "channels_first" else inputs
        # a hooked module is called as it is, so that its hooks fire
        own_kernel = self._mode == "max" and not has_forward_hooks(self._torch_module)
        if own_kernel and self._halving_max and halving_applies(x, self.padding):
            y = halving_max_pool(x)
        elif own_kernel and opaque_applies(x):
            exact = self._pad.exact_in_module(x)
            y = opaque_max_pool(x if exact else self._pad.apply_full(x), self.pool_size, self.strides,
                                self._pad.module_padding if exact else (0, 0))
        elif self._pad.exact_in_module(x):
            y = self._torch_module(x)
        elif self._mode == "max":
            y = F.max_pool2d(self._pad.apply_full(x), self.pool_size, self.strides)
        else:
            y = self._avg_excluding_padding(x)
        return layout.to_internal(y) if self.data_format == "channels_first" else y

    def _avg_excluding_padding(self, x):
        # Keras averages over the real pixels only. With uneven padding torch's
        # count_include_pad=False cannot express that, so divide the zero-padded
        # window sums by the number of real pixels in each window.
        sums = F.avg_pool2d(self._pad.apply_full(x), self.pool_size, self.strides)
        key = (tuple(x.shape[2:]), x.device, x.dtype)
        divisor = self._divisor_cache.get(key)
        if divisor is None:
            ones = torch.ones((1, 1) + tuple(x.shape[2:]), device=x.device, dtype=x.dtype)
            divisor = F.avg_pool2d(self._pad.apply_full(ones), self.pool_size, self.strides)
            if not torch.compiler.is_compiling():
                self._divisor_cache[key] = divisor
        return sums / divisor

    def compute_output_shape(self, input_shape):
        h, w = (A.conv_output_length(s, k, st, self.padding) for s, k, st in zip(self._spatial(input_shape), self.pool_size, self.strides))
        if self.data_format == "channels_last":
            return (input_shape[0], h, w, input_shape[3])
        return (input_shape[0], input_shape[1], h, w)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "strides": list(self.strides),
            "data_format": self.data_format,
        }


class MaxPooling2D(BasePooling2D):
    """Max pooling over 2-D windows.

    Args:
        pool_size: int or (ph, pw), default (2, 2).
        strides: int or pair, default ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, pooled_height, pooled_width, channels)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import MaxPooling2D
        >>> MaxPooling2D()(np.zeros((1, 26, 26, 8))).shape
        torch.Size([1, 13, 13, 8])
    """

    _mode = "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(BasePooling2D):
    """Average pooling over 2-D windows; with ``padding="same"`` the padding is
    left out of each average, as in Keras.

    Args:
        pool_size: int or (ph, pw), default (2, 2) as in Keras 2 (Keras 3
            requires it).
        strides: int or pair, default ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, pooled_height, pooled_width, channels)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import AveragePooling2D
        >>> AveragePooling2D(2)(np.ones((1, 4, 4, 1))).shape
        torch.Size([1, 2, 2, 1])
    """

    _mode = "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
