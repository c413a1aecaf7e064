"""Fourier transforms and distances of ``keras.ops`` (``fft``, ``fft2``,
``ifft2``, ``rfft``, ``irfft``, ``cdist``) on torch tensors.

As Keras, complex values travel as ``(real, imag)`` pairs of float tensors.

Example:
    >>> from kerasish import ops
    >>> real, imag = ops.rfft(ops.ones((4,)))
    >>> real.tolist(), imag.tolist()
    ([4.0, 0.0, 0.0], [0.0, 0.0, 0.0])
"""

from __future__ import annotations

import torch

from kerasish.ops.numpy import _common, _floatify, _tt

__all__ = ["cdist", "fft", "fft2", "ifft2", "irfft", "rfft"]


def _complex(x, fn, min_rank=1):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{fn}: expected a (real, imag) pair of tensors, got {type(x).__name__}")
    re, im = _floatify(_tt(x[0])), _floatify(_tt(x[1]))
    re, im = _common(re, im)
    if re.shape != im.shape:
        raise ValueError(f"{fn}: real and imaginary parts differ in shape: {tuple(re.shape)} and {tuple(im.shape)}")
    if re.ndim < min_rank:
        raise ValueError(f"{fn}: inputs must be at least {min_rank}-D, got shape {tuple(re.shape)}")
    return torch.complex(re, im)


def _pair(z):
    return z.real.contiguous(), z.imag.contiguous()


def fft(x):
    """1-D FFT over the last axis of the complex ``x = (real, imag)``; a ``(real, imag)`` pair."""
    return _pair(torch.fft.fft(_complex(x, "fft")))


def fft2(x):
    """2-D FFT over the last two axes of ``x = (real, imag)``; a ``(real, imag)`` pair."""
    return _pair(torch.fft.fft2(_complex(x, "fft2", 2)))


def ifft2(x):
    """Inverse 2-D FFT over the last two axes of ``x = (real, imag)``; a ``(real, imag)`` pair."""
    return _pair(torch.fft.ifft2(_complex(x, "ifft2", 2)))


def rfft(x, fft_length=None):
    """FFT of the real ``x`` over its last axis (``fft_length // 2 + 1``
    frequencies; ``fft_length`` crops/zero-pads the input); a ``(real, imag)`` pair."""
    return _pair(torch.fft.rfft(_floatify(_tt(x)), n=fft_length))


def irfft(x, fft_length=None):
    """Inverse of :func:`rfft`: a real signal of ``fft_length`` (default ``2 * (n - 1)``) samples."""
    return torch.fft.irfft(_complex(x, "irfft"), n=fft_length)


def cdist(x, y):
    """Euclidean distances between the rows of ``x`` ``(..., m, d)`` and of ``y`` ``(..., n, d)``: ``(..., m, n)``."""
    a, b = _common(_floatify(_tt(x)), _floatify(_tt(y)))
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"cdist: inputs must be (..., m, d) and (..., n, d), got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    d = a.unsqueeze(-2) - b.unsqueeze(-3)
    return torch.sqrt(torch.sum(d * d, dim=-1))
