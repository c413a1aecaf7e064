"""Comparisons, logic and element-wise math (``keras.ops.equal``,
``logical_and``, ``floor``, ``sin``...) on torch tensors."""

from __future__ import annotations

import torch

from kerasish.ops.core import _tensors, convert_to_tensor


def _pair(x1, x2):
    a, b = _tensors(x1, x2)
    if not isinstance(a, torch.Tensor):
        a = convert_to_tensor(a)
    if not isinstance(b, torch.Tensor):
        b = torch.as_tensor(b, device=a.device)
    return a, b


def _compare(fn):
    def op(x1, x2):
        a, b = _pair(x1, x2)
        return fn(a, b)

    op.__name__ = fn.__name__
    op.__doc__ = f"Element-wise ``{fn.__name__}`` (NumPy broadcasting); a bool tensor."
    return op


equal = _compare(torch.eq)
not_equal = _compare(torch.ne)
greater = _compare(torch.gt)
greater_equal = _compare(torch.ge)
less = _compare(torch.lt)
less_equal = _compare(torch.le)


def _logical(fn):
    def op(x1, x2):
        a, b = _pair(x1, x2)
        return fn(a.bool(), b.bool())

    op.__doc__ = f"Element-wise ``{fn.__name__}`` of the truth values; a bool tensor."
    return op


logical_and = _logical(torch.logical_and)
logical_or = _logical(torch.logical_or)
logical_xor = _logical(torch.logical_xor)


def logical_not(x):
    """Element-wise negation of the truth values; a bool tensor."""
    return torch.logical_not(convert_to_tensor(x).bool())


def _unary(fn, floats=False):
    def op(x):
        t = convert_to_tensor(x)
        if floats and not t.is_floating_point():
            t = t.float()
        return fn(t)

    op.__doc__ = f"Element-wise ``{fn.__name__}``."
    return op


floor = _unary(torch.floor)
ceil = _unary(torch.ceil)
round = _unary(torch.round)  # noqa: A001 - keras.ops.round
sign = _unary(torch.sign)
negative = _unary(torch.neg)
sin = _unary(torch.sin, floats=True)
cos = _unary(torch.cos, floats=True)
tan = _unary(torch.tan, floats=True)
tanh = _unary(torch.tanh, floats=True)
log1p = _unary(torch.log1p, floats=True)
expm1 = _unary(torch.expm1, floats=True)
erf = _unary(torch.erf, floats=True)


def mod(x1, x2):
    """Element-wise remainder with the sign of the divisor (NumPy's ``mod``)."""
    a, b = _pair(x1, x2)
    return torch.remainder(a, b)


def floor_divide(x1, x2):
    """Element-wise floor division."""
    a, b = _pair(x1, x2)
    return torch.floor_divide(a, b)


def _reduce_bool(fn):
    def op(x, axis=None, keepdims=False):
        t = convert_to_tensor(x).bool()
        if axis is None:
            out = fn(t)
            return out.reshape((1,) * t.dim()) if keepdims else out
        return fn(t, dim=axis, keepdim=keepdims)

    return op


any = _reduce_bool(torch.any)  # noqa: A001 - keras.ops.any
all = _reduce_bool(torch.all)  # noqa: A001 - keras.ops.all


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product of the elements (over ``axis``)."""
    t = convert_to_tensor(x)
    if axis is None:
        out = torch.prod(t)
        return out.reshape((1,) * t.dim()) if keepdims else out
    return torch.prod(t, dim=axis, keepdim=keepdims)
