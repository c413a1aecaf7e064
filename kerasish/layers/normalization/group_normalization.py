"""GroupNormalization on ``F.group_norm``: normalizes groups of channels within each sample."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers.normalization.batch_normalization import check_bool, check_float


class GroupNormalization(Layer):
    """Splits the channels (``axis``) into ``groups`` groups of consecutive
    channels and normalizes each group of each sample over its channels and
    every other non-batch axis; then ``gamma * x + beta`` per channel.

    Args:
        groups: int, the number of groups (default 32); it must divide the
            number of channels. ``-1`` means one group per channel (instance
            normalization); the built layer then records the channel count.
        axis: int, the channel axis (default -1).
        epsilon: small float added to the variance (default 1e-3).
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned ``gamma``.
        beta_initializer / gamma_initializer: initializers (zeros / ones).
        beta_regularizer / gamma_regularizer: optional regularizers.
        beta_constraint / gamma_constraint: optional constraints.

    Input shape: any rank >= 2 with the size of ``axis`` known. Output shape: same as the input.
    Weights: ``gamma`` and ``beta``, each of shape ``(channels,)``, as Keras's.

    The native module is ``nn.GroupNorm(groups, channels)``; the channel axis is
    moved to torch's position 1 (already there for images inside a model).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GroupNormalization
        >>> y = GroupNormalization(groups=2)(np.array([[1.0, 3.0, 10.0, 20.0]]))
        >>> [round(v, 2) for v in y[0].tolist()]
        [-1.0, 1.0, -1.0, 1.0]
    """

    _native_layout = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        cls = "GroupNormalization"
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                f"{cls}: received an invalid value for argument `groups`, expected a positive integer "
                f"(or `-1` for instance normalization). Received: groups={groups!r}"
            )
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{cls}: `axis` must be an int, got {axis!r}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.groups = groups
        self.axis = axis
        self.epsilon = check_float(epsilon, "epsilon", cls, minimum=0.0)
        self.center = check_bool(center, "center", cls)
        self.scale = check_bool(scale, "scale", cls)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (GroupNormalization) expects one tensor, got input shape {input_shape}.")
        rank = len(input_shape)
        if rank < 2:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization) expects an input of rank >= 2, got shape {input_shape}.")
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"Layer '{self.name}' (GroupNormalization): axis {self.axis} is not a non-batch axis of input shape {input_shape}."
            )
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Layer '{self.name}' (GroupNormalization): axis {self.axis} of the input should have a defined dimension, "
                f"but the layer received an input with shape {input_shape}."
            )
        groups = dim if self.groups == -1 else self.groups
        if dim < groups:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): number of groups ({groups}) cannot be more than the number of channels ({dim}).")
        if dim % groups:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): the number of channels ({dim}) must be a multiple of the number of groups ({groups}).")
        if self.built and (rank != self._rank or dim != self._dim):
            raise ValueError(
                f"Layer '{self.name}' (GroupNormalization) was built for rank {self._rank} with {self._dim} channels, "
                f"but got an input of shape {input_shape}."
            )

    def build(self, input_shape):
        self._check_input(tuple(input_shape))
        self._rank = len(input_shape)
        dim = int(input_shape[self.axis])
        self._dim = dim
        if self.groups == -1:
            self.groups = dim  # as Keras: the config then says how many groups
        affine = self.scale or self.center
        module = nn.GroupNorm(self.groups, dim, eps=self.epsilon, affine=affine)
        if affine and not self.scale:
            module.weight = None
        if affine and not self.center:
            module.bias = None
        self._set_torch_module(module)
        if self.scale:
            self._track_weight(module, "weight", "gamma", initializer=self.gamma_initializer, regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self._track_weight(module, "bias", "beta", initializer=self.beta_initializer, regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.built = True

    def native_call(self, inputs, training=False):
        rank = inputs.dim()
        internal = layout.internal_axis(self.axis, rank)
        x = inputs if internal == 1 else inputs.movedim(internal, 1)
        gn = self._torch_module
        y = F.group_norm(x, self.groups, gn.weight, gn.bias, self.epsilon)
        return y if internal == 1 else y.movedim(1, internal)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    def get_config(self):
        reg = regularizers.serialize
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": reg(self.beta_regularizer) if self.beta_regularizer else None,
            "gamma_regularizer": reg(self.gamma_regularizer) if self.gamma_regularizer else None,
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
