"""Symbolic tensors: what ``Input(...)`` returns and layers pass along while a
graph is being declared. They carry a Keras (channels_last) shape and dtype,
and remember which layer call made them (``_keras_history``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kerasish import tree

# The dtype name of a string input (``Input(shape=(1,), dtype="string")``), as
# Keras writes it in configs. Strings never become torch tensors: they stay
# numpy arrays on the host until a layer that takes strings turns them into ids.
STRING = "string"


class KerasHistory(NamedTuple):
    layer: object
    node_index: int
    tensor_index: int


class KerasTensor:
    """A placeholder for a tensor in a model being declared.

    Args:
        shape: Keras shape, batch axis first, ``None`` for unknown sizes.
        dtype: dtype name, e.g. ``"float32"``, or ``"string"`` for strings.
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


class HostStrings(np.ndarray):
    """A numpy array of strings on its way through a model, on the host.

    A plain numpy array (layers that take strings read it as one) that also
    answers ``dim()``, so the engine's layout steps, written for torch
    tensors, pass it along untouched.

    Example:
        >>> a = as_host_strings(["a great movie", "awful"])
        >>> a.shape, a.dim(), a[:1].tolist()
        ((2,), 1, ['a great movie'])
    """

    def dim(self) -> int:
        return self.ndim

    def permute(self, *axes):
        # rank-4 string data through the NHWC <-> NCHW layout step
        return self.transpose(*axes)


def is_string_data(x) -> bool:
    """Whether ``x`` is string data: a numpy array of str / bytes (or of
    objects, the first a str or bytes), or a non-empty list or tuple whose
    first item is a str or bytes (no walk over the items: this runs once per
    input per batch)."""
    if isinstance(x, np.ndarray):
        kind = x.dtype.kind
        return kind in "US" or (kind == "O" and x.size > 0 and isinstance(x.flat[0], (str, bytes)))
    return isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], (str, bytes))


def as_host_strings(x) -> HostStrings:
    """String data (see :func:`is_string_data`) as a :class:`HostStrings`
    array: a view of a numpy array, a new array for a list."""
    if isinstance(x, HostStrings):
        return x
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.dtype.kind not in "USO":
        arr = np.asarray(x, dtype=object)  # mixed str / other items: kept as objects
    return arr.view(HostStrings)


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
