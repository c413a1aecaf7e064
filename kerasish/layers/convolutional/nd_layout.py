"""Channels-first views of sequences and volumes, for the rank-1 and rank-3 layers.

Inside a model only rank-4 tensors (images) leave Keras's axis order
(``kerasish/engine/layout.py``); sequences ``(batch, steps, channels)`` and
volumes ``(batch, depth, height, width, channels)`` keep it. torch's 1-D and
3-D convolutions, poolings and dropouts want the channels second: these
helpers give that view (no copy) and take it back. A channels_last volume seen
as NCDHW is exactly an NCDHW tensor in ``torch.channels_last_3d`` memory.
"""

from __future__ import annotations

import torch


def to_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """A Keras-layout tensor -> torch's (N, C, *spatial) view of it."""
    return x.movedim(-1, 1) if data_format == "channels_last" else x


def from_channels_first(y: torch.Tensor, data_format: str) -> torch.Tensor:
    """The inverse of :func:`to_channels_first` (a view)."""
    return y.movedim(1, -1) if data_format == "channels_last" else y


def spatial_axes(rank: int, data_format: str) -> tuple:
    """The Keras axes of the ``rank`` spatial dimensions of a (batch, ..., channels) tensor."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else 1


def kernel_to_keras(w: torch.Tensor) -> torch.Tensor:
    """torch conv weight ``(out, in, *k)`` -> Keras kernel ``(*k, in, out)`` (a view).

    The same permutation maps a transposed convolution's torch weight
    ``(in, filters, *k)`` to Keras's ``(*k, filters, in)``."""
    r = w.dim() - 2
    return w.permute(*range(2, 2 + r), 1, 0)


def kernel_from_keras(k: torch.Tensor) -> torch.Tensor:
    """Keras kernel ``(*k, in, out)`` -> torch conv weight ``(out, in, *k)`` (a view)."""
    r = k.dim() - 2
    return k.permute(r + 1, r, *range(r))
