"""The remaining NumPy-like ``keras.ops``: bitwise ops, float helpers
(``fmod``, ``signbit``, ``heaviside``...), NaN-ignoring reductions
(``nansum``, ``nanmean``...), splits/joins (``array_split``, ``dstack``...),
windows (``hamming``...) and misc (``select``, ``vander``, ``trapezoid``...).

Example:
    >>> from kerasish import ops
    >>> ops.nansum([1.0, float("nan"), 2.0]).item()
    3.0
"""

from __future__ import annotations

import torch

from kerasish.ops.core import _tensors, to_torch_dtype
from kerasish.ops.numpy import _axis, _common, _floatify, _tt, split
from kerasish.ops.numpy_extra import linspace, quantile

__all__ = [
    "angle", "append", "argpartition", "array_split", "bartlett", "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not",
    "bitwise_or", "bitwise_right_shift", "bitwise_xor", "blackman", "corrcoef", "diagflat", "dsplit", "dstack", "empty_like", "erfc",
    "fabs", "fmax", "fmin", "fmod", "gcd", "geomspace", "hamming", "hanning", "heaviside", "histogram", "hsplit", "i0", "isin",
    "isneginf", "isposinf", "isreal", "kaiser", "lcm", "ldexp", "left_shift", "logaddexp2", "logspace", "nanargmax",
    "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod",
    "nanquantile", "nanstd", "nansum", "nanvar", "nextafter", "right_shift", "select", "signbit", "sinc", "trapezoid",
    "unravel_index", "vander", "view_as_complex", "view_as_real", "vsplit",
]


def _weak(v, like):
    """A Python scalar as a tensor of ``like``'s dtype (Keras's weak typing:
    ``int32 tensor & 6`` stays int32); a float with an int tensor gives float32."""
    if isinstance(v, float) and not like.is_floating_point():
        return torch.as_tensor(v, dtype=torch.float32, device=like.device)
    return torch.as_tensor(v, dtype=like.dtype, device=like.device)


def _pair(x1, x2, fn):
    a, b = _tensors(x1, x2)
    if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
        a = _tt(a)
    if not isinstance(a, torch.Tensor):
        a = _weak(a, b)
    if not isinstance(b, torch.Tensor):
        b = _weak(b, a)
    a, b = _common(a, b)
    try:
        torch.broadcast_shapes(a.shape, b.shape)
    except RuntimeError:
        raise ValueError(f"{fn}: cannot broadcast shapes {tuple(a.shape)} and {tuple(b.shape)}") from None
    return a, b


def _int_pair(x1, x2, fn):
    a, b = _pair(x1, x2, fn)
    if a.is_floating_point() or a.is_complex():
        raise ValueError(f"{fn}: expected integer or bool inputs, got {str(a.dtype).replace('torch.', '')}")
    return a, b


# -- bitwise --------------------------------------------------------------
def bitwise_and(x, y):
    """Element-wise ``x & y`` of integer/bool tensors."""
    return torch.bitwise_and(*_int_pair(x, y, "bitwise_and"))


def bitwise_or(x, y):
    """Element-wise ``x | y`` of integer/bool tensors."""
    return torch.bitwise_or(*_int_pair(x, y, "bitwise_or"))


def bitwise_xor(x, y):
    """Element-wise ``x ^ y`` of integer/bool tensors."""
    return torch.bitwise_xor(*_int_pair(x, y, "bitwise_xor"))


def bitwise_invert(x):
    """Element-wise ``~x`` of an integer/bool tensor."""
    x = _tt(x)
    if x.is_floating_point():
        raise ValueError(f"bitwise_invert: expected an integer or bool input, got {str(x.dtype).replace('torch.', '')}")
    return torch.bitwise_not(x)


bitwise_not = bitwise_invert


def bitwise_left_shift(x, y):
    """Element-wise ``x << y``."""
    return torch.bitwise_left_shift(*_int_pair(x, y, "bitwise_left_shift"))


def bitwise_right_shift(x, y):
    """Element-wise ``x >> y`` (arithmetic for signed ints)."""
    return torch.bitwise_right_shift(*_int_pair(x, y, "bitwise_right_shift"))


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


# -- float helpers ------------------------------------------------------------
def erfc(x):
    """Element-wise complementary error function ``1 - erf(x)`` (floats)."""
    return torch.special.erfc(_floatify(_tt(x)))


def fabs(x):
    """Element-wise absolute value as floats."""
    return torch.abs(_floatify(_tt(x)))


def signbit(x):
    """Element-wise: whether the sign bit is set (True for -0.0); a bool tensor."""
    return torch.signbit(_tt(x))


def sinc(x):
    """Element-wise normalised sinc ``sin(pi x) / (pi x)`` (floats)."""
    return torch.sinc(_floatify(_tt(x)))


def i0(x):
    """Element-wise modified Bessel function of order 0 (floats)."""
    return torch.special.i0(_floatify(_tt(x)))


def fmax(x1, x2):
    """Element-wise maximum ignoring NaNs (NaN only where both are NaN)."""
    return torch.fmax(*_pair(x1, x2, "fmax"))


def fmin(x1, x2):
    """Element-wise minimum ignoring NaNs (NaN only where both are NaN)."""
    return torch.fmin(*_pair(x1, x2, "fmin"))


def fmod(x1, x2):
    """Element-wise C-style remainder (the sign of ``x1``)."""
    return torch.fmod(*_pair(x1, x2, "fmod"))


def heaviside(x1, x2):
    """Step function: 0 for ``x1 < 0``, ``x2`` at 0, 1 above."""
    a, b = _pair(x1, x2, "heaviside")
    if a.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return torch.heaviside(a, b)


def ldexp(x1, x2):
    """Element-wise ``x1 * 2**x2`` (``x2`` integer; floats out)."""
    a, b = _tensors(x1, x2)
    a = _floatify(_tt(a))
    b = _tt(b)
    if b.is_floating_point():
        raise ValueError(f"ldexp: `x2` must be an integer tensor, got {str(b.dtype).replace('torch.', '')}")
    return torch.ldexp(a, b.to(a.device)).to(a.dtype)


def gcd(x1, x2):
    """Element-wise greatest common divisor of integers."""
    return torch.gcd(*_int_pair(x1, x2, "gcd"))


def lcm(x1, x2):
    """Element-wise least common multiple of integers."""
    return torch.lcm(*_int_pair(x1, x2, "lcm"))


def logaddexp2(x1, x2):
    """Element-wise ``log2(2**x1 + 2**x2)``, computed stably (floats)."""
    a, b = _pair(_floatify(_tt(x1)), _floatify(_tt(x2)), "logaddexp2")
    return torch.logaddexp2(a, b)


def isneginf(x):
    """Element-wise ``x == -inf``; a bool tensor."""
    return torch.isneginf(_tt(x))


def isposinf(x):
    """Element-wise ``x == +inf``; a bool tensor."""
    return torch.isposinf(_tt(x))


def isreal(x):
    """Element-wise: whether the imaginary part is 0 (always True for real dtypes)."""
    return torch.isreal(_tt(x))


def isin(x1, x2, assume_unique=False, invert=False):
    """Element-wise: whether each value of ``x1`` is in ``x2`` (``invert`` negates)."""
    a, b = _tensors(_tt(x1), _tt(x2))
    a, b = _common(a, b)
    return torch.isin(a, b, assume_unique=assume_unique, invert=invert)


# -- NaN-ignoring reductions ----------------------------------------------------
def _nan_prep(x):
    x = _tt(x)
    return x, (torch.isnan(x) if x.is_floating_point() else torch.zeros_like(x, dtype=torch.bool))


def _reduce(x, fn, axis, keepdims):
    axis = _axis(axis)
    if axis is None:
        out = fn(x.reshape(-1), 0)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return fn(x, axis, keepdims=keepdims) if keepdims else fn(x, axis)


def nansum(x, axis=None, keepdims=False):
    """Sum over ``axis`` treating NaN as 0 (small ints sum to int32)."""
    x, nan = _nan_prep(x)
    x = torch.where(nan, torch.zeros_like(x), x)
    out = _reduce(x, lambda t, a, keepdims=False: torch.sum(t, a, keepdim=keepdims), axis, keepdims)
    return out.to(torch.int32) if not x.is_floating_point() and x.dtype != torch.int64 else out


def nanprod(x, axis=None, keepdims=False):
    """Product over ``axis`` treating NaN as 1."""
    x, nan = _nan_prep(x)
    x = torch.where(nan, torch.ones_like(x), x)
    axis = _axis(axis)
    if isinstance(axis, tuple):
        for a in sorted((a % x.ndim for a in axis), reverse=True):
            x = torch.prod(x, a, keepdim=keepdims)
        return x
    out = _reduce(x, lambda t, a, keepdims=False: torch.prod(t, a, keepdim=keepdims), axis, keepdims)
    return out.to(torch.int32) if not x.is_floating_point() and x.dtype != torch.int64 else out


def nanmean(x, axis=None, keepdims=False):
    """Mean over ``axis`` of the non-NaN values (floats; all-NaN gives NaN)."""
    x = _floatify(_tt(x))
    axis = _axis(axis)
    if axis is None:
        out = torch.nanmean(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.nanmean(x, dim=axis, keepdim=keepdims)


def nanvar(x, axis=None, keepdims=False):
    """Population variance over ``axis`` of the non-NaN values (floats)."""
    x = _floatify(_tt(x))
    mean = nanmean(x, axis, keepdims=True)
    return nanmean((x - mean) ** 2, axis, keepdims)


def nanstd(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis`` of the non-NaN values (floats)."""
    return torch.sqrt(nanvar(x, axis, keepdims))


def _nan_extreme(x, axis, keepdims, largest):
    x = _tt(x)
    if not x.is_floating_point():
        fn = torch.amax if largest else torch.amin
        return _reduce(x, lambda t, a, keepdims=False: fn(t, a, keepdim=keepdims), axis, keepdims)
    fill = float("-inf") if largest else float("inf")
    nan = torch.isnan(x)
    filled = torch.where(nan, torch.full_like(x, fill), x)
    fn = torch.amax if largest else torch.amin
    out = _reduce(filled, lambda t, a, keepdims=False: fn(t, a, keepdim=keepdims), axis, keepdims)
    all_nan = _reduce(nan, lambda t, a, keepdims=False: torch.all(t, a, keepdim=keepdims), axis, keepdims)
    return torch.where(all_nan, torch.full_like(out, float("nan")), out)


def nanmax(x, axis=None, keepdims=False):
    """Maximum over ``axis`` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extreme(x, axis, keepdims, True)


def nanmin(x, axis=None, keepdims=False):
    """Minimum over ``axis`` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extreme(x, axis, keepdims, False)


def _nan_arg(x, axis, keepdims, largest):
    x = _tt(x)
    if x.is_floating_point():
        fill = float("-inf") if largest else float("inf")
        x = torch.where(torch.isnan(x), torch.full_like(x, fill), x)
    fn = torch.argmax if largest else torch.argmin
    return fn(x, dim=axis, keepdim=keepdims).to(torch.int32)


def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum ignoring NaNs (flattened when ``axis`` is None), int32."""
    return _nan_arg(x, axis, keepdims, True)


def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum ignoring NaNs (flattened when ``axis`` is None), int32."""
    return _nan_arg(x, axis, keepdims, False)


def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum treating NaN as 0 (flattened when ``axis`` is None)."""
    x, nan = _nan_prep(x)
    x = torch.where(nan, torch.zeros_like(x), x)
    if axis is None:
        x, axis = x.flatten(), 0
    dt = to_torch_dtype(dtype, "nancumsum") or (torch.int32 if x.dtype == torch.bool else x.dtype)
    return torch.cumsum(x, dim=axis, dtype=dt)


def nancumprod(x, axis=None, dtype=None):
    """Cumulative product treating NaN as 1 (flattened when ``axis`` is None)."""
    x, nan = _nan_prep(x)
    x = torch.where(nan, torch.ones_like(x), x)
    if axis is None:
        x, axis = x.flatten(), 0
    dt = to_torch_dtype(dtype, "nancumprod") or (torch.int32 if x.dtype == torch.bool else x.dtype)
    return torch.cumprod(x, dim=axis, dtype=dt)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """:func:`kerasish.ops.quantile` ignoring NaNs."""
    x = _floatify(_tt(x))
    if not bool(torch.isnan(x).any()):
        return quantile(x, q, axis=axis, method=method, keepdims=keepdims)
    axis = _axis(axis)
    qt = _tt(q).to(x.dtype)
    if axis is None:
        out = torch.nanquantile(x.flatten(), qt, dim=0, interpolation=method)
        return out.reshape(tuple(qt.shape) + (1,) * x.ndim) if keepdims else out
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a % x.ndim for a in axes)
    rest = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(rest + list(axes)).reshape([x.shape[d] for d in rest] + [-1])
    out = torch.nanquantile(moved, qt, dim=-1, interpolation=method)
    if keepdims:
        out = out.reshape(tuple(qt.shape) + tuple(1 if d in axes else x.shape[d] for d in range(x.ndim)))
    return out


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """:func:`kerasish.ops.percentile` ignoring NaNs."""
    return nanquantile(x, _floatify(_tt(q)) / 100.0, axis=axis, method=method, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False):
    """Median over ``axis`` ignoring NaNs."""
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


# -- splits and joins ----------------------------------------------------------
def array_split(x, indices_or_sections, axis=0):
    """Split into ``indices_or_sections`` nearly equal parts (the first ones
    one longer), or at the given indices."""
    x = _tt(x)
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise ValueError(f"array_split: the number of sections must be > 0, got {k}")
        n = x.shape[axis]
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        return list(torch.split(x, sizes, dim=axis))
    return split(x, indices_or_sections, axis=axis)


def hsplit(x, indices_or_sections):
    """:func:`kerasish.ops.split` along axis 1 (axis 0 for 1-D)."""
    x = _tt(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    """:func:`kerasish.ops.split` along axis 0 (at least 2-D)."""
    x = _tt(x)
    if x.ndim < 2:
        raise ValueError(f"vsplit: input must be at least 2-D, got shape {tuple(x.shape)}")
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    """:func:`kerasish.ops.split` along axis 2 (at least 3-D)."""
    x = _tt(x)
    if x.ndim < 3:
        raise ValueError(f"dsplit: input must be at least 3-D, got shape {tuple(x.shape)}")
    return split(x, indices_or_sections, axis=2)


def dstack(xs):
    """Join along axis 2 (inputs made at least 3-D first)."""
    ts = _tensors(*[_tt(v) for v in xs])
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = torch.promote_types(dt, t.dtype)
    try:
        return torch.dstack([t.to(dt) for t in ts])
    except RuntimeError:
        raise ValueError(f"dstack: shapes {[tuple(t.shape) for t in ts]} do not match") from None


def append(x1, x2, axis=None):
    """``x2`` joined after ``x1`` along ``axis`` (both flattened when None)."""
    a, b = _tensors(_tt(x1), _tt(x2))
    a, b = _common(a, b)
    if axis is None:
        return torch.cat([a.flatten(), b.flatten()])
    try:
        return torch.cat([a, b], dim=axis)
    except RuntimeError:
        raise ValueError(f"append: shapes {tuple(a.shape)} and {tuple(b.shape)} do not match outside axis {axis}") from None


def empty_like(x, dtype=None):
    """A tensor shaped like ``x`` (zeros here, for reproducibility)."""
    x = _tt(x)
    return torch.zeros_like(x, dtype=to_torch_dtype(dtype, "empty_like") or x.dtype)


def diagflat(x, k=0):
    """A matrix with the flattened ``x`` on diagonal ``k``."""
    return torch.diagflat(_tt(x), k)


# -- misc ---------------------------------------------------------------------
def select(condlist, choicelist, default=0):
    """Per element, the value from the first ``choicelist`` entry whose
    ``condlist`` entry is true, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: `condlist` and `choicelist` differ in length ({len(condlist)} vs {len(choicelist)})")
    if not condlist:
        raise ValueError("select: `condlist` must not be empty")
    choices = [_tt(c) for c in choicelist]
    dt = choices[0].dtype
    for c in choices[1:]:
        dt = torch.promote_types(dt, c.dtype)
    out = torch.as_tensor(default, dtype=dt)
    for cond, choice in reversed(list(zip(condlist, choices))):
        out = torch.where(_tt(cond).bool(), choice.to(dt), out)
    return out


def unravel_index(indices, shape):
    """The tuple of coordinate tensors of flat ``indices`` into ``shape``."""
    idx = _tt(indices)
    shape = tuple(int(s) for s in shape)
    out = torch.unravel_index(idx.long(), shape)
    return tuple(o.to(idx.dtype) for o in out)


def vander(x, N=None, increasing=False):  # noqa: N803
    """Vandermonde matrix of 1-D ``x``: columns ``x**(N-1), ..., x**0`` (reversed when ``increasing``)."""
    x = _tt(x)
    if x.ndim != 1:
        raise ValueError(f"vander: `x` must be 1-D, got shape {tuple(x.shape)}")
    return torch.vander(x, N=N, increasing=increasing)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (at ``x``, or spacing ``dx``)."""
    y = _floatify(_tt(y))
    if x is None:
        return torch.trapezoid(y, dx=dx, dim=axis)
    xt = _floatify(_tt(x)).to(y.dtype)
    return torch.trapezoid(y, xt, dim=axis)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    exps = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    out = torch.pow(torch.as_tensor(float(base), dtype=exps.dtype), exps)
    dt = to_torch_dtype(dtype, "logspace")
    return out if dt is None else out.to(dt)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values from ``start`` to ``stop`` evenly spaced on a log scale (same signs, non-zero)."""
    lo, hi = _floatify(_tt(start)), _floatify(_tt(stop))
    if bool((lo == 0).any()) or bool((hi == 0).any()):
        raise ValueError("geomspace: `start` and `stop` must be non-zero")
    sign = torch.sign(lo)
    out = sign * torch.pow(10.0, linspace(torch.log10(torch.abs(lo)), torch.log10(torch.abs(hi)), num, endpoint=endpoint, axis=0))
    if num > 0:
        out[0] = lo
        if endpoint and num > 1:
            out[-1] = hi
    if axis != 0:
        out = torch.movedim(out, 0, axis)
    dt = to_torch_dtype(dtype, "geomspace")
    return out if dt is None else out.to(dt)


def _window(name, fn):
    def op(x):
        n = int(x)
        if n < 0:
            raise ValueError(f"{name}: the window length must be >= 0, got {x!r}")
        if n == 1:
            return torch.ones(1, dtype=torch.float32)
        return fn(n, periodic=False, dtype=torch.float32)

    op.__name__ = name
    op.__doc__ = f"The symmetric {name} window of length ``x`` (float32), as ``numpy.{name}``."
    return op


bartlett = _window("bartlett", torch.bartlett_window)
blackman = _window("blackman", torch.blackman_window)
hamming = _window("hamming", torch.hamming_window)
hanning = _window("hanning", torch.hann_window)


def kaiser(x, beta):
    """The symmetric Kaiser window of length ``x`` and shape ``beta`` (float32)."""
    n = int(x)
    if n < 0:
        raise ValueError(f"kaiser: the window length must be >= 0, got {x!r}")
    if n == 1:
        return torch.ones(1, dtype=torch.float32)
    return torch.kaiser_window(n, periodic=False, beta=float(beta), dtype=torch.float32)



def corrcoef(x):
    """Pearson correlation matrix of the rows of ``x`` (variables x observations)."""
    x = _tt(x)
    if x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.corrcoef(_floatify(x))


def argpartition(x, kth, axis=-1):
    """Indices (int32) that partition ``x`` along ``axis``: the ``kth``
    element in its sorted place, smaller ones before it and larger ones after
    (a full stable argsort is one such partition)."""
    x = _tt(x)
    if axis is None:
        x, axis = x.flatten(), 0
    n = x.shape[axis]
    if not -n <= kth < n:
        raise ValueError(f"argpartition: `kth`={kth} is out of range for axis {axis} of shape {tuple(x.shape)}")
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def histogram(x, bins=10, range=None):  # noqa: A002 - keras's name
    """Counts of the 1-D ``x`` in ``bins`` equal bins over ``range`` (default:
    its min and max); returns ``(counts, bin_edges)`` as float tensors."""
    x = _floatify(_tt(x))
    if x.ndim != 1:
        raise ValueError(f"histogram: `x` must be 1-D, got shape {tuple(x.shape)}")
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"histogram: `bins` must be a positive int, got {bins!r}")
    if range is not None and (len(range) != 2 or range[0] > range[1]):
        raise ValueError(f"histogram: `range` must be (min, max) with min <= max, got {range!r}")
    kw = {} if range is None else {"range": (float(range[0]), float(range[1]))}
    out = torch.histogram(x.cpu(), bins=bins, **kw)
    return out.hist.to(x.device), out.bin_edges.to(x.device)


def angle(x):
    """Element-wise complex argument (0 or pi for real inputs; floats)."""
    x = _tt(x)
    return torch.angle(x if x.is_complex() else _floatify(x))


def nextafter(x1, x2):
    """Element-wise next float after ``x1`` towards ``x2`` (float32 for ints)."""
    a, b = _pair(_floatify(_tt(x1)), _floatify(_tt(x2)), "nextafter")
    return torch.nextafter(a, b)


def view_as_complex(x):
    """A complex tensor from ``x`` of shape ``(..., 2)`` (real, imaginary)."""
    x = _floatify(_tt(x))
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(f"view_as_complex: the last axis must have size 2, got shape {tuple(x.shape)}")
    return torch.view_as_complex(x.contiguous())


def view_as_real(x):
    """``(..., 2)`` real/imaginary parts of the complex ``x``."""
    x = _tt(x)
    if not x.is_complex():
        raise ValueError(f"view_as_real: expected a complex input, got {str(x.dtype).replace('torch.', '')}")
    return torch.view_as_real(x).clone()


def view(x, dtype=None):
    """The same memory read as ``dtype`` (bit reinterpretation, numpy's ``view``).

    A narrower dtype lengthens the last axis, a wider one shortens it (its size
    must divide). ``dtype=None`` gives ``x`` unchanged.

    Example:
        >>> from kerasish import ops
        >>> ops.view(ops.convert_to_tensor([1.0]), "int32").tolist()
        [1065353216]
    """
    t = _tt(x)
    if dtype is None:
        return t
    dt = to_torch_dtype(dtype, "view")
    old, new = t.element_size(), torch.empty((), dtype=dt).element_size()
    if old != new and (t.ndim == 0 or (t.shape[-1] * old) % new or t.stride(-1) != 1):
        raise ValueError(f"view: cannot view {str(t.dtype).replace('torch.', '')} of shape {tuple(t.shape)} as "
                         f"{str(dt).replace('torch.', '')}: the last axis ({t.shape[-1] if t.ndim else 'none'} x {old} bytes) "
                         f"must be contiguous and a multiple of {new} bytes")
    return t.view(dt)
