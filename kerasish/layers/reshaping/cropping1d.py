"""Cropping1D: remove steps at the start and the end of sequences (a view)."""

from __future__ import annotations

from kerasish.engine.layer import Layer
from kerasish.layers import args as A


class Cropping1D(Layer):
    """Crops steps off the start and the end of sequences (axis 1).

    Args:
        cropping: int or tuple of 2 ints: ``c`` crops ``c`` steps at both
            ends, ``(start, end)`` sets each end. Default ``(1, 1)``. What is
            cropped must leave at least one step.

    Input shape: ``(batch, steps, features)``.
    Output shape: ``(batch, steps - start - end, features)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Cropping1D
        >>> Cropping1D((1, 2))(np.zeros((2, 6, 3))).shape
        torch.Size([2, 3, 3])
    """

    _native_layout = True

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = A.normalize_tuple(cropping, 2, "cropping", "Cropping1D", allow_zero=True)
        start, end = self.cropping
        self._steps = slice(start, -end if end else None)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (Cropping1D) expects a 3-D input (batch, steps, features), got shape {input_shape}."
            )
        if input_shape[1] is not None and sum(self.cropping) >= input_shape[1]:
            raise ValueError(
                f"Layer '{self.name}' (Cropping1D): `cropping` must be smaller than the input length. "
                f"Received: input_shape={input_shape}, cropping={self.cropping}"
            )

    def native_call(self, inputs, training=False):
        return inputs[:, self._steps]  # sequences keep Keras's axis order inside a model

    def compute_output_shape(self, input_shape):
        self._check_input(tuple(input_shape))
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps - sum(self.cropping), input_shape[2])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}
