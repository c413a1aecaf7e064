"""``EarlyStopping``: stop ``fit`` when a monitored quantity stops improving.

Args:
    monitor: log key to watch (``"val_loss"``).
    min_delta: least change that counts as an improvement (0).
    patience: epochs without improvement before stopping (0).
    verbose: 1 prints when it stops / restores.
    mode: ``"auto"``, ``"min"`` or ``"max"``.
    baseline: training stops if the model does not beat this value within
        ``patience`` epochs (None: no baseline).
    restore_best_weights: at the end of training, put back the weights of the
        best epoch (even if it did not beat ``baseline``).
    start_from_epoch: epochs to wait before monitoring starts (0).

The decision is Keras 3's, step for step: at each epoch end (from
``start_from_epoch`` on) ``wait`` grows by one and resets on an improvement
(one that also beats ``baseline`` when given); when ``wait >= patience`` (and
it is not the first epoch) ``model.stop_training`` is set.

Example:

    >>> callback = EarlyStopping(monitor="loss", patience=3)
    >>> # model.fit(x, y, epochs=100, callbacks=[callback]) stops after 3
    >>> # epochs without a lower loss.
"""

from __future__ import annotations

import warnings

from kerasish.callbacks._utils import print_msg
from kerasish.callbacks.monitor_callback import MonitorCallback

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored metric has stopped improving (see
    module doc)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise ValueError(f"`patience` must be a non-negative integer. Received: patience={patience!r}")
        if not isinstance(start_from_epoch, int) or isinstance(start_from_epoch, bool) or start_from_epoch < 0:
            raise ValueError(f"`start_from_epoch` must be a non-negative integer. Received: start_from_epoch={start_from_epoch!r}")
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.best_epoch = 0
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The first monitored epoch is the best so far, whatever baseline says.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}",
                stacklevel=2,
            )
        return value
