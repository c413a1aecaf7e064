"""ELU layer: exponential linear unit."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from kerasish.engine.layer import Layer


class ELU(Layer):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
        alpha: float, the scale of the negative part (default 1.0).

    Input shape: any. Output shape: same as the input.
    The native module is ``nn.ELU(alpha)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ELU
        >>> [round(v, 4) for v in ELU()(np.array([-1.0, 0.0, 2.0])).tolist()]
        [-0.6321, 0.0, 2.0]
    """

    _native_layout = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        try:
            a = float(alpha)
        except (TypeError, ValueError):
            raise ValueError(f"ELU: `alpha` must be a float, got {alpha!r}") from None
        if isinstance(alpha, bool) or a != a:
            raise ValueError(f"ELU: `alpha` must be a float, got {alpha!r}")
        self.alpha = alpha
        self._alpha = a
        self._set_torch_module(nn.ELU(a))

    def native_call(self, inputs, training=False):
        return F.elu(inputs, self._alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
