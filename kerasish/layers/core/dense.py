"""Dense: the fully connected layer, on ``nn.Linear``."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers.args import positive_int
from kerasish.layers.core.activation import activate_fresh, get_activation


def _t(w):
    return w.t()


class Dense(Layer):
    """``output = activation(dot(input, kernel) + bias)`` on the last axis.

    Args:
        units: positive int, the output size.
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer / bias_initializer: initializers (``glorot_uniform`` / ``zeros``).
        kernel_regularizer / bias_regularizer / activity_regularizer: regularizers.

    Input shape: ``(batch, ..., input_dim)``. Output shape: ``(batch, ..., units)``.
    The native module is ``nn.Linear(input_dim, units)``; the Keras kernel
    ``(input_dim, units)`` is its weight transposed.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Dense
        >>> Dense(3)(np.zeros((2, 5))).shape
        torch.Size([2, 3])
    """

    _native_layout = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.units = positive_int(units, "units", "Dense")
        self.activation = get_activation(activation, "Dense")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(f"Layer '{self.name}' (Dense) expects an input of rank >= 2, got shape {input_shape}.")
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' (Dense) needs a known last axis, got input shape {input_shape}.")
        if self.built and input_shape[-1] != self.input_dim:
            raise ValueError(
                f"Layer '{self.name}' (Dense) was built for last axis {self.input_dim}, but got an input of shape {input_shape}."
            )

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        linear = self._set_torch_module(nn.Linear(self.input_dim, self.units, bias=self.use_bias, dtype=torch_dtype(self._dtype)))
        self._track_weight(linear, "weight", "kernel", to_keras=_t, from_keras=_t, initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                           constraint=self.kernel_constraint)
        if self.use_bias:
            self._track_weight(linear, "bias", "bias", initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)
        self.built = True

    def _pre_activation(self, inputs, training=False):
        """The output before ``activation``: what the logits split
        (``kerasish/models/passes/logits.py``) runs instead of ``native_call``."""
        linear = self._torch_module
        if inputs.dim() == 4:  # internal NCHW: Keras's last axis is dim 1
            return F.linear(inputs.movedim(1, -1), linear.weight, linear.bias).movedim(-1, 1)
        return linear(inputs)

    def native_call(self, inputs, training=False):
        if inputs.dim() in (2, 4):
            return activate_fresh(self.activation, self._pre_activation(inputs), self._torch_module)
        # Sequences (any other rank): the product on the 2-D view, activated before the view
        # back; an in-place ReLU on torch's 3-D linear output (itself a view) would make
        # autograd copy the whole output again in the backward pass.
        lead = inputs.shape[:-1]
        y = self._torch_module(inputs.reshape(-1, inputs.shape[-1]))
        y = activate_fresh(self.activation, y, self._torch_module)  # over the last axis, as Keras's
        return y.view(*lead, y.shape[-1])  # (glu halves it)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        base = super().get_config()
        if self.activity_regularizer is not None:  # Keras writes this key only when one is set
            base["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return {
            **base,
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "bias_regularizer": regularizers.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
