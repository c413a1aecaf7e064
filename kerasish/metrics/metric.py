"""The ``Metric`` base class: state kept as torch tensors on the data's device.

A metric accumulates state over batches with ``update_state(...)`` and
reports it with ``result()``. In kerasish the state is a set of plain torch
tensors made by :meth:`Metric.add_variable`; they live on the CPU until the
first ``update_state`` call, then move (once) to the device of the data it
receives (or to where :meth:`Metric.to` sends them). ``update_state`` and
``result`` never read a value back to the host, so a training loop can update
metrics every step without a device sync; only turning the result into a
Python number (``float(m.result())``) syncs.

``update_state`` and ``result`` of every subclass run under
``torch.no_grad()``: metric state never holds on to an autograd graph.

Write a custom metric as in Keras, updating state in place (or by
re-assigning the attribute)::

    class CountPositives(kerasish.metrics.Metric):
        def __init__(self, name="count_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.count = self.add_variable((), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.add_((y_pred > 0).sum())   # or: self.count = self.count + ...

        def result(self):
            return self.count
"""

from __future__ import annotations

import functools

import torch

from kerasish import initializers
from kerasish.engine.naming import to_snake_case, unique_name
from kerasish.losses.loss import torch_float_dtype
from kerasish.engine.layer import _dtype_name

__all__ = ["Metric"]


def _first_device(args, kwargs):
    """The device of the prediction (2nd positional argument) or of the first tensor."""
    if len(args) >= 2 and isinstance(args[1], torch.Tensor):
        return args[1].device
    for a in args:
        if isinstance(a, torch.Tensor):
            return a.device
    for a in kwargs.values():
        if isinstance(a, torch.Tensor):
            return a.device
    return None


def _wrap_update_state(fn):
    @functools.wraps(fn)
    def update_state(self, *args, **kwargs):
        d = self.__dict__
        if d.get("_in_update", False):
            return fn(self, *args, **kwargs)
        if "_variables" not in d:
            self._check_super_called()
        device = _first_device(args, kwargs)
        if device is not None and device != d.get("_device"):
            self.to(device)
        d["_in_update"] = True
        try:
            with torch.no_grad():
                return fn(self, *args, **kwargs)
        finally:
            d["_in_update"] = False

    update_state._kerasish_wrapped = True
    return update_state


def _wrap_no_grad(fn):
    @functools.wraps(fn)
    def wrapped(self, *args, **kwargs):
        with torch.no_grad():
            return fn(self, *args, **kwargs)

    wrapped._kerasish_wrapped = True
    return wrapped


class Metric:
    """Base class of every metric.

    Args:
        dtype: dtype of the state and the result (default ``"float32"``).
        name: the metric's name (default: the class name in snake case,
            made unique as Keras does).

    Subclasses implement ``update_state(*args, **kwargs)`` and ``result()``
    and make their state with :meth:`add_variable`. Calling the metric
    (``m(y_true, y_pred)``) updates it and returns ``result()``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fn = cls.__dict__.get("update_state")
        if fn is not None and not getattr(fn, "_kerasish_wrapped", False):
            cls.update_state = _wrap_update_state(fn)
        fn = cls.__dict__.get("result")
        if fn is not None and not getattr(fn, "_kerasish_wrapped", False):
            cls.result = _wrap_no_grad(fn)

    def __init__(self, dtype=None, name=None):
        d = self.__dict__
        d["_variables"] = []
        d["_variable_names"] = []
        d["_metrics"] = []
        d["_device"] = torch.device("cpu")
        d["_in_update"] = False
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype_name = _dtype_name(dtype)
        self._torch_dtype = torch_float_dtype(self._dtype_name)

    # -- attribute tracking -------------------------------------------------
    def __setattr__(self, key, value):
        d = self.__dict__
        if "_variables" in d:
            if isinstance(value, Metric) and value is not self and all(value is not m for m in d["_metrics"]):
                d["_metrics"].append(value)
            elif isinstance(value, torch.Tensor):
                old = d.get(key)
                if isinstance(old, torch.Tensor) and old is not value:
                    variables = d["_variables"]
                    for i, v in enumerate(variables):
                        if v is old:
                            variables[i] = value
                            break
        object.__setattr__(self, key, value)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` method. Go add it!")

    # -- state --------------------------------------------------------------
    @property
    def dtype(self) -> str:
        """The metric's dtype name (``"float32"``)."""
        return self._dtype_name

    @property
    def device(self) -> torch.device:
        """Where the state lives now."""
        return self.__dict__["_device"]

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Make a state tensor, register it on the metric and return it.

        Args:
            shape: the tensor's shape (``()`` for a scalar).
            initializer: an initializer name, object or callable (``"zeros"``).
            dtype: its dtype (default: the metric's dtype).
            aggregation: accepted for Keras compatibility (``"sum"``,
                ``"mean"``, ``"only_first_replica"``, ``"none"``); kept in
                ``variable_aggregations`` for distributed training code.
            name: a name for it (``variable_names``).

        The tensor is made on the metric's current device. Update it in place
        (``t.add_(...)``) or re-assign the attribute that holds it.
        """
        self._check_super_called()
        if aggregation not in ("none", "mean", "sum", "only_first_replica", None):
            raise ValueError(
                "Invalid value for argument `aggregation`. Expected one of "
                f"'none', 'mean', 'sum', 'only_first_replica'. Received: aggregation={aggregation!r}"
            )
        tdtype = torch_float_dtype(dtype) if dtype is not None else self._torch_dtype
        shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
        device = self.__dict__["_device"]
        if initializer is None or (isinstance(initializer, str) and initializer.lower() == "zeros"):
            value = torch.zeros(shape, dtype=tdtype, device=device)
        else:
            init = initializers.get(initializer)
            value = torch.as_tensor(init(shape, dtype=str(tdtype).replace("torch.", ""))).to(device=device, dtype=tdtype)
        value = _with_assign(value)
        self._variables.append(value)
        self._variable_names.append(name or f"variable_{len(self._variables) - 1}")
        self.__dict__.setdefault("_aggregations", []).append(aggregation)
        return value

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Alias of :meth:`add_variable` (Keras 2 name)."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """The state tensors, this metric's then its sub-metrics'."""
        out = list(self._variables)
        for m in self._metrics:
            out.extend(m.variables)
        return out

    @property
    def variable_names(self) -> list:
        """Names of :attr:`variables`, in the same order."""
        out = list(self._variable_names)
        for m in self._metrics:
            out.extend(m.variable_names)
        return out

    def to(self, device):
        """Move the state (and any other tensor attribute) to ``device``; returns self."""
        device = torch.device(device)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        d = self.__dict__
        moved = {}
        for key, value in list(d.items()):
            if isinstance(value, torch.Tensor) and value.device != device:
                new = _with_assign(value.to(device))
                moved[id(value)] = new
                d[key] = new
        variables = d["_variables"]
        for i, v in enumerate(variables):
            if v.device != device:
                new = moved.get(id(v))
                variables[i] = new if new is not None else _with_assign(v.to(device))
        for m in d["_metrics"]:
            m.to(device)
        d["_device"] = device
        return self

    def reset_state(self):
        """Set every state tensor back to zeros (in place)."""
        with torch.no_grad():
            for v in self.variables:
                v.zero_()

    def update_state(self, *args, **kwargs):
        """Accumulate statistics from one batch (subclasses implement it)."""
        raise NotImplementedError

    def result(self):
        """The metric's value from the state so far: a tensor on the state's device."""
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)`` then ``result()``."""
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    # -- config ---------------------------------------------------------------
    def get_config(self):
        """``{"name", "dtype"}`` plus the subclass's own arguments."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """Make a metric from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__


def _assign(t, value):
    with torch.no_grad():
        t.copy_(torch.as_tensor(value, dtype=t.dtype).to(t.device))
    return t


def _assign_add(t, value):
    with torch.no_grad():
        t.add_(torch.as_tensor(value, dtype=t.dtype).to(t.device))
    return t


def _assign_sub(t, value):
    with torch.no_grad():
        t.sub_(torch.as_tensor(value, dtype=t.dtype).to(t.device))
    return t


def _with_assign(t):
    """Give a state tensor Keras's variable methods, so custom metrics written
    for Keras (``self.total.assign_add(x)``) run unchanged; all in place."""
    t.assign = functools.partial(_assign, t)
    t.assign_add = functools.partial(_assign_add, t)
    t.assign_sub = functools.partial(_assign_sub, t)
    return t
