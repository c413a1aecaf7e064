"""NumPy-like ops (``keras.ops.add``, ``keras.ops.sum``...) on torch tensors."""

from __future__ import annotations

import builtins

import torch
import torch.nn.functional as F

from kerasish import backend as _backend
from kerasish.ops.core import _tensors, convert_to_tensor, to_torch_dtype


def _t(x):
    return _tensors(x)[0] if not isinstance(x, torch.Tensor) else x


def _tt(x):
    """Always a tensor (scalars too)."""
    return convert_to_tensor(x)


def _axis(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _floatify(x):
    if not (x.is_floating_point() or x.is_complex()):
        return x.to(to_torch_dtype(_backend.floatx()))
    return x


# -- arithmetic -------------------------------------------------------------
def _binary(name, fn):
    def op(x1, x2):
        a, b = _tensors(x1, x2)
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            a = _tt(a)
        try:
            return fn(a, b)
        except RuntimeError as e:
            raise ValueError(f"{name}: cannot combine shapes {tuple(getattr(a, 'shape', ()))} and {tuple(getattr(b, 'shape', ()))}: {e}") from None

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}(x1, x2)`` with NumPy broadcasting; returns a tensor."
    return op


add = _binary("add", torch.add)
subtract = _binary("subtract", torch.sub)
multiply = _binary("multiply", torch.mul)
def _as_pair(a, b):
    if isinstance(a, float) and not b.is_floating_point():
        b = _floatify(b)
    if isinstance(b, float) and not a.is_floating_point():
        a = _floatify(a)
    if not isinstance(a, torch.Tensor):
        a = torch.as_tensor(a, dtype=b.dtype, device=b.device)
    if not isinstance(b, torch.Tensor):
        b = torch.as_tensor(b, dtype=a.dtype, device=a.device)
    return _common(a, b)


maximum = _binary("maximum", lambda a, b: torch.maximum(*_as_pair(a, b)))
minimum = _binary("minimum", lambda a, b: torch.minimum(*_as_pair(a, b)))


def _divide(a, b):
    if isinstance(a, torch.Tensor):
        a = _floatify(a)
    elif isinstance(b, torch.Tensor):
        b = _floatify(b)
    return torch.true_divide(a, b)


divide = _binary("divide", _divide)
divide.__doc__ = "Element-wise true division ``x1 / x2`` (integers give floats, as Keras)."


def power(x1, x2):
    """Element-wise ``x1 ** x2`` with broadcasting."""
    a, b = _tensors(x1, x2)
    if not isinstance(a, torch.Tensor):
        a = _tt(a)
    return torch.pow(a, b)


def _check_matmul(name, a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{name}: inputs must be at least 1-D, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"{name}: incompatible shapes {tuple(a.shape)} and {tuple(b.shape)} (inner dimensions {ka} != {kb})")


def _common(a, b):
    if a.dtype != b.dtype:
        dt = torch.promote_types(a.dtype, b.dtype)
        a, b = a.to(dt), b.to(dt)
    return a, b


def matmul(x1, x2):
    """Matrix product with NumPy ``matmul`` semantics (batched, broadcasting).

    Raises ValueError if the inner dimensions differ.
    Example: ``matmul(ones((2, 3)), ones((3, 4))).shape == (2, 4)``.
    """
    a, b = _tensors(_tt(x1), _tt(x2))
    _check_matmul("matmul", a, b)
    a, b = _common(a, b)
    try:
        return torch.matmul(a, b)
    except RuntimeError as e:
        raise ValueError(f"matmul: incompatible shapes {tuple(a.shape)} and {tuple(b.shape)}: {e}") from None


def dot(x1, x2):
    """NumPy ``dot``: scalars multiply, 1-D inner product, N-D sums over the
    last axis of ``x1`` and the second-to-last of ``x2``."""
    a, b = _tensors(_tt(x1), _tt(x2))
    a, b = _common(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    _check_matmul("dot", a, b)
    if b.ndim <= 2:
        return torch.matmul(a, b)
    return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))


def einsum(subscripts, *operands):
    """``einsum("ij,jk->ik", a, b)`` as in NumPy."""
    ts = _tensors(*[_tt(o) for o in operands])
    if len(ts) > 1:
        dt = ts[0].dtype
        for t in ts[1:]:
            dt = torch.promote_types(dt, t.dtype)
        ts = [t.to(dt) for t in ts]
    try:
        return torch.einsum(subscripts, *ts)
    except RuntimeError as e:
        raise ValueError(f"einsum: {subscripts!r} does not fit operand shapes {[tuple(t.shape) for t in ts]}: {e}") from None


def _unary_float(name, fn):
    def op(x):
        return fn(_floatify(_tt(x)))

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}`` (integer inputs give float32)."
    return op


exp = _unary_float("exp", torch.exp)
log = _unary_float("log", torch.log)
sqrt = _unary_float("sqrt", torch.sqrt)


def square(x):
    """Element-wise ``x * x``."""
    x = _tt(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.square(x)


def abs(x):  # noqa: A001
    """Element-wise absolute value."""
    return torch.abs(_tt(x))


absolute = abs


def clip(x, x_min, x_max):
    """Clip values into ``[x_min, x_max]``."""
    x = _tt(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    lo = x_min if not isinstance(x_min, (torch.Tensor,)) else x_min.to(x.device)
    hi = x_max if not isinstance(x_max, (torch.Tensor,)) else x_max.to(x.device)
    if not isinstance(lo, (int, float, torch.Tensor)):
        lo = convert_to_tensor(lo, device=x.device)
    if not isinstance(hi, (int, float, torch.Tensor)):
        hi = convert_to_tensor(hi, device=x.device)
    return torch.clamp(x, lo, hi)


def where(condition, x1=None, x2=None):
    """Pick ``x1`` where ``condition`` else ``x2``; with only ``condition``,
    return the tuple of index tensors of its non-zero entries."""
    c = _tt(condition)
    if x1 is None and x2 is None:
        return tuple(torch.nonzero(c, as_tuple=True))
    if x1 is None or x2 is None:
        raise ValueError("where: `x1` and `x2` must both be given or both be None")
    c, a, b = _tensors(c, x1, x2)
    return torch.where(c.to(torch.bool), a, b)


# -- reductions -------------------------------------------------------------
def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum over ``axis`` (int, tuple or None = all). Small ints give int32."""
    x = _tt(x)
    axis = _axis(axis)
    if axis == ():
        return x
    dtype = x.dtype
    if dtype in (torch.bool, torch.uint8, torch.int8, torch.int16):
        dtype = torch.int32
    out = torch.sum(x) if axis is None else torch.sum(x, dim=axis, keepdim=keepdims)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.ndim)
    return out.to(dtype)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``; integer inputs give float32."""
    x = _floatify(_tt(x))
    axis = _axis(axis)
    if axis == ():
        return x
    if axis is None:
        out = torch.mean(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.mean(x, dim=axis, keepdim=keepdims)


def _minmax(name, fn):
    def op(x, axis=None, keepdims=False, initial=None):
        x = _tt(x)
        if x.numel() == 0:
            if initial is None:
                raise ValueError(f"Cannot compute the {name} of an empty tensor.")
            return torch.full((1,) * x.ndim if keepdims else (), initial, dtype=x.dtype, device=x.device)
        axis = _axis(axis)
        if axis is None:
            out = fn(x)
            if keepdims:
                out = out.reshape((1,) * x.ndim)
        else:
            out = fn(x, dim=axis, keepdim=keepdims)
        if initial is not None:
            init = torch.full_like(out, initial)
            out = torch.maximum(out, init) if name == "max" else torch.minimum(out, init)
        return out

    op.__name__ = name
    op.__doc__ = f"The {name}imum over ``axis`` (None = all), optionally at least/most ``initial``."
    return op


max = _minmax("max", torch.amax)  # noqa: A001
min = _minmax("min", torch.amin)  # noqa: A001


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum (flattened when ``axis`` is None), as int32."""
    x = _tt(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.argmax(x, dim=axis, keepdim=keepdims).to(torch.int32)


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum (flattened when ``axis`` is None), as int32."""
    x = _tt(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.argmin(x, dim=axis, keepdim=keepdims).to(torch.int32)


def var(x, axis=None, keepdims=False):
    """Population variance (no Bessel correction, as NumPy/Keras)."""
    x = _floatify(_tt(x))
    axis = _axis(axis)
    if axis == ():
        return torch.zeros_like(x)
    return torch.var(x, dim=axis, keepdim=keepdims, correction=0)


def std(x, axis=None, keepdims=False):
    """Population standard deviation (no Bessel correction, as NumPy/Keras)."""
    x = _floatify(_tt(x))
    return torch.std(x, dim=_axis(axis), keepdim=keepdims, correction=0)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (flattened when None)."""
    x = _tt(x)
    if axis is None:
        x = x.flatten()
        axis = 0
    dt = to_torch_dtype(dtype, "cumsum") or x.dtype
    if dt == torch.bool:
        dt = torch.int32
    return torch.cumsum(x, dim=axis, dtype=dt)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    """Vector or matrix norm, as ``numpy.linalg.norm``.

    ``axis`` None: the 2-norm of the flattened ``x`` (``ord`` must then be
    None). An int axis gives a vector norm, a pair of axes a matrix norm
    (``"fro"``, ``"nuc"``, ``1``, ``-1``, ``2``, ``-2``, ``inf``, ``-inf``).
    """
    x = _floatify(_tt(x))
    if axis is None:
        if ord is not None and x.ndim > 1:
            raise ValueError(f"norm: `ord`={ord!r} needs `axis` for a {x.ndim}-D input of shape {tuple(x.shape)}")
        out = torch.linalg.vector_norm(x.flatten(), ord=2 if ord is None else ord)
        return out.reshape((1,) * x.ndim) if keepdims else out
    if isinstance(axis, int):
        return torch.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=axis, keepdim=keepdims)
    axis = tuple(axis)
    if len(axis) == 1:
        return torch.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=axis, keepdim=keepdims)
    if len(axis) != 2:
        raise ValueError(f"norm: `axis` must be None, an int or a pair of ints, got {axis!r}")
    return torch.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=axis, keepdim=keepdims)


# -- shapes -----------------------------------------------------------------
def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    x = _tt(x)
    newshape = (newshape,) if isinstance(newshape, int) else tuple(-1 if s is None else s for s in newshape)
    try:
        return torch.reshape(x, newshape)
    except RuntimeError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} ({x.numel()} values) into {newshape}") from None


def transpose(x, axes=None):
    """Permute axes (reverse them when ``axes`` is None)."""
    x = _tt(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(axes)
    if len(axes) != x.ndim or sorted(a % builtins.max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: `axes` {axes} is not a permutation of the {x.ndim} axes of shape {tuple(x.shape)}")
    return x.permute(axes)


def expand_dims(x, axis):
    """Insert length-1 axes at ``axis`` (int or tuple)."""
    x = _tt(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_ndim = x.ndim + len(axes)
    axes = sorted(a % out_ndim for a in axes)
    for a in axes:
        x = x.unsqueeze(a)
    return x


def squeeze(x, axis=None):
    """Remove length-1 axes (all, or only ``axis``)."""
    x = _tt(x)
    if axis is None:
        return torch.squeeze(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {a} of shape {tuple(x.shape)}: its size is not 1")
    return torch.squeeze(x, dim=tuple(a % x.ndim for a in axes))


def concatenate(xs, axis=0):
    """Join tensors along an existing ``axis``."""
    ts = _tensors(*[_tt(v) for v in xs])
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = torch.promote_types(dt, t.dtype)
    try:
        return torch.cat([t.to(dt) for t in ts], dim=axis)
    except RuntimeError:
        raise ValueError(f"concatenate: shapes {[tuple(t.shape) for t in ts]} do not match outside axis {axis}") from None


def stack(x, axis=0):
    """Join same-shaped tensors along a new ``axis``."""
    ts = _tensors(*[_tt(v) for v in x])
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = torch.promote_types(dt, t.dtype)
    try:
        return torch.stack([t.to(dt) for t in ts], dim=axis)
    except RuntimeError:
        raise ValueError(f"stack: all shapes must be equal, got {[tuple(t.shape) for t in ts]}") from None


def split(x, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices (a list)."""
    x = _tt(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of shape {tuple(x.shape)} does not split into {indices_or_sections} equal sections")
        return list(torch.split(x, n // indices_or_sections, dim=axis))
    idx = [0] + [int(i) for i in indices_or_sections] + [n]
    sizes = [builtins.max(b - a, 0) for a, b in zip(idx[:-1], idx[1:])]
    return list(torch.split(x, sizes, dim=axis))


def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None),
    as ``numpy.take``; negative indices count from the end.

    Example:
        >>> import torch
        >>> from kerasish import ops
        >>> ops.take(torch.arange(6.0).reshape(3, 2), torch.tensor([[2, 0]]), axis=0).tolist()
        [[[4.0, 5.0], [0.0, 1.0]]]
    """
    x = _tt(x)
    indices = _tt(indices).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.dim() if x.dim() else 0
    size = x.shape[axis]
    indices = torch.where(indices < 0, indices + size, indices)
    out = torch.index_select(x, axis, indices.reshape(-1))
    return out.reshape(tuple(x.shape[:axis]) + tuple(indices.shape) + tuple(x.shape[axis + 1:]))


def take_along_axis(x, indices, axis=None):
    """``numpy.take_along_axis``: pick along ``axis`` with ``indices`` shaped like ``x``."""
    x = _tt(x)
    indices = _tt(indices).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    return torch.take_along_dim(x, indices, dim=axis)


def tile(x, repeats):
    """Repeat the whole tensor ``repeats`` times per axis (NumPy ``tile``)."""
    x = _tt(x)
    repeats = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return torch.tile(x, repeats)


def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times (flattened when ``axis`` is None)."""
    x = _tt(x)
    if not isinstance(repeats, int):
        repeats = torch.as_tensor(_tt(repeats), device=x.device)
        if repeats.ndim == 0:
            repeats = int(repeats)
    return torch.repeat_interleave(x, repeats, dim=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pad as ``numpy.pad``: ``pad_width`` is ``((before, after),) * ndim``
    (or one pair / int for all axes); ``mode`` one of ``"constant"``,
    ``"reflect"``, ``"symmetric"``, ``"edge"``, ``"wrap"``."""
    x = _tt(x)
    modes = ("constant", "reflect", "symmetric", "edge", "wrap")
    if mode not in modes:
        raise ValueError(f"pad: `mode` must be one of {list(modes)}, got {mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: `constant_values` is only used with mode='constant', got mode={mode!r}")
    import numpy as _np

    pw = _np.broadcast_to(_np.asarray(pad_width, dtype="int64"), (x.ndim, 2))
    if (pw < 0).any():
        raise ValueError(f"pad: `pad_width` must be non-negative, got {pad_width!r}")
    if mode == "constant":
        flat = []
        for b, a in reversed(pw.tolist()):
            flat += [b, a]
        return F.pad(x, flat, value=0 if constant_values is None else constant_values)
    out = x
    for ax, (b, a) in enumerate(pw.tolist()):
        n = out.shape[ax]
        if b == 0 and a == 0:
            continue
        if mode == "edge":
            idx = torch.cat([torch.zeros(b, dtype=torch.long), torch.arange(n), torch.full((a,), n - 1, dtype=torch.long)])
        else:
            if mode == "wrap":
                period = torch.arange(n)
            elif mode == "reflect":
                period = torch.cat([torch.arange(n), torch.arange(n - 2, 0, -1)]) if n > 1 else torch.zeros(1, dtype=torch.long)
            else:
                period = torch.cat([torch.arange(n), torch.arange(n - 1, -1, -1)])
            pos = torch.arange(-b, n + a)
            idx = period[pos % len(period)]
        out = torch.index_select(out, ax, idx.to(out.device))
    return out


def ravel(x):
    """A flat 1-D view of ``x``."""
    return torch.ravel(_tt(x))


def flatten(x):
    """Alias of :func:`ravel` (keras.ops has ``ravel`` only)."""
    return ravel(x)


def zeros(shape, dtype=None):
    """A tensor of zeros (``floatx()`` by default)."""
    return torch.zeros(tuple(shape) if not isinstance(shape, int) else (shape,), dtype=to_torch_dtype(dtype or _backend.floatx(), "zeros"))


def ones(shape, dtype=None):
    """A tensor of ones (``floatx()`` by default)."""
    return torch.ones(tuple(shape) if not isinstance(shape, int) else (shape,), dtype=to_torch_dtype(dtype or _backend.floatx(), "ones"))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``; ints give int32, floats float32."""
    if dtype is None:
        vals = [v for v in (start, stop, step) if v is not None]
        dtype = "float32" if any(isinstance(v, float) or (isinstance(v, torch.Tensor) and v.is_floating_point()) for v in vals) else "int32"
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if step == 0:
        raise ValueError("arange: `step` must not be 0")
    return torch.arange(start, stop, step, dtype=to_torch_dtype(dtype, "arange"))


def eye(N, M=None, k=0, dtype=None):  # noqa: N803
    """An ``N x M`` matrix with ones on diagonal ``k``."""
    M = N if M is None else M
    out = torch.zeros((N, M), dtype=to_torch_dtype(dtype or _backend.floatx(), "eye"))
    idx = torch.arange(builtins.max(N, M))
    rows, cols = idx, idx + k
    keep = (rows < N) & (cols >= 0) & (cols < M)
    out[rows[keep], cols[keep]] = 1
    return out


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encode integer ``x`` into ``num_classes`` (out-of-range and
    negative indices give all-zero rows, as Keras)."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported by kerasish")
    x = _tt(x).long()
    valid = (x >= 0) & (x < num_classes)
    out = F.one_hot(torch.where(valid, x, torch.zeros_like(x)), num_classes) * valid.unsqueeze(-1)
    out = out.to(to_torch_dtype(dtype or _backend.floatx(), "one_hot"))
    if axis != -1:
        out = torch.movedim(out, -1, axis)
    return out
