"""Conv1D: 1-D convolution over sequences on ``nn.Conv1d``, with Keras's
'valid', 'same' (TensorFlow's rule) and 'causal' padding."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers import args as A
from kerasish.layers.core.activation import activate_fresh, get_activation


# Keras Conv1D kernel (k, in / groups, filters) <-> nn.Conv1d weight (filters, in / groups, k).
def conv1d_kernel_to_keras(w):
    return w.permute(2, 1, 0)


def conv1d_kernel_from_keras(k):
    return k.permute(2, 1, 0)


def steps_padding(padding: str, length: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(left, right) zeros along the steps for Keras's ``padding`` on a sequence of ``length``."""
    if padding == "causal":
        return (dilation * (kernel - 1), 0)
    if padding == "same":
        return A.same_padding(length, kernel, stride, dilation)
    return (0, 0)


class Conv1D(Layer):
    """1-D convolution: ``filters`` kernels slid along the steps of a sequence.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 int.
        strides: int or tuple of 1 int, default 1.
        padding: ``"valid"`` (none), ``"same"`` (output length ceil(steps /
            stride); with stride > 1 the odd step of padding goes at the end,
            TensorFlow's rule) or ``"causal"`` (``dilation * (kernel - 1)``
            zeros before the first step, so output ``t`` sees inputs up to ``t``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, default 1 (not with strides > 1).
        groups: split the input channels into this many groups.
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, new_steps, filters)`` (or ``(batch, filters, new_steps)``).
    The Keras kernel ``(kernel_size, in / groups, filters)`` is ``nn.Conv1d.weight``
    ``(filters, in / groups, kernel_size)`` permuted.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Conv1D
        >>> Conv1D(8, 3)(np.zeros((2, 10, 4))).shape
        torch.Size([2, 8, 8])
        >>> Conv1D(8, 3, padding="causal")(np.zeros((2, 10, 4))).shape
        torch.Size([2, 10, 8])
    """

    _native_layout = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        self.filters = A.positive_int(filters, "filters", cls)
        self.kernel_size = A.normalize_tuple(kernel_size, 1, "kernel_size", cls)
        self.strides = A.normalize_tuple(strides, 1, "strides", cls)
        self.padding = A.normalize_padding(padding, cls, ("valid", "same", "causal"))
        self.data_format = A.normalize_data_format(data_format, cls)
        self.dilation_rate = A.normalize_tuple(dilation_rate, 1, "dilation_rate", cls)
        self.groups = A.positive_int(groups, "groups", cls)
        if self.filters % self.groups:
            raise ValueError(f"{cls}: `filters` ({self.filters}) must be divisible by `groups` ({self.groups}).")
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
            raise ValueError(
                f"{cls}: `strides > 1` is not compatible with `dilation_rate > 1`; got strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}."
            )
        self.activation = get_activation(activation, cls)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _steps(self, input_shape):
        return input_shape[1] if self.data_format == "channels_last" else input_shape[2]

    def _check_input(self, input_shape):
        cls = type(self).__name__
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}' ({cls}) expects a 3-D input (batch, steps, channels), got shape {input_shape}.")
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' ({cls}) needs a known channel axis, got input shape {input_shape}.")
        if self.built and channels != self.input_channels:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) was built for {self.input_channels} input channels, but got an input of shape {input_shape}."
            )
        if channels % self.groups:
            raise ValueError(
                f"Layer '{self.name}' ({cls}): the input's {channels} channels are not divisible by groups={self.groups}. "
                f"Input shape: {input_shape}."
            )
        steps = self._steps(input_shape)
        k, d = self.kernel_size[0], self.dilation_rate[0]
        if self.padding == "valid" and steps is not None and steps < (k - 1) * d + 1:
            raise ValueError(
                f"Layer '{self.name}' ({cls}): the kernel {self.kernel_size} (dilation {self.dilation_rate}) is longer than the "
                f"input's {steps} steps with padding='valid'. Input shape: {input_shape}."
            )

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        k, s, d = self.kernel_size[0], self.strides[0], self.dilation_rate[0]
        # With stride 1 the padding does not depend on the length: when it is
        # symmetric the module pads by itself and nothing runs per call.
        self._module_pads = self.padding == "same" and s == 1 and ((k - 1) * d) % 2 == 0
        conv = nn.Conv1d(self.input_channels, self.filters, k, stride=s, padding=(k - 1) * d // 2 if self._module_pads else 0,
                         dilation=d, groups=self.groups, bias=self.use_bias, dtype=torch_dtype(self._dtype))
        self._set_torch_module(conv)
        self._track_weight(conv, "weight", "kernel", to_keras=conv1d_kernel_to_keras, from_keras=conv1d_kernel_from_keras,
                           initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                           constraint=self.kernel_constraint)
        if self.use_bias:
            self._track_weight(conv, "bias", "bias", initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)
        self.built = True

    def _conv(self, inputs):
        """Internal (= Keras) layout in, torch's (N, filters, L) out, no activation."""
        x = layout.sequence_to_ncl(inputs, self.data_format)
        if not self._module_pads:
            pads = steps_padding(self.padding, x.shape[2], self.kernel_size[0], self.strides[0], self.dilation_rate[0])
            if any(pads):
                x = F.pad(x, pads)
        return self._torch_module(x)

    def native_call(self, inputs, training=False):
        y = self._conv(inputs)
        # The activation runs on the Keras-layout view (softmax's axis -1 is the channels).
        return activate_fresh(self.activation, layout.ncl_to_sequence(y, self.data_format), self._torch_module)

    def _pre_activation(self, inputs, training=False):
        """The output before ``activation``: what the logits split
        (``kerasish/models/passes/logits.py``) runs instead of ``native_call``."""
        return layout.ncl_to_sequence(self._conv(inputs), self.data_format)

    def compute_output_shape(self, input_shape):
        steps = self._steps(input_shape)
        k, s, d = self.kernel_size[0], self.strides[0], self.dilation_rate[0]
        # causal pads (k - 1) * d in front: the length is 'same''s, ceil(steps / stride)
        new = A.conv_output_length(steps, k, s, "same" if self.padding == "causal" else self.padding, d)
        if self.data_format == "channels_last":
            return (input_shape[0], new, self.filters)
        return (input_shape[0], self.filters, new)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "bias_regularizer": regularizers.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer) if self.activity_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


Convolution1D = Conv1D
