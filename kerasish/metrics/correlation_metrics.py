"""Goodness-of-fit metrics (Keras 3): ``R2Score``, ``PearsonCorrelation``,
``ConcordanceCorrelation`` and the functions ``pearson_correlation`` /
``concordance_correlation``.

The correlations are per-sample functions (over ``axis``) averaged over
batches by :class:`MeanMetricWrapper`, as in Keras. ``R2Score`` keeps
per-output weighted sums and gives the coefficient of determination of all
data seen.

Example::

    m = kerasish.metrics.R2Score()
    m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    m.result()   # tensor(0.5714)
"""

from __future__ import annotations

import warnings

import torch

from kerasish.losses.loss import squeeze_or_expand_to_same_rank, to_tensor
from kerasish.metrics.metric import Metric
from kerasish.metrics.reduction_metrics import MeanMetricWrapper

__all__ = ["pearson_correlation", "concordance_correlation", "PearsonCorrelation", "ConcordanceCorrelation", "R2Score"]

# keras.backend.epsilon()
_EPSILON = 1e-7


def _pair(y_true, y_pred):
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.float32)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of ``y_true`` and ``y_pred`` along ``axis``.

    Args:
        y_true, y_pred: tensors of the same shape, e.g. ``(batch, d)``.
        axis: the axis to correlate over (-1).

    Returns the correlations, ``axis`` reduced (``(batch,)``).

    Example::

        pearson_correlation([[0., 1., .5], [1., 1., .2]], [[.1, .9, .5], [1., .9, .2]])
        # tensor([1.0000, 0.9934])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - y_true.mean(dim=axis, keepdim=True)
    p = y_pred - y_pred.mean(dim=axis, keepdim=True)
    t = t / t.std(dim=axis, keepdim=True, correction=0)
    p = p / p.std(dim=axis, keepdim=True, correction=0)
    return (t * p).mean(dim=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation of ``y_true`` and ``y_pred`` along ``axis``.

    ``mean(2 * cov / (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))**2))``
    computed exactly as Keras 3 does (its covariance term centres ``y_true``
    on the mean of ``y_pred``; kept for parity).

    Args:
        y_true, y_pred: tensors of the same shape.
        axis: the axis to reduce (-1).

    Example::

        concordance_correlation([[0., 1., .5], [1., 1., .2]], [[.1, .9, .5], [1., .9, .2]])
        # tensor([0.9756, 0.9877])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = (y_true - true_mean).var(dim=axis, keepdim=True, correction=0)
    pred_var = (y_pred - pred_mean).var(dim=axis, keepdim=True, correction=0)
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + torch.square(true_mean - pred_mean)
    return (2 * covar / (norm + _EPSILON)).mean(dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Running mean of :func:`pearson_correlation` (1 is best).

    Args: name (``"pearson_correlation"``), dtype, axis (-1).

    Example::

        m = PearsonCorrelation()
        m.update_state([[0., 1., .5], [1., 1., .2]], [[.1, .9, .5], [1., .9, .2]])
        m.result()   # tensor(0.9967)
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Running mean of :func:`concordance_correlation` (1 is best).

    Args: name (``"concordance_correlation"``), dtype, axis (-1).

    Example::

        m = ConcordanceCorrelation()
        m.update_state([[0., 1., .5], [1., 1., .2]], [[.1, .9, .5], [1., .9, .2]])
        m.result()   # tensor(0.9816)
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class R2Score(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` of all data seen.

    Args:
        class_aggregation: how the per-output scores are combined:
            ``"uniform_average"`` (default: their mean),
            ``"variance_weighted_average"`` (weighted by each output's
            variance) or ``None`` (one score per output).
        num_regressors: the number of independent variables, for the
            adjusted R2 (0: plain R2).
        name: ``"r2_score"``.
        dtype: ``"float32"``.

    Inputs are ``(batch, outputs)`` (a ``(batch, 1)`` / ``(batch,)`` pair is
    one output; two ``(batch,)`` tensors raise, as in Keras);
    ``sample_weight`` is ``(batch,)`` or ``(batch, outputs)``. The
    state is made on the first update (``variables`` holds only
    ``num_samples`` before it), as in Keras.

    Example::

        m = R2Score()
        m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
        m.result()   # tensor(0.5714)
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"R2Score: invalid value for argument `class_aggregation`. Expected one of {valid}. "
                f"Received: class_aggregation={class_aggregation!r}"
            )
        if num_regressors < 0:
            raise ValueError(f"R2Score: invalid value for argument `num_regressors`. Expected a value >= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}."
            )
        n = int(y_pred_shape[-1])
        self.squared_sum = self.add_variable((n,), name="squared_sum")
        self.sum = self.add_variable((n,), name="sum")
        self.total_mse = self.add_variable((n,), name="residual")
        self.count = self.add_variable((n,), name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch's weighted sums.

        Args:
            y_true, y_pred: ``(batch, outputs)``.
            sample_weight: ``(batch,)`` or broadcastable to ``y_true`` (optional).
        """
        dtype = self._torch_dtype
        y_pred = to_tensor(y_pred, dtype=dtype, device=self.device)
        y_true = to_tensor(y_true, dtype=dtype, device=y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if sample_weight is None:
            sample_weight = torch.ones((), dtype=dtype, device=y_true.device)
        sample_weight = to_tensor(sample_weight, dtype=dtype, device=y_true.device)
        if sample_weight.dim() == 1:
            sample_weight = sample_weight.unsqueeze(1)
        sample_weight = torch.broadcast_to(sample_weight, y_true.shape)
        weighted = y_true * sample_weight
        self.sum.add_(weighted.sum(dim=0))
        self.squared_sum.add_((y_true * weighted).sum(dim=0))
        self.total_mse.add_((torch.square(y_true - y_pred) * sample_weight).sum(dim=0))
        self.count.add_(sample_weight.sum(dim=0))
        self.num_samples.add_(float(y_true.numel()))

    def result(self):
        """R2 (adjusted when ``num_regressors`` > 0): per output or aggregated."""
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self.device)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1 - self.total_mse / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors != 0:
            # The fall-backs warn, so this reads the sample count on the host
            # (only when an adjusted R2 is asked for).
            n = float(self.num_samples)
            p = float(self.num_regressors)
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return score

    def reset_state(self):
        for v in self.variables:
            v.zero_()

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
