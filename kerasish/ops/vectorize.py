"""``keras.ops.vectorize``: numpy's ``vectorize`` on ``torch.vmap``.

The wrapped function sees one element (or one core block, with a gufunc
``signature``) at a time as a tensor; the loop over the broadcast batch axes is
a single ``torch.vmap`` over them flattened, so it runs as batched torch ops,
not a Python loop.

Example:
    >>> from kerasish import ops
    >>> f = ops.vectorize(lambda a, b: a * b + 1)
    >>> f(ops.ones((2, 3)), ops.arange(3.0)).tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
"""

from __future__ import annotations

import functools
import re

import torch

from kerasish.ops.numpy import _tt

_DIMS = r"\(\s*(?:\w+(?:\s*,\s*\w+)*)?\s*\)"
_SIGNATURE = re.compile(rf"^\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*->\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*$")


def _parse_signature(signature):
    if not _SIGNATURE.match(signature):
        raise ValueError(f"vectorize: `signature` must look like '(m,n),(n)->(m)', got {signature!r}")
    ins, outs = signature.split("->")

    def groups(s):
        return [tuple(d for d in re.split(r"\s*,\s*", g.strip()) if d) for g in re.findall(r"\(([^)]*)\)", s)]

    return groups(ins), groups(outs)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Makes ``pyfunc`` of single elements (or core blocks) apply over broadcast batch axes.

    Args:
        pyfunc: a function of tensors written with torch / kerasish.ops operations.
        excluded: positions (ints) or keyword names (strs) passed through unvectorized.
        signature: a gufunc signature such as ``"(m,n),(n)->(m)"``; the named
            trailing axes are the core axes ``pyfunc`` sees whole. Without one
            every argument's core is a scalar.

    Returns:
        The vectorized function.

    Example:
        >>> from kerasish import ops
        >>> mv = ops.vectorize(lambda m, v: ops.matmul(m, v), signature="(m,n),(n)->(m)")
        >>> mv(ops.ones((4, 2, 3)), ops.ones((3,))).shape
        torch.Size([4, 2])
    """
    if not callable(pyfunc):
        raise TypeError(f"vectorize: `pyfunc` must be callable, got {type(pyfunc).__name__}")
    excluded = set(excluded or ())
    core = _parse_signature(signature) if signature is not None else None

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        fixed_pos = {i: a for i, a in enumerate(args) if i in excluded or a is None}
        fixed_kw = {k: v for k, v in kwargs.items() if k in excluded}
        vec_kw = sorted(k for k in kwargs if k not in excluded)
        positions = [i for i in range(len(args)) if i not in fixed_pos]
        tensors = [_tt(args[i]) for i in positions] + [_tt(kwargs[k]) for k in vec_kw]
        if core is None:
            in_core = [()] * len(tensors)
        else:
            in_core = core[0]
            if len(in_core) != len(tensors):
                raise ValueError(f"vectorize: signature {signature!r} takes {len(in_core)} vectorized arguments, got {len(tensors)}")
        sizes = {}
        batch_shapes = []
        for n, (t, dims) in enumerate(zip(tensors, in_core)):
            if t.ndim < len(dims):
                raise ValueError(f"vectorize: argument {n} of shape {tuple(t.shape)} has fewer axes than its core dims {dims}")
            for d, s in zip(dims, t.shape[t.ndim - len(dims):]):
                if sizes.setdefault(d, s) != s:
                    raise ValueError(f"vectorize: core dim {d!r} is {sizes[d]} in one argument and {s} in argument {n}")
            batch_shapes.append(t.shape[: t.ndim - len(dims)])
        try:
            batch = torch.broadcast_shapes(*batch_shapes)
        except RuntimeError:
            raise ValueError(f"vectorize: the batch axes {[tuple(s) for s in batch_shapes]} do not broadcast") from None
        flat = [t.expand(*batch, *t.shape[t.ndim - len(d):]).reshape(-1, *t.shape[t.ndim - len(d):])
                for t, d in zip(tensors, in_core)]

        def one(*items):
            pos = list(items[: len(positions)])
            call_args = [fixed_pos[i] if i in fixed_pos else pos.pop(0) for i in range(len(args))]
            call_kw = dict(fixed_kw, **dict(zip(vec_kw, items[len(positions):])))
            return pyfunc(*call_args, **call_kw)

        out = torch.vmap(one)(*flat)
        many = isinstance(out, (tuple, list))
        outs = [o.reshape(*batch, *o.shape[1:]) for o in (out if many else [out])]
        if core is not None:
            for o, dims in zip(outs, core[1]):
                got = tuple(o.shape[o.ndim - len(dims):]) if dims else ()
                want = tuple(sizes.get(d, g) for d, g in zip(dims, got))
                if o.ndim - len(batch) != len(dims) or got != want:
                    raise ValueError(f"vectorize: an output has core shape {tuple(o.shape[len(batch):])}, the signature says {dims}")
        return type(out)(outs) if many else outs[0]

    return wrapped
