"""GlobalAveragePooling2D and GlobalMaxPooling2D: reduce height and width."""

from __future__ import annotations

import torch

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A


class BaseGlobalPooling2D(Layer):
    _native_layout = True

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.data_format = A.normalize_data_format(data_format, cls)
        self.keepdims = bool(keepdims)
        # Keras's spatial axes (1, 2) or (2, 3), where they live internally.
        spatial = (1, 2) if self.data_format == "channels_last" else (2, 3)
        self._dims = tuple(layout.internal_axis(a, 4) for a in spatial)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects a 4-D input (batch, height, width, channels), got shape {input_shape}."
            )

    # Subclasses reduce the internal axes ``self._dims``: with keepdim that is
    # the internal layout of Keras's keepdims result; without it, the
    # (batch, channels) left are in Keras's order whatever the data_format.

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            c = input_shape[-1]
            return (input_shape[0], 1, 1, c) if self.keepdims else (input_shape[0], c)
        c = input_shape[1]
        return (input_shape[0], c, 1, 1) if self.keepdims else (input_shape[0], c)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(BaseGlobalPooling2D):
    """Average over the spatial axes (height and width) of images.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1 (default False).

    Input shape: ``(batch, height, width, channels)`` (channels_last).
    Output shape: ``(batch, channels)``, or ``(batch, 1, 1, channels)`` with
    ``keepdims=True`` (``(batch, channels, 1, 1)`` for channels_first).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GlobalAveragePooling2D
        >>> GlobalAveragePooling2D()(np.ones((2, 4, 5, 3))).shape
        torch.Size([2, 3])
    """

    def native_call(self, inputs, training=False):
        return torch.mean(inputs, dim=self._dims, keepdim=self.keepdims)


class GlobalMaxPooling2D(BaseGlobalPooling2D):
    """Maximum over the spatial axes (height and width) of images.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1 (default False).

    Input shape: ``(batch, height, width, channels)`` (channels_last).
    Output shape: ``(batch, channels)``, or ``(batch, 1, 1, channels)`` with
    ``keepdims=True`` (``(batch, channels, 1, 1)`` for channels_first).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GlobalMaxPooling2D
        >>> GlobalMaxPooling2D()(np.ones((2, 4, 5, 3))).shape
        torch.Size([2, 3])
    """

    def native_call(self, inputs, training=False):
        return torch.amax(inputs, dim=self._dims, keepdim=self.keepdims)


GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
