"""UpSampling3D: repeat the elements of volumes along depth, height and width."""

from __future__ import annotations

from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout


class UpSampling3D(Layer):
    """Repeats each element ``size[i]`` times along spatial axis ``i`` of a volume.

    Args:
        size: int or tuple of 3 ints: the factors for depth, height and width.
            Default ``(2, 2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``.
    Output shape: ``(batch, depth * size[0], height * size[1], width *
    size[2], channels)`` (or the channels_first equivalent).

    No module: one broadcast view and one copy (each axis given a repeat axis
    next to it, then merged), on the axes where they are, since volumes keep
    Keras's axis order inside a model.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import UpSampling3D
        >>> UpSampling3D((1, 2, 3))(np.zeros((1, 2, 3, 4, 5))).shape
        torch.Size([1, 2, 6, 12, 5])
    """

    _native_layout = True

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "UpSampling3D")
        self.size = A.normalize_tuple(size, 3, "size", "UpSampling3D")

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 5:
            raise ValueError(
                f"Layer '{self.name}' (UpSampling3D) expects a 5-D input (batch, depth, height, width, channels), got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        first = nd_layout.spatial_axes(3, self.data_format)[0]
        shape = list(inputs.shape)
        expanded, view = list(shape[:first]), list(shape[:first])
        for i, s in enumerate(self.size):
            n = shape[first + i]
            expanded += [n, s]
            view += [n, 1]
        rest = shape[first + 3:]
        x = inputs.reshape(view + rest).expand(expanded + rest)
        out = list(shape)
        for i, s in enumerate(self.size):
            out[first + i] *= s
        return x.reshape(out)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, s in zip(nd_layout.spatial_axes(3, self.data_format), self.size):
            if out[axis] is not None:
                out[axis] *= s
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
