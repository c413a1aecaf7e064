"""``MonitorCallback``: the shared base of callbacks that watch one logged
quantity and decide whether it improved (``EarlyStopping``,
``ModelCheckpoint``, ``ReduceLROnPlateau``), as Keras 3's.

Args:
    monitor: the log key to watch (``"val_loss"``).
    mode: ``"min"``, ``"max"`` or ``"auto"`` (direction from the name: a loss
        goes down; a metric goes the way its ``_direction`` says, looked up by
        name in ``model.metrics``). An unknown mode warns and falls back to
        ``"auto"``, as in Keras.
    baseline: initial best value (None: the first value seen).
    min_delta: least change that counts as an improvement.

Example:

    >>> class Watch(MonitorCallback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         if self.monitor_op is None:
    ...             self._set_monitor_op()
    ...         if self._is_improvement(logs[self.monitor], self.best):
    ...             self.best = logs[self.monitor]
"""

from __future__ import annotations

import operator
import warnings

from kerasish.callbacks.callback import Callback

__all__ = ["MonitorCallback"]

# Used only when the model's metric objects carry no ``_direction`` (Keras's
# built-in metrics all do; these are their names).
_UP_NAMES = ("acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "iou", "r2_score", "top_k", "true_positives", "true_negatives", "specificity", "sensitivity", "pearson", "concordance")
_DOWN_NAMES = ("loss", "error", "crossentropy", "hinge", "divergence", "mean_squared", "mean_absolute", "logcosh", "poisson", "false_positives", "false_negatives", "cosine_proximity")


def _iter_metrics(metrics):
    for m in metrics or ():
        yield m
        inner = getattr(m, "metrics", None)
        if isinstance(inner, (list, tuple)) and inner is not metrics:
            yield from _iter_metrics(inner)


class MonitorCallback(Callback):
    """Base class for callbacks that monitor a quantity (see module doc)."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{self.__class__.__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        if not isinstance(monitor, str):
            raise TypeError(f"`monitor` must be a string (a log key). Received: monitor={monitor!r}")
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self.monitor_op = operator.lt
            metrics = []
            try:
                metrics = list(_iter_metrics(getattr(self.model, "metrics", None)))
            except Exception:  # a model without compiled metrics
                metrics = []
            for m in metrics:
                if getattr(m, "name", None) == name and hasattr(m, "_direction"):
                    self.monitor_op = operator.gt if m._direction == "up" else operator.lt
            if self.monitor_op is None:
                low = name.lower()
                if any(k in low for k in _UP_NAMES):
                    self.monitor_op = operator.gt
                elif any(k in low for k in _DOWN_NAMES):
                    self.monitor_op = operator.lt
            if self.monitor_op is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received monitor={self.monitor}, but Keras isn't able to "
                    "automatically determine whether that metric should be maximized or minimized. Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or pass `mode='min'` "
                    "in order to use the lowest value."
                )
        if self.monitor_op is operator.lt:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
