"""The ``Loss`` base class and Keras 3's reductions, on torch tensors.

A loss object is called as ``loss(y_true, y_pred, sample_weight=None)`` and
returns a tensor: ``call(y_true, y_pred)`` gives one value per sample (per
element for rank > 2 targets, Keras reduces the last axis only), those values
are multiplied by ``sample_weight`` and then reduced as ``reduction`` says:

- ``"sum_over_batch_size"`` (default) and ``"mean"``: sum of the weighted
  values divided by their NUMBER (not by the sum of the weights);
- ``"mean_with_sample_weight"``: sum divided by the sum of the weights;
- ``"sum"``: sum;
- ``"none"`` / ``None``: the weighted values themselves.

A ``sample_weight`` of shape ``(batch,)`` also works for per-timestep losses
of shape ``(batch, steps)`` (one weight per sample; Keras 3 raises there).

Everything stays on the device of ``y_pred``; nothing here reads a value back
to the host.

Example::

    class MyMSE(kerasish.losses.Loss):
        def call(self, y_true, y_pred):
            return torch.mean((y_pred - y_true) ** 2, dim=-1)

    MyMSE()(y_true, y_pred, sample_weight=w)   # 0-d tensor
"""

from __future__ import annotations

import numpy as np
import torch

from kerasish import tree
from kerasish.engine.layer import _dtype_name
from kerasish.engine.masking import get_mask, set_mask  # noqa: F401 (losses and metrics read masks here)
from kerasish.engine.naming import unique_name, to_snake_case

__all__ = [
    "Loss",
    "REDUCTIONS",
    "standardize_reduction",
    "squeeze_or_expand_to_same_rank",
    "reduce_values",
    "reduce_weighted_values",
    "apply_mask",
    "get_mask",
    "set_mask",
    "to_tensor",
]

#: Allowed values of ``reduction`` (Keras 3.15's set).
REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")

# Attribute name under which a per-element mask rides on a tensor (Keras's name).


def standardize_reduction(reduction):
    """Return ``reduction`` if Keras accepts it, else raise ValueError."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{set(REDUCTIONS)}. Received: reduction={reduction!r}"
        )
    return reduction


def torch_float_dtype(dtype) -> torch.dtype:
    """``None``/str/torch dtype/Keras policy dict -> a torch dtype (None -> float32)."""
    return getattr(torch, _dtype_name(dtype))


def to_tensor(x, dtype=None, device=None):
    """``x`` as a torch tensor on ``device`` (if given), cast to ``dtype`` (if given).

    numpy float64 data becomes float32 (as Keras's ``convert_to_tensor``).
    A tensor already on the right device and dtype is returned as is.
    """
    if not isinstance(x, torch.Tensor):
        if hasattr(x, "value") and isinstance(getattr(x, "value"), torch.Tensor):
            x = x.value  # a kerasish Variable
        else:
            arr = np.asarray(x)
            if arr.dtype == np.float64 and dtype is None:
                arr = arr.astype(np.float32)
            if arr.dtype == object:
                raise TypeError(f"Cannot convert {type(x).__name__} to a tensor: {x!r:.200}")
            x = torch.as_tensor(arr, device=device)
    if (device is not None and x.device != torch.device(device)) or (dtype is not None and x.dtype != dtype):
        x = x.to(device=device, dtype=dtype)
    return x


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make two tensors' ranks agree when they differ by a trailing axis of 1.

    Keras's rule: if one tensor has one more axis than the other and that
    axis has size 1, squeeze it, except that a rank-1 partner is expanded
    instead (``expand_rank_1``). Other rank mismatches are left alone.
    """
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _divide_no_nan(a, b):
    """``a / b``, 0 where ``b == 0`` (no host sync)."""
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return torch.where(b == 0, torch.zeros_like(a), a / safe)


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce already weighted ``values`` as ``reduction`` says (see module doc)."""
    if reduction is None or reduction == "none" or values.dim() == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum().to(total.dtype)
        return _divide_no_nan(total, divisor)
    n = values.numel()
    if n == 0:
        return total  # 0, still part of the graph (a data-parallel process with no samples in a batch)
    return total / n


def _align_on_batch_axis(sample_weight, values):
    """One weight per sample for per-timestep values: ``(N,)`` -> ``(N, 1, ...)``.

    Keras 3 broadcasts from the right and fails (or, when ``steps == batch``,
    silently weighs timesteps); aligning on the batch axis is what users mean.
    """
    if 1 <= sample_weight.dim() < values.dim() and sample_weight.shape[0] == values.shape[0]:
        sample_weight = sample_weight.reshape(tuple(sample_weight.shape) + (1,) * (values.dim() - sample_weight.dim()))
    return sample_weight


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean ``mask`` into ``sample_weight`` as Keras does.

    With the averaging reductions a valid entry weighs ``total / valid`` so
    that averaging over all entries equals averaging over the valid ones.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = torch.tensor(float(mask.numel()), dtype=dtype, device=mask.device)
        valid = mask.to(dtype).sum()
        mask_weight = _divide_no_nan(total, valid)
        float_mask = torch.where(mask.bool(), mask_weight, torch.zeros((), dtype=dtype, device=mask.device))
    else:
        float_mask = mask.to(dtype)
    if sample_weight is not None:
        sample_weight = sample_weight.to(dtype)
        float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
        sample_weight = _align_on_batch_axis(sample_weight, float_mask) * float_mask
    else:
        sample_weight = float_mask
    return sample_weight


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample ``values`` by ``sample_weight`` (and ``mask``), then reduce."""
    reduction = standardize_reduction(reduction)
    values = to_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype=values.dtype, device=values.device)
    if mask is not None:
        mask = to_tensor(mask, device=values.device)
    sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype, reduction=reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        sample_weight = _align_on_batch_axis(sample_weight, values)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def _first_tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (list, tuple)):
        for a in x:
            t = _first_tensor(a)
            if t is not None:
                return t
    if isinstance(x, dict):
        for a in x.values():
            t = _first_tensor(a)
            if t is not None:
                return t
    return None


class Loss:
    """Base class of every loss. Subclasses implement ``call(y_true, y_pred)``.

    Args:
        name: the loss's name (default: the class name in snake case, made unique).
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``.
        dtype: the dtype the loss computes in (default ``"float32"``, as
            ``keras.backend.floatx()``): ``y_true`` and ``y_pred`` are cast to
            it, so a bfloat16 model output is scored in float32.

    ``__call__(y_true, y_pred, sample_weight=None)`` returns the reduced loss
    (a 0-d tensor unless ``reduction`` is ``"none"``/``None``).

    Example::

        loss = kerasish.losses.MeanSquaredError(reduction="sum")
        loss(torch.zeros(4, 2), torch.ones(4, 2))   # tensor(8.)
    """

    # Built-in losses whose ``call`` wants integer labels untouched.
    _keeps_integer_labels = False
    # Built-ins may set ``_fused_impl(y_true, y_pred, "sum"|"mean") -> loss or None``:
    # one fused kernel for the unweighted "sum"/"mean" cases (same value).
    _fused_impl = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype_name = _dtype_name(dtype)
        self._torch_dtype = torch_float_dtype(self._dtype_name)

    @property
    def dtype(self) -> str:
        """The compute dtype's name (``"float32"``)."""
        return self._dtype_name

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (
            sample_weight is None
            and self._fused_impl is not None
            and isinstance(y_pred, torch.Tensor)
            and self.reduction in ("sum_over_batch_size", "mean", "sum")
            and get_mask(y_pred) is None
        ):
            out = self._fused_impl(y_true, y_pred.to(self._torch_dtype), "sum" if self.reduction == "sum" else "mean")
            if out is not None:
                return out
        in_mask = get_mask(y_pred) if isinstance(y_pred, torch.Tensor) else None
        ref = _first_tensor(y_pred)
        device = ref.device if ref is not None else None
        dtype = self._torch_dtype
        y_pred = tree.map_structure(lambda x: to_tensor(x, dtype=dtype, device=device), y_pred)
        keep_int = self._keeps_integer_labels

        def _labels(x):
            t = to_tensor(x, device=device)
            if keep_int and not t.is_floating_point():
                return t
            return t.to(dtype) if t.dtype != dtype else t

        y_true = tree.map_structure(_labels, y_true)
        losses = self.call(y_true, y_pred)
        out_mask = get_mask(losses)
        if in_mask is not None and out_mask is not None:
            mask = in_mask & out_mask
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        """Per-sample losses for ``y_true`` / ``y_pred``; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def get_config(self):
        """``{"name", "reduction"}`` (plus the subclass's own arguments)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """Make a loss from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
