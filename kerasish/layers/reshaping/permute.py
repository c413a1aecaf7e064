"""Permute: reorder the non-batch axes of each sample, in Keras axis order."""

from __future__ import annotations

from kerasish.engine import layout
from kerasish.engine.layer import Layer


class Permute(Layer):
    """Permutes the axes of the input according to ``dims``.

    The axes are Keras's (channels_last for images). Inside a model the
    internal NCHW image is viewed as NHWC, permuted and viewed back: three
    views, no copy.

    Args:
        dims: tuple of ints, a permutation of ``1 .. rank - 1`` (the batch axis
            is not included; indexing starts at 1). ``(2, 1)`` swaps the two
            axes of a ``(batch, a, b)`` input.

    Input shape: ``(batch, d1, ..., dn)`` with ``n == len(dims)``.
    Output shape: ``(batch, d_dims[0], ..., d_dims[n-1])``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Permute
        >>> Permute((2, 1))(np.zeros((2, 10, 64))).shape
        torch.Size([2, 64, 10])
    """

    _native_layout = True

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims_t = tuple(dims)
            ok = all(not isinstance(d, bool) and int(d) == d for d in dims_t)
        except (TypeError, ValueError):
            ok = False
        if not ok or sorted(int(d) for d in dims_t) != list(range(1, len(dims_t) + 1)):
            raise ValueError(
                "Permute: invalid permutation argument `dims`. The set of indices in `dims` must be consecutive and "
                f"start from 1 (the batch axis is not included). Received: dims={dims!r}"
            )
        self.dims = tuple(int(d) for d in dims_t)
        self._perm = (0,) + self.dims

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != len(self.dims) + 1:
            raise ValueError(
                f"Layer '{self.name}' (Permute) with dims={self.dims} expects an input of rank {len(self.dims) + 1}, "
                f"got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        return layout.to_internal(layout.to_keras(inputs).permute(self._perm))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dims"] = tuple(config["dims"])
        return super().from_config(config)
