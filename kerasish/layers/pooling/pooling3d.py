"""MaxPooling3D and AveragePooling3D on ``nn.MaxPool3d`` / ``nn.AvgPool3d``,
with the 2-D layers' 'same' rule (TensorFlow's padding, left out of every
maximum and average)."""

from __future__ import annotations

from kerasish.layers.pooling.base_pooling_nd import BasePoolingND


class BasePooling3D(BasePoolingND):
    """The 3-D poolings: :class:`BasePoolingND` over depth, height and width."""

    rank = 3


class MaxPooling3D(BasePooling3D):
    """Max pooling over 3-D windows of volumes.

    Args:
        pool_size: int or tuple of 3 ints, default (2, 2, 2).
        strides: int or tuple of 3 ints, default ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (the padding never wins a maximum).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: ``(batch, pooled_depth, pooled_height, pooled_width,
    channels)`` (or the channels_first equivalent). The module runs on the
    volume's NCDHW view (no copy).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import MaxPooling3D
        >>> MaxPooling3D()(np.zeros((1, 4, 6, 8, 3))).shape
        torch.Size([1, 2, 3, 4, 3])
    """

    _mode = "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(BasePooling3D):
    """Average pooling over 3-D windows of volumes; with ``padding="same"``
    the padding is left out of each average, as in Keras.

    Args:
        pool_size: int or tuple of 3 ints, default (2, 2, 2) as MaxPooling3D
            (Keras 3 requires it).
        strides: int or tuple of 3 ints, default ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: ``(batch, pooled_depth, pooled_height, pooled_width,
    channels)`` (or the channels_first equivalent).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import AveragePooling3D
        >>> AveragePooling3D(2)(np.ones((1, 4, 4, 4, 2))).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    _mode = "avg"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
