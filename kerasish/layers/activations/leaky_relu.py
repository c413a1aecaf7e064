"""LeakyReLU layer (Keras 3: ``negative_slope``, default 0.3; Keras 2's ``alpha`` accepted)."""

from __future__ import annotations

import warnings

import torch.nn.functional as F
from torch import nn

from kerasish.engine.layer import Layer


class LeakyReLU(Layer):
    """Leaky rectified linear unit: ``x`` if ``x >= 0`` else ``negative_slope * x``.

    Args:
        negative_slope: float >= 0 (default 0.3, Keras's). Keras 2's name
            ``alpha=`` is accepted too, with Keras's deprecation warning.

    Input shape: any. Output shape: same as the input.
    The native module is ``nn.LeakyReLU(negative_slope)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import LeakyReLU
        >>> LeakyReLU(negative_slope=0.5)(np.array([-10.0, 0.0, 10.0])).tolist()
        [-5.0, 0.0, 10.0]
    """

    _native_layout = True

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
        super().__init__(**kwargs)
        self.supports_masking = True
        try:
            ok = negative_slope is not None and not isinstance(negative_slope, bool) and float(negative_slope) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. Expected a float. "
                f"Received: negative_slope={negative_slope!r}"
            )
        self.negative_slope = negative_slope
        self._slope = float(negative_slope)
        self._set_torch_module(nn.LeakyReLU(self._slope))

    def native_call(self, inputs, training=False):
        return F.leaky_relu(inputs, self._slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}
