"""Softmax layer, its axis mapped onto the internal layout."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.engine import layout
from kerasish.engine.layer import Layer


def _large_negative(dtype):
    if dtype == torch.float16:
        return -3e4
    return -1e9


class Softmax(Layer):
    """Softmax: ``exp(x - max(x)) / sum(exp(x - max(x)))`` along ``axis``.

    Args:
        axis: int or list of ints (Keras axes, default -1: the channels of an image).

    Call arguments:
        inputs: the logits.
        mask: optional, broadcastable to ``inputs`` (Keras layout); masked
            positions (False / <= 0.5) get probability 0.

    Input shape: any. Output shape: same as the input.
    The native module, when ``axis`` is one int, is ``nn.Softmax(dim)`` with
    ``dim`` the axis in the internal layout (1 for the channels of an image).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Softmax
        >>> [round(v, 4) for v in Softmax()(np.array([1.0, 2.0, 1.0])).tolist()]
        [0.2119, 0.5761, 0.2119]
    """

    _native_layout = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if isinstance(axis, (list, tuple)):
            if not axis or any(isinstance(a, bool) or not isinstance(a, int) for a in axis):
                raise ValueError(f"Softmax: `axis` must be an int or a non-empty list of ints, got {axis!r}")
        elif isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Softmax: `axis` must be an int or a list of ints, got {axis!r}")
        self.axis = axis

    def _axes(self):
        if isinstance(self.axis, (list, tuple)):
            return list(self.axis)
        return [self.axis]

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (Softmax) expects one tensor, got input shape {input_shape}.")
        rank = len(input_shape)
        for a in self._axes():
            if not -rank <= a < rank:
                raise ValueError(f"Layer '{self.name}' (Softmax): axis {a} is out of bounds for input shape {input_shape}. Received: axis={self.axis}")

    def build(self, input_shape):
        axes = self._axes()
        if len(axes) == 1:
            self._set_torch_module(nn.Softmax(dim=layout.internal_axis(axes[0], len(input_shape))))
        self.built = True

    def call(self, inputs, mask=None):
        return super().call(inputs, mask=mask)

    def native_call(self, inputs, training=False, mask=None):
        if mask is not None:
            return layout.to_internal(self._masked(layout.to_keras(inputs), mask))
        rank = inputs.dim()
        axes = self._axes()
        if len(axes) == 1:
            return F.softmax(inputs, dim=layout.internal_axis(axes[0], rank))
        dims = [layout.internal_axis(a, rank) for a in axes]
        return torch.exp(inputs - torch.logsumexp(inputs, dim=dims, keepdim=True))

    def _masked(self, x, mask):
        """Keras layout: masked positions get -1e9 before, and 0 after."""
        mask = torch.as_tensor(mask, device=x.device)
        if mask.dim() > x.dim() or any(m != 1 and m != d for m, d in zip(reversed(mask.shape), reversed(x.shape))):
            raise ValueError(
                f"Layer '{self.name}' (Softmax): the `mask` must be broadcastable to `inputs`. "
                f"Received: inputs.shape={tuple(x.shape)}, mask.shape={tuple(mask.shape)}"
            )
        if mask.dtype != torch.bool:
            mask = mask > 0.5
        x = torch.where(mask, x, torch.tensor(_large_negative(x.dtype), dtype=x.dtype, device=x.device))
        axes = self._axes()
        if len(axes) == 1:
            y = F.softmax(x, dim=axes[0])
        else:
            y = torch.exp(x - torch.logsumexp(x, dim=axes, keepdim=True))
        return torch.where(mask, y, torch.zeros((), dtype=y.dtype, device=y.device))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
