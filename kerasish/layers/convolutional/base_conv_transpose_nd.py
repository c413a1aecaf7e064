"""What Conv1DTranspose and Conv3DTranspose share: ``nn.ConvTranspose1d`` /
``nn.ConvTranspose3d`` with the padding chosen at build time so that the
output is Keras's (the output sizes are Conv2DTranspose's rule, axis by axis)."""

from __future__ import annotations

from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine.layer import torch_dtype
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.convolutional.base_conv_nd import BaseConvND
from kerasish.layers.convolutional.conv2d_transpose import transpose_crops, transpose_output_length

_TRANSPOSE_MODULES = {1: nn.ConvTranspose1d, 3: nn.ConvTranspose3d}


class BaseConvTranspose(BaseConvND):
    """A transposed convolution of rank ``rank`` (1 or 3). The Keras kernel
    ``(*kernel_size, filters, in)`` is the module's weight ``(in, filters,
    *kernel_size)`` permuted; where torch's own padding cannot give Keras's
    output, the last element(s) of an axis are cropped off (a view)."""

    _transposed = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        cls = type(self).__name__
        self.filters = A.positive_int(filters, "filters", cls)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = A.normalize_tuple(output_padding, self.rank, "output_padding", cls, allow_zero=True)
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
        ops = self.output_padding or (None,) * self.rank
        return zip(self.kernel_size, self.strides, (self.padding,) * self.rank, ops, self.dilation_rate)

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        # torch keeps the full output minus `padding` on both sides, plus
        # `output_padding` on the right: left crop = p, right crop = p - op.
        torch_pad, torch_out_pad, extra = [], [], []
        for (left, right), s, d in zip((transpose_crops(*a) for a in self._axis_args()), self.strides, self.dilation_rate):
            op = left - right
            if op >= max(s, d):  # cannot happen with Keras's output_padding < strides
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): unsupported padding configuration.")
            torch_pad.append(left)
            torch_out_pad.append(max(op, 0))
            extra.append(max(-op, 0))  # right side still to crop
        conv = _TRANSPOSE_MODULES[self.rank](self.input_channels, self.filters, self.kernel_size, stride=self.strides,
                                             padding=tuple(torch_pad), output_padding=tuple(torch_out_pad),
                                             dilation=self.dilation_rate, bias=self.use_bias, dtype=torch_dtype(self._dtype))
        self._set_torch_module(conv)
        self._crop = None
        if any(extra):
            self._crop = (slice(None), slice(None)) + tuple(slice(None, -e if e else None) for e in extra)
        self._track_weight(conv, "weight", "kernel", to_keras=nd_layout.kernel_to_keras, from_keras=nd_layout.kernel_from_keras,
                           initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                           constraint=self.kernel_constraint)
        self._track_bias(conv)
        self.built = True

    def _conv(self, x):
        y = self._torch_module(x)
        return y if self._crop is None else y[self._crop]

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
