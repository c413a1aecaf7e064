"""RepeatVector: repeat a batch of vectors ``n`` times into sequences."""

from __future__ import annotations

from kerasish.engine.layer import Layer


class RepeatVector(Layer):
    """Repeats each input vector ``n`` times: ``(batch, features)`` ->
    ``(batch, n, features)``.

    Args:
        n: positive int, the number of repeats.

    Input shape: ``(batch, features)``. Output shape: ``(batch, n, features)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RepeatVector
        >>> RepeatVector(3)(np.array([[1.0, 2.0]])).tolist()
        [[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    """

    _native_layout = True

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"RepeatVector: expected an integer value for `n`, got {type(n).__name__} ({n!r}).")
        if n <= 0:
            raise ValueError(f"RepeatVector: argument `n` should be a positive integer. Received: n={n}")
        self.n = n

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 2:
            raise ValueError(
                f"Layer '{self.name}' (RepeatVector) expects a 2-D input (batch, features), got shape {input_shape}."
            )

    def native_call(self, inputs, training=False):
        # a copy, not an expand() view: a later in-place op (a fused ReLU) must not write through it
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
