"""Conv3D: 3-D convolution over volumes on ``nn.Conv3d``."""

from __future__ import annotations

from kerasish.layers.convolutional.base_conv_nd import BaseConv


class Conv3D(BaseConv):
    """3-D convolution: ``filters`` kernels slid over depth, height and width.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 3 ints.
        strides: int or tuple of 3 ints, default 1.
        padding: ``"valid"`` (none) or ``"same"`` (output size ceil(input /
            stride); with stride > 1 the odd element of padding goes at the
            end, TensorFlow's rule).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or tuple of 3 ints, default 1 (not with strides > 1).
        groups: split the input channels into this many groups.
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``glorot_uniform``.
        bias_initializer: default ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: ``(batch, new_depth, new_height, new_width, filters)`` (or
    the channels_first equivalent). Inside a model the volume keeps Keras's
    axis order; the layer runs ``nn.Conv3d`` on its NCDHW view (for
    channels_last, NCDHW in ``torch.channels_last_3d`` memory, no copy). The
    Keras kernel ``(kd, kh, kw, in / groups, filters)`` is the module's weight
    ``(filters, in / groups, kd, kh, kw)`` permuted.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Conv3D
        >>> Conv3D(8, 3)(np.zeros((1, 6, 7, 8, 2))).shape
        torch.Size([1, 4, 5, 6, 8])
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1), groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution3D = Conv3D
