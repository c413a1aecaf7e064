"""TensorOp: arithmetic between a symbolic tensor and a number (``x * 2``,
``1 - x``, ``-x``, ``x / 255.0``, ``x ** 2``) recorded as a layer, as Keras
records its operations."""

from __future__ import annotations

import operator

from kerasish.engine.layer import Layer
from kerasish.engine.naming import unique_name

_OPS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "true_divide": operator.truediv,
    "power": operator.pow,
    "negative": lambda x, _: -x,
}


class TensorOp(Layer):
    """``op(x, constant)`` (or ``op(constant, x)`` when ``reverse``) elementwise.

    Args:
        op: one of ``add``, ``subtract``, ``multiply``, ``true_divide``, ``power``, ``negative``.
        constant: the Python number on the other side.
        reverse: the number is the left operand (``1 - x``).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> import kerasish
        >>> x = kerasish.Input((3,))
        >>> (x * 2).shape
        (None, 3)
    """

    _native_layout = True

    def __init__(self, op, constant=None, reverse=False, **kwargs):
        if op not in _OPS:
            raise ValueError(f"TensorOp: unknown `op` {op!r}; known: {sorted(_OPS)}")
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(op)
        super().__init__(**kwargs)
        if constant is not None and not isinstance(constant, (int, float)):
            raise TypeError(f"TensorOp: `constant` must be a Python number, got {type(constant).__name__}")
        self.op, self.constant, self.reverse = op, constant, bool(reverse)
        self._fn = _OPS[op]

    def native_call(self, inputs, training=False):
        if self.reverse:
            return self._fn(self.constant, inputs)
        return self._fn(inputs, self.constant)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "op": self.op, "constant": self.constant, "reverse": self.reverse}
