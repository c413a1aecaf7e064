"""Slicing, scattering and segment reductions of ``keras.ops`` (``slice``,
``slice_update``, ``scatter``, ``scatter_update``, ``segment_sum``,
``segment_max``...) on torch tensors. All return new tensors (inputs are
never modified in place).

Example:
    >>> from kerasish import ops
    >>> ops.scatter([[0], [2]], [1.0, 2.0], (4,)).tolist()
    [1.0, 0.0, 2.0, 0.0]
"""

from __future__ import annotations

import builtins

import torch

from kerasish.ops.numpy import _tt


def _ints(v, fn, arg):
    if isinstance(v, torch.Tensor):
        v = v.tolist()
    try:
        return [int(s) for s in v]
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: `{arg}` must be a sequence of ints, got {v!r}") from None


def slice(inputs, start_indices, shape):  # noqa: A001 - keras's name
    """The block of ``inputs`` starting at ``start_indices`` with size ``shape``
    (one entry per axis)."""
    x = _tt(inputs)
    starts, sizes = _ints(start_indices, "slice", "start_indices"), _ints(shape, "slice", "shape")
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(f"slice: `start_indices` {starts} and `shape` {sizes} need one entry per axis of shape {tuple(x.shape)}")
    if any(s < 0 or n < 0 or s + n > d for s, n, d in zip(starts, sizes, x.shape)):
        raise ValueError(f"slice: block at {starts} of size {sizes} does not fit in shape {tuple(x.shape)}")
    return x[tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))]


def slice_update(inputs, start_indices, updates):
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    x = _tt(inputs)
    u = _tt(updates).to(x.dtype)
    starts = _ints(start_indices, "slice_update", "start_indices")
    if len(starts) != x.ndim or u.ndim != x.ndim or any(s < 0 or s + n > d for s, n, d in zip(starts, u.shape, x.shape)):
        raise ValueError(f"slice_update: updates of shape {tuple(u.shape)} at {starts} do not fit in shape {tuple(x.shape)}")
    out = x.clone()
    out[tuple(builtins.slice(s, s + n) for s, n in zip(starts, u.shape))] = u.to(out.device)
    return out


def _index_tuple(indices, x_ndim, fn):
    idx = _tt(indices).long()
    if idx.ndim < 1 or idx.shape[-1] > x_ndim:
        raise ValueError(f"{fn}: `indices` of shape {tuple(idx.shape)} must end in an index length <= the target rank {x_ndim}")
    return idx.reshape(-1, idx.shape[-1])


def scatter(indices, values, shape):
    """A zeros tensor of ``shape`` with ``values`` added at ``indices``
    (``(..., k)`` index tuples into the first ``k`` axes; duplicates sum)."""
    shape = tuple(_ints(shape, "scatter", "shape"))
    v = _tt(values)
    idx = _index_tuple(indices, len(shape), "scatter")
    v = v.reshape((idx.shape[0],) + shape[idx.shape[1]:])
    out = torch.zeros(shape, dtype=v.dtype, device=v.device)
    out.index_put_(tuple(idx.T), v, accumulate=True)
    return out


_REDUCTIONS = (None, "add", "max", "min", "mul")


def scatter_update(inputs, indices, updates, reduction=None):
    """A copy of ``inputs`` with ``updates`` written at ``indices`` (index
    tuples, shape ``(n, k)``); ``reduction`` ``"add"``/``"max"``/``"min"``/
    ``"mul"`` combines with the current values instead of replacing them."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"scatter_update: `reduction` must be one of {list(_REDUCTIONS)}, got {reduction!r}")
    x = _tt(inputs)
    idx = _index_tuple(indices, x.ndim, "scatter_update")
    u = _tt(updates).to(x.dtype).reshape((idx.shape[0],) + tuple(x.shape[idx.shape[1]:]))
    out = x.clone()
    where = tuple(idx.T)
    if reduction is None:
        out[where] = u
    elif reduction == "add":
        out.index_put_(where, u, accumulate=True)
    else:
        # sequential application handles duplicate indices (the ops are associative)
        comb = {"max": torch.maximum, "min": torch.minimum, "mul": torch.mul}[reduction]
        for i in range(idx.shape[0]):
            at = tuple(idx[i])
            out[at] = comb(out[at], u[i])
    return out


def _segment(name, data, segment_ids, num_segments, reduce, empty):
    x = _tt(data)
    ids = _tt(segment_ids).long()
    if ids.ndim != 1 or ids.shape[0] != x.shape[0]:
        raise ValueError(f"{name}: `segment_ids` must be 1-D with one id per row of `data`, got shapes {tuple(ids.shape)} and {tuple(x.shape)}")
    n = int(num_segments) if num_segments is not None else (int(ids.max()) + 1 if ids.numel() else 0)
    # ids outside [0, n) go to an extra row that is dropped, as Keras
    ids = torch.where((ids >= 0) & (ids < n), ids, torch.full_like(ids, n))
    work = x.float() if not x.is_floating_point() else x
    out = torch.full((n + 1,) + tuple(x.shape[1:]), empty, dtype=work.dtype, device=x.device)
    index = ids.reshape((-1,) + (1,) * (x.ndim - 1)).expand(x.shape)
    out = out.scatter_reduce(0, index, work, reduce)
    return out[:-1].to(x.dtype)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Sum of the rows of ``data`` per segment id (empty segments give 0)."""
    return _segment("segment_sum", data, segment_ids, num_segments, "sum", 0.0)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Maximum of the rows of ``data`` per segment id (empty segments give -inf)."""
    return _segment("segment_max", data, segment_ids, num_segments, "amax", float("-inf"))


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Minimum of the rows of ``data`` per segment id (empty segments give +inf)."""
    return _segment("segment_min", data, segment_ids, num_segments, "amin", float("inf"))


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Product of the rows of ``data`` per segment id (empty segments give 1)."""
    return _segment("segment_prod", data, segment_ids, num_segments, "prod", 1.0)


def get_item(x, key):
    """``x[key]`` (NumPy indexing: ints, slices, ``None``, ``...``, index or bool tensors)."""
    x = _tt(x)
    if isinstance(key, tuple):
        key = tuple(k if not hasattr(k, "shape") or isinstance(k, torch.Tensor) else _tt(k) for k in key)
    elif hasattr(key, "shape") and not isinstance(key, torch.Tensor):
        key = _tt(key)
    try:
        return x[key]
    except (IndexError, RuntimeError) as e:
        raise ValueError(f"get_item: cannot index a tensor of shape {tuple(x.shape)} with {key!r}: {e}") from None
