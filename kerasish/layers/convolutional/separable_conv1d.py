"""SeparableConv1D: a depthwise 1-D convolution followed by a pointwise one,
on ``nn.Sequential(depthwise=nn.Conv1d(groups=in), pointwise=nn.Conv1d(k=1))``."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine.layer import torch_dtype
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.convolutional.base_conv_nd import BaseConvND
from kerasish.layers.convolutional.depthwise_conv1d import make_depthwise_conv1d
from kerasish.layers.convolutional.depthwise_conv2d import DepthwiseKernelLayout


class SeparableConv1D(BaseConvND):
    """Depthwise separable 1-D convolution: each input channel is convolved on
    its own (``depth_multiplier`` kernels each), then a kernel-size-1
    convolution mixes the channels into ``filters`` outputs.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 int, of the depthwise step.
        strides: int or tuple of 1 int, default 1.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's rule, as Conv1D).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, default 1 (not with strides > 1).
        depth_multiplier: depthwise outputs per input channel (default 1).
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        depthwise_initializer, pointwise_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        depthwise_constraint, pointwise_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, new_steps, filters)`` (or the channels_first equivalent).
    The native module is ``nn.Sequential`` of ``depthwise``
    (``nn.Conv1d(in, in * depth_multiplier, groups=in, bias=False)``) and
    ``pointwise`` (``nn.Conv1d(in * depth_multiplier, filters, 1)``). Keras
    weights: ``depthwise_kernel`` ``(kernel_size, in, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, in * depth_multiplier, filters)``, ``bias``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SeparableConv1D
        >>> SeparableConv1D(16, 3, padding="same")(np.zeros((2, 10, 4))).shape
        torch.Size([2, 10, 16])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.filters = A.positive_int(filters, "filters", "SeparableConv1D")
        self.depth_multiplier = A.positive_int(depth_multiplier, "depth_multiplier", "SeparableConv1D")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        mult = self.depth_multiplier
        depthwise = make_depthwise_conv1d(self, self.input_channels, mult, bias=False)
        pointwise = nn.Conv1d(self.input_channels * mult, self.filters, 1, bias=self.use_bias, dtype=torch_dtype(self._dtype))
        self._set_torch_module(nn.Sequential(OrderedDict(depthwise=depthwise, pointwise=pointwise)))
        kl = DepthwiseKernelLayout(self.input_channels, mult)
        self._track_weight(depthwise, "weight", "depthwise_kernel", to_keras=kl.to_keras, from_keras=kl.from_keras,
                           initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
                           constraint=self.depthwise_constraint)
        self._track_weight(pointwise, "weight", "pointwise_kernel", to_keras=nd_layout.kernel_to_keras,
                           from_keras=nd_layout.kernel_from_keras, initializer=self.pointwise_initializer,
                           regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self._track_bias(pointwise)
        self.built = True

    def _conv(self, x):
        seq = self._torch_module
        return seq.pointwise(seq.depthwise(self._pad_input(x)))

    def compute_output_shape(self, input_shape):
        return self._output_shape(input_shape, self.filters)

    def get_config(self):
        return {
            **self._base_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer) if self.depthwise_regularizer else None,
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer) if self.pointwise_regularizer else None,
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            **self._bias_config(),
        }


SeparableConvolution1D = SeparableConv1D
