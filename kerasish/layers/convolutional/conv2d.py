"""Conv2D: 2-D convolution on ``nn.Conv2d``."""

from __future__ import annotations

from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine.layer import torch_dtype
from kerasish.layers import args as A
from kerasish.layers.convolutional.base_conv import BaseConv2D, SpatialPadding, conv_kernel_from_keras, conv_kernel_to_keras, padded_conv


class Conv2D(BaseConv2D):
    """2-D convolution: ``filters`` kernels slid over height and width.

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw), default 1.
        padding: ``"valid"`` (none) or ``"same"`` (output size ceil(input / stride);
            with stride > 1 the odd pixel of padding goes at the bottom/right,
            TensorFlow's rule).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or pair, default 1 (not with strides > 1).
        groups: split the input channels into this many groups.
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        kernel_regularizer: optional regularizer of the kernel.
        bias_regularizer: optional regularizer of the bias.
        activity_regularizer: optional regularizer of the output.

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, new_height, new_width, filters)``.
    The Keras kernel ``(kh, kw, in / groups, filters)`` is ``nn.Conv2d.weight``
    ``(filters, in / groups, kh, kw)`` permuted.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Conv2D
        >>> Conv2D(8, 3)(np.zeros((1, 28, 28, 1))).shape
        torch.Size([1, 26, 26, 8])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1), groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.filters = A.positive_int(filters, "filters", "Conv2D")
        self.groups = A.positive_int(groups, "groups", "Conv2D")
        if self.filters % self.groups:
            raise ValueError(f"Conv2D: `filters` ({self.filters}) must be divisible by `groups` ({self.groups}).")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def _check_input(self, input_shape):
        super()._check_input(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels % self.groups:
            raise ValueError(
                f"Layer '{self.name}' (Conv2D): the input's {channels} channels are not divisible by groups={self.groups}. Input shape: {input_shape}."
            )

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        self._pad = SpatialPadding(self.padding, self.kernel_size, self.strides, self.dilation_rate, self._spatial(input_shape))
        conv = nn.Conv2d(self.input_channels, self.filters, self.kernel_size, stride=self.strides, padding=self._pad.module_padding,
                         dilation=self.dilation_rate, groups=self.groups, bias=self.use_bias, dtype=torch_dtype(self._dtype))
        self._set_torch_module(conv)
        self._track_weight(conv, "weight", "kernel", to_keras=conv_kernel_to_keras, from_keras=conv_kernel_from_keras,
                           initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                           constraint=self.kernel_constraint)
        if self.use_bias:
            self._track_weight(conv, "bias", "bias", initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)
        self.built = True

    def _conv(self, inputs):
        return padded_conv(self._torch_module, self._pad, self._to_nchw(inputs))

    def compute_output_shape(self, input_shape):
        return self._output_shape(input_shape, self.filters)

    def get_config(self):
        return {
            **self._base_config(),
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            **self._bias_config(),
        }


Convolution2D = Conv2D
