"""Cropping3D: remove elements at the borders of volumes (a view)."""

from __future__ import annotations

from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.reshaping.zero_padding2d import normalize_pairs


class Cropping3D(Layer):
    """Crops elements off both ends of each spatial axis of a volume.

    Args:
        cropping: int, tuple of 3 ints or tuple of 3 tuples of 2 ints. ``c``
            crops ``c`` at both ends of every axis; ``(cd, ch, cw)`` crops each
            axis symmetrically; ``((d1, d2), (h1, h2), (w1, w2))`` sets each
            end. Default ``((1, 1), (1, 1), (1, 1))``. What is cropped must
            leave at least one element on every axis.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: each spatial axis shortened by its two croppings.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Cropping3D
        >>> Cropping3D(((1, 1), (2, 0), (0, 3)))(np.zeros((2, 6, 6, 6, 3))).shape
        torch.Size([2, 4, 4, 3, 3])
    """

    _native_layout = True

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "Cropping3D")
        self.cropping = normalize_pairs(cropping, 3, "cropping", "Cropping3D")
        slices = tuple(slice(lo, -hi if hi else None) for lo, hi in self.cropping)
        # volumes keep Keras's axis order inside a model
        self._index = (slice(None),) + slices if self.data_format == "channels_last" else (slice(None), slice(None)) + slices

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 5:
            raise ValueError(
                f"Layer '{self.name}' (Cropping3D) expects a 5-D input (batch, depth, height, width, channels), got shape {input_shape}."
            )
        for axis, crop in zip(nd_layout.spatial_axes(3, self.data_format), self.cropping):
            size = input_shape[axis]
            if size is not None and sum(crop) >= size:
                raise ValueError(
                    f"Layer '{self.name}' (Cropping3D): values in `cropping` should be smaller than the corresponding "
                    f"spatial dimension of the input. Received: input_shape={input_shape}, cropping={self.cropping}"
                )

    def native_call(self, inputs, training=False):
        return inputs[self._index]

    def compute_output_shape(self, input_shape):
        self._check_input(tuple(input_shape))
        out = list(input_shape)
        for axis, (lo, hi) in zip(nd_layout.spatial_axes(3, self.data_format), self.cropping):
            if out[axis] is not None:
                out[axis] -= lo + hi
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
