"""Identity: returns its input unchanged."""

from __future__ import annotations

from kerasish.engine.layer import Layer


class Identity(Layer):
    """A placeholder layer that returns its input (any structure) unchanged.

    Useful to keep a model's structure while removing a layer.

    Input shape: any. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Identity
        >>> Identity()(np.ones((2, 3))).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    _native_layout = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True  # no state, as in Keras

    def call(self, inputs, training=None):
        return inputs

    def native_call(self, inputs, training=False):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
