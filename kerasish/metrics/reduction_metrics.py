"""``Sum``, ``Mean`` and ``MeanMetricWrapper``: Keras 3's reduction metrics.

``Mean`` keeps a weighted total and a count; ``MeanMetricWrapper`` averages
any per-sample function ``fn(y_true, y_pred, **kwargs)`` (most built-in
metrics are one). Sample weights follow Keras's rules: per-sample values are
first reduced to the weights' rank, multiplied by them, and the count grows
by the sum of the weights.

Example::

    m = kerasish.metrics.Mean()
    m.update_state(torch.tensor([1.0, 3.0]), sample_weight=torch.tensor([1.0, 0.0]))
    m.result()   # tensor(1.)
"""

from __future__ import annotations

import torch

from kerasish import losses
from kerasish.losses.loss import apply_mask, get_mask, squeeze_or_expand_to_same_rank, to_tensor
from kerasish.metrics.metric import Metric

__all__ = ["Sum", "Mean", "MeanMetricWrapper", "reduce_to_samplewise_values", "divide_no_nan"]


def divide_no_nan(a, b):
    """``a / b`` with 0 where ``b == 0`` (element-wise, on device)."""
    b = b.to(a.dtype) if isinstance(b, torch.Tensor) else torch.as_tensor(b, dtype=a.dtype, device=a.device)
    zero = b == 0
    return torch.where(zero, torch.zeros_like(a), a / torch.where(zero, torch.ones_like(b), b))


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype, device=None):
    """Keras's rule: reduce ``values`` to one value per sample, weighted.

    Returns ``(values, sample_weight)``: ``values`` of rank <= 1 (already
    multiplied by the weights) and the weights reduced to rank <= 1.
    """
    mask = get_mask(values)
    values = to_tensor(values, dtype=dtype, device=device)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype=dtype, device=values.device)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.dim(), values.dim()
        if v_ndim > w_ndim:
            values = reduce_fn(values, dim=tuple(range(w_ndim, v_ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, w_ndim)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    Args: name (``"sum"``), dtype.

    Example: ``m = Sum(); m.update_state([1, 3, 5, 7]); m.result()  # 16.``
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, torch.sum, self._torch_dtype, self.device)
        self.total.add_(values.sum())

    def reset_state(self):
        self.total.zero_()

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """The (weighted) mean of the values seen: ``sum(w * v) / sum(w)``.

    Args: name (``"mean"``), dtype.

    Example: ``m = Mean(); m.update_state([1, 3, 5, 7]); m.result()  # 4.``
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, torch.mean, self._torch_dtype, self.device)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        elif values.dim() >= 1:
            self.count.add_(float(values.shape[0]))
        else:
            self.count.add_(1.0)

    def reset_state(self):
        self.total.zero_()
        self.count.zero_()

    def result(self):
        return divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over everything seen.

    Args:
        fn: a per-sample function (a loss or metric function, or your own).
        name: the metric's name (default ``"mean_metric_wrapper"``, unique).
        dtype: as :class:`Metric`.
        **kwargs: passed to ``fn`` (and kept in the config).

    Example::

        m = MeanMetricWrapper(kerasish.losses.mean_squared_error, name="mse")
        m.update_state(y_true, y_pred, sample_weight=w)
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: `fn` must be callable. Received: fn={fn!r}")
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if getattr(fn, "__name__", None) in losses.ALL_OBJECTS_DICT and losses.ALL_OBJECTS_DICT[fn.__name__] is fn:
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = get_mask(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if sample_weight is not None or mask is not None:
            ref = values if isinstance(values, torch.Tensor) else None
            if sample_weight is not None:
                sample_weight = to_tensor(sample_weight, dtype=self._torch_dtype, device=ref.device if ref is not None else self.device)
            sample_weight = apply_mask(sample_weight, mask, dtype=self._torch_dtype, reduction="sum")
        return Mean.update_state(self, values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config["fn"] = losses.serialize_function(self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = config.get("fn")
        if isinstance(fn, (str, dict)):
            # deferred: kerasish.metrics (the name table, this module's classes
            # in it) imports this module.
            from kerasish.metrics import _deserialize_function

            config["fn"] = _deserialize_function(fn)
        return cls(**config)
