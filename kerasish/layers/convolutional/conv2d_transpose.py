"""Conv2DTranspose: transposed 2-D convolution on ``nn.ConvTranspose2d``, with
Keras's output sizes for 'valid'/'same' and ``output_padding``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.layers import args as A
from kerasish.layers.convolutional.base_conv import BaseConv2D


# Keras transposed kernel (kh, kw, filters, in) <-> torch ConvTranspose2d weight (in, filters, kh, kw).
def transpose_kernel_to_keras(w):
    return w.permute(2, 3, 1, 0)


def transpose_kernel_from_keras(k):
    return k.permute(3, 2, 0, 1)


def transpose_crops(kernel, stride, padding, output_padding, dilation):
    """(left, right) amounts Keras removes from the full transposed-conv output
    ``(size - 1) * stride + effective_kernel`` along one axis (negative: zeros
    are appended). This is the window XLA/TensorFlow compute: the dilated
    input padded by (left_pad, right_pad) and convolved 'valid'."""
    k = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        left_pad, right_pad = k - 1, k - 1 + extra
    else:
        total = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
        left_pad = min(total // 2 + total % 2, k - 1)
        right_pad = total - left_pad
    return (k - 1) - left_pad, (k - 1) - right_pad


def transpose_output_length(size, kernel, stride, padding, output_padding, dilation):
    """Keras's output length of a transposed convolution along one axis."""
    if size is None:
        return None
    left, right = transpose_crops(kernel, stride, padding, output_padding, dilation)
    return (size - 1) * stride + (kernel - 1) * dilation + 1 - left - right


class Conv2DTranspose(BaseConv2D):
    """Transposed 2-D convolution ("deconvolution"): goes from the shape of a
    convolution's output back to the shape of its input.

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw), default 1.
        padding: ``"valid"`` (output ``(in - 1) * stride + max(kernel, stride)``)
            or ``"same"`` (output ``in * stride``).
        output_padding: int or pair (each < its stride) or None: the output is
            then ``(in - 1) * stride + kernel + output_padding`` ('valid') or
            ``(in - 1) * stride + kernel % 2 + output_padding`` ('same').
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or pair, default 1 (not with strides > 1).
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        kernel_regularizer: optional regularizer of the kernel.
        bias_regularizer: optional regularizer of the bias.
        activity_regularizer: optional regularizer of the output.

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, new_height, new_width, filters)``.
    The native module is ``nn.ConvTranspose2d(in, filters)``; its padding and
    output_padding are chosen at build time so that its output is Keras's
    (an extra crop of the last row/column, a view, where torch cannot express
    it). The Keras kernel ``(kh, kw, filters, in)`` is its weight
    ``(in, filters, kh, kw)`` permuted.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Conv2DTranspose
        >>> Conv2DTranspose(4, 3, strides=2, padding="same")(np.zeros((1, 5, 5, 8))).shape
        torch.Size([1, 10, 10, 4])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        cls = "Conv2DTranspose"
        self.filters = A.positive_int(filters, "filters", cls)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = A.normalize_tuple(output_padding, 2, "output_padding", cls, allow_zero=True)
            for op, s in zip(self.output_padding, self.strides):
                if op >= s:
                    raise ValueError(
                        f"{cls}: each value of `output_padding` must be strictly less than the matching `strides` value. "
                        f"Received: output_padding={self.output_padding}, strides={self.strides}."
                    )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def _axis_args(self):
        ops = self.output_padding or (None, None)
        return zip(self.kernel_size, self.strides, (self.padding,) * 2, ops, self.dilation_rate)

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        # torch keeps the full output minus `padding` on both sides, plus
        # `output_padding` on the right: left crop = p, right crop = p - op.
        torch_pad, torch_out_pad, extra = [], [], []
        for (left, right), s, d in zip((transpose_crops(*a) for a in self._axis_args()), self.strides, self.dilation_rate):
            op = left - right
            if op >= max(s, d):  # cannot happen with Keras's output_padding < strides
                raise ValueError(f"Layer '{self.name}' (Conv2DTranspose): unsupported padding configuration.")
            torch_pad.append(left)
            torch_out_pad.append(max(op, 0))
            extra.append(max(-op, 0))  # right side still to crop
        conv = nn.ConvTranspose2d(self.input_channels, self.filters, self.kernel_size, stride=self.strides, padding=tuple(torch_pad),
                                  output_padding=tuple(torch_out_pad), dilation=self.dilation_rate, bias=self.use_bias)
        self._set_torch_module(conv)
        self._crop = None
        if any(extra):
            self._crop = (slice(None), slice(None)) + tuple(slice(None, -e if e else None) for e in extra)
        self._track_weight(conv, "weight", "kernel", to_keras=transpose_kernel_to_keras, from_keras=transpose_kernel_from_keras,
                           initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                           constraint=self.kernel_constraint)
        if self.use_bias:
            self._track_weight(conv, "bias", "bias", initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)
        self.built = True

    def _conv(self, inputs):
        x = self._to_nchw(inputs)
        conv = self._torch_module
        if conv.kernel_size == (1, 1) and conv.stride != (1, 1) and torch.is_grad_enabled():
            y = _strided_1x1_transpose(x, conv)
        else:
            y = conv(x)
        if self._crop is not None:
            y = y[self._crop]
        return y

    def _output_spatial(self, input_shape):
        return tuple(transpose_output_length(s, *a) for s, a in zip(self._spatial(input_shape), self._axis_args()))

    def compute_output_shape(self, input_shape):
        return self._output_shape(input_shape, self.filters)

    def get_config(self):
        return {
            **self._base_config(),
            "filters": self.filters,
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            **self._bias_config(),
        }


Convolution2DTranspose = Conv2DTranspose


def _strided_1x1_transpose(x, conv):
    """``conv`` (a 1x1 ``nn.ConvTranspose2d`` with strides) on NCHW ``x``, as
    a stride-1 channel mix scattered onto every s-th pixel: the same values.
    Taken in training because torch 2.14's backward of a strided 1x1
    (transposed) convolution corrupts the heap (see base_conv.padded_conv and
    tests/test_layers_conv.py)."""
    sh, sw = conv.stride
    ph, pw = conv.padding
    y = F.conv_transpose2d(x, conv.weight, None, 1, 0, 0, conv.groups)
    n, c, h, w = y.shape
    full_h, full_w = (h - 1) * sh + 1 + conv.output_padding[0], (w - 1) * sw + 1 + conv.output_padding[1]
    out = torch.empty((n, c, full_h, full_w), dtype=y.dtype, device=y.device, memory_format=torch.channels_last).zero_()
    out[:, :, : (h - 1) * sh + 1 : sh, : (w - 1) * sw + 1 : sw] = y
    if ph or pw:
        out = out[:, :, ph : full_h - ph, pw : full_w - pw]
    return out if conv.bias is None else out + conv.bias.view(1, -1, 1, 1)
