"""GaussianNoise, GaussianDropout and AlphaDropout: random perturbations in
training, identity at inference, seeded as Dropout is."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers.regularization.dropout import _check_noise_shape, _check_rate, _check_seed, _SeededMasks

# SELU's constants (Klambauer et al., 2017), as Keras's AlphaDropout uses them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _SeededDraws(_SeededMasks):
    """Dropout's per-device seeded generators, drawing normal and uniform noise too."""

    def _generator(self, like):
        if torch.compiler.is_compiling():
            return None  # a compiled graph draws from torch's global generator, as Dropout's does
        g = self.generators.get(like.device)
        if g is None:
            g = torch.Generator(device=like.device)
            g.manual_seed(self.seed)
            self.generators[like.device] = g
        return g

    def normal(self, shape, mean, std, like):
        return torch.empty(shape, dtype=like.dtype, device=like.device).normal_(mean, std, generator=self._generator(like))

    def uniform(self, shape, like):
        return torch.empty(shape, dtype=like.dtype, device=like.device).uniform_(0.0, 1.0, generator=self._generator(like))


def _check_stddev(stddev):
    try:
        ok = not isinstance(stddev, bool) and 0 <= float(stddev) <= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"GaussianNoise: invalid value received for argument `stddev`. Expected a float value between 0 and 1. Received: stddev={stddev!r}"
        )
    return stddev


def _noise(draws, shape, mean, std, like):
    if draws is None:
        return torch.empty(shape, dtype=like.dtype, device=like.device).normal_(mean, std)
    return draws.normal(shape, mean, std, like)


class _NoiseLayer(Layer):
    """Shared parts: no weights, the output shape and masks of the input."""

    _native_layout = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects one tensor, got input shape {input_shape}.")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class GaussianNoise(_NoiseLayer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` in
    training (a regularizer, or data augmentation on real-valued inputs); does
    nothing at inference.

    Args:
        stddev: float in [0, 1], the noise's standard deviation.
        seed: optional int; the layer then draws a reproducible sequence of noise
            (not Keras's numbers).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GaussianNoise
        >>> GaussianNoise(0.1)(np.ones((1, 2))).tolist()  # inference: identity
        [[1.0, 1.0]]
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.stddev = _check_stddev(stddev)
        self.seed = _check_seed(seed, "GaussianNoise")
        self._draws = _SeededDraws(seed) if seed is not None else None
        self.built = True

    def build(self, input_shape):
        self.built = True

    def native_call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        return inputs + _noise(self._draws, inputs.shape, 0.0, float(self.stddev), inputs)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_NoiseLayer):
    """Multiplies the inputs by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` in training (multiplicative noise with the
    variance of Dropout's); does nothing at inference.

    Args:
        rate: float in [0, 1], the drop probability it mimics.
        seed: optional int; the layer then draws a reproducible sequence of noise.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GaussianDropout
        >>> GaussianDropout(0.2)(np.ones((1, 2))).tolist()  # inference: identity
        [[1.0, 1.0]]
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.rate = _check_rate(rate, "GaussianDropout")
        self.seed = _check_seed(seed, "GaussianDropout")
        self._draws = _SeededDraws(seed) if seed is not None else None
        self.built = True

    def build(self, input_shape):
        self.built = True

    def native_call(self, inputs, training=False):
        rate = float(self.rate)
        if not training or rate == 0:
            return inputs
        return inputs * _noise(self._draws, inputs.shape, 1.0, math.sqrt(rate / (1.0 - rate)), inputs)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_NoiseLayer):
    """Dropout for self-normalizing (SELU) networks: in training, sets a
    fraction ``rate`` of the inputs to SELU's negative saturation value and
    applies the affine map that keeps the inputs' mean and variance; does
    nothing at inference.

    Args:
        rate: float in [0, 1), the fraction of units to drop.
        noise_shape: optional shape (Keras layout, ``None`` entries taken from the
            input) of the drop pattern, broadcast over the input.
        seed: optional int; the layer then draws a reproducible sequence of patterns.

    Input shape: any. Output shape: same as the input.

    Without ``noise_shape`` or ``seed`` it is ``F.alpha_dropout``; otherwise the
    same formula on a drawn pattern.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import AlphaDropout
        >>> AlphaDropout(0.2)(np.ones((1, 2))).tolist()  # inference: identity
        [[1.0, 1.0]]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.rate = _check_rate(rate, "AlphaDropout")
        self.noise_shape = _check_noise_shape(noise_shape, "AlphaDropout")
        self.seed = _check_seed(seed, "AlphaDropout")
        self._draws = _SeededDraws(seed) if seed is not None else None
        self.built = True

    def build(self, input_shape):
        self.built = True

    def _check_input(self, input_shape):
        super()._check_input(input_shape)
        ns = self.noise_shape
        if ns is None:
            return
        if len(ns) != len(input_shape) or any(n is not None and d is not None and n not in (1, d) for n, d in zip(ns, input_shape)):
            raise ValueError(f"Layer '{self.name}' (AlphaDropout): noise_shape {ns} does not broadcast to the input shape {input_shape}.")

    def native_call(self, inputs, training=False):
        rate = float(self.rate)
        if not training or rate == 0:
            return inputs
        if self.noise_shape is None and self._draws is None:
            return F.alpha_dropout(inputs, rate, True)
        if self.noise_shape is None:
            shape = inputs.shape
        else:  # noise_shape is in Keras layout; the pattern is drawn in the internal one
            x_shape = layout.keras_shape(inputs.shape)
            shape = layout.internal_shape(tuple(d if n is None else n for n, d in zip(self.noise_shape, x_shape)))
        u = self._draws.uniform(shape, inputs) if self._draws is not None else torch.rand(shape, dtype=inputs.dtype, device=inputs.device)
        kept = (u >= rate).to(inputs.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * rate
        return a * (inputs * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}
