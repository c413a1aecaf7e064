"""DepthwiseConv1D: one (or ``depth_multiplier``) kernel per input channel of
sequences, on ``nn.Conv1d(in, in * depth_multiplier, groups=in)``."""

from __future__ import annotations

from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine.layer import torch_dtype
from kerasish.layers import args as A
from kerasish.layers.convolutional.base_conv_nd import BaseConvND
from kerasish.layers.convolutional.depthwise_conv2d import DepthwiseKernelLayout


def make_depthwise_conv1d(layer, in_channels, multiplier, bias):
    """The grouped ``nn.Conv1d`` for ``layer``'s kernel / strides / dilation and padding plan."""
    return nn.Conv1d(in_channels, in_channels * multiplier, layer.kernel_size, stride=layer.strides, padding=layer._plan_padding(),
                     dilation=layer.dilation_rate, groups=in_channels, bias=bias, dtype=torch_dtype(layer._dtype))


class DepthwiseConv1D(BaseConvND):
    """Depthwise 1-D convolution: each input channel is convolved with its own
    ``depth_multiplier`` kernels along the steps; channels are not mixed.

    Args:
        kernel_size: int or tuple of 1 int.
        strides: int or tuple of 1 int, default 1.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's rule, as Conv1D).
        depth_multiplier: output channels per input channel (default 1).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, default 1 (not with strides > 1).
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        depthwise_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        depthwise_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        depthwise_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, new_steps, channels * depth_multiplier)`` (or the
    channels_first equivalent). The native module is ``nn.Conv1d(in, in *
    depth_multiplier, groups=in)``; the Keras weights are ``kernel``
    ``(kernel_size, in, depth_multiplier)`` and ``bias`` ``(in * depth_multiplier,)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import DepthwiseConv1D
        >>> DepthwiseConv1D(3, depth_multiplier=2)(np.zeros((2, 10, 4))).shape
        torch.Size([2, 8, 8])
    """

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.depth_multiplier = A.positive_int(depth_multiplier, "depth_multiplier", "DepthwiseConv1D")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        conv = self._set_torch_module(make_depthwise_conv1d(self, self.input_channels, self.depth_multiplier, self.use_bias))
        kl = DepthwiseKernelLayout(self.input_channels, self.depth_multiplier)
        self._track_weight(conv, "weight", "kernel", to_keras=kl.to_keras, from_keras=kl.from_keras,
                           initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
                           constraint=self.depthwise_constraint)
        self._track_bias(conv)
        self.built = True

    def _conv(self, x):
        return self._torch_module(self._pad_input(x))

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
