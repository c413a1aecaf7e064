"""Keras-style views of a layer's weights.

A kerasish layer keeps its weights where torch wants them (``nn.Conv2d.weight``
as ``(out, in, kh, kw)``); a :class:`Variable` shows one of them the way Keras
does (a conv kernel as ``(kh, kw, in, out)``), so ``get_weights`` /
``set_weights`` exchange arrays with Keras unchanged.
"""

from __future__ import annotations

import operator

import numpy as np
import torch

from kerasish import backend_compat


def _identity(t):
    return t


class KerasLayoutTensor(torch.Tensor):
    """A weight seen in Keras layout (a view of the torch parameter) whose
    ``.grad`` is the parameter's gradient in Keras layout.

    Keras's custom training loop on the torch backend reads
    ``v.value.grad`` after ``loss.backward()``. Where the torch layout is
    Keras's (a bias, ``gamma``), ``value`` is the parameter itself. Where it
    is not (a Dense kernel is ``nn.Linear.weight`` transposed, a conv kernel
    permuted), ``value`` is a view, which autograd never fills: it is not a
    leaf, and the model's forward reads the parameter, not the view. This
    class gives that view a live ``grad``: it reads the parameter's ``.grad``
    (converted to Keras layout, a view of it where the layout allows) and
    writes ``.grad = g`` back in torch layout, so ``model.zero_grad()``,
    ``p.grad = None`` and in-place edits are always seen.

    Every torch operation on it returns a plain tensor (the subclass does not
    propagate), and it stays differentiable: ``value`` inside a custom
    layer's ``call`` or a regularizer back-propagates into the parameter.
    """

    # operations return plain tensors: torch's private disabled impl, gated (with a public fallback) in backend_compat
    __torch_function__ = backend_compat.disabled_torch_function

    @property
    def grad(self):
        source = self.__dict__.get("_kerasish_source")
        if source is None:  # made by torch (a copy, a deepcopy): no parameter behind it
            return torch.Tensor.grad.__get__(self)
        param, to_keras, _ = source
        g = param.grad
        return None if g is None else to_keras(g)

    @grad.setter
    def grad(self, value):
        source = self.__dict__.get("_kerasish_source")
        if source is None:
            torch.Tensor.grad.__set__(self, value)
            return
        param, _, from_keras = source
        if value is not None:
            if tuple(value.shape) != tuple(self.shape):
                raise ValueError(
                    f"Cannot set a gradient of shape {tuple(value.shape)} on a weight of Keras shape {tuple(self.shape)}."
                )
            value = from_keras(value)
        param.grad = value

    @grad.deleter
    def grad(self):
        self.grad = None

    def __repr__(self, *, tensor_contents=None):
        # torch prints a subclass under its class name; show the plain tensor
        return torch.Tensor.__repr__(self.as_subclass(torch.Tensor), tensor_contents=tensor_contents)


def keras_layout_view(param: torch.Tensor, to_keras, from_keras) -> torch.Tensor:
    """``to_keras(param)`` as a :class:`KerasLayoutTensor` tied to ``param``.

    Under torch.export and torch.jit tracing (where a gradient is never
    read from a view, and fake tensors take no subclass) the plain view is
    returned; torch.compile keeps the subclass, so a compiled custom
    train_step reads ``v.value.grad``.
    """
    view = to_keras(param)
    if torch.jit.is_tracing() or backend_compat.is_exporting():
        return view
    view = view.as_subclass(KerasLayoutTensor)
    view.__dict__["_kerasish_source"] = (param, to_keras, from_keras)
    return view


class Variable:
    """One weight of a layer, seen in Keras layout.

    Args:
        owner: the ``nn.Module`` holding the tensor (as a parameter or buffer).
        attr: the attribute name on ``owner`` (looked up on every access, so
            ``model.to(device)`` and ``load_state_dict`` are always seen).
        name: Keras name (``kernel``, ``bias``, ``gamma``, ``moving_mean``...).
        path: ``layer_name/name``.
        to_keras / from_keras: views between torch and Keras layout.
        trainable: whether it is a trainable weight by nature (a parameter,
            not a statistic such as a moving mean).
        layer: the owning kerasish layer (for ``layer.trainable``).
    """

    def __init__(self, owner, attr, name, path, to_keras=_identity, from_keras=_identity, trainable=True, layer=None, regularizer=None, constraint=None):
        self._owner = owner
        self._attr = attr
        self.name = name
        self.path = path
        self._to_keras = to_keras
        self._from_keras = from_keras
        self._trainable = trainable
        self._layer = layer
        self.regularizer = regularizer
        self.constraint = constraint

    # -- the torch side -------------------------------------------------
    @property
    def tensor(self) -> torch.Tensor:
        """The underlying torch tensor (torch layout): a Parameter or buffer."""
        owner, attr = self._owner, self._attr
        # Registered state first: a custom layer may also hold this Variable
        # under the same attribute name (``self.kernel = self.add_weight(name="kernel")``).
        t = owner._parameters.get(attr) if attr in owner._parameters else owner._buffers.get(attr)
        return t if t is not None else getattr(owner, attr)

    # -- the Keras side -------------------------------------------------
    @property
    def value(self) -> torch.Tensor:
        """The weight in Keras layout, differentiable.

        The torch parameter itself where the layouts agree; otherwise a view
        of it (:class:`KerasLayoutTensor`) whose ``.grad`` is the parameter's
        gradient in Keras layout, as Keras's torch backend gives
        ``variable.value.grad``.
        """
        t = self.tensor
        if self._to_keras is _identity:
            return t
        return keras_layout_view(t, self._to_keras, self._from_keras)

    @property
    def grad(self):
        """The gradient in Keras layout (None before ``backward``); setting
        it (Keras layout, or None) sets the torch parameter's ``.grad``."""
        g = self.tensor.grad
        return None if g is None else self._to_keras(g)

    @grad.setter
    def grad(self, value):
        t = self.tensor
        if value is not None:
            if tuple(value.shape) != self.shape:
                raise ValueError(
                    f"Cannot set a gradient of shape {tuple(value.shape)} on weight '{self.path}' of shape {self.shape}."
                )
            value = self._from_keras(value)
        t.grad = value

    @property
    def shape(self) -> tuple:
        return tuple(self._to_keras(torch.empty(self.tensor.shape, device="meta")).shape)

    @property
    def dtype(self) -> str:
        return str(self.tensor.dtype).replace("torch.", "")

    @property
    def trainable(self) -> bool:
        layer_trainable = True if self._layer is None else self._layer.trainable
        return self._trainable and layer_trainable

    @trainable.setter
    def trainable(self, value: bool):
        self._trainable = bool(value)
        t = self.tensor
        if isinstance(t, torch.nn.Parameter):
            t.requires_grad_(self.trainable)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def numpy(self) -> np.ndarray:
        return self.value.detach().cpu().numpy().copy()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def assign(self, value) -> "Variable":
        """Overwrite the weight with ``value`` given in Keras layout."""
        target = self.tensor
        value = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
        if tuple(value.shape) != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to weight '{self.path}' of shape {self.shape}."
            )
        with torch.no_grad():
            target.copy_(self._from_keras(value.to(device=target.device, dtype=target.dtype)))
        return self

    def assign_add(self, delta):
        return self.assign(self.value + torch.as_tensor(delta, device=self.tensor.device))

    def assign_sub(self, delta):
        return self.assign(self.value - torch.as_tensor(delta, device=self.tensor.device))

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"

    # Arithmetic and comparisons on a Variable behave as on its Keras-layout
    # value, as in Keras (``1e-3 * ops.sum(layer.kernel ** 2)``). ``==`` / ``!=``
    # stay identity: Variables are kept in lists and sets.
    def _v(self):
        return self.value

    def __getitem__(self, idx):
        return self._v()[idx]

    def __neg__(self):
        return -self._v()

    def __pos__(self):
        return +self._v()

    def __abs__(self):
        return abs(self._v())


def _unwrap(o):
    return o.value if isinstance(o, Variable) else o


def _binary(op, reflected=False):
    if reflected:
        def method(self, other):
            return op(_unwrap(other), self.value)
    else:
        def method(self, other):
            return op(self.value, _unwrap(other))
    return method


for _name, _op in (
    ("add", operator.add), ("sub", operator.sub), ("mul", operator.mul), ("truediv", operator.truediv),
    ("floordiv", operator.floordiv), ("mod", operator.mod), ("pow", operator.pow), ("matmul", operator.matmul),
):
    setattr(Variable, f"__{_name}__", _binary(_op))
    setattr(Variable, f"__r{_name}__", _binary(_op, reflected=True))
for _name in ("lt", "le", "gt", "ge"):
    setattr(Variable, f"__{_name}__", _binary(getattr(operator, _name)))
del _name, _op
