"""Activation: applies an activation function by name or callable."""

from __future__ import annotations

import torch

from kerasish import activations
from kerasish.engine import layout
from kerasish.engine.hooks import has_forward_hooks
from kerasish.engine.layer import Layer


# The activations layers use most, straight to the torch op: the wrappers in
# kerasish.activations check their arguments, which a layer's call need not redo.
_FAST = {
    activations.relu: torch.relu,
    activations.sigmoid: torch.sigmoid,
    activations.tanh: torch.tanh,
    activations.linear: None,
}


def apply_activation(fn, x: torch.Tensor) -> torch.Tensor:
    """Apply ``fn`` to an internal-layout tensor.

    For images (rank 4, held as NCHW) a built-in activation with an axis gets
    internal axis 1 (Keras's channels axis); an element-wise built-in runs as
    it is. A user callable (no ``axis_dependent`` flag) may depend on axes the
    way Keras users write them, so it sees the tensor in Keras layout (views).
    """
    if fn in _FAST:
        fast = _FAST[fn]
        return x if fast is None else fast(x)
    if fn is activations.softmax:
        return torch.softmax(x, dim=1 if x.dim() == 4 else -1)
    if x.dim() == 4:
        flag = getattr(fn, "axis_dependent", None)
        if flag is None:
            return layout.to_internal(fn(layout.to_keras(x)))
        if flag:
            return fn(x, axis=1)
    return fn(x)


def activate_fresh(fn, x: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    """``apply_activation`` for ``x``, the output ``module`` has just made.

    A ReLU then runs in place: ``x`` is a new tensor no one else holds, and an
    out-of-place ReLU would allocate and fill a second tensor as large (on a
    CPU that pass was 12-16% of the fruit network's forward pass). Autograd
    allows it (a convolution or linear layer saves its input, not its output).
    The one holder that could see ``x`` is a hook on the module (a user
    capturing pre-activation values), so with a hook the ReLU stays out of place.
    """
    if fn is activations.relu and not has_forward_hooks(module):
        return x.relu_()
    return apply_activation(fn, x)


def get_activation(identifier, layer_name: str):
    try:
        return activations.get(identifier)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{layer_name}: invalid `activation`: {e}") from None


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: a name (``"relu"``, ``"softmax"``, ...) or a callable.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Activation
        >>> Activation("relu")(np.array([[-1.0, 2.0]])).tolist()
        [[0.0, 2.0]]
    """

    _native_layout = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = get_activation(activation, "Activation")

    def native_call(self, inputs, training=False):
        return apply_activation(self.activation, inputs)

    def _pre_activation(self, inputs, training=False):
        """The logits split (``kerasish/models/passes/logits.py``): no activation."""
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
