"""More NumPy-like ops of ``keras.ops`` (trigonometry, predicates, creation,
sorting, statistics, shape helpers) on torch tensors.

Dtype rules follow Keras: float math on integer or bool inputs gives
``floatx()`` (float32); shape/sort ops keep the input dtype; index results
(``argsort``, ``digitize``, ``count_nonzero``...) are int32.

Example:
    >>> from kerasish import ops
    >>> ops.tril(ops.ones((3, 3))).sum().item()
    6.0
"""

from __future__ import annotations

import builtins

import torch

from kerasish import backend as _backend
from kerasish.ops.core import _tensors, convert_to_tensor, to_torch_dtype
from kerasish.ops.numpy import _axis, _common, _floatify, _tt


def _floatx():
    return to_torch_dtype(_backend.floatx())


def _unary_float(name, fn):
    def op(x):
        return fn(_floatify(_tt(x)))

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}`` (integer and bool inputs give float32).\n\nArgs:\n    x: tensor-like."
    return op


sinh = _unary_float("sinh", torch.sinh)
cosh = _unary_float("cosh", torch.cosh)
arcsin = _unary_float("arcsin", torch.asin)
arccos = _unary_float("arccos", torch.acos)
arctan = _unary_float("arctan", torch.atan)
arcsinh = _unary_float("arcsinh", torch.asinh)
arccosh = _unary_float("arccosh", torch.acosh)
arctanh = _unary_float("arctanh", torch.atanh)
log2 = _unary_float("log2", torch.log2)
log10 = _unary_float("log10", torch.log10)
exp2 = _unary_float("exp2", torch.exp2)
rsqrt = _unary_float("rsqrt", torch.rsqrt)
erfinv = _unary_float("erfinv", torch.erfinv)
reciprocal = _unary_float("reciprocal", torch.reciprocal)
deg2rad = _unary_float("deg2rad", torch.deg2rad)
rad2deg = _unary_float("rad2deg", torch.rad2deg)


def cbrt(x):
    """Element-wise real cube root (negative inputs give negative roots)."""
    x = _floatify(_tt(x))
    return torch.sign(x) * torch.abs(x).pow(1.0 / 3.0)


def trunc(x):
    """Element-wise rounding towards zero (integers unchanged)."""
    x = _tt(x)
    return torch.trunc(x) if x.is_floating_point() else x


def _float_pair(name, x1, x2):
    a, b = _tensors(x1, x2)
    a = _tt(a) if not isinstance(a, torch.Tensor) else a
    b = torch.as_tensor(b, device=a.device) if not isinstance(b, torch.Tensor) else b
    a, b = _floatify(a), _floatify(b)
    a, b = _common(a, b)
    try:
        torch.broadcast_shapes(a.shape, b.shape)
    except RuntimeError:
        raise ValueError(f"{name}: cannot broadcast shapes {tuple(a.shape)} and {tuple(b.shape)}") from None
    return a, b


def arctan2(x1, x2):
    """Element-wise ``arctan(x1 / x2)`` in the right quadrant (floats)."""
    return torch.atan2(*_float_pair("arctan2", x1, x2))


def hypot(x1, x2):
    """Element-wise ``sqrt(x1**2 + x2**2)`` (floats)."""
    return torch.hypot(*_float_pair("hypot", x1, x2))


def logaddexp(x1, x2):
    """Element-wise ``log(exp(x1) + exp(x2))``, computed stably (floats)."""
    return torch.logaddexp(*_float_pair("logaddexp", x1, x2))


def true_divide(x1, x2):
    """Alias of :func:`kerasish.ops.divide`."""
    return torch.true_divide(*_float_pair("true_divide", x1, x2))


def divide_no_nan(x1, x2):
    """``x1 / x2`` with 0 where ``x2 == 0`` (floats)."""
    a, b = _float_pair("divide_no_nan", x1, x2)
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return torch.where(b == 0, torch.zeros_like(a * b), a / safe)


# -- predicates --------------------------------------------------------------
def isnan(x):
    """Element-wise NaN test; a bool tensor (always False for integers)."""
    return torch.isnan(_tt(x))


def isinf(x):
    """Element-wise +/-inf test; a bool tensor."""
    return torch.isinf(_tt(x))


def isfinite(x):
    """Element-wise finiteness test; a bool tensor."""
    return torch.isfinite(_tt(x))


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise ``|x1 - x2| <= atol + rtol * |x2|``; a bool tensor."""
    a, b = _float_pair("isclose", x1, x2)
    return torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether :func:`isclose` holds everywhere; a scalar bool tensor."""
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replace NaN with ``nan`` and +/-inf with ``posinf``/``neginf`` (default:
    the dtype's largest/smallest finite value)."""
    x = _tt(x)
    if not x.is_floating_point():
        return x
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# -- creation ----------------------------------------------------------------
def _shape_arg(shape, fn):
    if isinstance(shape, int):
        return (shape,)
    try:
        return tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: `shape` must be an int or a tuple of ints, got {shape!r}") from None


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (``floatx()`` unless
    ``dtype`` is given, as Keras's torch backend)."""
    fill = _tt(fill_value)
    dt = to_torch_dtype(dtype or _backend.floatx(), "full")
    return torch.broadcast_to(fill.to(dt), _shape_arg(shape, "full")).clone()


def full_like(x, fill_value, dtype=None):
    """A tensor shaped like ``x`` filled with ``fill_value`` (``x``'s dtype by default)."""
    x = _tt(x)
    return torch.full_like(x, _tt(fill_value).item(), dtype=to_torch_dtype(dtype, "full_like") or x.dtype)


def zeros_like(x, dtype=None):
    """Zeros shaped like ``x`` (``x``'s dtype by default)."""
    x = _tt(x)
    return torch.zeros_like(x, dtype=to_torch_dtype(dtype, "zeros_like") or x.dtype)


def ones_like(x, dtype=None):
    """Ones shaped like ``x`` (``x``'s dtype by default)."""
    x = _tt(x)
    return torch.ones_like(x, dtype=to_torch_dtype(dtype, "ones_like") or x.dtype)


def empty(shape, dtype=None):
    """An uninitialised tensor (zeros here, for reproducibility)."""
    return torch.zeros(_shape_arg(shape, "empty"), dtype=to_torch_dtype(dtype or _backend.floatx(), "empty"))


def identity(n, dtype=None):
    """The ``n x n`` identity matrix (``floatx()`` by default)."""
    return torch.eye(int(n), dtype=to_torch_dtype(dtype or _backend.floatx(), "identity"))


def tri(N, M=None, k=0, dtype=None):  # noqa: N803
    """An ``N x M`` matrix with ones at and below diagonal ``k``."""
    M = N if M is None else M
    out = torch.ones((N, M), dtype=torch.bool).tril(k)
    return out.to(to_torch_dtype(dtype or _backend.floatx(), "tri"))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (inclusive when
    ``endpoint``); array ``start``/``stop`` give one sequence per entry along
    ``axis``. With ``retstep`` returns ``(values, step)``."""
    if num < 0:
        raise ValueError(f"linspace: `num` must be >= 0, got {num}")
    lo, hi = _floatify(_tt(start)), _floatify(_tt(stop))
    lo, hi = _common(lo, hi)
    div = (num - 1) if endpoint else num
    step = (hi - lo) / div if div > 0 else torch.full_like(hi - lo, float("nan"))
    frac = torch.arange(num, dtype=lo.dtype).reshape((num,) + (1,) * builtins.max(lo.ndim, hi.ndim))
    out = lo + frac * (hi - lo) / builtins.max(div, 1)
    if endpoint and num > 1:
        out[-1] = hi
    if axis != 0:
        out = torch.movedim(out, 0, axis)
    dt = to_torch_dtype(dtype, "linspace")
    if dt is not None:
        out = out.to(dt)
    return (out, step) if retstep else out


def meshgrid(*x, indexing="xy"):
    """Coordinate grids of 1-D inputs (``indexing`` ``"xy"`` or ``"ij"``)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij', got {indexing!r}")
    ts = [_tt(v) for v in x]
    return list(torch.meshgrid(*ts, indexing=indexing))


def array(x, dtype=None):
    """A tensor of ``x`` (as :func:`kerasish.ops.convert_to_tensor`)."""
    return convert_to_tensor(x, dtype=dtype)


def copy(x):
    """A copy of ``x``."""
    return _tt(x).clone()


def real(x):
    """The real part (``x`` itself for real inputs)."""
    x = _tt(x)
    return torch.real(x) if x.is_complex() else x


def imag(x):
    """The imaginary part (zeros for real inputs)."""
    x = _tt(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def conj(x):
    """Element-wise complex conjugate."""
    x = _tt(x)
    return torch.conj(x).resolve_conj() if x.is_complex() else x


conjugate = conj


# -- shape ops -------------------------------------------------------------
def size(x):
    """The number of elements of ``x`` (a Python int)."""
    return int(_tt(x).numel())


def ndim(x):
    """The rank of ``x`` (a Python int)."""
    return int(_tt(x).ndim)


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (NumPy rules)."""
    x = _tt(x)
    shape = _shape_arg(shape, "broadcast_to")
    try:
        return torch.broadcast_to(x, shape).clone()
    except RuntimeError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to {shape}") from None


def swapaxes(x, axis1, axis2):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged."""
    return torch.swapaxes(_tt(x), axis1, axis2)


def moveaxis(x, source, destination):
    """``x`` with axes ``source`` moved to ``destination`` (ints or tuples)."""
    x = _tt(x)
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: `source` {source!r} and `destination` {destination!r} differ in length")
    return torch.movedim(x, src, dst)


def flip(x, axis=None):
    """``x`` reversed along ``axis`` (all axes when None)."""
    x = _tt(x)
    axes = tuple(range(x.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    return torch.flip(x, axes)


def fliplr(x):
    """``x`` reversed along axis 1."""
    return flip(x, 1)


def flipud(x):
    """``x`` reversed along axis 0."""
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):  # noqa: A002 - keras's name
    """``array`` rotated by ``k * 90`` degrees in the plane of ``axes``."""
    x = _tt(array)
    if x.ndim < 2:
        raise ValueError(f"rot90: input must be at least 2-D, got shape {tuple(x.shape)}")
    return torch.rot90(x, k, tuple(axes))


def roll(x, shift, axis=None):
    """Shift elements along ``axis`` cyclically (flattened when None)."""
    x = _tt(x)
    if axis is None:
        return torch.roll(x.flatten(), shift).reshape(x.shape)
    return torch.roll(x, shift, axis)


def tril(x, k=0):
    """The lower triangle (at and below diagonal ``k``) of the last two axes."""
    return torch.tril(_tt(x), k)


def triu(x, k=0):
    """The upper triangle (at and above diagonal ``k``) of the last two axes."""
    return torch.triu(_tt(x), k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Diagonal ``offset`` of the ``(axis1, axis2)`` planes, as the last axis."""
    return torch.diagonal(_tt(x), offset, axis1, axis2)


def diag(x, k=0):
    """1-D ``x``: a matrix with ``x`` on diagonal ``k``; 2-D: its ``k``-th diagonal."""
    x = _tt(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {tuple(x.shape)}")
    return torch.diag(x, k)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along diagonal ``offset`` of the ``(axis1, axis2)`` planes
    (small ints sum to int32, as Keras)."""
    x = _tt(x)
    out = torch.diagonal(x, offset, axis1, axis2).sum(-1)
    # torch sums integers in int64; Keras keeps int32 (and widens smaller ints to it)
    if x.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32):
        out = out.to(torch.int32)
    return out


def _stack_list(name, xs):
    ts = _tensors(*[_tt(v) for v in xs])
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = torch.promote_types(dt, t.dtype)
    return [t.to(dt) for t in ts]


def hstack(xs):
    """Join along axis 1 (axis 0 for 1-D inputs)."""
    ts = _stack_list("hstack", xs)
    try:
        return torch.hstack(ts)
    except RuntimeError:
        raise ValueError(f"hstack: shapes {[tuple(t.shape) for t in ts]} do not match") from None


def vstack(xs):
    """Join along axis 0 (1-D inputs become rows)."""
    ts = _stack_list("vstack", xs)
    try:
        return torch.vstack(ts)
    except RuntimeError:
        raise ValueError(f"vstack: shapes {[tuple(t.shape) for t in ts]} do not match") from None


def unstack(x, num=None, axis=0):
    """The list of slices of ``x`` along ``axis``."""
    x = _tt(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: `num`={num} does not match axis {axis} of shape {tuple(x.shape)}")
    return list(torch.unbind(x, axis))


# -- products ---------------------------------------------------------------
def _pair_common(x1, x2):
    a, b = _tensors(_tt(x1), _tt(x2))
    return _common(a, b)


def tensordot(x1, x2, axes=2):
    """Sum products over ``axes`` (an int: the last/first ``axes`` axes; or a
    pair of axis lists)."""
    a, b = _pair_common(x1, x2)
    try:
        return torch.tensordot(a, b, dims=axes if isinstance(axes, int) else [list(axes[0]) if not isinstance(axes[0], int) else [axes[0]], list(axes[1]) if not isinstance(axes[1], int) else [axes[1]]])
    except RuntimeError as e:
        raise ValueError(f"tensordot: shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit axes={axes!r}: {e}") from None


def outer(x1, x2):
    """Outer product of the flattened inputs."""
    a, b = _pair_common(x1, x2)
    return torch.outer(a.flatten(), b.flatten())


def inner(x1, x2):
    """Sum product over the last axes (a scalar multiplies)."""
    a, b = _pair_common(x1, x2)
    if a.ndim and b.ndim and a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: last axes differ: shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return torch.inner(a, b)


def vdot(x1, x2):
    """Dot product of the flattened inputs (conjugating ``x1``)."""
    a, b = _pair_common(x1, x2)
    if a.numel() != b.numel():
        raise ValueError(f"vdot: inputs differ in size: shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return torch.vdot(a.flatten(), b.flatten()) if a.is_complex() else torch.dot(a.flatten(), b.flatten())


def kron(x1, x2):
    """Kronecker product."""
    a, b = _pair_common(x1, x2)
    return torch.kron(a, b)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the given axes (``axis`` sets all three)."""
    a, b = _pair_common(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = torch.movedim(a, axisa, -1), torch.movedim(b, axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ValueError(f"cross: vectors must have 3 components, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = torch.broadcast_tensors(a, b)
    return torch.movedim(torch.linalg.cross(a, b, dim=-1), -1, axisc)


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D sequences (``mode`` ``"valid"``, ``"same"``, ``"full"``)."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: `mode` must be 'valid', 'same' or 'full', got {mode!r}")
    a, b = _pair_common(x1, x2)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"correlate: inputs must be 1-D, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = _floatify(a), _floatify(b)
    if a.numel() < b.numel():
        # numpy swaps and conjugate-reverses; for real inputs that is reversing the output
        return torch.flip(correlate(b, a, mode), (0,))
    n, m = a.numel(), b.numel()
    pad = {"valid": 0, "same": m // 2, "full": m - 1}[mode]
    right = {"valid": 0, "same": m - 1 - m // 2, "full": m - 1}[mode]
    ap = torch.nn.functional.pad(a, (pad, right))
    return torch.nn.functional.conv1d(ap.reshape(1, 1, -1), b.reshape(1, 1, -1)).reshape(-1)[: n + pad + right - m + 1]


# -- sorting / counting -----------------------------------------------------
def sort(x, axis=-1):
    """``x`` sorted ascending along ``axis`` (flattened when None)."""
    x = _tt(x)
    if axis is None:
        x, axis = x.flatten(), 0
    return torch.sort(x, dim=axis, stable=True).values


def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (stable), as int32."""
    x = _tt(x)
    if axis is None:
        x, axis = x.flatten(), 0
    if x.ndim == 0:
        return torch.zeros((), dtype=torch.int32)
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def searchsorted(sorted_sequence, values, side="left"):
    """Insertion indices of ``values`` into 1-D ``sorted_sequence`` (int32)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: `side` must be 'left' or 'right', got {side!r}")
    s, v = _pair_common(sorted_sequence, values)
    if s.ndim != 1:
        raise ValueError(f"searchsorted: `sorted_sequence` must be 1-D, got shape {tuple(s.shape)}")
    return torch.searchsorted(s, v, right=side == "right").to(torch.int32)


def digitize(x, bins):
    """Index of the bin of each value (``bins`` increasing, 1-D), as int32;
    ``bins[i-1] <= x < bins[i]`` gives ``i``."""
    x, b = _pair_common(x, bins)
    if b.ndim != 1:
        raise ValueError(f"digitize: `bins` must be 1-D, got shape {tuple(b.shape)}")
    return torch.bucketize(x, b, right=True).to(torch.int32)


def count_nonzero(x, axis=None):
    """Number of non-zero values over ``axis`` (all when None), as int32."""
    x = _tt(x)
    axis = _axis(axis)
    return torch.count_nonzero(x, dim=axis).to(torch.int32)


def nonzero(x):
    """The tuple of index tensors (int32) of the non-zero entries."""
    return tuple(i.to(torch.int32) for i in torch.nonzero(_tt(x), as_tuple=True))


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative int in ``x`` (1-D, or per row of 2-D),
    optionally summing ``weights``; length ``max(max(x) + 1, minlength)``."""
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by kerasish")
    x = _tt(x)
    if x.is_floating_point() or x.ndim not in (1, 2):
        raise ValueError(f"bincount: `x` must be a 1-D or 2-D integer tensor, got {x.dtype} of shape {tuple(x.shape)}")
    if x.numel() and int(x.min()) < 0:
        raise ValueError("bincount: `x` must be non-negative")
    w = None if weights is None else _tt(weights)
    n = builtins.max(int(x.max()) + 1 if x.numel() else 0, int(minlength))
    dt = w.dtype if w is not None else x.dtype
    rows = x.reshape(1, -1) if x.ndim == 1 else x
    wrows = None if w is None else w.reshape(rows.shape)
    out = torch.zeros((rows.shape[0], n), dtype=dt if w is not None else torch.int64)
    vals = torch.ones_like(rows, dtype=out.dtype) if wrows is None else wrows.to(out.dtype)
    out.scatter_add_(1, rows.long(), vals)
    out = out.to(dt)
    return out[0] if x.ndim == 1 else out


def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False, axis=None, size=None, fill_value=None):  # noqa: A002
    """Sorted unique values of ``x`` (flattened when ``axis`` is None), with
    optional first ``index``, ``inverse`` and ``counts`` (int32 tensors);
    ``size`` pads (with ``fill_value``, default the minimum) or truncates."""
    x = _tt(x)
    flat = x.flatten() if axis is None else x
    vals, inverse, counts = torch.unique(flat, sorted=True, return_inverse=True, return_counts=True, dim=axis)
    results = [vals]
    if return_index:
        n = flat.shape[0 if axis is None else axis]
        inv = inverse.reshape(-1) if axis is None else inverse
        first = torch.full((vals.shape[0 if axis is None else axis],), n, dtype=torch.int64)
        first.scatter_reduce_(0, inv, torch.arange(n), reduce="amin")
        results.append(first.to(torch.int32))
    if return_inverse:
        results.append(inverse.reshape(x.shape if axis is None else inverse.shape).to(torch.int32))
    if return_counts:
        results.append(counts.to(torch.int32))
    if size is not None:
        k = vals.numel() if axis is None else vals.shape[axis]
        if k < size:
            fill = vals.min() if fill_value is None else fill_value
            results[0] = torch.cat([vals, torch.full((size - k,), fill, dtype=vals.dtype)]) if axis is None else vals
        else:
            results[0] = vals[:size]
    return results[0] if len(results) == 1 else tuple(results)


# -- statistics ---------------------------------------------------------------
def amax(x, axis=None, keepdims=False):
    """Alias of :func:`kerasish.ops.max`."""
    x = _tt(x)
    axis = _axis(axis)
    out = torch.amax(x) if axis is None else torch.amax(x, dim=axis, keepdim=keepdims)
    return out.reshape((1,) * x.ndim) if axis is None and keepdims else out


def amin(x, axis=None, keepdims=False):
    """Alias of :func:`kerasish.ops.min`."""
    x = _tt(x)
    axis = _axis(axis)
    out = torch.amin(x) if axis is None else torch.amin(x, dim=axis, keepdim=keepdims)
    return out.reshape((1,) * x.ndim) if axis is None and keepdims else out


def ptp(x, axis=None, keepdims=False):
    """Range ``max - min`` over ``axis``."""
    return amax(x, axis, keepdims) - amin(x, axis, keepdims)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (flattened when None)."""
    x = _tt(x)
    if axis is None:
        x, axis = x.flatten(), 0
    dt = to_torch_dtype(dtype, "cumprod") or x.dtype
    if dt == torch.bool:
        dt = torch.int32
    return torch.cumprod(x, dim=axis, dtype=dt)


def diff(a, n=1, axis=-1):
    """``n``-th discrete difference along ``axis``."""
    x = _tt(a)
    if n < 0:
        raise ValueError(f"diff: `n` must be >= 0, got {n}")
    return torch.diff(x, n=n, dim=axis) if n else x


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (floats)."""
    x = _floatify(_tt(x))
    axis = _axis(axis)
    if axis is None:
        out = torch.logsumexp(x.flatten(), 0)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def average(x, axis=None, weights=None):
    """Weighted mean over ``axis``; 1-D ``weights`` run along ``axis``."""
    x = _floatify(_tt(x))
    if weights is None:
        return torch.mean(x) if axis is None else torch.mean(x, dim=axis)
    w = _floatify(_tt(weights))
    x, w = _common(x, w)
    if axis is None:
        if w.shape != x.shape:
            raise ValueError(f"average: `weights` shape {tuple(w.shape)} must equal x's {tuple(x.shape)} when axis is None")
        return (x * w).sum() / w.sum()
    if w.ndim == 1 and x.ndim > 1:
        if w.shape[0] != x.shape[axis]:
            raise ValueError(f"average: 1-D `weights` of length {w.shape[0]} do not match axis {axis} of shape {tuple(x.shape)}")
        shape = [1] * x.ndim
        shape[axis] = -1
        w = w.reshape(shape)
    return (x * w).sum(axis) / w.expand_as(x).sum(axis)


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1], scalar or 1-D: a leading axis)
    over ``axis``, as ``numpy.quantile``."""
    if method not in _METHODS:
        raise ValueError(f"quantile: `method` must be one of {list(_METHODS)}, got {method!r}")
    x = _floatify(_tt(x))
    qt = _tt(q).to(x.dtype)
    if ((qt < 0) | (qt > 1)).any():
        raise ValueError(f"quantile: `q` must be in [0, 1], got {q!r}")
    axis = _axis(axis)
    if axis is None:
        out = torch.quantile(x.flatten(), qt, dim=0, interpolation=method)
        if keepdims:
            out = out.reshape(tuple(qt.shape) + (1,) * x.ndim)
        return out
    axes = (axis,) if isinstance(axis, int) else tuple(a % x.ndim for a in axis)
    axes = tuple(a % x.ndim for a in axes)
    rest = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(rest + list(axes)).reshape([x.shape[d] for d in rest] + [-1])
    out = torch.quantile(moved, qt, dim=-1, interpolation=method)
    if keepdims:
        kshape = [1 if d in axes else x.shape[d] for d in range(x.ndim)]
        out = out.reshape(tuple(qt.shape) + tuple(kshape))
    return out


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]); see :func:`quantile`."""
    qt = _floatify(_tt(q)) / 100.0
    if ((qt < 0) | (qt > 1)).any():
        raise ValueError(f"percentile: `q` must be in [0, 100], got {q!r}")
    return quantile(x, qt, axis=axis, method=method, keepdims=keepdims)


def median(x, axis=None, keepdims=False):
    """The median over ``axis`` (the mean of the two middle values for even counts)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)

