"""DepthwiseConv2D: one (or ``depth_multiplier``) kernel per input channel, on
``nn.Conv2d(in, in * depth_multiplier, groups=in)``."""

from __future__ import annotations

from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.layers import args as A
from kerasish.layers.convolutional.base_conv import BaseConv2D, SpatialPadding, padded_conv


class DepthwiseKernelLayout:
    """Keras depthwise kernel ``(*k, in, mult)`` <-> torch grouped convolution
    weight ``(in * mult, 1, *k)``, for any number of spatial axes (``(kh, kw)``
    for DepthwiseConv2D, ``(k,)`` for DepthwiseConv1D); torch's output channel
    ``i * mult + m`` is Keras's ``kernel[..., i, m]``."""

    def __init__(self, in_channels: int, multiplier: int):
        self.in_channels, self.multiplier = in_channels, multiplier

    def to_keras(self, w):
        k = tuple(w.shape[2:])
        return w.reshape(self.in_channels, self.multiplier, *k).permute(*range(2, 2 + len(k)), 0, 1)

    def from_keras(self, k):
        r = k.dim() - 2
        return k.permute(r, r + 1, *range(r)).reshape(self.in_channels * self.multiplier, 1, *k.shape[:r])


def make_depthwise_conv(layer, in_channels, multiplier, bias):
    """The grouped ``nn.Conv2d`` for ``layer``'s kernel/strides/dilation and its
    build-time padding (``layer._pad``)."""
    return nn.Conv2d(in_channels, in_channels * multiplier, layer.kernel_size, stride=layer.strides,
                     padding=layer._pad.module_padding, dilation=layer.dilation_rate, groups=in_channels, bias=bias)


class DepthwiseConv2D(BaseConv2D):
    """Depthwise 2-D convolution: each input channel is convolved with its own
    ``depth_multiplier`` kernels; channels are not mixed.

    Args:
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw), default 1.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's rule, as Conv2D).
        depth_multiplier: output channels per input channel (default 1).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or pair, default 1 (not with strides > 1).
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        depthwise_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        depthwise_regularizer: optional regularizer of the kernel.
        bias_regularizer: optional regularizer of the bias.
        activity_regularizer: optional regularizer of the output.

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, new_height, new_width, channels * depth_multiplier)``.
    The native module is ``nn.Conv2d(in, in * depth_multiplier, groups=in)``;
    the Keras weights are ``kernel`` ``(kh, kw, in, depth_multiplier)`` and
    ``bias`` ``(in * depth_multiplier,)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import DepthwiseConv2D
        >>> DepthwiseConv2D(3, depth_multiplier=2)(np.zeros((1, 8, 8, 4))).shape
        torch.Size([1, 6, 6, 8])
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.depth_multiplier = A.positive_int(depth_multiplier, "depth_multiplier", "DepthwiseConv2D")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        self._pad = SpatialPadding(self.padding, self.kernel_size, self.strides, self.dilation_rate, self._spatial(input_shape))
        conv = self._set_torch_module(make_depthwise_conv(self, self.input_channels, self.depth_multiplier, self.use_bias))
        kl = DepthwiseKernelLayout(self.input_channels, self.depth_multiplier)
        self._track_weight(conv, "weight", "kernel", to_keras=kl.to_keras, from_keras=kl.from_keras,
                           initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
                           constraint=self.depthwise_constraint)
        if self.use_bias:
            self._track_weight(conv, "bias", "bias", initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)
        self.built = True

    def _conv(self, inputs):
        return padded_conv(self._torch_module, self._pad, self._to_nchw(inputs))

    def compute_output_shape(self, input_shape):
        channels = input_shape[self._channel_axis()]
        return self._output_shape(input_shape, None if channels is None else channels * self.depth_multiplier)

    def get_config(self):
        return {
            **self._base_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer) if self.depthwise_regularizer else None,
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            **self._bias_config(),
        }
