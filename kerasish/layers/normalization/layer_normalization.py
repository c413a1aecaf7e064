"""LayerNormalization on ``F.layer_norm``: normalizes each sample over ``axis``."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers.normalization.batch_normalization import check_bool, check_float


class LayerNormalization(Layer):
    """Normalizes each sample independently over ``axis`` (not over the batch):
    ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Args:
        axis: int or list of ints, the axes to normalize over (default -1).
            ``gamma`` and ``beta`` have the sizes of these axes.
        epsilon: small float added to the variance (default 1e-3).
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned ``gamma``.
        beta_initializer / gamma_initializer: initializers (zeros / ones).
        beta_regularizer / gamma_regularizer: optional regularizers.
        beta_constraint / gamma_constraint: optional constraints.

    Input shape: any, the sizes of ``axis`` known. Output shape: same as the input.

    The native module is ``nn.LayerNorm(normalized_shape)``; the normalized
    axes are moved last (a free view in the usual cases) and ``F.layer_norm``
    does the work.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import LayerNormalization
        >>> y = LayerNormalization()(np.array([[1.0, 2.0, 3.0]]))
        >>> [round(v, 3) for v in y[0].tolist()]
        [-1.224, 0.0, 1.224]
    """

    _native_layout = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the input by the "
                "variance, not the root mean square. To correctly use RMS Normalization, please use "
                "`keras.layers.RMSNormalization` instead."
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        cls = "LayerNormalization"
        if isinstance(axis, (list, tuple)):
            if not axis or any(isinstance(a, bool) or not isinstance(a, int) for a in axis):
                raise ValueError(f"{cls}: `axis` must be an int or a non-empty list of ints, got {axis!r}")
            if len(set(axis)) != len(axis):
                raise ValueError(f"{cls}: `axis` has repeated axes: {axis!r}")
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"{cls}: expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
        self.epsilon = check_float(epsilon, "epsilon", cls, minimum=0.0)
        self.center = check_bool(center, "center", cls)
        self.scale = check_bool(scale, "scale", cls)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _axes_for(self, rank):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        return sorted(a % rank for a in axes)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (LayerNormalization) expects one tensor, got input shape {input_shape}.")
        rank = len(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        bad = [a for a in axes if not -rank <= a < rank]
        if bad:
            raise ValueError(
                f"Layer '{self.name}' (LayerNormalization): axis {bad[0]} is out of bounds for input shape {input_shape}. "
                f"Received: axis={self.axis}"
            )
        pos = self._axes_for(rank)
        if len(set(pos)) != len(pos):
            raise ValueError(f"Layer '{self.name}' (LayerNormalization): `axis` {self.axis} names the same axis twice for input shape {input_shape}.")
        unknown = [a for a in pos if input_shape[a] is None]
        if unknown:
            raise ValueError(
                f"Layer '{self.name}' (LayerNormalization) needs known sizes on the normalized axes {self.axis}, got input shape {input_shape}."
            )
        if self.built:
            shape = tuple(input_shape[a] for a in pos)
            if rank != self._rank or shape != self._norm_shape:
                raise ValueError(
                    f"Layer '{self.name}' (LayerNormalization) was built for normalized shape {self._norm_shape} (rank {self._rank}), "
                    f"but got an input of shape {input_shape}."
                )

    def build(self, input_shape):
        rank = len(input_shape)
        # Keras keeps the sorted list of axes once built.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        pos = self._axes_for(rank)
        self._rank = rank
        self._norm_shape = tuple(int(input_shape[a]) for a in pos)
        k = len(pos)
        self._trailing = pos == list(range(rank - k, rank))
        self._pos = pos
        self._dest = list(range(rank - k, rank))
        scale = self.scale or self.rms_scaling
        center = self.center and not self.rms_scaling  # Keras: rms_scaling has no beta
        affine = scale or center
        module = nn.LayerNorm(self._norm_shape, eps=self.epsilon, elementwise_affine=affine, bias=center)
        if affine and not scale:
            module.weight = None
        self._set_torch_module(module)
        if scale:
            self._track_weight(module, "weight", "gamma", initializer=self.gamma_initializer, regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if center:
            self._track_weight(module, "bias", "beta", initializer=self.beta_initializer, regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.built = True

    def native_call(self, inputs, training=False):
        x = layout.to_keras(inputs)  # rank 4: NCHW view -> NHWC, contiguous in channels_last memory
        if self._trailing:
            y = self._normalize(x)
        else:
            y = self._normalize(x.movedim(self._pos, self._dest)).movedim(self._dest, self._pos)
        return layout.to_internal(y)

    def _normalize(self, x):
        ln = self._torch_module
        if not self.rms_scaling:
            return F.layer_norm(x, self._norm_shape, ln.weight, ln.bias, self.epsilon)
        # Keras's deprecated rms_scaling: x / sqrt(var + eps) * gamma, no centering.
        dims = list(range(x.dim() - len(self._norm_shape), x.dim()))
        var = torch.var(x, dim=dims, correction=0, keepdim=True)
        y = x * torch.rsqrt(var + self.epsilon)
        return y * ln.weight if ln.weight is not None else y

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -rank <= a < rank:
                raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    def get_config(self):
        reg = regularizers.serialize
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": reg(self.beta_regularizer) if self.beta_regularizer else None,
            "gamma_regularizer": reg(self.gamma_regularizer) if self.gamma_regularizer else None,
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
