"""Reshape: give every sample a new shape, in Keras (channels_last) axis order."""

from __future__ import annotations

import math

from kerasish.engine import layout
from kerasish.engine.layer import Layer


def _validate_target_shape(target_shape, layer: str = "Reshape") -> tuple:
    """Keras's rules: a tuple of ints, each >= 0 or -1, at most one -1."""
    if isinstance(target_shape, (str, bytes)) or not hasattr(target_shape, "__iter__"):
        raise ValueError(
            f"{layer}: `target_shape` must be a tuple of integers (without the batch axis). Received: target_shape={target_shape!r}"
        )
    shape = tuple(target_shape)
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, int):
            try:
                ok = int(d) == d and not isinstance(d, bool)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"{layer}: `target_shape` must contain integers. Received: target_shape={target_shape!r}")
        if d < -1:
            raise ValueError(
                f"{layer}: each dimension in `target_shape` must be a non-negative integer, or -1 for a single unknown "
                f"dimension. Received: target_shape={shape}."
            )
    shape = tuple(int(d) for d in shape)
    if shape.count(-1) > 1:
        raise ValueError(f"{layer}: there must be at most one unknown dimension (-1) in `target_shape`. Received: target_shape={shape}.")
    return shape


def resolve_reshape(input_shape, target_shape, who: str) -> tuple:
    """Keras's ``compute_reshape_output_shape``: the -1 becomes a size when the
    input's (non-batch) sizes are all known, else ``None``; a size mismatch
    raises ValueError naming ``who`` and ``target_shape``."""
    input_shape = tuple(input_shape)
    if any(d is None for d in input_shape):
        return tuple(None if d == -1 else d for d in target_shape)
    size = math.prod(input_shape)
    if -1 not in target_shape:
        if size != math.prod(target_shape):
            raise ValueError(
                f"{who}: the total size of the tensor must be unchanged. Received: input_shape={input_shape}, "
                f"target_shape={target_shape} ({size} values cannot be reshaped into {math.prod(target_shape)})."
            )
        return target_shape
    known = math.prod(d for d in target_shape if d != -1)
    if known == 0 or size % known != 0:
        raise ValueError(
            f"{who}: the total size of the tensor must be unchanged, however, the input size cannot be divided by the "
            f"specified dimensions in target_shape. Received: input_shape={input_shape}, target_shape={target_shape}."
        )
    return tuple(size // known if d == -1 else d for d in target_shape)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape``, in Keras axis order.

    The values are read in channels_last order, as in Keras, so a model ported
    from Keras gives the same numbers. Inside a model an image tensor (held
    as NCHW over channels_last memory) is first viewed as NHWC, reshaped (a
    view of the same memory whenever torch can make one) and viewed back.

    Args:
        target_shape: tuple of ints, without the batch axis. One entry may be
            ``-1``: it is inferred from the input's size.

    Input shape: anything whose size per sample matches ``target_shape``.
    Output shape: ``(batch, *target_shape)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Reshape
        >>> Reshape((-1, 2, 2))(np.zeros((3, 12))).shape
        torch.Size([3, 3, 2, 2])
    """

    _native_layout = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = _validate_target_shape(target_shape)
        self.built = True  # no state, as in Keras

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 1:
            raise ValueError(f"Layer '{self.name}' (Reshape) expects a tensor input with a batch axis, got shape {input_shape}.")
        resolve_reshape(input_shape[1:], self.target_shape, f"Layer '{self.name}' (Reshape)")

    def native_call(self, inputs, training=False):
        x = layout.to_keras(inputs)
        shape = self.target_shape
        if x.shape[0] == 0 and -1 in shape:  # torch cannot infer a -1 from zero values; Keras resolves it from the shape
            shape = resolve_reshape(tuple(x.shape[1:]), shape, f"Layer '{self.name}' (Reshape)")
        return layout.to_internal(x.reshape((x.shape[0],) + shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + resolve_reshape(input_shape[1:], self.target_shape, f"Layer '{self.name}' (Reshape)")

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["target_shape"] = tuple(config["target_shape"])
        return super().from_config(config)
