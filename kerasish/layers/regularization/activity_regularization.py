"""ActivityRegularization: the identity, adding an L1/L2 penalty on its input to the losses."""

from __future__ import annotations

from kerasish import regularizers
from kerasish.engine.layer import Layer
from kerasish.layers.normalization.batch_normalization import check_float


class ActivityRegularization(Layer):
    """Passes its input through and adds ``l1 * sum(|x|) + l2 * sum(x ** 2)``
    (divided by the batch size, as every activity regularizer) to the losses.

    Args:
        l1: float >= 0, the L1 factor (default 0).
        l2: float >= 0, the L2 factor (default 0).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ActivityRegularization
        >>> layer = ActivityRegularization(l1=0.1)
        >>> y = layer(np.array([[1.0, -2.0]]))
        >>> round(float(layer.losses[0]), 4)
        0.3
    """

    _native_layout = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        if "activity_regularizer" in kwargs:
            raise ValueError("ActivityRegularization: give `l1` / `l2`, not `activity_regularizer`.")
        cls = "ActivityRegularization"
        check_float(l1, "l1", cls, minimum=0.0)
        check_float(l2, "l2", cls, minimum=0.0)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def build(self, input_shape):
        self.built = True

    def native_call(self, inputs, training=False):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # as Keras: rebuilt from l1 / l2
        return {**config, "l1": self.l1, "l2": self.l2}
