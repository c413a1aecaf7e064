"""Symbolic tensors: what ``Input(...)`` returns and layers pass along while a
graph is being declared. They carry a Keras (channels_last) shape and dtype,
and remember which layer call made them (``_keras_history``)."""

from __future__ import annotations

from typing import NamedTuple

from kerasish import tree


class KerasHistory(NamedTuple):
    layer: object
    node_index: int
    tensor_index: int


class KerasTensor:
    """A placeholder for a tensor in a model being declared.

    Args:
        shape: Keras shape, batch axis first, ``None`` for unknown sizes.
        dtype: dtype name, e.g. ``"float32"``.
        name: optional name (Keras shows ``keras_tensor_N``).
    """

    _counter = 0

    def __init__(self, shape, dtype="float32", name=None, sparse=False):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        if name is None:
            name = "keras_tensor" if KerasTensor._counter == 0 else f"keras_tensor_{KerasTensor._counter}"
            KerasTensor._counter += 1
        self.name = name
        self.sparse = sparse
        self._keras_history: KerasHistory | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __len__(self):
        raise TypeError("A symbolic KerasTensor has no len(); use .shape[0] once data flows.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")

    def __iter__(self):
        raise TypeError("A symbolic KerasTensor is not iterable.")

    # Keras lets users write ``x + y`` or ``x * 2`` on symbolic tensors. Two
    # tensors make a merging layer; a tensor and a number make a TensorOp.
    def _binary(self, other, merge_name, op_name, reverse=False):
        if isinstance(other, KerasTensor):
            pair = [other, self] if reverse else [self, other]
            return getattr(_layers(), merge_name)()(pair)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return _layers().TensorOp(op_name, other, reverse=reverse)(self)
        return NotImplemented

    def __add__(self, other):
        return self._binary(other, "Add", "add")

    def __radd__(self, other):
        return self._binary(other, "Add", "add", reverse=True)

    def __sub__(self, other):
        return self._binary(other, "Subtract", "subtract")

    def __rsub__(self, other):
        return self._binary(other, "Subtract", "subtract", reverse=True)

    def __mul__(self, other):
        return self._binary(other, "Multiply", "multiply")

    def __rmul__(self, other):
        return self._binary(other, "Multiply", "multiply", reverse=True)

    def __truediv__(self, other):
        if isinstance(other, KerasTensor):
            raise TypeError("Dividing two symbolic tensors is not supported; use a Lambda layer: Lambda(lambda t: t[0] / t[1])([x, y]).")
        return self._binary(other, None, "true_divide")

    def __rtruediv__(self, other):
        return self._binary(other, None, "true_divide", reverse=True)

    def __pow__(self, other):
        if isinstance(other, KerasTensor):
            raise TypeError("Raising a symbolic tensor to a symbolic power is not supported; use a Lambda layer.")
        return self._binary(other, None, "power")

    def __neg__(self):
        return _layers().TensorOp("negative")(self)


def _layers():
    """``kerasish.layers``, whose Add / Subtract / Multiply / TensorOp the
    operators above record."""
    # deferred: engine <-> layers: the operators on symbolic tensors make layers,
    # and every layer is built on this engine (Keras's KerasTensor does the same).
    from kerasish import layers

    return layers


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor of a functional graph (``keras.utils.is_keras_tensor``)."""
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor):
    """The ``Input`` tensors ``tensor`` is computed from, as a list in the order
    the graph reaches them (``keras.utils.get_source_inputs``); a tensor that is
    not symbolic is returned as it is.

    Example:
        >>> import kerasish
        >>> a, b = kerasish.Input((3,)), kerasish.Input((3,))
        >>> get_source_inputs(kerasish.layers.Add()([a, b])) == [a, b]
        True
    """
    if not isinstance(tensor, KerasTensor) or getattr(tensor, "_keras_history", None) is None:
        return tensor
    out = []

    def visit(t):
        layer, node_index, _ = t._keras_history
        node = layer._inbound_nodes[node_index]
        if node.is_input:
            if all(t is not seen for seen in out):
                out.append(t)
            return
        for parent in node.input_tensors:
            visit(parent)

    visit(tensor)
    return out


def any_symbolic(struct) -> bool:
    if isinstance(struct, KerasTensor):
        return True
    if isinstance(struct, (list, tuple)):
        return any(any_symbolic(s) for s in struct)
    if isinstance(struct, dict):
        return any(any_symbolic(s) for s in struct.values())
    return False


# Keras's leaf rules (kerasish.tree): dicts in sorted key order, so a model's
# dict outputs line up with Keras's (layer order, weights, losses given as a
# list); None is a leaf. Aliases, not wrappers: they run per batch.
flatten = tree.flatten
pack_like = tree.pack_sequence_as  # the inverse of flatten
