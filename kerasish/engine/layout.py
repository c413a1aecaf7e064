"""The one place that knows how Keras's channels_last axes map to torch's.

Keras users see channels_last tensors (``(batch, height, width, channels)``).
Inside a model, kerasish runs image tensors as torch likes them: logically
NCHW, in ``torch.channels_last`` memory. A contiguous NHWC tensor permuted to
NCHW *is* such a tensor, so the switch at the model's edges is a free view,
and no layer in between has to move data.

Only rank-4 tensors (images) change; every other rank keeps Keras's axis order.
Sequences ``(batch, steps, channels)`` stay as they are: torch has no
channels_last memory format for 3-D tensors, so the 2-D rule (a free view to
the layout the convolution wants) gives nothing there, and Dense, LayerNorm,
the recurrent layers and Embedding's outputs all want (batch, steps, features).
A 1-D convolution or pooling turns its input into torch's (N, C, L) with
``sequence_to_ncl`` (a view) and back with ``ncl_to_sequence``.
"""

from __future__ import annotations

import torch

# Keras axis -> internal axis for a rank-4 (N, H, W, C) tensor held as (N, C, H, W).
_KERAS_TO_INTERNAL_4D = (0, 2, 3, 1)


def to_internal(x: torch.Tensor) -> torch.Tensor:
    """Keras layout -> internal layout (a view; NHWC -> NCHW for images)."""
    if x.dim() == 4:
        return x.permute(0, 3, 1, 2)
    return x


def to_keras(x: torch.Tensor) -> torch.Tensor:
    """Internal layout -> Keras layout (a view; NCHW -> NHWC for images)."""
    if x.dim() == 4:
        return x.permute(0, 2, 3, 1)
    return x


def is_channels_last(x: torch.Tensor) -> bool:
    """Whether internal NCHW ``x`` is dense in channels_last memory (NHWC order).

    False where torch cannot say (``torch.vmap``'s batched tensors): callers
    use it to choose a faster kernel, and the plain one is always right.
    """
    try:
        return x.is_contiguous(memory_format=torch.channels_last)
    except RuntimeError:
        return False


def internal_axis(axis: int, rank: int) -> int:
    """Where Keras axis ``axis`` of a rank-``rank`` tensor lives internally."""
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank}")
    axis %= rank
    if rank == 4:
        return _KERAS_TO_INTERNAL_4D[axis]
    return axis


def internal_shape(keras_shape):
    """Keras shape tuple -> the shape of the same tensor in internal layout."""
    keras_shape = tuple(keras_shape)
    if len(keras_shape) == 4:
        n, h, w, c = keras_shape
        return (n, c, h, w)
    return keras_shape


def keras_shape(internal_shape_):
    """Internal shape tuple -> Keras shape tuple."""
    s = tuple(internal_shape_)
    if len(s) == 4:
        n, c, h, w = s
        return (n, h, w, c)
    return s


def map_structure(fn, struct):
    """Apply ``fn`` to every tensor in a (possibly nested) list/tuple/dict.

    Hand-written rather than ``kerasish.tree.map_structure``: it runs on every
    layer call inside a model's forward, and for small lists this recursion is
    several times cheaper than a tree map with a Python callback."""
    if isinstance(struct, (list, tuple)):
        return type(struct)(map_structure(fn, s) for s in struct)
    if isinstance(struct, dict):
        return {k: map_structure(fn, v) for k, v in struct.items()}
    if isinstance(struct, torch.Tensor):
        return fn(struct)
    return struct


def sequence_to_ncl(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """A rank-3 internal tensor -> the (N, C, L) view torch's 1-D ops want.

    channels_last ``(batch, steps, channels)`` is transposed (a view);
    channels_first is (N, C, L) already."""
    return x.transpose(1, 2) if data_format == "channels_last" else x


def ncl_to_sequence(y: torch.Tensor, data_format: str) -> torch.Tensor:
    """The inverse of :func:`sequence_to_ncl` (a view)."""
    return y.transpose(1, 2) if data_format == "channels_last" else y
