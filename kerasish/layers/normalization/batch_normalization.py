"""BatchNormalization on torch's fused ``F.batch_norm``, with Keras's moving
statistics (biased variance) and Keras's rule that a frozen layer always runs
in inference mode."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer

# Which torch class holds the state, by input rank (only its name differs).
_MODULES = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}


def check_bool(value, arg, layer):
    if value is True or value is False or type(value).__name__ == "bool_" or (type(value) is int and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{layer}: `{arg}` must be a boolean, got {value!r}")


def check_float(value, arg, layer, minimum=None):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{layer}: `{arg}` must be a float, got {value!r}") from None
    if isinstance(value, bool) or v != v or (minimum is not None and v < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{layer}: `{arg}` must be a float{bound}, got {value!r}")
    return v


class BatchNormalization(Layer):
    """Normalizes each feature over the batch (and every other axis but ``axis``).

    In training (``training=True``) the output is
    ``gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta`` with the batch's
    mean and (biased) variance, and the moving statistics are updated as Keras
    does: ``moving = moving * momentum + batch * (1 - momentum)``. In inference
    (the default) the moving statistics are used instead. As in Keras, a
    frozen layer (``layer.trainable = False``) always runs in inference mode,
    even when called with ``training=True``.

    Args:
        axis: int, the feature axis (default -1; use 1 after a
            ``channels_first`` layer).
        momentum: momentum of the moving averages (default 0.99; torch's
            ``momentum`` is ``1 - momentum``).
        epsilon: small float added to the variance (default 1e-3).
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned ``gamma``.
        beta_initializer: default ``zeros``.
        gamma_initializer: default ``ones``.
        moving_mean_initializer: default ``zeros``.
        moving_variance_initializer: default ``ones``.
        beta_regularizer / gamma_regularizer: optional regularizers.
        beta_constraint / gamma_constraint: optional constraints.

    Input shape: any rank >= 2, the ``axis`` size known.
    Output shape: same as the input.

    Weights, in Keras order: ``gamma`` (if ``scale``), ``beta`` (if
    ``center``), ``moving_mean``, ``moving_variance`` (non-trainable; buffers
    of the native ``nn.BatchNorm1d/2d/3d``).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import BatchNormalization
        >>> bn = BatchNormalization()
        >>> y = bn(np.random.rand(8, 4, 4, 3), training=True)
        >>> tuple(y.shape), [tuple(w.shape) for w in bn.weights]
        ((8, 4, 4, 3), [(3,), (3,), (3,), (3,)])
    """

    _native_layout = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm=False, renorm_clipping=None, renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        cls = "BatchNormalization"
        if isinstance(axis, bool) or not isinstance(axis, int):
            try:
                if int(axis) != axis:
                    raise TypeError
                axis = int(axis)
            except (TypeError, ValueError):
                raise ValueError(f"{cls}: `axis` must be an int, got {axis!r}") from None
        self.axis = int(axis)
        self.momentum = check_float(momentum, "momentum", cls)
        self.epsilon = check_float(epsilon, "epsilon", cls, minimum=0.0)
        self.center = check_bool(center, "center", cls)
        self.scale = check_bool(scale, "scale", cls)
        if renorm:
            raise ValueError(f"{cls}: `renorm=True` (batch renormalization) is not supported by kerasish.")
        if synchronized:
            raise ValueError(f"{cls}: `synchronized=True` is only supported with the TensorFlow backend. Received: synchronized={synchronized!r}")
        self.renorm = False
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = False
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    # ------------------------------------------------------------------
    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (BatchNormalization) expects one tensor, got input shape {input_shape}.")
        rank = len(input_shape)
        if rank < 2:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization) expects an input of rank >= 2, got shape {input_shape}.")
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"Layer '{self.name}' (BatchNormalization): axis {self.axis} is out of bounds (or the batch axis) "
                f"for input shape {input_shape}. Received: axis={self.axis}"
            )
        size = input_shape[self.axis]
        if size is None:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization) needs a known size on axis {self.axis}, got input shape {input_shape}.")
        if self.built and (rank != self._rank or size != self._features):
            raise ValueError(
                f"Layer '{self.name}' (BatchNormalization) was built for inputs of rank {self._rank} with {self._features} "
                f"features on axis {self.axis}, but got an input of shape {input_shape}."
            )

    def build(self, input_shape):
        rank = len(input_shape)
        self._rank = rank
        self._features = c = int(input_shape[self.axis])
        module = _MODULES.get(rank, nn.BatchNorm1d)(
            c, eps=self.epsilon, momentum=float(f"{1.0 - self.momentum:.12g}"), affine=self.scale or self.center, bias=self.center
        )
        if not self.scale and module.affine:
            module.weight = None
        self._set_torch_module(module)
        if self.scale:
            self._track_weight(module, "weight", "gamma", initializer=self.gamma_initializer, regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self._track_weight(module, "bias", "beta", initializer=self.beta_initializer, regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self._track_weight(module, "running_mean", "moving_mean", trainable=False, initializer=self.moving_mean_initializer)
        self._track_weight(module, "running_var", "moving_variance", trainable=False, initializer=self.moving_variance_initializer)
        # Where the feature axis is in the internal layout, and how to bring it
        # to dim 1 where F.batch_norm wants it.
        ia = layout.internal_axis(self.axis, rank)
        if ia == 1:
            self._mode = "direct"
        elif ia == rank - 1:
            self._mode = "flatten"  # (..., C) viewed as (N*..., C): same statistics
        else:
            self._mode = "movedim"
        self._internal_axis = ia
        self.built = True

    # ------------------------------------------------------------------
    def native_call(self, inputs, training=False):
        mode = self._mode
        if mode == "direct":
            return self._normalize(inputs, training)
        if mode == "flatten":
            shape = inputs.shape
            return self._normalize(inputs.reshape(-1, shape[-1]), training).reshape(shape)
        ia = self._internal_axis
        return self._normalize(inputs.movedim(ia, 1), training).movedim(1, ia)

    def _normalize(self, x, training):
        bn = self._torch_module
        if not (training and self._trainable):  # inference, or a frozen layer (Keras's rule)
            return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, self.epsilon)
        n = x.numel() // x.shape[1]  # values per feature; shape arithmetic, no sync
        if n <= 1:
            return self._normalize_single(x)
        # torch's fused kernel updates the running variance with the unbiased
        # batch variance v*n/(n-1), Keras with the biased one v. Hand torch a
        # copy of the moving variance scaled by n/(n-1): it makes
        # m*rv*n/(n-1) + (1-m)*v*n/(n-1), which times (n-1)/n is Keras's
        # m*rv + (1-m)*v. The copy also keeps the buffer autograd saved intact.
        rv = bn.running_var
        tmp = rv * (n / (n - 1))
        y = F.batch_norm(x, bn.running_mean, tmp, bn.weight, bn.bias, True, 1.0 - self.momentum, self.epsilon)
        torch.mul(tmp, (n - 1) / n, out=rv)
        return y

    def _normalize_single(self, x):
        # One value per feature: torch refuses to train on it, Keras gives
        # variance 0 (so the output is beta).
        bn = self._torch_module
        dims = [0] + list(range(2, x.dim()))
        var, mean = torch.var_mean(x, dim=dims, correction=0)
        with torch.no_grad():
            w = 1.0 - self.momentum
            bn.running_mean.lerp_(mean.detach().to(bn.running_mean.dtype), w)
            bn.running_var.lerp_(var.detach().to(bn.running_var.dtype), w)
        shape = [1, -1] + [1] * (x.dim() - 2)
        y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + self.epsilon)
        if bn.weight is not None:
            y = y * bn.weight.reshape(shape)
        if bn.bias is not None:
            y = y + bn.bias.reshape(shape)
        return y

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    def get_config(self):
        reg = regularizers.serialize
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": reg(self.beta_regularizer) if self.beta_regularizer else None,
            "gamma_regularizer": reg(self.gamma_regularizer) if self.gamma_regularizer else None,
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }
