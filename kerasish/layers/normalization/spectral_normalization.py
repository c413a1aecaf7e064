"""SpectralNormalization: a wrapper dividing its layer's kernel by the kernel's
largest singular value, estimated by power iteration, in each training call."""

from __future__ import annotations

import torch

from kerasish import initializers
from kerasish.engine.variable import Variable
from kerasish.layers.core.input_spec import InputSpec
from kerasish.layers.core.wrapper import Wrapper

# Keras's ``ops.normalize`` floor (backend.epsilon()).
_EPSILON = 1e-7


def _l2_normalize(x):
    return x * torch.rsqrt(x.square().sum()).clamp(max=1.0 / _EPSILON)


class SpectralNormalization(Wrapper):
    """Spectral normalization (Miyato et al., 2018) of a layer with a ``kernel``
    (Dense, the convolutions, ...) or ``embeddings`` (Embedding).

    In each training call, as Keras's: one or more power iterations on the
    kernel seen as a ``(-1, last_axis)`` matrix update the non-trainable vector
    ``vector_u`` and estimate the largest singular value ``sigma``; the kernel
    is then overwritten with ``kernel / sigma`` (an assignment, outside the
    gradient) and the wrapped layer runs. At inference the layer runs with the
    kernel as it is. An all-zero kernel is left as it is.

    Args:
        layer: the layer to wrap; it must have a ``kernel`` or ``embeddings`` weight.
        power_iterations: int >= 1, power iterations per training call (default 1).

    Weights: the layer's kernel, ``vector_u`` (shape ``(1, kernel.shape[-1])``,
    non-trainable, truncated normal with stddev 0.02), then the layer's others.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Dense, SpectralNormalization
        >>> layer = SpectralNormalization(Dense(4))
        >>> layer(np.ones((2, 3), "float32"), training=True).shape
        torch.Size([2, 4])
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError(f"SpectralNormalization: `power_iterations` should be an int greater than zero. Received: `power_iterations={power_iterations!r}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = getattr(self.layer, "kernel", None)
        if not isinstance(kernel, Variable):
            kernel = getattr(self.layer, "embeddings", None)
        if not isinstance(kernel, Variable):
            raise ValueError(
                f"SpectralNormalization: {type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings' "
                f"(layer '{self.layer.name}')."
            )
        self._kernel = kernel
        self.kernel_shape = kernel.shape
        # As Keras: the wrapper tracks the kernel as its own first weight, before vector_u.
        self._variables.append(kernel)
        self.add_weight(shape=(1, kernel.shape[-1]), initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
                        name="vector_u", dtype=kernel.dtype)
        self.built = True

    def call(self, inputs, training=False):
        if training:
            with torch.no_grad():
                if bool(self._kernel.value.ne(0).any()):
                    u, kernel = self.normalized_weights()
                    self._buffers["vector_u"].copy_(u)
                    self._kernel.assign(kernel)
        return self.layer(inputs, training=training)

    def normalized_weights(self):
        """``(vector_u, kernel / sigma)`` after ``power_iterations`` power iterations (Keras layout)."""
        with torch.no_grad():
            kernel = self._kernel.value
            w = kernel.reshape(-1, self.kernel_shape[-1])
            u = self._buffers["vector_u"].to(w.dtype)
            for _ in range(self.power_iterations):
                v = _l2_normalize(u @ w.T)
                u = _l2_normalize(v @ w)
            sigma = (v @ w) @ u.T
            return u, kernel / sigma

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
