"""Accuracy metrics (Keras 3): functions giving per-sample 0/1 matches and the
``MeanMetricWrapper`` classes averaging them.

- ``accuracy``: ``y_true == y_pred`` exactly.
- ``binary_accuracy``: ``y_true == (y_pred > threshold)``.
- ``categorical_accuracy``: ``argmax(y_true) == argmax(y_pred)`` (one-hot labels).
- ``sparse_categorical_accuracy``: ``y_true == argmax(y_pred)`` (integer labels).
- ``top_k_categorical_accuracy`` / ``sparse_top_k_categorical_accuracy``:
  the true class is among the ``k`` highest scores (ties count as in).

Example::

    m = kerasish.metrics.SparseCategoricalAccuracy()
    m.update_state(torch.tensor([2, 1]), torch.tensor([[0.1, 0.6, 0.3], [0.05, 0.95, 0.0]]))
    m.result()   # tensor(0.5)
"""

from __future__ import annotations

import torch

from kerasish.losses.loss import squeeze_or_expand_to_same_rank, to_tensor
from kerasish.metrics.reduction_metrics import MeanMetricWrapper

__all__ = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
]

_FLOATX = torch.float32


def _pred(y_pred):
    y_pred = to_tensor(y_pred)
    return y_pred


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` (after Keras's rank alignment), else 0.0."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).to(_FLOATX)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``y_true == (y_pred > threshold)``, else 0.0 (per element)."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    pred = (y_pred > threshold).to(y_true.dtype)
    return (y_true == pred).to(_FLOATX)


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true, -1) == argmax(y_pred, -1)``, else 0.0."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    y_true = torch.argmax(y_true, dim=-1)
    org_shape = y_true.shape
    reshape = False
    if y_true.dim() == y_pred.dim():
        y_true = y_true.squeeze(-1)
        reshape = True
    pred = torch.argmax(y_pred, dim=-1)
    matches = (y_true == pred).to(_FLOATX)
    if reshape:
        matches = matches.reshape(org_shape)
    return matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals ``argmax(y_pred, -1)``, else 0.0.

    Labels of shape ``(N,)`` or ``(N, 1)`` give ``(N,)``.
    """
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    org_shape = y_true.shape
    reshape = False
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
        reshape = True
    pred = torch.argmax(y_pred, dim=-1)
    if y_true.is_floating_point():
        matches = y_true == pred.to(y_true.dtype)
    else:
        matches = y_true.to(torch.int64) == pred
    matches = matches.to(_FLOATX)
    if reshape:
        matches = matches.reshape(org_shape)
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(targets, predictions, k):
    """Whether ``predictions[i, targets[i]]`` is >= the k-th largest score of row i."""
    k = min(int(k), predictions.shape[-1])
    kth = torch.topk(predictions, k, dim=-1).values[:, -1:]
    target_values = torch.take_along_dim(predictions, targets.to(torch.int64)[:, None], dim=-1)
    return (target_values >= kth).squeeze(-1)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the top ``k`` scores."""
    y_pred = _pred(y_pred)
    y_true = torch.argmax(to_tensor(y_true, device=y_pred.device), dim=-1)
    org_shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    reshape = y_true.dim() > 1
    if reshape:
        y_true = y_true.reshape(-1)
    matches = _in_top_k(y_true, y_pred, k).to(_FLOATX)
    return matches.reshape(org_shape) if reshape else matches


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the top ``k`` scores.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score
    and the first ``k`` of each row are compared with the label.
    """
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    y_true = y_true.to(y_pred.dtype) if from_sorted_ids else y_true.to(torch.int32)
    org_shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    reshape = y_true.dim() > 1
    if reshape:
        y_true = y_true.reshape(-1)
    if from_sorted_ids:
        matches = torch.any(y_true[:, None] == y_pred[:, :k], dim=1)
    else:
        matches = _in_top_k(y_true, y_pred, k)
    matches = matches.to(_FLOATX)
    return matches.reshape(org_shape) if reshape else matches


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    Args: name (``"accuracy"``), dtype.
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 label.

    Args: name (``"binary_accuracy"``), dtype, threshold (0.5).

    Example: ``BinaryAccuracy()([[1], [0]], [[0.9], [0.7]])  # 0.5``
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches ``argmax`` of the one-hot label.

    Args: name (``"categorical_accuracy"``), dtype.
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches the integer label.

    Args: name (``"sparse_categorical_accuracy"``), dtype.
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` highest scores.

    Args: k (5), name (``"top_k_categorical_accuracy"``), dtype.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores.

    Args: k (5), name (``"sparse_top_k_categorical_accuracy"``), dtype,
    from_sorted_ids (False: ``y_pred`` are scores; True: sorted class ids).
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
