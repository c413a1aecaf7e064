"""Framing and short-time Fourier transforms of ``keras.ops``
(``extract_sequences``, ``stft``, ``istft``) on torch tensors.

As Keras, complex values travel as ``(real, imag)`` pairs of float tensors and
the transforms run over the last axis; leading axes are batch axes.

Example:
    >>> from kerasish import ops
    >>> from kerasish.ops.signal import istft, stft
    >>> x = ops.arange(16, dtype="float32")
    >>> real, imag = stft(x, 8, 4, 8)
    >>> tuple(real.shape)
    (5, 5)
    >>> bool(ops.all(ops.abs(istft((real, imag), 8, 4, 8) - x) < 1e-4))
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish.ops.math_ops import _complex
from kerasish.ops.numpy import _tt

__all__ = ["extract_sequences", "istft", "stft"]

_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}


def _positive_int(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{fn}: `{name}` must be a positive integer, got {name}={value!r}")


def _window(fn, window, sequence_length, dtype, device):
    """The analysis window as a ``(sequence_length,)`` tensor, or None."""
    if window is None:
        return None
    if isinstance(window, str):
        if window not in _WINDOWS:
            raise ValueError(f'{fn}: `window` must be "hann", "hamming", None or a tensor, got window={window!r}')
        # Keras uses the periodic (DFT-even) windows, as scipy.signal.get_window does.
        return _WINDOWS[window](sequence_length, periodic=True, dtype=dtype, device=device)
    win = _tt(window).to(dtype=dtype, device=device)
    if win.shape != (sequence_length,):
        raise ValueError(
            f"{fn}: `window` must have shape (sequence_length,) = ({sequence_length},), got {tuple(win.shape)}"
        )
    return win


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` samples every ``sequence_stride`` along the last axis.

    Args:
        x: tensor ``(..., n)``.
        sequence_length: samples per frame.
        sequence_stride: hop between frame starts.

    Returns:
        ``(..., 1 + (n - sequence_length) // sequence_stride, sequence_length)``,
        same dtype as ``x``.

    Example:
        >>> extract_sequences([1, 2, 3, 4, 5, 6], 3, 2).tolist()
        [[1, 2, 3], [3, 4, 5]]
    """
    x = _tt(x)
    _positive_int("extract_sequences", "sequence_length", sequence_length)
    _positive_int("extract_sequences", "sequence_stride", sequence_stride)
    if x.ndim < 1:
        raise ValueError(f"extract_sequences: `x` must be at least 1-D, got shape {tuple(x.shape)}")
    if sequence_length > x.shape[-1]:
        raise ValueError(
            f"extract_sequences: `sequence_length`={sequence_length} is longer than the last axis of `x` "
            f"(shape {tuple(x.shape)})"
        )
    # A copy, not unfold's strided view, so writes to the result never alias x.
    return torch.unfold_copy(x, -1, sequence_length, sequence_stride)


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis.

    Args:
        x: float32/float64 tensor ``(..., n)``.
        sequence_length: window length in samples (``<= fft_length``; the
            window is zero-padded to ``fft_length``, centred).
        sequence_stride: hop between frames.
        fft_length: FFT size.
        window: ``"hann"``, ``"hamming"`` (periodic), None (rectangular) or a
            ``(sequence_length,)`` tensor.
        center: reflect-pad ``fft_length // 2`` samples on both sides so frame
            ``t`` is centred at ``t * sequence_stride``.

    Returns:
        ``(real, imag)``, each ``(..., frames, fft_length // 2 + 1)`` with
        ``frames = 1 + (n + 2 * (fft_length // 2 if center else 0) - fft_length) // sequence_stride``.

    Example:
        >>> real, imag = stft([0.0, 1.0, 2.0, 3.0, 4.0], 3, 2, 3)
        >>> [[round(v, 3) for v in row] for row in real.tolist()]
        [[0.75, -0.375], [3.75, -1.875], [5.25, -2.625]]
    """
    _positive_int("stft", "sequence_stride", sequence_stride)
    _positive_int("stft", "sequence_length", sequence_length)
    _positive_int("stft", "fft_length", fft_length)
    x = _tt(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"stft: `x` must be float32 or float64, got {x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(
            f"stft: `fft_length` must be >= `sequence_length`, got fft_length={fft_length}, "
            f"sequence_length={sequence_length}"
        )
    if x.ndim < 1:
        raise ValueError(f"stft: `x` must be at least 1-D, got shape {tuple(x.shape)}")
    win = _window("stft", window, sequence_length, x.dtype, x.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    *batch, n = x.shape
    padded = n + (2 * (fft_length // 2) if center else 0)
    if padded < fft_length or (center and fft_length // 2 >= n):
        raise ValueError(
            f"stft: `x` (shape {tuple(x.shape)}) is too short for fft_length={fft_length} with center={center}"
        )
    # torch.stft is Keras's own torch path: reflect padding when centred, window centred in the frame.
    z = torch.stft(
        x.reshape(-1, n), n_fft=fft_length, hop_length=sequence_stride, win_length=sequence_length,
        window=win, center=center, return_complex=True,
    )
    z = z.reshape(*batch, *z.shape[-2:]).transpose(-2, -1)
    return z.real.contiguous(), z.imag.contiguous()


def _overlap_add(frames, stride):
    """Sum ``(..., n, f)`` frames placed every ``stride`` samples: ``(..., stride * (n - 1) + f)``."""
    *batch, n, f = frames.shape
    cols = frames.reshape(-1, n, f).transpose(1, 2)  # fold wants (B, f, n) columns
    out = F.fold(cols, output_size=(1, stride * (n - 1) + f), kernel_size=(1, f), stride=(1, stride))
    return out.reshape(*batch, -1)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse of :func:`stft` (windowed overlap-add) along the last axis.

    Args:
        x: ``(real, imag)`` pair, each ``(..., frames, fft_length // 2 + 1)``.
        sequence_length, sequence_stride, fft_length, window, center: as
            given to :func:`stft`.
        length: crop (or, in the ``torch.istft`` case, zero-pad) the result to
            this many samples; None keeps all.

    Returns:
        ``(..., samples)`` with ``samples = length`` if given, else
        ``(frames - 1) * sequence_stride + fft_length``, less
        ``2 * (fft_length // 2)`` when ``center``.

    Example:
        >>> x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        >>> y = istft(stft(x, 4, 2, 4), 4, 2, 4, length=7)
        >>> [round(v, 4) for v in y.tolist()]
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    """
    _positive_int("istft", "sequence_stride", sequence_stride)
    _positive_int("istft", "sequence_length", sequence_length)
    _positive_int("istft", "fft_length", fft_length)
    z = _complex(x, "istft", min_rank=2)
    dtype = z.real.dtype
    if fft_length < sequence_length:
        raise ValueError(
            f"istft: `fft_length` must be >= `sequence_length`, got fft_length={fft_length}, "
            f"sequence_length={sequence_length}"
        )
    *batch, frames, bins = z.shape
    if bins != fft_length // 2 + 1:
        raise ValueError(
            f"istft: the last axis of `x` must have fft_length // 2 + 1 = {fft_length // 2 + 1} bins, "
            f"got shape {tuple(z.shape)}"
        )
    if sequence_stride > fft_length:
        raise ValueError(
            f"istft: `sequence_stride` must be <= `fft_length` (frames would leave gaps), got "
            f"sequence_stride={sequence_stride}, fft_length={fft_length}"
        )
    win = _window("istft", window, sequence_length, dtype, z.device)

    if sequence_length == fft_length and center and win is not None:
        # Keras defers to torch.istft here: it divides by the true squared-window envelope.
        try:
            out = torch.istft(
                z.reshape(-1, frames, bins).transpose(-2, -1), n_fft=fft_length, hop_length=sequence_stride,
                win_length=sequence_length, window=win, center=True, length=length, return_complex=False,
            )
        except RuntimeError as e:
            raise ValueError(f"istft: cannot invert x of shape {tuple(z.shape)}: {e}") from None
        return out.reshape(*batch, out.shape[-1])

    # Otherwise, as tf.signal.inverse_stft: the window is divided by its
    # squared sum over the frames overlapping each phase of the hop.
    y = torch.fft.irfft(z, n=fft_length)
    if win is not None:
        left = (fft_length - sequence_length) // 2
        win = F.pad(win, (left, fft_length - sequence_length - left))
        overlaps = -(-fft_length // sequence_stride)
        sq = F.pad(win * win, (0, overlaps * sequence_stride - fft_length))
        per_phase = sq.reshape(overlaps, sequence_stride).sum(0)
        y = y * (win / per_phase.repeat(overlaps)[:fft_length])
    y = _overlap_add(y, sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        return y[..., start:start + length]
    return y[..., start:y.shape[-1] - start]
