"""MaxPooling1D and AveragePooling1D on ``nn.MaxPool1d`` / ``nn.AvgPool1d``,
with the 2-D layers' 'same' rule: TensorFlow's padding (the odd step at the
end), left out of every maximum and average, as Keras does."""

from __future__ import annotations

from kerasish.layers.pooling.base_pooling_nd import BasePoolingND


class BasePooling1D(BasePoolingND):
    """The 1-D poolings: :class:`BasePoolingND` over the steps."""

    rank = 1


class MaxPooling1D(BasePooling1D):
    """Max pooling over windows of steps.

    Args:
        pool_size: int or tuple of 1 int, default 2.
        strides: int or tuple of 1 int, default ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (the padding never wins a maximum).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, pooled_steps, channels)`` (or the channels_first equivalent).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import MaxPooling1D
        >>> MaxPooling1D()(np.zeros((2, 10, 4))).shape
        torch.Size([2, 5, 4])
    """

    _mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling1D):
    """Average pooling over windows of steps; with ``padding="same"`` the
    padding is left out of each average, as in Keras.

    Args:
        pool_size: int or tuple of 1 int, default 2 as in Keras 2 (Keras 3
            requires it).
        strides: int or tuple of 1 int, default ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.
    Output shape: ``(batch, pooled_steps, channels)`` (or the channels_first equivalent).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import AveragePooling1D
        >>> AveragePooling1D(2)(np.ones((1, 4, 3))).shape
        torch.Size([1, 2, 3])
    """

    _mode = "avg"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
