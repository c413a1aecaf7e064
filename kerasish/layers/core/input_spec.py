"""InputSpec: what a layer expects of its inputs (rank, dtype, sizes), as Keras's."""

from __future__ import annotations

import torch

from kerasish import tree


def _dtype_name(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    name = getattr(dtype, "name", dtype) if not isinstance(dtype, str) else dtype
    return str(name)


def _shape(shape):
    return tuple(None if d is None else int(d) for d in shape)


class InputSpec:
    """The rank, dtype and sizes a layer expects of one input.

    A layer may keep one (or a list, one per input) as ``layer.input_spec``; kerasish's
    layers check their inputs themselves, and :func:`assert_input_compatibility` checks
    inputs against specs with Keras's rules and messages.

    Args:
        dtype: the expected dtype name (e.g. ``"float32"``), or None.
        shape: the expected shape (batch first, ``None`` for any size); sets ``ndim``.
        ndim: the expected rank.
        max_ndim / min_ndim: bounds on the rank.
        axes: dict mapping an axis to its expected size, e.g. ``{-1: 16}``.
        allow_last_axis_squeeze: accept a trailing axis of size 1 more or less.
        name: the input's name (for dict inputs).
        optional: whether the input may be None.

    Example:
        >>> from kerasish.layers import InputSpec
        >>> InputSpec(ndim=3, axes={-1: 8})
        InputSpec(ndim=3, axes={-1: 8})
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None, allow_last_axis_squeeze=False,
                 name=None, optional=False):
        self.dtype = _dtype_name(dtype)
        if shape is not None:
            self.shape = _shape(shape)
            self.ndim = len(self.shape)
        else:
            self.ndim = ndim
            self.shape = None
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError(f"InputSpec: argument `axes` must be a dict with integer keys. Received: axes={axes!r}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError(f"InputSpec: axis {max(self.axes)} is greater than the maximum allowed value: {max_dim}")

    def __repr__(self):
        parts = [
            f"dtype={self.dtype}" if self.dtype else "",
            f"shape={self.shape}" if self.shape else "",
            f"ndim={self.ndim}" if self.ndim else "",
            f"max_ndim={self.max_ndim}" if self.max_ndim else "",
            f"min_ndim={self.min_ndim}" if self.min_ndim else "",
            f"axes={self.axes}" if self.axes else "",
        ]
        return f"InputSpec({', '.join(p for p in parts if p)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim, "min_ndim": self.min_ndim,
                "axes": self.axes, "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raise ValueError (Keras's messages) where ``inputs`` (tensors, KerasTensors or a
    nested structure of them) do not meet ``input_spec`` (an InputSpec, a list of them or None)."""
    if not input_spec:
        return
    specs = tree.flatten(input_spec)
    if isinstance(inputs, dict):
        names = [s.name for s in specs]
        if all(names):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f'Missing data for input "{missing[0]}". You passed a data dictionary with keys {list(inputs)}. '
                                 f"Expected the following keys: {names}")
            inputs = [inputs[n] for n in names]
    flat = tree.flatten(inputs)
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(flat)} input tensors.')
    for i, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(f"Inputs to a layer should be tensors. Got '{x!r:.100}' (of type {type(x)}) as input for layer '{layer_name}'.")
        shape = _shape(x.shape)
        ndim = len(shape)
        where = f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible with the layer"
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(f"{where}: expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{where}: expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{where}: expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape}")
        if spec.dtype is not None and _dtype_name(x.dtype) != spec.dtype:
            raise ValueError(f"{where}: expected dtype={spec.dtype}, found dtype={_dtype_name(x.dtype)}")
        for axis, value in spec.axes.items():
            if value is not None and -ndim <= axis < ndim and shape[axis] not in (value, None):
                raise ValueError(f"{where}: expected axis {axis} of input shape to have value {value}, but received input with shape {shape}")
        if spec.shape is not None:
            spec_shape, got = spec.shape, shape
            if spec.allow_last_axis_squeeze:
                got = got[:-1] if got and got[-1] == 1 else got
                spec_shape = spec_shape[:-1] if spec_shape and spec_shape[-1] == 1 else spec_shape
            for s, d in zip(spec_shape, got):
                if s is not None and d is not None and s != d:
                    raise ValueError(f"{where}: expected shape={spec.shape}, found shape={shape}")
