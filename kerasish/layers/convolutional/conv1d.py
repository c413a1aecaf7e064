"""Conv1D: 1-D convolution over sequences on ``nn.Conv1d``, with Keras's
'valid', 'same' (TensorFlow's rule) and 'causal' padding."""

from __future__ import annotations

from kerasish.layers.convolutional.base_conv_nd import BaseConv


class Conv1D(BaseConv):
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

    rank = 1
    _allowed_padding = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution1D = Conv1D
