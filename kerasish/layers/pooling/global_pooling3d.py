"""GlobalAveragePooling3D and GlobalMaxPooling3D: reduce depth, height and width."""

from __future__ import annotations

import torch

from kerasish.layers.pooling.global_pooling_nd import BaseGlobalPoolingND


class GlobalAveragePooling3D(BaseGlobalPoolingND):
    """Average over the spatial axes (depth, height, width) of volumes.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1 (default False).

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: ``(batch, channels)``, or ``(batch, 1, 1, 1, channels)``
    with ``keepdims=True`` (``(batch, channels, 1, 1, 1)`` for channels_first).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GlobalAveragePooling3D
        >>> GlobalAveragePooling3D()(np.ones((2, 3, 4, 5, 6))).shape
        torch.Size([2, 6])
    """

    rank = 3

    def native_call(self, inputs, training=False):
        return torch.mean(inputs, dim=self._dims, keepdim=self.keepdims)


class GlobalMaxPooling3D(BaseGlobalPoolingND):
    """Maximum over the spatial axes (depth, height, width) of volumes.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1 (default False).

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: ``(batch, channels)``, or ``(batch, 1, 1, 1, channels)``
    with ``keepdims=True`` (``(batch, channels, 1, 1, 1)`` for channels_first).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GlobalMaxPooling3D
        >>> GlobalMaxPooling3D(keepdims=True)(np.ones((2, 3, 4, 5, 6))).shape
        torch.Size([2, 1, 1, 1, 6])
    """

    rank = 3

    def native_call(self, inputs, training=False):
        return torch.amax(inputs, dim=self._dims, keepdim=self.keepdims)


GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
