"""Control-flow ops of ``keras.ops`` (``cond``, ``switch``, ``while_loop``,
``fori_loop``, ``scan``, ``map``, ``vectorized_map``, ``stop_gradient``).

Eager torch runs Python control flow directly, so these are plain loops
with Keras's calling conventions (tuples of loop variables, nested ``init``
structures for ``scan``...). Gradients flow through them as usual.

Example:
    >>> from kerasish import ops
    >>> ops.fori_loop(0, 4, lambda i, s: s + i, 0)
    6
"""

from __future__ import annotations

import torch

from kerasish import tree
from kerasish.ops.core import convert_to_tensor


def stop_gradient(variable):
    """``variable`` cut off from autograd (a detached tensor)."""
    return convert_to_tensor(variable).detach()


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` is true, else ``false_fn()``."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``; ``index`` is clamped into range, as Keras."""
    if not branches:
        raise ValueError("switch: `branches` must not be empty")
    i = min(max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most
    ``maximum_iterations`` times). A tuple/list ``loop_vars`` is unpacked into
    the calls and a tuple comes back; a single value is passed and returned as is."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    state = tree.map_structure(convert_to_tensor, state)
    i = 0
    while (maximum_iterations is None or i < maximum_iterations) and bool(cond(*state)):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        i += 1
    return state if is_tuple else state[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns ``val``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def _leading(xs, fn):
    flat = [convert_to_tensor(x) for x in tree.flatten(xs)]
    if not flat:
        raise ValueError(f"{fn}: `xs` has no tensors")
    n = flat[0].shape[0]
    if any(t.shape[0] != n for t in flat):
        raise ValueError(f"{fn}: all `xs` need the same leading size, got {[tuple(t.shape) for t in flat]}")
    return flat, n


def _stack_outputs(outs):
    if not outs:
        return None
    return tree.map_structure(lambda *ys: torch.stack([convert_to_tensor(y) for y in ys]), *outs)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs`` (nested
    structures allowed; ``xs=None`` runs ``length`` steps with ``x=None``);
    returns ``(final_carry, stacked_ys)``."""
    if xs is None:
        if length is None:
            raise ValueError("scan: give `xs` or `length`")
        flat, n = None, int(length)
    else:
        flat, n = _leading(xs, "scan")
        if length is not None and length != n:
            raise ValueError(f"scan: `length`={length} does not match the leading size {n} of `xs`")
    carry, ys = tree.map_structure(convert_to_tensor, init), []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = None if flat is None else tree.pack_sequence_as(xs, [t[i] for t in flat])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, _stack_outputs(ys)


def map(f, xs):  # noqa: A001 - keras's name
    """``f`` applied to each slice of ``xs`` along the leading axis, the results stacked."""
    flat, n = _leading(xs, "map")
    return _stack_outputs([f(tree.pack_sequence_as(xs, [t[i] for t in flat])) for i in range(n)])


def vectorized_map(function, elements):
    """``function`` over the leading axis of ``elements`` (as :func:`map`)."""
    return map(function, elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with the associative ``f(a, b)`` along ``axis`` of
    ``elems`` (a tensor or nested structure of same-length tensors):
    ``out[i] = f(out[i-1], elems[i])`` (from the end when ``reverse``)."""
    flat = [convert_to_tensor(t) for t in tree.flatten(elems)]
    if not flat:
        raise ValueError("associative_scan: `elems` has no tensors")
    n = flat[0].shape[axis]
    if any(t.shape[axis] != n for t in flat):
        raise ValueError(f"associative_scan: all `elems` need the same size along axis {axis}, got {[tuple(t.shape) for t in flat]}")
    order = range(n - 1, -1, -1) if reverse else range(n)
    outs, acc = [None] * n, None
    for i in order:
        cur = tree.pack_sequence_as(elems, [t.select(axis, i) for t in flat])
        acc = cur if acc is None else f(acc, cur)
        outs[i] = acc
    if n == 0:
        return elems
    return tree.map_structure(lambda *ys: torch.stack([convert_to_tensor(y) for y in ys], dim=axis), *outs)


def custom_gradient(f):
    """Decorate ``f(*args) -> (output, grad_fn)`` so autograd uses
    ``grad_fn(upstream)`` (the gradients w.r.t. each argument, one tensor or
    a tuple) instead of differentiating ``f``.

    Example:
        >>> import torch
        >>> @custom_gradient
        ... def clip_grad(x):
        ...     return x * 1.0, lambda upstream: upstream.clamp(-1, 1)
        >>> x = torch.tensor([3.0], requires_grad=True)
        >>> (clip_grad(x) * 5).sum().backward(); x.grad.tolist()
        [1.0]
    """

    class _Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            out, grad_fn = f(*xs)
            ctx.grad_fn = grad_fn
            return out

        @staticmethod
        def backward(ctx, upstream):
            grads = ctx.grad_fn(upstream)
            return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)

    def wrapper(*args):
        return _Fn.apply(*[convert_to_tensor(a) for a in args])

    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper
