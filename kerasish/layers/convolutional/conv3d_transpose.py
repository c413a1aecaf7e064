"""Conv3DTranspose: transposed 3-D convolution on ``nn.ConvTranspose3d``."""

from __future__ import annotations

from kerasish.layers.convolutional.base_conv_transpose_nd import BaseConvTranspose


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution: goes from the shape of a Conv3D's output
    back to the shape of its input.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 3 ints.
        strides: int or tuple of 3 ints, default 1.
        padding: ``"valid"`` (output ``(in - 1) * stride + max(kernel, stride)``)
            or ``"same"`` (output ``in * stride``), axis by axis.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        output_padding: int or tuple of 3 ints (each < its stride) or None:
            the output is then ``(in - 1) * stride + kernel + output_padding``
            ('valid') or ``(in - 1) * stride + kernel % 2 + output_padding`` ('same').
        dilation_rate: int or tuple of 3 ints, default 1 (not with strides > 1).
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: ``(batch, new_depth, new_height, new_width, filters)`` (or
    the channels_first equivalent). The Keras kernel ``(kd, kh, kw, filters,
    in)`` is ``nn.ConvTranspose3d.weight`` ``(in, filters, kd, kh, kw)`` permuted.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Conv3DTranspose
        >>> Conv3DTranspose(4, 3, strides=2, padding="same")(np.zeros((1, 2, 3, 4, 8))).shape
        torch.Size([1, 4, 6, 8, 4])
    """

    rank = 3

    # Keras's argument order: data_format before output_padding (unlike Conv1D/2DTranspose).
    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None, output_padding=None,
                 dilation_rate=(1, 1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution3DTranspose = Conv3DTranspose
