"""Keras-style views of a layer's weights.

A kerasish layer keeps its weights where torch wants them (``nn.Conv2d.weight``
as ``(out, in, kh, kw)``); a :class:`Variable` shows one of them the way Keras
does (a conv kernel as ``(kh, kw, in, out)``), so ``get_weights`` /
``set_weights`` exchange arrays with Keras unchanged.
"""

from __future__ import annotations

import numpy as np
import torch


def _identity(t):
    return t


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
        """The weight in Keras layout (a view when the layout allows)."""
        return self._to_keras(self.tensor)

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

    # Arithmetic on a Variable behaves like on its Keras-layout value, as in Keras.
    def _v(self):
        return self.value

    def __add__(self, o):
        return self._v() + (o._v() if isinstance(o, Variable) else o)

    __radd__ = __add__

    def __sub__(self, o):
        return self._v() - (o._v() if isinstance(o, Variable) else o)

    def __rsub__(self, o):
        return o - self._v()

    def __mul__(self, o):
        return self._v() * (o._v() if isinstance(o, Variable) else o)

    __rmul__ = __mul__

    def __matmul__(self, o):
        return self._v() @ (o._v() if isinstance(o, Variable) else o)

    def __rmatmul__(self, o):
        return o @ self._v()

    def __neg__(self):
        return -self._v()

    def __getitem__(self, idx):
        return self._v()[idx]
