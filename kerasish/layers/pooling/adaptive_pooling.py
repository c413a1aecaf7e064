"""AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D on torch's
``F.adaptive_avg_pool*d`` / ``F.adaptive_max_pool*d``: pooling to a fixed
output size whatever the input's."""

from __future__ import annotations

import torch.nn.functional as F

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout

_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
_SPATIAL = {1: "length", 2: "height, width", 3: "depth, height, width"}


class _BaseAdaptivePooling(Layer):
    """Shared parts; subclasses set ``rank`` and ``_pools``."""

    _native_layout = True
    rank = 2
    _pools = _AVG

    def __init__(self, output_size, data_format=None, **kwargs):
        cls = type(self).__name__
        r = self.rank
        if isinstance(output_size, bool) or not isinstance(output_size, (int, tuple, list)) or (
            isinstance(output_size, (tuple, list)) and len(output_size) != r
        ):
            what = "an integer" if r == 1 else f"an integer or a tuple of {r} integers ({_SPATIAL[r]})"
            raise TypeError(f"{cls}: `output_size` must be {what}. Received: output_size={output_size!r}")
        super().__init__(**kwargs)
        self.output_size = A.normalize_tuple(output_size, r, "output_size", cls)
        self.data_format = A.normalize_data_format(data_format, cls)

    def _check_input(self, input_shape):
        r = self.rank
        if not isinstance(input_shape, tuple) or len(input_shape) != r + 2:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects a {r + 2}-D input (batch, {_SPATIAL[r]}, channels) "
                f"in {self.data_format}, got shape {input_shape}."
            )

    def build(self, input_shape):
        self.built = True

    def native_call(self, inputs, training=False):
        x = nd_layout.to_channels_first(layout.to_keras(inputs), self.data_format)
        size = self.output_size[0] if self.rank == 1 else self.output_size
        y = self._pools[self.rank](x, size)
        return layout.to_internal(nd_layout.from_channels_first(y, self.data_format))

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}


_DOC = """Adaptive {kind} pooling of {what}: each output cell pools the input
    cells ``floor(i * in / out)`` to ``ceil((i + 1) * in / out)`` along each
    spatial axis, so the output has ``output_size`` whatever the input's size.

    Args:
        output_size: {size_arg}
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, {spatial}, channels)`` (channels_last) or
    ``(batch, channels, {spatial})``. Output shape: the spatial sizes replaced by ``output_size``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import {name}
        >>> {name}({example_size})(np.zeros({example_shape}, "float32")).shape
        torch.Size({example_out})
    """


def _make(name, rank, pools, kind):
    size_arg = "int, the output length." if rank == 1 else f"int or tuple of {rank} ints, the output's ({_SPATIAL[rank]})."
    what = {1: "sequences", 2: "images", 3: "volumes"}[rank]
    in_shape = (2,) + (8,) * rank + (3,)
    out = [2] + [4] * rank + [3]
    doc = _DOC.format(kind=kind, what=what, size_arg=size_arg, spatial=_SPATIAL[rank], name=name, example_size=4,
                      example_shape=in_shape, example_out=out)
    return type(name, (_BaseAdaptivePooling,), {"rank": rank, "_pools": pools, "__doc__": doc, "__module__": __name__})


AdaptiveAveragePooling1D = _make("AdaptiveAveragePooling1D", 1, _AVG, "average")
AdaptiveAveragePooling2D = _make("AdaptiveAveragePooling2D", 2, _AVG, "average")
AdaptiveAveragePooling3D = _make("AdaptiveAveragePooling3D", 3, _AVG, "average")
AdaptiveMaxPooling1D = _make("AdaptiveMaxPooling1D", 1, _MAX, "max")
AdaptiveMaxPooling2D = _make("AdaptiveMaxPooling2D", 2, _MAX, "max")
AdaptiveMaxPooling3D = _make("AdaptiveMaxPooling3D", 3, _MAX, "max")
