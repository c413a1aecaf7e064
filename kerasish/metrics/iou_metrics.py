"""Intersection-over-union metrics (Keras 3): ``IoU``, ``MeanIoU``,
``BinaryIoU``, ``OneHotIoU``, ``OneHotMeanIoU``.

Each keeps a ``(num_classes, num_classes)`` confusion matrix (rows: labels,
columns: predictions), weighted by ``sample_weight``, and reports
``tp / (tp + fp + fn)`` averaged over the target classes that occurred. As in
Keras the matrix is integer (``dtype="int32"``) by default, so float weights
are truncated; pass ``dtype="float32"`` for fractional weights. The matrix is
added to with one ``index_add_`` per batch, on the data's device.

Example::

    m = kerasish.metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    m.result()   # tensor(0.3333)
"""

from __future__ import annotations

import warnings

import torch

from kerasish.losses.loss import to_tensor
from kerasish.metrics.metric import Metric

__all__ = ["IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"]

# keras.backend.epsilon(): Keras adds it to the denominators.
_EPSILON = 1e-7


class _IoUBase(Metric):
    """The confusion-matrix state and update shared by the IoU metrics."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        self._direction = "up"
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: `num_classes` must be a positive int. Received: num_classes={num_classes!r}")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes), name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch to the confusion matrix.

        Args:
            y_true: class ids (or one-hot / scores along ``axis`` when
                ``sparse_y_true=False``), any shape.
            y_pred: class ids (or scores along ``axis`` when ``sparse_y_pred=False``).
            sample_weight: weights broadcastable to the class ids (optional);
                0 leaves an entry out.

        Entries whose label or prediction is outside ``[0, num_classes)``, or
        whose label is ``ignore_class``, are not counted.
        """
        device = self.device
        y_true = to_tensor(y_true, device=device)
        y_pred = to_tensor(y_pred, device=device)
        if not self.sparse_y_true:
            y_true = torch.argmax(y_true, dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = torch.argmax(y_pred, dim=self.axis)
        ids_shape = tuple(y_true.shape)
        # Keras casts the ids to the state dtype (truncating float ids).
        y_true = y_true.to(self._torch_dtype).to(torch.int64).reshape(-1)
        y_pred = y_pred.to(self._torch_dtype).to(torch.int64).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__}: `y_true` and `y_pred` must hold the same number of class ids. "
                f"Received: {y_true.numel()} labels and {y_pred.numel()} predictions."
            )
        if sample_weight is None:
            weights = torch.ones_like(y_true, dtype=self._torch_dtype)
        else:
            sw = to_tensor(sample_weight, device=device)
            if sw.is_floating_point() and not self._torch_dtype.is_floating_point:
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. This may result in an incorrect weight "
                    "due to type casting. Consider using integer weights.",
                    stacklevel=3,
                )
            sw = sw.to(self._torch_dtype)
            if 1 <= sw.dim() < len(ids_shape) and sw.shape[0] == ids_shape[0] and sw.numel() != y_true.numel():
                # One weight per sample for (batch, ...) ids: align on the
                # batch axis (Keras broadcasts from the right and fails).
                sw = sw.reshape(tuple(sw.shape) + (1,) * (len(ids_shape) - sw.dim()))
                sw = torch.broadcast_to(sw, ids_shape)
            if sw.dim() > 1:
                sw = sw.reshape(-1)
            try:
                weights = torch.broadcast_to(sw, y_true.shape)
            except RuntimeError:
                raise ValueError(
                    f"{type(self).__name__}: `sample_weight` of shape {tuple(to_tensor(sample_weight).shape)} does not "
                    f"broadcast to the class ids of shape {ids_shape}."
                ) from None
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid = valid & (y_true != self.ignore_class)
        zero = torch.zeros((), dtype=torch.int64, device=y_true.device)
        index = torch.where(valid, y_true, zero) * n + torch.where(valid, y_pred, zero)
        weights = torch.where(valid, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))
        self.total_cm.view(-1).index_add_(0, index, weights.to(self.total_cm.dtype))

    def reset_state(self):
        self.total_cm.zero_()


class IoU(_IoUBase):
    """Mean intersection-over-union of the classes in ``target_class_ids``.

    ``iou = tp / (tp + fp + fn)`` per class from the accumulated confusion
    matrix; classes that never occurred (denominator 0) are left out of the
    mean.

    Args:
        num_classes: number of classes (the matrix is ``num_classes``
            square).
        target_class_ids: the class ids to average over (list or tuple).
        name: default ``"io_u"`` (Keras's snake case, made unique).
        dtype: state dtype (default ``"int32"``, as Keras).
        ignore_class: a label id to leave out (e.g. a "void" class).
        sparse_y_true, sparse_y_pred: ``False`` takes the argmax over ``axis``.
        axis: the class axis for the argmax (-1).

    Example::

        m = IoU(num_classes=2, target_class_ids=[0])
        m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        m.result()   # tensor(0.3333)
    """

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(
            num_classes=num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )
        target_class_ids = list(target_class_ids)
        if not target_class_ids:
            raise ValueError(f"{type(self).__name__}: `target_class_ids` must name at least one class. Received: []")
        if max(target_class_ids) >= num_classes or min(target_class_ids) < 0:
            raise ValueError(
                f"{type(self).__name__}: target class id {max(target_class_ids)} is out of range, "
                f"which is [0, {num_classes}). Received: target_class_ids={target_class_ids}"
            )
        self.target_class_ids = target_class_ids

    def result(self):
        """The mean IoU over the target classes that occurred (a 0-d float32 tensor)."""
        cm = self.total_cm.to(torch.float32)
        tp = torch.diagonal(cm)
        denominator = cm.sum(dim=0) + cm.sum(dim=1) - tp
        ids = torch.tensor(self.target_class_ids, dtype=torch.int64, device=cm.device)
        tp = tp[ids]
        denominator = denominator[ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, tp / (denominator + _EPSILON), torch.zeros_like(tp))
        return iou.sum(dim=self.axis) / (valid.to(torch.float32).sum() + _EPSILON)

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of binary predictions: ``y_pred >= threshold`` is class 1, else class 0.

    Args:
        target_class_ids: ``(0, 1)`` (default: the mean of both), ``[0]`` or ``[1]``.
        threshold: the cut-off on predictions (0.5).
        name: default ``"binary_io_u"``.
        dtype: state dtype (``"int32"``).

    Example::

        m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
        m.result()   # tensor(0.3333)
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """As :meth:`IoU.update_state`, after thresholding ``y_pred``."""
        y_pred = to_tensor(y_pred, dtype=torch.float32, device=self.device)
        return super().update_state(y_true, (y_pred >= self.threshold).to(torch.int64), sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes (those that occurred).

    Args: num_classes, name (``"mean_io_u"``), dtype (``"int32"``),
    ignore_class, sparse_y_true, sparse_y_pred, axis: as :class:`IoU`.

    Example::

        m = MeanIoU(num_classes=2, dtype="float32")   # float state for fractional weights
        m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
        m.result()   # tensor(0.2381)
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(
            num_classes=num_classes,
            target_class_ids=list(range(num_classes)) if isinstance(num_classes, int) and num_classes > 0 else [0],
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (the argmax of ``y_true`` over ``axis``).

    Args: num_classes, target_class_ids, name (``"one_hot_io_u"``), dtype,
    ignore_class, sparse_y_pred (``False``: argmax of the scores), axis.

    Example::

        m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        m.update_state([[0, 0, 1], [1, 0, 0]], [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7]])
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(
            num_classes=num_classes,
            target_class_ids=target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (the argmax of ``y_true`` over ``axis``).

    Args: num_classes, name (``"one_hot_mean_io_u"``), dtype, ignore_class,
    sparse_y_pred (``False``), axis.

    Example::

        m = OneHotMeanIoU(num_classes=3)
        m.update_state([[0, 0, 1], [1, 0, 0]], [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7]])
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(
            num_classes=num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }
