"""``TensorBoard``: write training curves (and weight histograms) for
TensorBoard, through ``torch.utils.tensorboard.SummaryWriter``.

Args:
    log_dir: folder of the event files (``"logs"``); training goes to
        ``log_dir/train``, validation to ``log_dir/validation``, as in Keras.
    histogram_freq: every that many epochs, write a histogram of each
        layer's weights (``<layer>/<weight>/histogram``); 0 disables.
    write_graph: accepted for Keras compatibility; the graph is not written
        (Keras 3 does not write it outside TensorFlow either).
    write_images: with ``histogram_freq``, also write each 1-D / 2-D / conv
        weight as an image (``<layer>/<weight>/image``).
    write_steps_per_second: also log ``steps_per_second`` per epoch (and
        ``batch_steps_per_second`` with batch-level logging).
    update_freq: ``"epoch"``, ``"batch"`` (= 1) or an integer N: also write
        the running training metrics every N batches as ``batch_<name>``
        (the batch values are read, a device sync, only on those batches).
    profile_batch: must be 0 (profiling is not available on the torch
        backend in Keras 3 either).
    embeddings_freq, embeddings_metadata: must be 0 / None (not available).

Scalars written, as Keras names them: ``epoch_<name>`` per epoch (step =
epoch) in ``train`` (with ``epoch_learning_rate``) and ``validation`` (the
``val_`` prefix dropped), ``evaluation_<name>_vs_iterations`` at the end of
each ``evaluate`` / validation (step = optimizer iterations).

Raises ImportError when the ``tensorboard`` package is not installed.

Example:

    >>> tb = TensorBoard(log_dir="./logs")     # doctest: +SKIP
    >>> # model.fit(x, y, epochs=2, callbacks=[tb]); then `tensorboard --logdir=./logs`
"""

from __future__ import annotations

import os
import time

import numpy as np

from kerasish.callbacks._utils import pythonify_logs, to_python
from kerasish.callbacks.callback import Callback

__all__ = ["TensorBoard"]

_MISSING = "TensorBoard logging needs the `tensorboard` package: pip install tensorboard"


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return SummaryWriter


class TensorBoard(Callback):
    """Enable visualizations for TensorBoard (see module doc)."""

    _chief_only = True  # data-parallel: only rank 0 prints / writes

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False, write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        if update_freq != "epoch" and update_freq != "batch" and (not isinstance(update_freq, int) or isinstance(update_freq, bool) or update_freq <= 0):
            raise ValueError(f"`update_freq` must be 'epoch', 'batch' or a positive integer. Received: update_freq={update_freq!r}")
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"`histogram_freq` must be a non-negative integer. Received: histogram_freq={histogram_freq!r}")
        if profile_batch:
            raise ValueError(
                "Profiling is not yet available with the torch backend. Please open a PR if you'd like to add this "
                f"feature. Received: profile_batch={profile_batch} (must be 0)"
            )
        if embeddings_freq or embeddings_metadata:
            raise ValueError(f"Embedding visualization is not available in kerasish. Received: embeddings_freq={embeddings_freq}, embeddings_metadata={embeddings_metadata!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._epoch_start_time = 0.0
        self._epoch_start_batch = 0
        self._batch_start_time = 0.0

    # Writers ---------------------------------------------------------
    def set_model(self, model):
        self._model = model
        self._close_writers()
        self._writers = {}

    @property
    def _train_writer(self):
        if "train" not in self._writers:
            self._writers["train"] = self._writer_class(log_dir=self._train_dir)
        return self._writers["train"]

    @property
    def _val_writer(self):
        if "val" not in self._writers:
            self._writers["val"] = self._writer_class(log_dir=self._val_dir)
        return self._writers["val"]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()

    # Hooks -----------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close_writers()
        self._writers = {}

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if logs and optimizer is not None and hasattr(optimizer, "iterations"):
            step = int(to_python(optimizer.iterations))
            for name, value in logs.items():
                value = to_python(value)
                if isinstance(value, float):
                    self._val_writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)
            self._val_writer.flush()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq != 0:
            return
        step = self._global_train_batch
        writer = self._train_writer
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start_time
            if elapsed > 0:
                writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in pythonify_logs(logs).items():
            if isinstance(value, float):
                writer.add_scalar(f"batch_{name}", value, step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_time = time.time()
            self._epoch_start_batch = self._global_train_batch

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # Writing ---------------------------------------------------------
    def _collect_learning_rate(self, logs):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return logs
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(to_python(opt.learning_rate))
        elif hasattr(optimizer, "learning_rate"):
            logs["learning_rate"] = float(to_python(optimizer.learning_rate))
        return logs

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        train_logs = self._collect_learning_rate(train_logs)
        if self.write_steps_per_second:
            elapsed = time.time() - self._epoch_start_time
            steps = self._global_train_batch - self._epoch_start_batch
            train_logs["steps_per_second"] = steps / elapsed if elapsed > 0 else 0.0
        if train_logs:
            for name, value in train_logs.items():
                value = to_python(value)
                if isinstance(value, float):
                    self._train_writer.add_scalar(f"epoch_{name}", value, epoch)
            self._train_writer.flush()
        if val_logs:
            for name, value in val_logs.items():
                value = to_python(value)
                if isinstance(value, float):
                    self._val_writer.add_scalar(f"epoch_{name[4:]}", value, epoch)
            self._val_writer.flush()

    def _log_weights(self, epoch):
        writer = self._train_writer
        for layer in getattr(self.model, "layers", []):
            for weight in layer.weights:
                name = getattr(weight, "path", None) or f"{layer.name}/{weight.name}"
                name = name.replace(":", "_")
                value = weight.numpy() if hasattr(weight, "numpy") else np.asarray(weight)
                writer.add_histogram(f"{name}/histogram", value, epoch)
                if self.write_images:
                    self._log_weight_as_image(value, f"{name}/image", epoch)
        writer.flush()

    def _log_weight_as_image(self, w, name, epoch):
        """1-D weights as a column, 2-D as a (wide) matrix, 3-D conv kernels
        one image per output channel, as Keras lays them out."""
        w = np.squeeze(np.asarray(w, dtype="float32"))
        if w.ndim == 1:
            w = w.reshape(1, w.shape[0], 1, 1)
        elif w.ndim == 2:
            if w.shape[0] > w.shape[1]:
                w = w.T
            w = w.reshape(1, w.shape[0], w.shape[1], 1)
        elif w.ndim == 3:
            w = np.transpose(w, (2, 0, 1))
            w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
        if w.ndim == 4 and w.shape[-1] in (1, 3, 4):
            lo, hi = float(w.min()), float(w.max())
            w = (w - lo) / (hi - lo) if hi > lo else np.zeros_like(w)
            self._train_writer.add_images(name, w, epoch, dataformats="NHWC")
