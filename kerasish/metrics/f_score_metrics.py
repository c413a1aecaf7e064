"""F-scores (Keras 3): ``FBetaScore`` and ``F1Score``.

Weighted true positive, false positive, false negative and support counts are
kept per class (or as totals with ``average="micro"``) and turned into
``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)`` by
``result()``. As in Keras, the state is made on the first ``update_state``
(when the number of classes is known), so ``variables`` is empty before it.

Example::

    m = kerasish.metrics.F1Score(average="macro", threshold=0.5)
    m.update_state([[1, 0, 1], [0, 1, 0]], [[0.9, 0.2, 0.4], [0.1, 0.7, 0.8]])
    m.result()   # 0-d tensor
"""

from __future__ import annotations

import numbers

import torch

from kerasish.losses.loss import to_tensor
from kerasish.metrics.metric import Metric

__all__ = ["FBetaScore", "F1Score"]

# keras.backend.epsilon(): added to the denominators as Keras does.
_EPSILON = 1e-7
_AVERAGES = (None, "micro", "macro", "weighted")


def _real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class FBetaScore(Metric):
    """The F-beta score: the weighted harmonic mean of precision and recall.

    Args:
        average: ``None`` (default: one score per class), ``"micro"``
            (scores from the counts summed over classes), ``"macro"`` (the
            mean of the per-class scores) or ``"weighted"`` (their mean
            weighted by each class's support).
        beta: weight of recall against precision (``1.0``; must be > 0).
        threshold: predictions ``> threshold`` are positive; ``None`` makes
            each row's largest prediction (if not ~0) the positive one.
        name: ``"fbeta_score"``.
        dtype: dtype of the state and result (``"float32"``).

    Inputs are ``(batch, classes)`` labels (0/1) and predictions;
    ``sample_weight`` is one weight per row.

    Example::

        m = FBetaScore(beta=2.0, threshold=0.5)
        m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
                       [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        m.result()   # tensor([0.3846, 0.9091, 0.8333])
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in _AVERAGES:
            raise ValueError(
                "FBetaScore: invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average!r}"
            )
        if not _real(beta):
            raise ValueError(f"FBetaScore: `beta` should be a Python float. Received: beta={beta!r} of type {type(beta)}")
        if beta <= 0.0:
            raise ValueError(f"FBetaScore: `beta` should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not _real(threshold):
                raise ValueError(
                    f"FBetaScore: `threshold` should be a Python float. Received: threshold={threshold!r} of type {type(threshold)}"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"FBetaScore: `threshold` should verify 0 < threshold <= 1. Received: threshold={threshold}")
            threshold = float(threshold)
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        # Per-class counts sum over the batch axis; "micro" sums everything.
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}."
            )
        shape = () if self.average == "micro" else (int(y_pred_shape[-1]),)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch's weighted counts.

        Args:
            y_true: ``(batch, classes)`` 0/1 labels.
            y_pred: ``(batch, classes)`` scores.
            sample_weight: ``(batch,)`` weights (optional).
        """
        dtype = self._torch_dtype
        y_pred = to_tensor(y_pred, dtype=dtype, device=self.device)
        y_true = to_tensor(y_true, dtype=dtype, device=y_pred.device)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = y_pred.amax(dim=-1, keepdim=True)
            y_pred = (y_pred >= top) & (y_pred.abs() > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.to(dtype)
        if sample_weight is not None:
            sample_weight = to_tensor(sample_weight, dtype=dtype, device=y_pred.device).unsqueeze(1)

        def weighted_sum(value):
            if sample_weight is not None:
                value = value * sample_weight
            return value.sum() if self.axis is None else value.sum(dim=self.axis)

        self.true_positives.add_(weighted_sum(y_pred * y_true))
        self.false_positives.add_(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.add_(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self):
        """The score: per class (``average=None``) or a 0-d tensor."""
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self.device)
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + _EPSILON)
        recall = tp / (tp + self.false_negatives + _EPSILON)
        b2 = self.beta**2
        score = precision * recall / (b2 * precision + recall + _EPSILON) * (1 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + _EPSILON)
            return (score * weights).sum()
        if self.average is not None:
            return score.mean()
        return score

    def reset_state(self):
        for v in self.variables:
            v.zero_()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score: ``2 * precision * recall / (precision + recall)``.

    Args: average (``None``, ``"micro"``, ``"macro"``, ``"weighted"``),
    threshold, name (``"f1_score"``), dtype: as :class:`FBetaScore`.

    Example::

        m = F1Score(threshold=0.5)
        m.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.7]])
        m.result()   # tensor([0.6667, 1.0000])
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
