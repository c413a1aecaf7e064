"""InputLayer and ``Input()``: where a functional model's graph starts."""

from __future__ import annotations

from kerasish.engine.keras_tensor import KerasTensor
from kerasish.engine.layer import Layer, _dtype_name, as_shape_tuple
from kerasish.engine.node import Node


class InputLayer(Layer):
    """The layer behind ``Input``; it holds no weights and computes nothing.

    Args:
        shape: shape of one sample, batch axis excluded, e.g. ``(100, 100, 3)``.
        batch_size: optional fixed batch size.
        dtype: dtype of the input (``"float32"``); ``"string"`` for strings,
            which stay numpy arrays on the host and may only go to layers
            that take strings (TextVectorization, StringLookup, Hashing,
            HashedCrossing).
        batch_shape: the full shape, batch axis included (instead of ``shape``).
        name: layer name (default ``input_layer``, made unique).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, input_tensor=None, name=None, optional=False, ragged=None, **kwargs):
        for legacy in ("input_shape", "batch_input_shape"):
            if legacy in kwargs:
                value = kwargs.pop(legacy)
                if legacy == "input_shape" and shape is None:
                    shape = value
                elif batch_shape is None:
                    batch_shape = value
        super().__init__(name=name, dtype=dtype, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("InputLayer: pass `shape` or `batch_shape`, not both.")
        if batch_shape is not None:
            batch_shape = as_shape_tuple(batch_shape)
        elif shape is not None:
            if isinstance(shape, int):
                shape = (shape,)
            try:
                shape = as_shape_tuple(shape)
            except (TypeError, ValueError):
                raise ValueError(f"InputLayer: `shape` must be a tuple of ints or None, got {shape!r}") from None
            batch_shape = (batch_size,) + shape
        else:
            raise ValueError("InputLayer: `shape` (or `batch_shape`) is required, e.g. Input(shape=(28, 28, 1)).")
        if any(d is not None and d < 0 for d in batch_shape):
            raise ValueError(f"InputLayer: negative size in shape {batch_shape}")
        self.batch_shape = batch_shape
        self._dtype = _dtype_name(dtype)
        self.sparse = bool(sparse)
        self.optional = optional
        self.built = True
        output = KerasTensor(batch_shape, dtype=self._dtype, name=self.name)
        Node(self, (), {}, output)
        self._output_tensor = output

    def get_config(self):
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": self._dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }

    def native_call(self, inputs, training=False):
        return inputs

    def call(self, inputs, training=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None, optional=False):
    """A symbolic input: where a functional model's graph starts.

    Args:
        shape: shape of one sample, batch axis excluded.
        batch_size: optional fixed batch size.
        dtype: ``"float32"`` by default; an integer dtype for ids, ``"string"``
            for raw strings (see :class:`InputLayer`).
        sparse, batch_shape, name, tensor, optional: as Keras's ``Input``.

    Example:
        >>> Input((100, 100, 3)).shape
        (None, 100, 100, 3)
        >>> Input(shape=(1,), dtype="string").dtype
        'string'
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape, name=name, optional=optional)
    return layer._output_tensor
