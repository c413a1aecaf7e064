"""Keras 3's loss functions and loss classes on torch tensors.

Each function takes ``(y_true, y_pred, ...)`` and returns the PER-SAMPLE loss:
the last axis is reduced (mean or sum as Keras does), any other axes are
kept, so a ``(batch, steps, classes)`` prediction gives ``(batch, steps)``.
The classes wrap these functions and apply ``sample_weight`` and the
``reduction`` (see :mod:`kerasish.losses.loss`).

Probabilities (``from_logits=False``) are clipped to ``[1e-7, 1 - 1e-7]`` as
Keras does; logits go through fused ``log_softmax`` / ``F.cross_entropy`` /
``binary_cross_entropy_with_logits`` (no log of zero).

Example::

    import kerasish as keras
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    loss(torch.tensor([1, 0]), torch.randn(2, 3))          # 0-d tensor
    keras.losses.mse(torch.zeros(4, 3), torch.ones(4, 3))   # shape (4,)
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from kerasish.losses.loss import Loss, set_mask, squeeze_or_expand_to_same_rank, to_tensor

EPSILON = 1e-7

__all__ = [
    "EPSILON",
    "LossFunctionWrapper",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "CosineSimilarity",
    "Huber",
    "LogCosh",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "KLDivergence",
    "Poisson",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy",
    "Dice",
    "Tversky",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "cosine_similarity",
    "huber",
    "log_cosh",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "poisson",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
    "dice",
    "tversky",
]


# ---------------------------------------------------------------------------
# helpers


def _pred(y_pred):
    """``y_pred`` as a floating tensor (float32 for non-float data)."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.float32)
    return y_pred


def _like(y_true, y_pred):
    """``y_true`` as a tensor with ``y_pred``'s dtype and device."""
    return to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)


def _pair(y_true, y_pred):
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _l2_normalize(x, axis=-1):
    """Keras's ``ops.normalize``: ``x * min(rsqrt(sum(x**2)), 1/eps)``."""
    inv = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True)).clamp_max(1.0 / EPSILON)
    return x * inv


def _to_hinge_labels(y_true):
    """{0, 1} labels -> {-1, 1}; other labels unchanged (decided on device, no sync)."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


# ---------------------------------------------------------------------------
# regression


def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred) ** 2, axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2, axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean(torch.square(first - second), dim=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`` (between -1 and 1)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: ``0.5 x**2`` for ``|x| <= delta``, else ``delta * |x| - 0.5 delta**2``; mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    delta = float(delta)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return torch.mean(torch.where(abs_error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


# ---------------------------------------------------------------------------
# hinge


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; {0, 1} labels become {-1, 1}."""
    y_pred = _pred(y_pred)
    y_true = _to_hinge_labels(_like(y_true, y_pred))
    return torch.mean(torch.clamp(1.0 - y_true * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0) ** 2, axis=-1)``; {0, 1} labels become {-1, 1}."""
    y_pred = _pred(y_pred)
    y_true = _to_hinge_labels(_like(y_true, y_pred))
    return torch.mean(torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)), dim=-1)


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis."""
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


# ---------------------------------------------------------------------------
# probabilistic


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[eps, 1]``."""
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1)


def _warn_single_class(fn_name, y_pred):
    if y_pred.dim() >= 1 and y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {fn_name}, expected y_pred.shape to be (batch_size, num_classes) "
            f"with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
            "Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth_categorical(y_true, label_smoothing):
    if label_smoothing:
        num_classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + (label_smoothing / num_classes)
    return y_true


def _log_probs(y_pred, from_logits, axis):
    if from_logits:
        return F.log_softmax(y_pred, dim=axis)
    out = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    return torch.log(torch.clamp(out, EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between one-hot (or soft) labels and predictions.

    Args:
        y_true: labels, same shape as ``y_pred``.
        y_pred: probabilities (normalized to sum 1 and clipped, as Keras) or
            logits with ``from_logits=True`` (fused ``log_softmax``).
        label_smoothing: ``y_true * (1 - ls) + ls / num_classes``.
        axis: the class axis.

    Returns ``-sum(y_true * log(p), axis)``: ``y_pred``'s shape without ``axis``.
    """
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    _warn_single_class("categorical_crossentropy", y_pred)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if y_pred.dim() < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    return -torch.sum(y_true * _log_probs(y_pred, from_logits, axis), dim=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Cross-entropy between integer class labels and predictions.

    Args:
        y_true: class indices, shape ``y_pred.shape`` without ``axis`` (a
            trailing axis of size 1 is squeezed).
        y_pred: probabilities or (``from_logits=True``) logits.
        ignore_class: a label value whose positions get loss 0 and are left
            out of the averaging reductions (via a mask on the result).
        axis: the class axis.

    With logits this is ``F.cross_entropy(..., reduction="none")`` (no one-hot
    matrix is built).
    """
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.dim() > 0 and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    if y_pred.dim() < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={tuple(y_pred.shape)}")
    class_axis = axis % y_pred.dim()
    res_shape = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    if tuple(y_true.shape) != res_shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
    target = y_true if y_true.dtype == torch.long else y_true.long()
    ignore_index = int(ignore_class) if ignore_class is not None else -100
    if y_pred.dim() == 1:
        logits, target, squeeze = y_pred.unsqueeze(0), target.unsqueeze(0), True
    else:
        logits = y_pred if class_axis == 1 else y_pred.movedim(class_axis, 1)
        squeeze = False
    if from_logits:
        res = F.cross_entropy(logits, target, reduction="none", ignore_index=ignore_index)
    else:
        out = logits / torch.sum(logits, dim=1, keepdim=True)
        log_prob = torch.log(torch.clamp(out, EPSILON, 1.0 - EPSILON))
        res = F.nll_loss(log_prob, target, reduction="none", ignore_index=ignore_index)
    if squeeze:
        res = res.squeeze(0)
    if valid is not None:
        set_mask(res, valid.reshape(res_shape))
    return res


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, averaged over ``axis`` (the last one).

    Args:
        y_true: labels in [0, 1], same shape as ``y_pred``.
        y_pred: probabilities (clipped to ``[eps, 1 - eps]``) or logits
            (``from_logits=True``, computed with ``binary_cross_entropy_with_logits``).
        label_smoothing: labels move towards 0.5: ``y * (1 - ls) + 0.5 ls``.
    """
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if y_true.shape != y_pred.shape:
        # Called directly (not through a Loss), (N,) labels may meet (N, 1) outputs.
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    return torch.mean(_bce_elements(y_true, y_pred, from_logits), dim=axis)


def _bce_elements(y_true, y_pred, from_logits):
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    # Written out (not F.binary_cross_entropy) so it also runs under autocast.
    p = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
    return -(y_true * torch.log(p) + (1.0 - y_true) * torch.log1p(-p))


def binary_focal_crossentropy(
    y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Focal binary cross-entropy: ``(1 - p_t) ** gamma * bce`` (optionally class balanced), mean over ``axis``."""
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = _bce_elements(y_true, y_pred, False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return torch.mean(focal, dim=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Focal categorical cross-entropy: ``sum(alpha (1 - p) ** gamma * -y log p, axis)``."""
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    _warn_single_class("categorical_focal_crossentropy", y_pred)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    output = torch.clamp(output, EPSILON, 1.0 - EPSILON)
    cce = -y_true * torch.log(output)
    focal = alpha * torch.pow(1.0 - output, gamma) * cce
    return torch.sum(focal, dim=axis)


# ---------------------------------------------------------------------------
# segmentation


def _sum(x, axis):
    return torch.sum(x) if axis is None else torch.sum(x, dim=axis)


def dice(y_true, y_pred, axis=None):
    """``1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`` over ``axis`` (all axes if None)."""
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    inter = _sum(y_true * y_pred, axis)
    return 1 - 2.0 * inter / (_sum(y_true, axis) + _sum(y_pred, axis) + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha FP + beta FN + eps)`` with soft counts over ``axis``."""
    y_pred = _pred(y_pred)
    y_true = _like(y_true, y_pred)
    inter = _sum(y_true * y_pred, axis)
    fp = _sum((1 - y_pred) * y_true, axis)
    fn = _sum(y_pred * (1 - y_true), axis)
    return 1 - inter / (inter + fp * alpha + fn * beta + EPSILON)


# Fused reductions: one F.cross_entropy call for unweighted "sum"/"mean" (same
# value as per-sample losses then reduced). They return None when the inputs
# need the general path (which also raises Keras's errors).


def _fused_categorical(y_true, logits, reduction, axis=-1, label_smoothing=0.0):
    if not isinstance(y_true, torch.Tensor) or y_true.shape != logits.shape or logits.dim() < 2 or logits.numel() == 0:
        return None
    if logits.shape[-1] == 1:
        return None  # Keras warns there
    y_true = y_true.to(device=logits.device, dtype=logits.dtype)
    axis = axis % logits.dim()
    if axis != 1:
        logits, y_true = logits.movedim(axis, 1), y_true.movedim(axis, 1)
    # torch's label smoothing on soft targets is Keras's y * (1 - ls) + ls / C.
    return F.cross_entropy(logits, y_true, reduction=reduction, label_smoothing=float(label_smoothing or 0.0))


def _fused_sparse(y_true, logits, reduction, axis=-1):
    if not isinstance(y_true, torch.Tensor) or logits.dim() < 2 or logits.numel() == 0:
        return None
    axis = axis % logits.dim()
    if y_true.dim() == logits.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    if tuple(y_true.shape) != tuple(d for i, d in enumerate(logits.shape) if i != axis):
        return None
    if axis != 1:
        logits = logits.movedim(axis, 1)
    return F.cross_entropy(logits, y_true.to(device=logits.device, dtype=torch.long), reduction=reduction)


def _fused_for(fn, kwargs):
    """The fused reduction for ``fn(**kwargs)``, or None."""
    if not kwargs.get("from_logits", False):
        return None
    axis = kwargs.get("axis", -1)
    if isinstance(axis, bool) or not isinstance(axis, int):
        return None
    if fn is categorical_crossentropy:
        ls = kwargs.get("label_smoothing", 0.0)
        return lambda y, p, red: _fused_categorical(y, p, red, axis, ls)
    if fn is sparse_categorical_crossentropy and kwargs.get("ignore_class") is None:
        return lambda y, p, red: _fused_sparse(y, p, red, axis)
    return None


# ---------------------------------------------------------------------------
# classes


def _losses_package():
    """``kerasish.losses``: the table of every loss by name, which a wrapped
    function's config is written and read against."""
    # deferred: kerasish.losses (the name table, this module's classes and
    # functions in it) imports this module.
    from kerasish import losses

    return losses


class LossFunctionWrapper(Loss):
    """A :class:`Loss` made from a per-sample loss function.

    Args:
        fn: ``fn(y_true, y_pred, **kwargs)`` returning per-sample losses.
        reduction, name, dtype: as :class:`Loss`.
        **kwargs: passed to ``fn`` on every call (and kept in the config).

    Before calling ``fn`` the ranks of ``y_true`` and ``y_pred`` are made to
    agree when they differ by a trailing axis of 1 (Keras's rule).

    Example::

        loss = LossFunctionWrapper(categorical_crossentropy, name="cce", from_logits=True)
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: `fn` must be callable. Received: fn={fn!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs
        if fn is sparse_categorical_crossentropy:
            self._keeps_integer_labels = True
        self._fused_impl = _fused_for(fn, kwargs)

    def call(self, y_true, y_pred):
        if isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        elif isinstance(y_true, (list, tuple)) and isinstance(y_pred, (list, tuple)):
            pairs = [squeeze_or_expand_to_same_rank(t, p) for t, p in zip(y_true, y_pred)]
            y_true = type(y_true)(t for t, _ in pairs)
            y_pred = type(y_pred)(p for _, p in pairs)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config["fn"] = _losses_package().serialize_function(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            fn = config["fn"]
            if isinstance(fn, (str, dict)):
                config["fn"] = _losses_package().deserialize(fn)
        return cls(**config)

    def __repr__(self):
        name = getattr(self.fn, "__name__", repr(self.fn))
        return f"<LossFunctionWrapper({name}, kwargs={self._fn_kwargs})>"


class _BuiltinLoss(LossFunctionWrapper):
    """A built-in wrapper whose config is its own arguments (no ``fn``)."""

    _fn = None
    _config_args: tuple = ()

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(type(self)._fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for key in self._config_args:
            setattr(self, key, kwargs[key])

    def get_config(self):
        config = Loss.get_config(self)
        config.update({k: getattr(self, k) for k in self._config_args})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _fixed(fn):
    return staticmethod(fn)


class MeanSquaredError(_BuiltinLoss):
    """Mean of squared errors over the last axis, then ``reduction``.

    Args: reduction, name (``"mean_squared_error"``), dtype: as :class:`Loss`.

    Example: ``MeanSquaredError()(y_true, y_pred)``.
    """

    _fn = _fixed(mean_squared_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(_BuiltinLoss):
    """Mean of absolute errors over the last axis, then ``reduction``.

    Args: reduction, name (``"mean_absolute_error"``), dtype.
    """

    _fn = _fixed(mean_absolute_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_BuiltinLoss):
    """``100 * mean(|(y_true - y_pred) / y_true|)`` over the last axis.

    Args: reduction, name (``"mean_absolute_percentage_error"``), dtype.
    """

    _fn = _fixed(mean_absolute_percentage_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_BuiltinLoss):
    """Mean squared error of ``log(1 + x)`` over the last axis.

    Args: reduction, name (``"mean_squared_logarithmic_error"``), dtype.
    """

    _fn = _fixed(mean_squared_logarithmic_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(_BuiltinLoss):
    """Negative cosine similarity along ``axis`` (-1 is best).

    Args: axis (-1), reduction, name (``"cosine_similarity"``), dtype.
    Like Keras, ``axis`` is not part of the config.
    """

    _fn = _fixed(cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        return Loss.get_config(self)


class Huber(_BuiltinLoss):
    """Huber loss (quadratic below ``delta``, linear above), mean over the last axis.

    Args: delta (1.0), reduction, name (``"huber_loss"``), dtype.
    Like Keras, ``delta`` is not part of the config.
    """

    _fn = _fixed(huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, delta=delta)

    def get_config(self):
        return Loss.get_config(self)


class LogCosh(_BuiltinLoss):
    """``log(cosh(y_pred - y_true))``, mean over the last axis.

    Args: reduction, name (``"log_cosh"``), dtype.
    """

    _fn = _fixed(log_cosh)

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Hinge(_BuiltinLoss):
    """``max(1 - y_true * y_pred, 0)``, mean over the last axis; labels -1/1 (0/1 converted).

    Args: reduction, name (``"hinge"``), dtype.
    """

    _fn = _fixed(hinge)

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(_BuiltinLoss):
    """``max(1 - y_true * y_pred, 0) ** 2``, mean over the last axis.

    Args: reduction, name (``"squared_hinge"``), dtype.
    """

    _fn = _fixed(squared_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(_BuiltinLoss):
    """``max(max_neg - pos + 1, 0)`` over the last (class) axis.

    Args: reduction, name (``"categorical_hinge"``), dtype.
    """

    _fn = _fixed(categorical_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class KLDivergence(_BuiltinLoss):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` over the last axis.

    Args: reduction, name (``"kl_divergence"``), dtype.
    """

    _fn = _fixed(kl_divergence)

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Poisson(_BuiltinLoss):
    """``y_pred - y_true * log(y_pred)``, mean over the last axis.

    Args: reduction, name (``"poisson"``), dtype.
    """

    _fn = _fixed(poisson)

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(_BuiltinLoss):
    """Binary cross-entropy for 0/1 (or soft) labels.

    Args:
        from_logits: whether ``y_pred`` are logits (default: probabilities).
        label_smoothing: squeeze labels towards 0.5 by this much.
        axis: the axis averaged over (-1).
        reduction, name (``"binary_crossentropy"``), dtype: as :class:`Loss`.

    Example: ``BinaryCrossentropy(from_logits=True)(y, logits)``.
    """

    _fn = _fixed(binary_crossentropy)
    _config_args = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(_BuiltinLoss):
    """Focal binary cross-entropy (down-weights easy examples).

    Args: apply_class_balancing (False), alpha (0.25), gamma (2.0),
    from_logits, label_smoothing, axis, reduction, name
    (``"binary_focal_crossentropy"``), dtype.
    """

    _fn = _fixed(binary_focal_crossentropy)
    _config_args = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma")

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            reduction=reduction,
            name=name,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalCrossentropy(_BuiltinLoss):
    """Cross-entropy for one-hot (or soft) labels.

    Args:
        from_logits: whether ``y_pred`` are logits (default: probabilities).
        label_smoothing: ``y * (1 - ls) + ls / num_classes``.
        axis: the class axis (-1).
        reduction, name (``"categorical_crossentropy"``), dtype: as :class:`Loss`.

    Example: ``CategoricalCrossentropy(from_logits=True)(one_hot, logits)``.
    """

    _fn = _fixed(categorical_crossentropy)
    _config_args = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(_BuiltinLoss):
    """Focal categorical cross-entropy.

    Args: alpha (0.25), gamma (2.0), from_logits, label_smoothing, axis,
    reduction, name (``"categorical_focal_crossentropy"``), dtype.
    """

    _fn = _fixed(categorical_focal_crossentropy)
    _config_args = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            reduction=reduction,
            name=name,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(_BuiltinLoss):
    """Cross-entropy for integer class labels.

    Args:
        from_logits: whether ``y_pred`` are logits (default: probabilities).
        ignore_class: a label value to leave out (loss 0, not counted by
            the averaging reductions), e.g. a padding class.
        reduction: as :class:`Loss`.
        axis: the class axis of ``y_pred`` (-1). Like Keras, not in the config.
        name: default ``"sparse_categorical_crossentropy"``.
        dtype: the loss's dtype.

    Example: ``SparseCategoricalCrossentropy(from_logits=True)(labels, logits)``.
    """

    _fn = _fixed(sparse_categorical_crossentropy)
    _config_args = ("from_logits", "ignore_class")
    _keeps_integer_labels = True

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.axis = axis


class Dice(_BuiltinLoss):
    """Dice loss ``1 - 2|A∩B| / (|A| + |B|)`` (soft counts).

    Args: reduction, name (``"dice"``), axis (None: all axes), dtype.
    """

    _fn = _fixed(dice)
    _config_args = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(_BuiltinLoss):
    """Tversky loss ``1 - TP / (TP + alpha FP + beta FN)`` (soft counts).

    Args: alpha (0.5), beta (0.5), reduction, name (``"tversky"``), axis (None), dtype.
    """

    _fn = _fixed(tversky)
    _config_args = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
