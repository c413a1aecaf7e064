"""Conv1DTranspose: transposed 1-D convolution on ``nn.ConvTranspose1d``."""

from __future__ import annotations

from kerasish.layers.convolutional.base_conv_transpose_nd import BaseConvTranspose


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution: goes from the shape of a Conv1D's output
    back to the shape of its input.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 int.
        strides: int or tuple of 1 int, default 1.
        padding: ``"valid"`` (output ``(steps - 1) * stride + max(kernel, stride)``)
            or ``"same"`` (output ``steps * stride``).
        output_padding: int (< strides) or None: the output is then
            ``(steps - 1) * stride + kernel + output_padding`` ('valid') or
            ``(steps - 1) * stride + kernel % 2 + output_padding`` ('same').
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, default 1 (not with strides > 1).
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, new_steps, filters)`` (or ``(batch, filters, new_steps)``).
    The Keras kernel ``(kernel_size, filters, in)`` is ``nn.ConvTranspose1d.weight``
    ``(in, filters, kernel_size)`` permuted.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Conv1DTranspose
        >>> Conv1DTranspose(4, 3, strides=2, padding="same")(np.zeros((2, 5, 8))).shape
        torch.Size([2, 10, 4])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution1DTranspose = Conv1DTranspose
