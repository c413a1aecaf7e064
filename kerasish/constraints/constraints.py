"""Keras 3 weight constraints on torch tensors.

A constraint is a callable ``w -> w'`` that projects a weight back onto an
allowed set. The optimizer calls it after every update, for each trainable
variable that has one, and writes the result back (``v.assign(c(v.value))``).
``w`` is the weight in **Keras layout** (a Dense kernel is ``(in, out)``, a
Conv2D kernel ``(kh, kw, in, out)``), so ``axis`` means what it means in Keras:
``MaxNorm(axis=0)`` on a Dense kernel bounds the norm of the weights going
into each output unit; ``axis=[0, 1, 2]`` on a Conv2D kernel bounds each filter.

The norm formulas are Keras's, including its ``epsilon = 1e-7`` in the
denominator: ``w * clip(norm, lo, hi) / (epsilon + norm)``.
"""

from __future__ import annotations

import torch

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm", "non_neg", "unit_norm"]

_EPSILON = 1e-7


def _as_tensor(w):
    if isinstance(w, torch.Tensor):
        return w
    value = getattr(w, "value", None)  # a kerasish Variable: its Keras-layout value
    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(w, dtype=torch.float32)


def _norms(w, axis):
    dims = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return torch.sqrt(torch.sum(torch.square(w), dim=dims, keepdim=True))


class Constraint:
    """Base class: subclasses implement ``__call__(w) -> projected w``.

    The base class returns ``w`` unchanged. A subclass with constructor
    arguments should return them from ``get_config()`` so that it can be
    saved and rebuilt with ``from_config``.

    Example:
        >>> import torch
        >>> from kerasish import constraints
        >>> class Clip(constraints.Constraint):
        ...     def __init__(self, limit=1.0):
        ...         self.limit = limit
        ...     def __call__(self, w):
        ...         return torch.clamp(w, -self.limit, self.limit)
        ...     def get_config(self):
        ...         return {"limit": self.limit}
        >>> Clip(0.5)(torch.tensor([-2.0, 0.1, 3.0]))
        tensor([-0.5000,  0.1000,  0.5000])
    """

    def __call__(self, w):
        """The projected weight (base class: ``w`` unchanged)."""
        return w

    def get_config(self):
        """JSON-serializable constructor arguments (base class: ``{}``)."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Build a constraint from ``get_config()`` output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Bound the L2 norm of the weights along ``axis`` by ``max_value``.

    Args:
        max_value: the largest allowed norm (default 2).
        axis: int or list of ints, the axes the norm is taken over (Keras
            layout). ``0`` for a Dense kernel ``(in, out)``: each output
            unit's incoming weights; ``[0, 1, 2]`` for a Conv2D kernel.

    Example:
        >>> import torch
        >>> from kerasish.constraints import MaxNorm
        >>> MaxNorm(max_value=1.0)(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Keep the L2 norm of the weights along ``axis`` within ``[min_value, max_value]``.

    The norm is moved to ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``:
    ``rate=1.0`` enforces the bounds exactly, a smaller rate moves part way.

    Args:
        min_value: the smallest allowed norm (default 0.0).
        max_value: the largest allowed norm (default 1.0).
        rate: how far to move towards the bounds at each application.
        axis: int or list of ints, as in :class:`MaxNorm`.

    Example:
        >>> import torch
        >>> from kerasish.constraints import MinMaxNorm
        >>> MinMaxNorm(min_value=1.0, max_value=2.0)(torch.tensor([[0.3], [0.4]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to zero.

    Example:
        >>> import torch
        >>> from kerasish.constraints import NonNeg
        >>> NonNeg()(torch.tensor([-1.0, 0.5]))
        tensor([0.0000, 0.5000])
    """

    def __call__(self, w):
        w = _as_tensor(w)
        return torch.clamp_min(w, 0)


class UnitNorm(Constraint):
    """Scale the weights along ``axis`` to unit L2 norm.

    Args:
        axis: int or list of ints, as in :class:`MaxNorm` (default 0).

    Example:
        >>> import torch
        >>> from kerasish.constraints import UnitNorm
        >>> UnitNorm()(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


# Keras 3 aliases: these ARE the classes.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
