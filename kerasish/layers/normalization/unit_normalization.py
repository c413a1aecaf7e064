"""UnitNormalization: scales each sample to unit L2 norm over ``axis``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish.engine import layout
from kerasish.engine.layer import Layer

# Keras's floor on the norm (``ops.normalize(..., epsilon=1e-12)``).
_EPSILON = 1e-12


def check_axes(axis, layer):
    """An int or a non-empty list of distinct ints, as Keras's normalization layers take them."""
    if isinstance(axis, (list, tuple)):
        if not axis or any(isinstance(a, bool) or not isinstance(a, int) for a in axis):
            raise TypeError(f"{layer}: invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis!r}")
        if len(set(axis)) != len(axis):
            raise ValueError(f"{layer}: `axis` has repeated axes: {axis!r}")
        return list(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(f"{layer}: invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis!r}")


def positive_axes(axis, input_shape, layer_name, cls):
    """The sorted non-negative axes of ``axis`` for ``input_shape``; ValueError when out of bounds."""
    rank = len(input_shape)
    axes = axis if isinstance(axis, list) else [axis]
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"Layer '{layer_name}' ({cls}): axis {axis} is out of bounds for input shape {tuple(input_shape)}.")
    pos = sorted(a % rank for a in axes)
    if len(set(pos)) != len(pos):
        raise ValueError(f"Layer '{layer_name}' ({cls}): `axis` {axis} names the same axis twice for input shape {tuple(input_shape)}.")
    return pos


class UnitNormalization(Layer):
    """Divides each sample by its L2 norm over ``axis``:
    ``x * min(1 / sqrt(sum(x ** 2)), 1e12)`` (a zero vector stays zero).

    Args:
        axis: int or list of ints, the axes the norm is taken over (default -1).

    Input shape: any. Output shape: same as the input. No weights.

    Computed by ``F.normalize`` for one axis, by the same formula over several.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import UnitNormalization
        >>> UnitNormalization()(np.array([[3.0, 4.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """

    _native_layout = True

    def __init__(self, axis=-1, **kwargs):
        axis = check_axes(axis, "UnitNormalization")
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (UnitNormalization) expects one tensor, got input shape {input_shape}.")
        positive_axes(self.axis, input_shape, self.name, "UnitNormalization")

    def build(self, input_shape):
        self.built = True

    def native_call(self, inputs, training=False):
        rank = inputs.dim()
        dims = [layout.internal_axis(a, rank) for a in (self.axis if isinstance(self.axis, list) else [self.axis])]
        if len(dims) == 1:
            return F.normalize(inputs, p=2.0, dim=dims[0], eps=_EPSILON)
        inv = torch.rsqrt(inputs.square().sum(dim=dims, keepdim=True)).clamp(max=1.0 / _EPSILON)
        return inputs * inv

    def compute_output_shape(self, input_shape):
        positive_axes(self.axis, input_shape, self.name, "UnitNormalization")
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
