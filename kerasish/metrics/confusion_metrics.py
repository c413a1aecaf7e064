"""Confusion-matrix metrics (Keras 3): ``TruePositives``, ``FalsePositives``,
``TrueNegatives``, ``FalseNegatives``, ``Precision``, ``Recall``, ``AUC``,
``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``,
``PrecisionAtRecall``, ``RecallAtPrecision``.

Counts are accumulated per threshold as weighted sums on the data's device.
As in Keras, evenly spaced thresholds (``AUC``'s default) are counted with
one bucketing pass (a scatter-add and a reversed cumulative sum) instead of
comparing every prediction with every threshold.

Example::

    auc = kerasish.metrics.AUC()
    auc.update_state(y_true, y_prob)
    auc.result()   # 0-d tensor
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from kerasish.losses.loss import squeeze_or_expand_to_same_rank, to_tensor
from kerasish.metrics.metric import Metric
from kerasish.metrics.reduction_metrics import divide_no_nan

__all__ = [
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "update_confusion_matrix_variables",
]

NEG_INF = -1e10
_EPSILON = 1e-7

TP, FP, TN, FN = "tp", "fp", "tn", "fn"


def _to_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """Thresholds as a list; each must be in [0, 1] (ValueError naming the bad ones)."""
    if thresholds is not None:
        bad = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if bad:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return [float(t) for t in _to_list(default_threshold if thresholds is None else thresholds)]


def is_evenly_distributed_thresholds(thresholds):
    """Whether ``thresholds`` are ``0, 1/(n-1), ..., 1`` (n >= 3) within 1e-7."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(np.asarray(thresholds), even, atol=_EPSILON))


def _filter_top_k(x, k):
    """Keep the top ``k`` scores of the last axis, set the others to -1e10."""
    idx = torch.topk(x, k, dim=-1).indices
    mask = torch.zeros_like(x).scatter_(-1, idx, 1.0)
    return x * mask + NEG_INF * (1 - mask)


def _segment_sum(data, segment_ids, num_segments):
    """Sum ``data`` into ``num_segments`` rows by ``segment_ids`` along axis 0; out-of-range ids are dropped."""
    valid = (segment_ids >= 0) & (segment_ids < num_segments)
    ids = torch.where(valid, segment_ids, torch.full_like(segment_ids, num_segments))
    out = torch.zeros((num_segments + 1,) + tuple(data.shape[1:]), dtype=data.dtype, device=data.device)
    if data.dim() == 1:
        out.index_add_(0, ids, data)
    else:
        out.scatter_add_(0, ids, data)
    return out[:num_segments]


def _reverse_cumsum(x, dim=0):
    return torch.flip(torch.cumsum(torch.flip(x, (dim,)), dim=dim), (dim,))


def update_confusion_matrix_variables(
    variables_to_update,
    y_true,
    y_pred,
    thresholds,
    top_k=None,
    class_id=None,
    sample_weight=None,
    multi_label=False,
    label_weights=None,
    thresholds_distributed_evenly=False,
    thresholds_tensor=None,
):
    """Add this batch's weighted TP / FP / TN / FN counts (per threshold) in place.

    Args:
        variables_to_update: ``{"tp"|"fp"|"tn"|"fn": state tensor}``.
        y_true, y_pred: labels (non-zero is positive) and scores in [0, 1].
        thresholds: the thresholds (a list of floats); a prediction is
            positive when ``y_pred > threshold``.
        top_k: only the ``k`` highest scores of each row may be positive.
        class_id: only this class (last axis) is counted.
        sample_weight: weights broadcastable to ``y_pred``.
        multi_label: keep the label axis (counts of shape ``(T, L)``).
        label_weights: per-label weights (not with ``multi_label``).
        thresholds_distributed_evenly: use the bucketing pass.
        thresholds_tensor: ``thresholds`` already on the device (optional).
    """
    if multi_label and label_weights is not None:
        raise ValueError(
            "`label_weights` for multilabel data should be handled outside of "
            "`update_confusion_matrix_variables` when `multi_label` is True."
        )
    if not variables_to_update:
        return
    invalid = [k for k in variables_to_update if k not in (TP, FP, TN, FN)]
    if invalid:
        raise ValueError(f'Invalid keys: "{invalid}". Valid variable key options are: "{[TP, FP, TN, FN]}"')
    ref = next(iter(variables_to_update.values()))
    dtype, device = ref.dtype, ref.device
    y_pred = to_tensor(y_pred, device=device).to(dtype)
    y_true = to_tensor(y_true, device=device).to(dtype)
    thresholds = list(thresholds)
    num_thresholds = len(thresholds)
    thr = thresholds_tensor if thresholds_tensor is not None else torch.tensor(thresholds, dtype=dtype, device=device)

    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, device=device).to(dtype).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if label_weights is not None:
        label_weights = to_tensor(label_weights, device=device).to(dtype)

    if thresholds_distributed_evenly:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        weights = None
        if sample_weight is not None:
            weights = torch.broadcast_to(sample_weight, y_pred.shape)
            if not multi_label:
                weights = weights.reshape(-1)
        if label_weights is not None:
            lw = torch.broadcast_to(label_weights.unsqueeze(0), y_pred.shape)
            if not multi_label:
                lw = lw.reshape(-1)
            weights = lw if weights is None else weights * lw
        y_pred = torch.clamp(y_pred, 0.0, 1.0)
        y_true = (y_true != 0).to(dtype)
        if not multi_label:
            y_true = y_true.reshape(-1)
            y_pred = y_pred.reshape(-1)
        true_labels = y_true if weights is None else y_true * weights
        false_labels = (1.0 - y_true) if weights is None else (1.0 - y_true) * weights
        buckets = torch.ceil(y_pred * (num_thresholds - 1)) - 1
        if with_epsilon:
            buckets = torch.relu(buckets)
        buckets = buckets.to(torch.int64)
        tp = _reverse_cumsum(_segment_sum(true_labels, buckets, num_thresholds))
        fp = _reverse_cumsum(_segment_sum(false_labels, buckets, num_thresholds))
        if TN in variables_to_update or FN in variables_to_update:
            total_true = true_labels.sum(0) if multi_label else true_labels.sum()
            total_false = false_labels.sum(0) if multi_label else false_labels.sum()
        if TP in variables_to_update:
            variables_to_update[TP].add_(tp)
        if FP in variables_to_update:
            variables_to_update[FP].add_(fp)
        if TN in variables_to_update:
            variables_to_update[TN].add_(total_false - fp)
        if FN in variables_to_update:
            variables_to_update[FN].add_(total_true - tp)
        return

    if multi_label:
        preds = y_pred.unsqueeze(0)  # (1, N, L)
        labels = (y_true != 0).unsqueeze(0)
        thr_b = thr.reshape(-1, 1, 1)
    else:
        preds = y_pred.reshape(1, -1)
        labels = (y_true != 0).reshape(1, -1)
        thr_b = thr.reshape(-1, 1)
    pred_is_pos = preds > thr_b
    weights = None
    if sample_weight is not None:
        w = torch.broadcast_to(sample_weight, y_pred.shape)
        weights = w.unsqueeze(0) if multi_label else w.reshape(1, -1)
    if label_weights is not None and not multi_label:
        lw = torch.broadcast_to(label_weights.unsqueeze(0), y_pred.shape).reshape(1, -1)
        weights = lw if weights is None else weights * lw

    def _count(label, pred):
        both = label & pred
        if weights is not None:
            both = torch.where(both, weights, torch.zeros((), dtype=dtype, device=device))
        else:
            both = both.to(dtype)
        return both.sum(1)

    if TP in variables_to_update:
        variables_to_update[TP].add_(_count(labels, pred_is_pos))
    if FN in variables_to_update or TN in variables_to_update:
        pred_is_neg = ~pred_is_pos
        if FN in variables_to_update:
            variables_to_update[FN].add_(_count(labels, pred_is_neg))
    if FP in variables_to_update or TN in variables_to_update:
        label_is_neg = ~labels
        if FP in variables_to_update:
            variables_to_update[FP].add_(_count(label_is_neg, pred_is_pos))
        if TN in variables_to_update:
            variables_to_update[TN].add_(_count(label_is_neg, pred_is_neg))


class _ThresholdedMetric(Metric):
    """Keeps ``self.thresholds`` (list) and a device copy for the updates."""

    def _set_thresholds(self, thresholds):
        self.thresholds = thresholds
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(thresholds)
        self._thresholds_tensor = torch.tensor(thresholds, dtype=self._torch_dtype)

    def _update(self, variables, y_true, y_pred, sample_weight, **kwargs):
        update_confusion_matrix_variables(
            variables,
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
            thresholds_tensor=self._thresholds_tensor,
            **kwargs,
        )


class _ConfusionMatrixConditionCount(_ThresholdedMetric):
    _condition = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self._set_thresholds(parse_init_thresholds(thresholds, default_threshold=0.5))
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros", name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update({self._condition: self.accumulator}, y_true, y_pred, sample_weight)

    def result(self):
        return self.accumulator[0].clone() if len(self.thresholds) == 1 else self.accumulator.clone()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of true positives (per threshold).

    Args: thresholds (0.5; a float or list in [0, 1]), name, dtype.
    """

    _condition = TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives (per threshold). Args: thresholds, name, dtype."""

    _condition = FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives (per threshold). Args: thresholds, name, dtype."""

    _condition = TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives (per threshold). Args: thresholds, name, dtype."""

    _condition = FN


class Precision(_ThresholdedMetric):
    """``TP / (TP + FP)``: of the predicted positives, how many are right.

    Args:
        thresholds: a float or list in [0, 1]; a prediction is positive above
            it (default 0.5, or "any score" with ``top_k``). With a list the
            result has one value per threshold.
        top_k: count only the ``k`` highest scores of each row as predictions.
        class_id: count only this class (last axis).
        name: the metric's name.
        dtype: the metric's dtype.

    Example: ``Precision()([0, 1, 1, 1], [1, 0, 1, 1])  # 0.6667``
    """

    _second = FP

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self._set_thresholds(parse_init_thresholds(thresholds, default_threshold=default))
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        if self._second == FP:
            self.false_positives = self.add_variable(shape=(n,), initializer="zeros", name="false_positives")
        else:
            self.false_negatives = self.add_variable(shape=(n,), initializer="zeros", name="false_negatives")

    def _other(self):
        return self.false_positives

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update(
            {TP: self.true_positives, self._second: self._other()},
            y_true,
            y_pred,
            sample_weight,
            top_k=self.top_k,
            class_id=self.class_id,
        )

    def result(self):
        r = divide_no_nan(self.true_positives, self.true_positives + self._other())
        return r[0] if len(self.thresholds) == 1 else r

    def reset_state(self):
        self.true_positives.zero_()
        self._other().zero_()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """``TP / (TP + FN)``: of the actual positives, how many are found.

    Args: thresholds, top_k, class_id, name, dtype (as :class:`Precision`).
    """

    _second = FN

    def _other(self):
        return self.false_negatives


class _SensitivitySpecificityBase(_ThresholdedMetric):
    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            thresholds = [0.5]
        else:
            thresholds = [0.0] + [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
        self._set_thresholds(thresholds)
        n = len(thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=(n,), initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=(n,), initializer="zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update(
            {TP: self.true_positives, TN: self.true_negatives, FP: self.false_positives, FN: self.false_negatives},
            y_true,
            y_pred,
            sample_weight,
            class_id=self.class_id,
        )

    def _rates(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        return {
            "sensitivity": divide_no_nan(tp, tp + fn),
            "specificity": divide_no_nan(tn, tn + fp),
            "precision": divide_no_nan(tp, tp + fp),
        }

    def _max_under_constraint(self, constrained, dependent):
        feasible = constrained >= self.value
        return torch.clamp(torch.amax(torch.where(feasible, dependent, torch.zeros_like(dependent))), min=0.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def _check_unit(value, arg):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{arg}` must be in the range [0, 1]. Received: {arg}={value}")


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """Best sensitivity (recall) among thresholds whose specificity >= ``specificity``.

    Args: specificity (in [0, 1]), num_thresholds (200), class_id, name, dtype.
    """

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(specificity, "specificity")
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)
        self.specificity, self.num_thresholds = specificity, num_thresholds

    def result(self):
        r = self._rates()
        return self._max_under_constraint(r["specificity"], r["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "specificity": self.specificity}


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """Best specificity among thresholds whose sensitivity >= ``sensitivity``.

    Args: sensitivity (in [0, 1]), num_thresholds (200), class_id, name, dtype.
    """

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(sensitivity, "sensitivity")
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)
        self.sensitivity, self.num_thresholds = sensitivity, num_thresholds

    def result(self):
        r = self._rates()
        return self._max_under_constraint(r["sensitivity"], r["specificity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "sensitivity": self.sensitivity}


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """Best precision among thresholds whose recall >= ``recall``.

    Args: recall (in [0, 1]), num_thresholds (200), class_id, name, dtype.
    """

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(recall, "recall")
        super().__init__(value=recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)
        self.recall, self.num_thresholds = recall, num_thresholds

    def result(self):
        r = self._rates()
        return self._max_under_constraint(r["sensitivity"], r["precision"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "recall": self.recall}


class RecallAtPrecision(_SensitivitySpecificityBase):
    """Best recall among thresholds whose precision >= ``precision``.

    Args: precision (in [0, 1]), num_thresholds (200), class_id, name, dtype.
    """

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(precision, "precision")
        super().__init__(value=precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)
        self.precision, self.num_thresholds = precision, num_thresholds

    def result(self):
        r = self._rates()
        return self._max_under_constraint(r["precision"], r["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "precision": self.precision}


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "majoring": "majoring", "minoring": "minoring"}


class AUC(_ThresholdedMetric):
    """Area under the ROC or precision-recall curve, from per-threshold counts.

    Args:
        num_thresholds: number of thresholds spread evenly over [0, 1] (200).
        curve: ``"ROC"`` (default), ``"PR"`` or ``"PRGAIN"``.
        summation_method: ``"interpolation"`` (default; for PR the
            Davis & Goadrich interpolation), ``"minoring"`` or ``"majoring"``.
        name: the metric's name.
        dtype: the metric's dtype.
        thresholds: explicit thresholds in [0, 1] (then ``num_thresholds`` is
            ``len(thresholds) + 2``).
        multi_label: one curve per label (last axis), averaged (weighted by
            ``label_weights``); otherwise all labels are pooled.
        num_labels: number of labels with ``multi_label`` (else taken from the
            first batch).
        label_weights: per-label weights.
        from_logits: apply a sigmoid to ``y_pred`` first.

    Example: ``AUC(curve="PR", from_logits=True)``.
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        key = str(curve).lower()
        if key not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC", "PRGAIN"]')
        skey = str(summation_method).lower()
        if skey not in _SUMMATIONS:
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". '
                'Expected values are ["interpolation", "majoring", "minoring"]'
            )
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            inner = sorted(float(t) for t in thresholds)
            evenly = is_evenly_distributed_thresholds([0.0] + inner + [1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            evenly = True
        self._set_thresholds([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self._thresholds_distributed_evenly = evenly
        self.curve = _CURVES[key]
        self.summation_method = _SUMMATIONS[skey]
        self.multi_label = multi_label
        self.num_labels = num_labels
        if label_weights is not None:
            self.label_weights = to_tensor(label_weights, dtype=self._torch_dtype)
            self._label_weights_list = [float(v) for v in self.label_weights.reshape(-1).tolist()]
        else:
            self.label_weights = None
            self._label_weights_list = None
        self._from_logits = from_logits
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {tuple(shape)}"
                )
            self._num_labels = shape[1]
            var_shape = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        self.true_positives = self.add_variable(shape=var_shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=var_shape, initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=var_shape, initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=var_shape, initializer="zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_tensor(y_pred, device=self.device)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred.to(self._torch_dtype))
        self._update(
            {TP: self.true_positives, TN: self.true_negatives, FP: self.false_positives, FN: self.false_negatives},
            y_true,
            y_pred,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )

    def _average_labels(self, by_label):
        if self.label_weights is None:
            return torch.mean(by_label)
        lw = self.label_weights
        return divide_no_nan(torch.sum(by_label * lw), torch.sum(lw))

    def interpolate_pr_auc(self):
        """PR-AUC by Davis & Goadrich's interpolation between thresholds."""
        n = self.num_thresholds
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where(
            (p[: n - 1] > 0) & (p[1:] > 0),
            divide_no_nan(p[: n - 1], torch.clamp(p[1:], min=0)),
            torch.ones_like(p[1:]),
        )
        increment = divide_no_nan(
            prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
            torch.clamp(tp[1:] + fn[1:], min=0),
        )
        if self.multi_label:
            return self._average_labels(torch.sum(increment, dim=0))
        return torch.sum(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        n = self.num_thresholds
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scale * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scale * divide_no_nan(fp, tp)
            no_tp = tp == 0
            recall_gain = torch.where(no_tp, torch.zeros_like(recall_gain), recall_gain)
            precision_gain = torch.where(no_tp, torch.ones_like(precision_gain), precision_gain)
            x, y = torch.clamp(recall_gain, min=0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[: n - 1], y[1:])
        else:
            heights = torch.maximum(y[: n - 1], y[1:])
        riemann = (x[: n - 1] - x[1:]) * heights
        if self.multi_label:
            return self._average_labels(torch.sum(riemann, dim=0))
        return torch.sum(riemann)

    def reset_state(self):
        if self._built:
            for v in (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives):
                v.zero_()

    def get_config(self):
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self._label_weights_list,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return {**super().get_config(), **config}
