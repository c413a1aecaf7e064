"""Regression metrics (Keras 3): running means of per-sample errors.

``MeanSquaredError``, ``MeanAbsoluteError``, ``MeanAbsolutePercentageError``,
``MeanSquaredLogarithmicError``, ``LogCoshError``, ``CosineSimilarity`` and
``RootMeanSquaredError`` (the square root of the running mean of squared
errors, weighted per element).

Example::

    m = kerasish.metrics.RootMeanSquaredError()
    m.update_state([[0.0, 1.0]], [[1.0, 1.0]])
    m.result()   # tensor(0.7071)
"""

from __future__ import annotations

import torch

from kerasish.losses.loss import squeeze_or_expand_to_same_rank, to_tensor
from kerasish.losses.losses import (
    _l2_normalize,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from kerasish.metrics.reduction_metrics import Mean, MeanMetricWrapper

__all__ = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "CosineSimilarity",
    "LogCoshError",
    "cosine_similarity",
]


def cosine_similarity(y_true, y_pred, axis=-1):
    """``sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`` (1 is best)."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.float32)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


class _NameDtypeConfig:
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_NameDtypeConfig, MeanMetricWrapper):
    """Running mean of ``mean((y_true - y_pred) ** 2, axis=-1)``.

    Args: name (``"mean_squared_error"``), dtype.
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=mean_squared_error, name=name, dtype=dtype)
        self._direction = "down"


class MeanAbsoluteError(_NameDtypeConfig, MeanMetricWrapper):
    """Running mean of ``mean(|y_true - y_pred|, axis=-1)``.

    Args: name (``"mean_absolute_error"``), dtype.
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype=dtype)
        self._direction = "down"


class MeanAbsolutePercentageError(_NameDtypeConfig, MeanMetricWrapper):
    """Running mean absolute percentage error.

    Args: name (``"mean_absolute_percentage_error"``), dtype.
    """

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)
        self._direction = "down"


class MeanSquaredLogarithmicError(_NameDtypeConfig, MeanMetricWrapper):
    """Running mean squared logarithmic error.

    Args: name (``"mean_squared_logarithmic_error"``), dtype.
    """

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)
        self._direction = "down"


class LogCoshError(_NameDtypeConfig, MeanMetricWrapper):
    """Running mean of ``log(cosh(y_pred - y_true))``.

    Args: name (``"logcosh"``, as Keras), dtype.
    """

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name, dtype=dtype)
        self._direction = "down"


class CosineSimilarity(_NameDtypeConfig, MeanMetricWrapper):
    """Running mean cosine similarity between labels and predictions.

    Args: name (``"cosine_similarity"``), dtype, axis (-1; like Keras, not in the config).
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)
        self._direction = "up"


class RootMeanSquaredError(Mean):
    """``sqrt`` of the running (weighted) mean of squared errors.

    Unlike ``MeanSquaredError`` the squares are averaged per element, so a
    weight per sample weighs each of its elements.

    Args: name (``"root_mean_squared_error"``), dtype.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_tensor(y_pred, dtype=self._torch_dtype)
        y_true = to_tensor(y_true, dtype=self._torch_dtype, device=y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return Mean.update_state(self, torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return torch.sqrt(Mean.result(self))
