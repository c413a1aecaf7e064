"""UpSampling1D: repeat each step of sequences ``size`` times."""

from __future__ import annotations

import torch

from kerasish.engine.layer import Layer


class UpSampling1D(Layer):
    """Repeats each step ``size`` times along the steps axis.

    Args:
        size: positive int, the number of repeats (default 2).

    Input shape: ``(batch, steps, features)``.
    Output shape: ``(batch, steps * size, features)``.

    A ``torch.repeat_interleave`` on the steps axis, with no module: it has
    nothing to hold, and the steps axis is where it is (``nn.Upsample`` would
    want the features first and give a transposed result).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import UpSampling1D
        >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]])).tolist()
        [[[1.0], [1.0], [2.0], [2.0]]]
    """

    _native_layout = True

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"UpSampling1D: expected an integer value for `size`, got {type(size).__name__} ({size!r}).")
        if size <= 0:
            raise ValueError(f"UpSampling1D: argument `size` should be a positive integer. Received: size={size}")
        self.size = size

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (UpSampling1D) expects a 3-D input (batch, steps, features), got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        return torch.repeat_interleave(inputs, self.size, dim=1)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps * self.size, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}
