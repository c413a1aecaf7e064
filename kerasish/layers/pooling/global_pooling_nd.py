"""What the global poolings of sequences and volumes share: the spatial axes
to reduce (in Keras's order, which these ranks keep inside a model), keepdims,
the output shape and the config."""

from __future__ import annotations

from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout

_SPATIAL_NAMES = {1: "steps", 3: "depth, height, width"}


class BaseGlobalPoolingND(Layer):
    """Shared base of the rank-``rank`` global poolings (1 or 3); subclasses
    reduce ``self._dims`` in ``native_call``."""

    _native_layout = True
    rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self._dims = nd_layout.spatial_axes(self.rank, self.data_format)

    def _check_input(self, input_shape):
        r = self.rank
        if not isinstance(input_shape, tuple) or len(input_shape) != r + 2:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects a {r + 2}-D input (batch, {_SPATIAL_NAMES[r]}, channels), "
                f"got shape {input_shape}."
            )

    def compute_output_shape(self, input_shape):
        ones = (1,) * self.rank
        if self.data_format == "channels_last":
            c = input_shape[-1]
            return (input_shape[0], *ones, c) if self.keepdims else (input_shape[0], c)
        c = input_shape[1]
        return (input_shape[0], c, *ones) if self.keepdims else (input_shape[0], c)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}
