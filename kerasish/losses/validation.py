"""Up-front checks of targets against a loss, with messages that say what to do.

:func:`check_targets` runs ONCE (at the start of ``fit`` / ``evaluate``) on the
whole label array or on the first batch; it may read values back to the
host (one sync). It catches the mistakes that otherwise surface as an opaque
shape error, a CUDA device-side assert, or silently wrong numbers:

- one-hot labels given to ``sparse_categorical_crossentropy`` and integer
  labels given to ``categorical_crossentropy`` (says which loss to use);
- one-hot labels with the wrong number of classes;
- class indices outside ``[0, num_classes)`` (names the min / max found);
- binary labels outside ``[0, 1]``;
- regression targets whose shape does not match the output.

Example::

    check_targets("categorical_crossentropy", y_train, model.output_shape)
"""

from __future__ import annotations

import numpy as np
import torch

from kerasish.losses import losses as _L
from kerasish.losses.loss import Loss

__all__ = ["check_targets", "loss_kind"]

_CATEGORICAL_FNS = {_L.categorical_crossentropy, _L.categorical_focal_crossentropy}
_SPARSE_FNS = {_L.sparse_categorical_crossentropy}
_BINARY_FNS = {_L.binary_crossentropy, _L.binary_focal_crossentropy}
_SAME_SHAPE_FNS = {_L.categorical_hinge, _L.kl_divergence}
_REGRESSION_FNS = {
    _L.mean_squared_error,
    _L.mean_absolute_error,
    _L.mean_absolute_percentage_error,
    _L.mean_squared_logarithmic_error,
    _L.huber,
    _L.log_cosh,
    _L.poisson,
    _L.cosine_similarity,
    _L.hinge,
    _L.squared_hinge,
}


def loss_kind(loss):
    """``"categorical"``, ``"sparse"``, ``"binary"``, ``"same_shape"``, ``"regression"`` or None (unknown / custom)."""
    if isinstance(loss, str):
        loss = _L._losses_package().get(loss)
    fn = getattr(loss, "fn", loss) if isinstance(loss, _L.LossFunctionWrapper) else loss
    for kind, fns in (
        ("categorical", _CATEGORICAL_FNS),
        ("sparse", _SPARSE_FNS),
        ("binary", _BINARY_FNS),
        ("same_shape", _SAME_SHAPE_FNS),
        ("regression", _REGRESSION_FNS),
    ):
        if fn in fns:
            return kind
    return None


def _loss_name(loss):
    if isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return loss.name
    return getattr(loss, "__name__", type(loss).__name__)


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _dims_match(a, b):
    """Equal, ignoring the batch axis and unknown (None) sizes."""
    if len(a) != len(b):
        return False
    return all(i == 0 or x is None or y is None or x == y for i, (x, y) in enumerate(zip(a, b)))


def _broadcastable_to(t_shape, p_shape):
    """``t_shape`` broadcasts to ``p_shape`` without growing it (batch axis and None are free)."""
    if len(t_shape) != len(p_shape):
        return False
    return all(i == 0 or y is None or x == y or x == 1 for i, (x, y) in enumerate(zip(t_shape, p_shape)))


def _stats(y):
    """(min, max, all integral, all finite) of ``y`` in one host read."""
    if y.numel() == 0:
        return None
    if y.is_floating_point():
        finite = torch.isfinite(y)
        yf = torch.where(finite, y, torch.zeros((), dtype=y.dtype, device=y.device))
        vals = torch.stack([
            yf.min().double(),
            yf.max().double(),
            (yf == torch.round(yf)).all().double(),
            finite.all().double(),
        ]).tolist()
        return vals[0], vals[1], bool(vals[2]), bool(vals[3])
    if y.dtype == torch.bool:
        y = y.to(torch.int64)
    vals = torch.stack([y.min().double(), y.max().double()]).tolist()
    return vals[0], vals[1], True, True


def _fmt(v):
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def check_targets(loss, y_true, y_pred_shape):
    """Check labels against a loss and the model output's shape.

    Args:
        loss: a loss name, function or :class:`Loss` (custom losses are not
            checked).
        y_true: the labels (a torch tensor on any device, or array data):
            the whole label array or one batch.
        y_pred_shape: the output's shape (the batch axis may be None or any
            size: it is not compared, so a whole label array can be checked
            against one batch's output).

    Raises:
        ValueError: naming the loss, the expected and the received shapes
            (or the value range found) and, where the labels fit another
            loss, which one to use.

    Returns None. Reads ``y_true``'s min / max back to the host once.
    """
    kind = loss_kind(loss)
    if kind is None or y_true is None:
        return
    if not isinstance(y_true, torch.Tensor):
        y_true = torch.as_tensor(np.asarray(y_true))
    name = _loss_name(loss)
    t_shape = tuple(int(d) for d in y_true.shape)
    p_shape = tuple(None if d is None else int(d) for d in y_pred_shape)
    if not p_shape:
        return
    num_classes = p_shape[-1]
    got = f"Received: y_true.shape={_shape_str(t_shape)}, y_pred.shape={_shape_str(p_shape)}."

    if kind == "categorical":
        looks_sparse = len(t_shape) == len(p_shape) - 1 or (
            len(t_shape) == len(p_shape) and t_shape[-1] == 1 and num_classes not in (None, 1)
        )
        if looks_sparse:
            raise ValueError(
                f"Loss '{name}' expects one-hot labels of shape {_shape_str(p_shape)} (one column per class), "
                f"but y_true looks like integer class indices. {got} "
                "Use loss='sparse_categorical_crossentropy' for integer labels, "
                "or one-hot encode them (e.g. torch.nn.functional.one_hot)."
            )
        if len(t_shape) != len(p_shape) or not _dims_match(t_shape, p_shape):
            detail = ""
            if len(t_shape) == len(p_shape) and num_classes is not None and t_shape[-1] != num_classes:
                detail = f" ({t_shape[-1]}-class one-hot labels for a {num_classes}-class output)"
            raise ValueError(
                f"Loss '{name}': y_true and y_pred must have the same shape: expected y_true.shape="
                f"{_shape_str((None,) + p_shape[1:])}{detail}. {got}"
            )
        return

    if kind == "same_shape":
        if not _dims_match(t_shape, p_shape):
            raise ValueError(
                f"Loss '{name}': y_true and y_pred must have the same shape: expected y_true.shape="
                f"{_shape_str((None,) + p_shape[1:])}. {got}"
            )
        return

    if kind == "sparse":
        ok_shapes = [p_shape[:-1], p_shape[:-1] + (1,)]
        if len(p_shape) == 2:
            ok_shapes.append((None,))
        if not any(_dims_match(t_shape, s) for s in ok_shapes):
            if _dims_match(t_shape, p_shape) and num_classes not in (None, 1):
                raise ValueError(
                    f"Loss '{name}' expects integer class indices of shape {_shape_str(p_shape[:-1])} "
                    f"(or {_shape_str(p_shape[:-1] + (1,))}), but y_true has the output's shape, "
                    f"as one-hot labels do. {got} Use loss='categorical_crossentropy' for one-hot labels, "
                    "or pass the class indices (argmax of the one-hot labels)."
                )
            raise ValueError(
                f"Loss '{name}' expects integer class indices of shape {_shape_str(p_shape[:-1])} "
                f"(or {_shape_str(p_shape[:-1] + (1,))}). {got}"
            )
        ignore = getattr(loss, "ignore_class", None)
        if ignore is None and isinstance(loss, _L.LossFunctionWrapper):
            ignore = loss._fn_kwargs.get("ignore_class")
        if ignore is not None:  # ignored entries count as class 0 (always valid): still one host read
            y_true = torch.where(y_true == ignore, torch.zeros((), dtype=y_true.dtype, device=y_true.device), y_true)
        stats = _stats(y_true)
        if stats is None:
            return
        lo, hi, integral, finite = stats
        if not finite or not integral:
            raise ValueError(
                f"Loss '{name}' expects integer class indices, but y_true has "
                f"{'non-finite' if not finite else 'non-integer'} values (min {_fmt(lo)}, max {_fmt(hi)}). "
                "Use loss='categorical_crossentropy' for soft or one-hot labels, "
                "or 'binary_crossentropy' for probabilities."
            )
        if num_classes is not None and (lo < 0 or hi >= num_classes):
            hint = ""
            if num_classes == 1:
                hint = (
                    " The output has a single unit: for 0/1 labels use loss='binary_crossentropy' "
                    "with a sigmoid output, or give the output one unit per class."
                )
            raise ValueError(
                f"Loss '{name}': class indices in y_true must be in [0, {num_classes}) for an output with "
                f"{num_classes} classes, but found min {_fmt(lo)} and max {_fmt(hi)}.{hint}"
            )
        return

    if kind == "binary":
        t_cmp = t_shape
        if len(t_shape) == len(p_shape) - 1 and p_shape[-1] == 1:
            t_cmp = t_shape + (1,)
        elif len(t_shape) == len(p_shape) + 1 and t_shape[-1] == 1:
            t_cmp = t_shape[:-1]
        if not _dims_match(t_cmp, p_shape):
            raise ValueError(
                f"Loss '{name}': y_true must have the output's shape {_shape_str((None,) + p_shape[1:])} "
                f"(a trailing axis of 1 may be left out). {got}"
            )
        stats = _stats(y_true)
        if stats is None:
            return
        lo, hi, integral, finite = stats
        if not finite or lo < 0 or hi > 1:
            hint = ""
            if finite and integral and lo >= 0:
                hint = " These look like class indices: use loss='sparse_categorical_crossentropy' with one output unit per class."
            raise ValueError(
                f"Loss '{name}' expects labels in [0, 1], but found min {_fmt(lo)} and max {_fmt(hi)}"
                f"{' (with non-finite values)' if not finite else ''}.{hint}"
            )
        return

    # regression
    t_cmp = t_shape
    if len(t_shape) == len(p_shape) + 1 and t_shape[-1] == 1:
        t_cmp = t_shape[:-1]
    elif len(p_shape) == len(t_shape) + 1 and p_shape[-1] == 1:
        t_cmp = t_shape + (1,)
    if not _broadcastable_to(t_cmp, p_shape):
        raise ValueError(
            f"Loss '{name}': y_true of shape {_shape_str(t_shape)} does not match the output's shape "
            f"{_shape_str((None,) + p_shape[1:])}; it must have that shape (or broadcast to it). {got}"
        )
