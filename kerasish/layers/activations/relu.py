"""ReLU layer: Keras's rectified linear unit with max_value, negative_slope, threshold."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from kerasish import activations
from kerasish.engine.layer import Layer


def _non_negative(value, arg, layer, allow_none=False):
    if value is None and allow_none:
        return None
    try:
        ok = value is not None and not isinstance(value, bool) and float(value) >= 0.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{arg} of a {layer} layer cannot be None or a negative value. Received: {arg}={value!r}")
    return value


class ReLU(Layer):
    """Rectified linear unit:
    ``max_value`` if ``x >= max_value``; ``x`` if ``threshold <= x < max_value``;
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: float >= 0, the cap (``None``: no cap).
        negative_slope: float >= 0, the slope below the threshold (default 0).
        threshold: float >= 0, the threshold (default 0).

    Input shape: any. Output shape: same as the input.

    The native module, shown by ``print(model)``, is ``nn.ReLU``, ``nn.ReLU6``
    or ``nn.LeakyReLU`` when one of them is exactly this function.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ReLU
        >>> ReLU(max_value=10, negative_slope=0.5)(np.array([-10.0, -5.0, 0.0, 5.0, 10.0])).tolist()
        [-5.0, -2.5, 0.0, 5.0, 10.0]
    """

    _native_layout = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.max_value = _non_negative(max_value, "max_value", "ReLU", allow_none=True)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "ReLU")
        self.threshold = _non_negative(threshold, "threshold", "ReLU")
        self._max = None if max_value is None else float(max_value)
        self._slope = float(negative_slope)
        self._thr = float(threshold)
        plain = self._slope == 0.0 and self._thr == 0.0
        module = None
        if plain and self._max is None:
            module = nn.ReLU()
        elif plain and self._max == 6.0:
            module = nn.ReLU6()
        elif self._max is None and self._thr == 0.0:
            module = nn.LeakyReLU(self._slope)
        if module is not None:
            self._set_torch_module(module)
        self._plain = plain and self._max is None

    def native_call(self, inputs, training=False):
        if self._plain:
            return F.relu(inputs)
        return activations.relu(inputs, negative_slope=self._slope, max_value=self._max, threshold=self._thr)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}
