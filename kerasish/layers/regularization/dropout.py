"""Dropout and SpatialDropout2D on ``F.dropout`` / ``F.dropout2d``, with the
``training`` flag always explicit: identity at inference."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.engine import layout
from kerasish.engine.layer import Layer


def _check_rate(rate, layer):
    try:
        ok = not isinstance(rate, bool) and 0 <= float(rate) <= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"{layer}: invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate!r}"
        )
    return rate


def _check_seed(seed, layer):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"{layer}: `seed` must be a non-negative int or None, got {seed!r}")
    return seed


def _check_noise_shape(noise_shape, layer):
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str):
        raise ValueError(f"{layer}: invalid value received for argument `noise_shape`. Expected a tuple or list of integers. Received: noise_shape={noise_shape!r}")
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(
            f"{layer}: invalid value received for argument `noise_shape`. Expected an iterable of integers (e.g., a tuple or list). "
            f"Received: noise_shape={noise_shape!r}"
        ) from None
    for i, d in enumerate(noise_shape):
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d <= 0):
            raise ValueError(
                f"{layer}: invalid value received for argument `noise_shape`. Expected all elements to be positive integers or None. "
                f"Received element at index {i}: {d!r}"
            )
    return noise_shape


class _SeededMasks:
    """Reproducible dropout masks for a layer given a ``seed``: one torch
    generator per device, seeded once, so a seeded layer draws the same
    sequence of masks run after run (the masks differ from Keras's own)."""

    def __init__(self, seed):
        self.seed = seed
        self.generators = {}

    def keep_mask(self, shape, keep, like):
        """0/1 mask of ``shape`` already divided by ``keep`` (so ``x * mask`` is the dropout)."""
        mask = torch.empty(shape, dtype=like.dtype, device=like.device)
        if torch.compiler.is_compiling():
            mask.bernoulli_(keep)
        else:
            g = self.generators.get(like.device)
            if g is None:
                g = torch.Generator(device=like.device)
                g.manual_seed(self.seed)
                self.generators[like.device] = g
            mask.bernoulli_(keep, generator=g)
        return mask.div_(keep)

    def __getstate__(self):
        return {"seed": self.seed, "generators": {}}


class Dropout(Layer):
    """Randomly sets a fraction ``rate`` of the inputs to 0 in training and
    scales the others by ``1 / (1 - rate)``; does nothing at inference.

    Args:
        rate: float in [0, 1], the fraction of units to drop.
        noise_shape: optional shape (Keras layout, ``None`` entries taken from
            the input) of the binary mask, broadcast over the input: e.g.
            ``(batch, 1, features)`` drops the same features at every timestep.
        seed: optional int; the layer then draws a reproducible sequence of masks.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Dropout
        >>> Dropout(0.5)(np.ones((2, 3))).tolist()  # inference: identity
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    _native_layout = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        cls = type(self).__name__
        self.rate = _check_rate(rate, cls)
        self.noise_shape = _check_noise_shape(noise_shape, cls)
        self.seed = _check_seed(seed, cls)
        self._p = float(rate)
        self._masks = _SeededMasks(seed) if seed is not None else None
        self._set_torch_module(self._native_module())

    def _native_module(self):
        return nn.Dropout(p=self._p)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects one tensor, got input shape {input_shape}.")
        ns = self.noise_shape
        if ns is None:
            return
        if len(ns) != len(input_shape):
            raise ValueError(
                f"Layer '{self.name}' (Dropout): noise_shape {ns} has rank {len(ns)}, but the input has shape {input_shape}."
            )
        for n, d in zip(ns, input_shape):
            if n is not None and d is not None and n not in (1, d):
                raise ValueError(
                    f"Layer '{self.name}' (Dropout): noise_shape {ns} does not broadcast to the input shape {input_shape}."
                )

    def native_call(self, inputs, training=False):
        p = self._p
        if not training or p == 0.0:
            return inputs
        if p == 1.0:
            return torch.zeros_like(inputs)
        if self.noise_shape is None:
            if self._masks is None:
                return F.dropout(inputs, p, True)
            return inputs * self._masks.keep_mask(inputs.shape, 1.0 - p, inputs)
        # noise_shape is in Keras layout; the mask is made in the internal one.
        x_shape = layout.keras_shape(inputs.shape)
        shape = layout.internal_shape(tuple(d if n is None else n for n, d in zip(self.noise_shape, x_shape)))
        if self._masks is not None:
            mask = self._masks.keep_mask(shape, 1.0 - p, inputs)
        else:
            mask = F.dropout(torch.ones(shape, dtype=inputs.dtype, device=inputs.device), p, True)
        return inputs * mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}
