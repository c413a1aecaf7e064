"""PReLU layer: leaky ReLU with a learned slope ``alpha``."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer


# Keras alpha <-> torch weight views (module level, so models pickle).
def _reshape(w, shape):
    return w.reshape(shape)


def _flat(a):
    return a.reshape(-1)


def _hwc(w):
    return w.permute(1, 2, 0)


def _chw(a):
    return a.permute(2, 0, 1)


class BroadcastPReLU(nn.Module):
    """PReLU whose ``weight`` broadcasts against the input (any shape), for the
    alphas torch's ``nn.PReLU`` cannot hold (it takes one slope per channel
    of dim 1). ``forward(x) = x if x >= 0 else weight * x``."""

    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return torch.where(x >= 0, x, x * self.weight)

    def extra_repr(self):
        return f"weight_shape={tuple(self.weight.shape)}"


class PReLU(Layer):
    """Parametric ReLU: ``x`` if ``x >= 0`` else ``alpha * x``, ``alpha`` learned.

    Args:
        alpha_initializer: initializer of ``alpha`` (default zeros).
        alpha_regularizer: optional regularizer.
        alpha_constraint: optional constraint.
        shared_axes: axes (Keras numbering, batch = 0) along which ``alpha`` is
            shared; e.g. ``[1, 2]`` after a Conv2D gives one slope per channel.

    Input shape: any, the non-shared axes known. Output shape: same as the input.

    ``alpha`` has shape ``input_shape[1:]`` with the shared axes set to 1.
    When that is one slope per channel (or a single slope) the native module is
    ``nn.PReLU(num_parameters)``; otherwise a :class:`BroadcastPReLU` holding
    ``alpha`` in the internal layout.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import PReLU
        >>> layer = PReLU(shared_axes=[1, 2])
        >>> y = layer(np.ones((2, 5, 5, 3)))
        >>> [tuple(w.shape) for w in layer.weights]
        [(1, 1, 3)]
    """

    _native_layout = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
                raise ValueError(f"PReLU: `shared_axes` must be an int or a list of ints, got {shared_axes!r}")
            self.shared_axes = axes

    def _param_shape(self, input_shape):
        rank = len(input_shape)
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            shape[(a % rank) - 1] = 1
        return tuple(shape)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(f"Layer '{self.name}' (PReLU) expects an input of rank >= 2, got shape {input_shape}.")
        rank = len(input_shape)
        for a in self.shared_axes or []:
            if not -rank < a < rank or a % rank == 0:
                raise ValueError(
                    f"Layer '{self.name}' (PReLU): shared axis {a} is out of range (or the batch axis) for input shape {input_shape}. "
                    f"Received: shared_axes={self.shared_axes}"
                )
        shape = self._param_shape(input_shape)
        if any(d is None for d in shape):
            raise ValueError(
                f"Layer '{self.name}' (PReLU) needs known sizes on the axes that are not shared, got input shape {input_shape} "
                f"with shared_axes={self.shared_axes}."
            )
        if self.built:
            if rank != self._rank or shape != self._alpha_shape:
                raise ValueError(
                    f"Layer '{self.name}' (PReLU) was built for inputs of rank {self._rank} with alpha of shape {self._alpha_shape}, "
                    f"but got an input of shape {input_shape}."
                )

    def build(self, input_shape):
        rank = len(input_shape)
        keras_shape = self._param_shape(input_shape)
        self._rank = rank
        self._alpha_shape = keras_shape
        big = [i + 1 for i, d in enumerate(keras_shape) if d != 1]  # Keras axes with their own slopes
        n = math.prod(keras_shape)
        if not big or (len(big) == 1 and layout.internal_axis(big[0], rank) == 1):
            # One slope, or one per internal channel (dim 1): torch's own PReLU.
            module = nn.PReLU(num_parameters=n)
            to_keras, from_keras = functools.partial(_reshape, shape=keras_shape), _flat
            self._fused = True
        elif rank == 4:  # Keras (H, W, C) <-> internal (C, H, W), broadcast against NCHW
            h, w, c = keras_shape
            module = BroadcastPReLU((c, h, w))
            to_keras, from_keras = _hwc, _chw
            self._fused = False
        else:
            module = BroadcastPReLU(keras_shape)
            to_keras = from_keras = None
            self._fused = False
        self._set_torch_module(module)
        self._track_weight(module, "weight", "alpha", to_keras=to_keras, from_keras=from_keras, initializer=self.alpha_initializer,
                           regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def native_call(self, inputs, training=False):
        w = self._torch_module.weight
        if self._fused:
            return F.prelu(inputs, w)
        return torch.where(inputs >= 0, inputs, inputs * w)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer) if self.alpha_regularizer else None,
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }
