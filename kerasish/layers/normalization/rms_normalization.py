"""RMSNormalization on ``F.rms_norm``: ``x / sqrt(mean(x ** 2) + epsilon) * scale``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers.normalization.batch_normalization import check_float
from kerasish.layers.normalization.unit_normalization import check_axes, positive_axes

# F.rms_norm is torch >= 2.4; on 2.3 (kerasish's floor) the same formula runs
# as three public ops (tests/test_layers_misc19.py compares both paths).
HAS_RMS_NORM = hasattr(F, "rms_norm")


def rms_norm(x, normalized_shape, weight, eps, fused=HAS_RMS_NORM):
    """RMS normalization over the trailing ``len(normalized_shape)`` axes of ``x``."""
    if fused:
        return F.rms_norm(x, normalized_shape, weight, eps)
    dims = list(range(x.dim() - len(normalized_shape), x.dim()))
    y = x * torch.rsqrt(x.square().mean(dim=dims, keepdim=True) + eps)
    return y if weight is None else y * weight


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019): each sample is
    divided by the root mean square of its values over ``axis`` and multiplied
    by a learned ``scale``; no centering.

    Args:
        axis: int or list of ints, the axes to normalize over (default -1).
        epsilon: small float added to the mean square (default 1e-6).

    Input shape: any, the sizes of ``axis`` known. Output shape: same as the input.
    Weights: ``scale``, of the sizes of ``axis`` (initialized to ones).

    Computed in float32 at least (a float16 input is cast up and back, as Keras
    does); the normalized axes are moved last for ``F.rms_norm``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RMSNormalization
        >>> y = RMSNormalization()(np.array([[3.0, 4.0]]))
        >>> [round(v, 3) for v in y[0].tolist()]
        [0.849, 1.131]
    """

    _native_layout = True

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        axis = check_axes(axis, "RMSNormalization")
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = check_float(epsilon, "epsilon", "RMSNormalization", minimum=0.0)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (RMSNormalization) expects one tensor, got input shape {input_shape}.")
        pos = positive_axes(self.axis, input_shape, self.name, "RMSNormalization")
        if any(input_shape[a] is None for a in pos):
            raise ValueError(f"Layer '{self.name}' (RMSNormalization) needs known sizes on the normalized axes {self.axis}, got input shape {input_shape}.")
        if self.built:
            shape = tuple(input_shape[a] for a in pos)
            if len(input_shape) != self._rank or shape != self._norm_shape:
                raise ValueError(
                    f"Layer '{self.name}' (RMSNormalization) was built for normalized shape {self._norm_shape} (rank {self._rank}), "
                    f"but got an input of shape {input_shape}."
                )

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_input(input_shape)
        pos = positive_axes(self.axis, input_shape, self.name, "RMSNormalization")
        # As Keras: the built layer keeps the sorted list of axes (as given, negative or not).
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        self._rank = len(input_shape)
        self._pos = pos
        self._norm_shape = tuple(int(input_shape[a]) for a in pos)
        k = len(pos)
        self._dest = list(range(self._rank - k, self._rank))
        self._trailing = pos == self._dest
        self.add_weight(shape=self._norm_shape, initializer="ones", name="scale")
        self.built = True

    def native_call(self, inputs, training=False):
        x = layout.to_keras(inputs)  # rank 4: NCHW view -> NHWC, the axes Keras names
        dtype = x.dtype
        if dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        scale = self._parameters["scale"].to(x.dtype)
        if self._trailing:
            y = rms_norm(x, self._norm_shape, scale, self.epsilon)
        else:
            y = rms_norm(x.movedim(self._pos, self._dest), self._norm_shape, scale, self.epsilon).movedim(self._dest, self._pos)
        return layout.to_internal(y.to(dtype))

    def compute_output_shape(self, input_shape):
        positive_axes(self.axis, input_shape, self.name, "RMSNormalization")
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
