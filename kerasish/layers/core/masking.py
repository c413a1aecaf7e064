"""Masking: skip the timesteps whose features all equal a value."""

from __future__ import annotations

import torch

from kerasish.engine import layout, masking
from kerasish.engine.layer import Layer


class Masking(Layer):
    """Masks the timesteps whose features all equal ``mask_value``.

    Layers downstream that support masks (LSTM, GlobalAveragePooling1D, the
    losses, ...) then skip those timesteps. The masked steps' features are set
    to 0 in the output, as in Keras.

    Args:
        mask_value: the padding value (default 0.0).

    Input shape: ``(batch, timesteps, features)`` (any rank of at least 2; the
    last axis is the one compared). Output shape: the same; the output mask is
    ``(batch, timesteps)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Masking
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> out = Masking(mask_value=0.0)(x)
        >>> out._keras_mask.tolist()
        [[True, False, True]]
    """

    _native_layout = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(f"Masking: `mask_value` must be a number; got mask_value={mask_value!r}.")
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"Layer '{self.name}' (Masking) expects a tensor of rank >= 2 (batch, ..., features), got shape {input_shape}."
            )

    def compute_mask(self, inputs, mask=None):
        return torch.any(inputs != self.mask_value, dim=-1)

    def native_call(self, inputs, training=False):
        x = layout.to_keras(inputs)
        keep = torch.any(x != self.mask_value, dim=-1, keepdim=True)
        out = layout.to_internal(torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device)))
        # mask and output in one pass, as Keras: the engine then finds the mask already set
        return masking.set_mask(out, keep.squeeze(-1))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
