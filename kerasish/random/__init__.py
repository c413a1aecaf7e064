"""``kerasish.random``: Keras 3's ``keras.random`` on torch.

Seeds follow Keras: ``seed=None`` draws from torch's global generator
(``kerasish.utils.set_random_seed`` makes it repeat); an int ``seed`` gives the
same values on every call; a :class:`SeedGenerator` gives a reproducible
*sequence* of different draws.

Example:
    >>> from kerasish import random
    >>> g = random.SeedGenerator(42)
    >>> a, b = random.normal((2,), seed=g), random.normal((2,), seed=g)  # differ
    >>> bool((random.normal((2,), seed=1) == random.normal((2,), seed=1)).all())
    True
"""

from __future__ import annotations

import numpy as _np
import torch

from kerasish import backend as _backend
from kerasish.ops.core import convert_to_tensor, to_torch_dtype, torch_generator

__all__ = [
    "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle", "truncated_normal",
    "uniform",
]

_MASK = (1 << 63) - 1


class SeedGenerator:
    """A reproducible stream of seeds for the ``seed=`` argument.

    Args:
        seed: int start seed; None picks one from numpy's global generator
            (so ``set_random_seed`` makes it reproducible too).

    Each draw that uses the generator advances its state, so two draws differ
    while two generators made with the same seed give the same sequence.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = int(_np.random.randint(0, 2**31 - 1))
        if isinstance(seed, bool) or not isinstance(seed, (int, _np.integer)):
            raise ValueError(f"SeedGenerator: `seed` must be an int or None, got {seed!r}")
        self._initial_seed = int(seed)
        self.name = name or "seed_generator"
        self.state = 0

    def next(self) -> int:
        """The next seed of the stream (and advance the state)."""
        s = (self._initial_seed * 1000003 + self.state * 7919 + 0x9E3779B9) & _MASK
        self.state += 1
        return s

    def get_config(self):
        return {"seed": self._initial_seed}


_generator = torch_generator  # None, an int or a SeedGenerator -> a torch.Generator


def _shape(shape, fn):
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: `shape` must be a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{fn}: `shape` must not contain negative sizes, got {shape}")
    return shape


def _float_dtype(dtype, fn):
    dt = to_torch_dtype(dtype or _backend.floatx(), fn)
    if not dt.is_floating_point:
        raise ValueError(f"{fn}: `dtype` must be a floating dtype, got {dtype!r}")
    return dt


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Values from a normal distribution ``N(mean, stddev**2)``."""
    shape = _shape(shape, "normal")
    dt = _float_dtype(dtype, "normal")
    x = torch.randn(shape, generator=_generator(seed, "normal"), dtype=torch.float32)
    return (x * stddev + mean).to(dt)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Values uniformly distributed in ``[minval, maxval)``."""
    shape = _shape(shape, "uniform")
    dt = _float_dtype(dtype, "uniform")
    if maxval < minval:
        raise ValueError(f"uniform: `maxval` ({maxval}) must be >= `minval` ({minval})")
    x = torch.rand(shape, generator=_generator(seed, "uniform"), dtype=torch.float32)
    return (x * (maxval - minval) + minval).to(dt)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniformly drawn from ``[minval, maxval)``."""
    shape = _shape(shape, "randint")
    if maxval <= minval:
        raise ValueError(f"randint: `maxval` ({maxval}) must be > `minval` ({minval})")
    x = torch.randint(int(minval), int(maxval), shape, generator=_generator(seed, "randint"))
    return x.to(to_torch_dtype(dtype, "randint"))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values redrawn until within two standard deviations of ``mean``."""
    shape = _shape(shape, "truncated_normal")
    dt = _float_dtype(dtype, "truncated_normal")
    x = torch.empty(shape, dtype=torch.float32)
    torch.nn.init.trunc_normal_(x, 0.0, 1.0, -2.0, 2.0, generator=_generator(seed, "truncated_normal"))
    return (x * stddev + mean).to(dt)


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in random order."""
    x = convert_to_tensor(x)
    perm = torch.randperm(x.shape[axis], generator=_generator(seed, "shuffle")).to(x.device)
    return torch.index_select(x, axis, perm)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each value with probability ``rate`` and scale the rest by
    ``1 / (1 - rate)`` (inverted dropout). ``noise_shape`` (broadcastable to
    the inputs, None entries taken from them) shares one mask along axes of size 1."""
    x = convert_to_tensor(inputs)
    rate = float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: `rate` must be in [0, 1), got {rate!r}")
    if noise_shape is None:
        ns = tuple(x.shape)
    else:
        ns = tuple(x.shape[i] if s is None else int(s) for i, s in enumerate(noise_shape))
        if len(ns) != x.ndim or any(s not in (1, d) for s, d in zip(ns, x.shape)):
            raise ValueError(f"dropout: `noise_shape` {tuple(noise_shape)} does not broadcast to inputs of shape {tuple(x.shape)}")
    if rate == 0:
        return x
    g = _generator(seed, "dropout")
    keep = torch.rand(ns, generator=g, device="cpu" if g is not None else x.device)
    keep = (keep.to(x.device) >= rate).to(x.dtype if x.is_floating_point() else torch.float32)
    return x * keep / (1.0 - rate)


def _numpy_rng(seed, fn):
    """A numpy Generator for ``seed``: gamma-family samplers take no torch
    generator, so they draw from numpy seeded the same way (``seed=None``
    takes its seed from torch's global generator, so ``set_random_seed``
    still makes the draws repeat)."""
    if seed is None:
        s = int(torch.randint(0, 2**62, (), dtype=torch.int64))
    else:
        g = _generator(seed, fn)
        s = int(torch.randint(0, 2**62, (), generator=g, dtype=torch.int64))
    return _np.random.default_rng(s)


def _param(v, shape, fn, name):
    a = _np.asarray(convert_to_tensor(v).detach().cpu().numpy() if isinstance(v, torch.Tensor) else v, dtype="float64")
    try:
        return _np.broadcast_to(a, shape)
    except ValueError:
        raise ValueError(f"{fn}: `{name}` of shape {a.shape} does not broadcast to `shape` {shape}") from None


def gamma(shape, alpha, dtype=None, seed=None):
    """Values from a Gamma distribution with concentration ``alpha`` and scale 1
    (mean ``alpha``, variance ``alpha``)."""
    shape = _shape(shape, "gamma")
    dt = _float_dtype(dtype, "gamma")
    a = _param(alpha, shape, "gamma", "alpha")
    if (a <= 0).any():
        raise ValueError(f"gamma: `alpha` must be > 0, got {alpha!r}")
    return torch.as_tensor(_numpy_rng(seed, "gamma").gamma(a, size=shape)).to(dt)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Values from a Beta(``alpha``, ``beta``) distribution on [0, 1]
    (mean ``alpha / (alpha + beta)``)."""
    shape = _shape(shape, "beta")
    dt = _float_dtype(dtype, "beta")
    a, b = _param(alpha, shape, "beta", "alpha"), _param(beta, shape, "beta", "beta")
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError(f"beta: `alpha` and `beta` must be > 0, got {alpha!r} and {beta!r}")
    return torch.as_tensor(_numpy_rng(seed, "beta").beta(a, b, size=shape)).to(dt)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Numbers of successes in ``counts`` trials of success probability
    ``probabilities`` (a float tensor, ``floatx()`` by default, as Keras)."""
    shape = _shape(shape, "binomial")
    dt = to_torch_dtype(dtype or _backend.floatx(), "binomial")
    n, p = _param(counts, shape, "binomial", "counts"), _param(probabilities, shape, "binomial", "probabilities")
    if (n < 0).any() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"binomial: `counts` must be >= 0 and `probabilities` in [0, 1], got {counts!r} and {probabilities!r}")
    return torch.as_tensor(_numpy_rng(seed, "binomial").binomial(n.astype("int64"), p, size=shape)).to(dt)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices drawn from the softmax of each row of 2-D ``logits``:
    shape ``(batch, num_samples)``."""
    x = convert_to_tensor(logits)
    if x.ndim != 2:
        raise ValueError(f"categorical: `logits` must be 2-D (batch, num_classes), got shape {tuple(x.shape)}")
    probs = torch.softmax(x.detach().float().cpu(), dim=-1)
    out = torch.multinomial(probs, int(num_samples), replacement=True, generator=_generator(seed, "categorical"))
    return out.to(to_torch_dtype(dtype, "categorical")).to(x.device)
