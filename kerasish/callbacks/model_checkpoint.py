"""``ModelCheckpoint``: save the model (or its weights) during ``fit``.

Args:
    filepath: where to save; may hold ``str.format`` fields filled from the
        epoch (1-based) and the logs, e.g. ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``
        (and ``{batch}`` with an integer ``save_freq``). Must end in
        ``.keras`` (or ``.h5``) for whole models, ``.weights.h5`` with
        ``save_weights_only=True``, as Keras 3 requires.
    monitor: log key compared for ``save_best_only`` (``"val_loss"``).
    verbose: 1 prints a line on each save decision.
    save_best_only: save only when ``monitor`` improves on the best so far.
    save_weights_only: ``model.save_weights`` instead of ``model.save``.
    mode: ``"auto"``, ``"min"`` or ``"max"``.
    save_freq: ``"epoch"`` or an integer: save every that many batches
        (counted across epochs, as Keras does).
    initial_value_threshold: initial "best" value for ``save_best_only``.

Example:

    >>> cb = ModelCheckpoint("ckpt/model-{epoch:02d}.keras")
    >>> # model.fit(..., epochs=3, callbacks=[cb]) writes model-01.keras,
    >>> # model-02.keras, model-03.keras.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import torch

from kerasish.distribution import is_chief
from kerasish.callbacks._utils import print_msg, pythonify_logs
from kerasish.callbacks.monitor_callback import MonitorCallback

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(MonitorCallback):
    """Callback to save the model or its weights at some frequency (see
    module doc)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0

        if self.save_freq != "epoch" and (not isinstance(self.save_freq, int) or isinstance(self.save_freq, bool) or self.save_freq <= 0):
            raise ValueError(f"Unrecognized save_freq: {self.save_freq}. Expected save_freq are 'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
                    f"`.weights.h5` (Keras weights format). Received: filepath={self.filepath}"
                )
        elif not any(self.filepath.endswith(ext) for ext in (".keras", ".h5")):
            raise ValueError(f"The filepath provided must end in `.keras` (Keras model format). Received: filepath={self.filepath}")

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            # Only now are the batch values read (one device sync per save).
            self._save_model(epoch=self._current_epoch, batch=batch, logs=pythonify_logs(logs))

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add_batches = batch + 1  # a new epoch started
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, batch, logs, filepath):
        logs = logs or {}
        if not self.save_best_only:
            if self.verbose > 0 and is_chief():  # one message, not one per process
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
            return True
        if isinstance(current, (np.ndarray, torch.Tensor)) and len(current.shape) > 0:
            warnings.warn(f"Can save best model only when `monitor` is a scalar value. Received: {current}. Falling back to `save_best_only=False`.")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0 and is_chief():  # one message, not one per process
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0 and is_chief():  # one message, not one per process
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IOError(f"Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing directory: {filepath}")
        if self._should_save_model(epoch, batch, logs, filepath):
            dirname = os.path.dirname(filepath)
            if dirname and not os.path.exists(dirname):
                os.makedirs(dirname, exist_ok=True)
            if self.save_weights_only:
                self.model.save_weights(filepath, overwrite=True)
            else:
                self.model.save(filepath, overwrite=True)
            if self.verbose > 0 and is_chief():  # one message, not one per process
                print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from None

    def _checkpoint_exists(self, filepath):
        return os.path.exists(filepath)

    def _get_most_recently_modified_file_matching_pattern(self, pattern):
        """The newest file matching ``pattern`` (its format fields as
        wildcards); ties go to the largest name. None when nothing matches."""
        dir_name = os.path.dirname(pattern) or "."
        base_regex = f"^{re.sub(r'{.*}', r'.*', os.path.basename(pattern))}$"
        latest_time, latest_path, n_latest, largest = 0, None, 0, None
        if os.path.exists(dir_name):
            for name in os.listdir(dir_name):
                if re.match(base_regex, name):
                    path = os.path.join(os.path.dirname(pattern), name)
                    mtime = os.path.getmtime(path)
                    if largest is None or path > largest:
                        largest = path
                    if mtime > latest_time:
                        latest_time, latest_path, n_latest = mtime, path, 1
                    elif mtime == latest_time:
                        n_latest += 1
        return latest_path if n_latest == 1 else largest
