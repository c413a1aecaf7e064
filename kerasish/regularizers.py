"""Keras 3 weight regularizers on torch tensors.

A regularizer is called on a weight tensor and returns a scalar tensor (same
dtype as the weight) to add to the loss, with Keras's formulas:
``L1: l1 * sum(|x|)``, ``L2: l2 * sum(x**2)``, ``L1L2: both``.
The penalty is layout independent except for ``OrthogonalRegularizer``, which
needs a rank-2 tensor in Keras layout ``(in, out)``.

Note (Keras 3): ``l1_l2`` is the ``L1L2`` class itself, so its defaults are
``l1=0.0, l2=0.0`` (not Keras 2's 0.01), while ``L1()``/``L2()`` default to
0.01.
"""

from __future__ import annotations

import math
import numbers

import torch

from kerasish.saving import serialization_lib

__all__ = [
    "Regularizer",
    "L1",
    "L2",
    "L1L2",
    "OrthogonalRegularizer",
    "l1",
    "l2",
    "l1_l2",
    "orthogonal_regularizer",
    "get",
    "serialize",
    "deserialize",
    "ALL_REGULARIZERS",
]

_KERAS_MODULE = "keras.regularizers"


def validate_float_arg(value, name):
    """Return ``value`` as a float, or raise ValueError if not a finite number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def _as_tensor(x):
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float32)


class Regularizer:
    """Base class: subclasses implement ``__call__(x) -> scalar tensor``."""

    def __call__(self, x):
        """The penalty for weight ``x`` (base class: 0)."""
        return 0.0

    @classmethod
    def from_config(cls, config):
        """Build a regularizer from ``get_config()`` output."""
        return cls(**config)

    def get_config(self):
        """JSON-serializable constructor arguments."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement get_config()"
        )

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``; both default to 0.0 (None means 0.0)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = _as_tensor(x)
        out = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1 != 0.0:
            out = out + self.l1 * torch.sum(torch.abs(x))
        if self.l2 != 0.0:
            out = out + self.l2 * torch.sum(torch.square(x))
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``, default ``l1=0.01``."""

    def __init__(self, l1=0.01):
        self.l1 = validate_float_arg(0.01 if l1 is None else l1, name="l1")

    def __call__(self, x):
        x = _as_tensor(x)
        return self.l1 * torch.sum(torch.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)``, default ``l2=0.01``."""

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = _as_tensor(x)
        return self.l2 * torch.sum(torch.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonality of the rows (or columns) of a rank-2 weight.

    ``factor * 0.5 * sum(|off-diagonal of N N^T|) / (n (n-1) / 2)``, i.e.
    ``factor`` times the mean ``|cos|`` over pairs, where ``N`` is the weight
    with L2-normalized rows (``mode="rows"``) or columns (``mode="columns"``).
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = validate_float_arg(factor, name="factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                "Invalid value for argument `mode`. Expected one of "
                f'{{"rows", "columns"}}. Received: mode={mode}'
            )
        self.mode = mode

    def __call__(self, inputs):
        x = _as_tensor(inputs)
        if x.dim() != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: "
                f"inputs.shape={tuple(x.shape)}"
            )
        if self.mode == "columns":
            x = x.T
        # L2-normalize rows as Keras does: x * min(rsqrt(sum x^2), 1/epsilon).
        inv = torch.rsqrt(torch.sum(x * x, dim=1, keepdim=True)).clamp_max(1e7)
        x = x * inv
        product = x @ x.T
        size = x.shape[0]
        off = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras 3 aliases: these ARE the classes.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

#: Names ``get()`` accepts -> class. Keras's set plus "l1_l2".
ALL_REGULARIZERS = {
    "Regularizer": Regularizer,
    "regularizer": Regularizer,
    "L1": L1,
    "l1": L1,
    "L2": L2,
    "l2": L2,
    "L1L2": L1L2,
    "l1l2": L1L2,
    "l1_l2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


serialization_lib.register_builtins("regularizers", _KERAS_MODULE, ALL_REGULARIZERS)


def serialize(regularizer):
    """Keras 3 dict form: ``{"module", "class_name", "config", "registered_name"}``."""
    return serialization_lib.serialize_object_of(regularizer, Regularizer, "regularizer")


def deserialize(config, custom_objects=None):
    """Build a regularizer from a name or a (Keras 2 or 3) config dict."""
    return serialization_lib.deserialize_object_of(config, custom_objects, ALL_REGULARIZERS, "regularizer")


def get(identifier):
    """Resolve a regularizer: None, name, instance, class, config dict or callable."""
    return serialization_lib.get_object(identifier, deserialize, "regularizer")
