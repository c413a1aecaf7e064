"""``Callback``: the base class of everything ``fit`` / ``evaluate`` /
``predict`` call back into, with Keras 3's hooks and their meaning.

Args (set by the trainer through ``set_params`` / ``set_model``):
    params: dict with ``"verbose"``, ``"epochs"`` and ``"steps"`` (steps per
        epoch, ``None`` when unknown).
    model: the model being trained (a ``DistributedDataParallel`` wrapper is
        unwrapped when read through ``self.model``).

Logs: epoch-level hooks (``on_epoch_end``, ``on_train_end``, ``on_test_end``)
get a dict of Python floats (``"loss"``, each metric, ``"val_"``-prefixed ones
when validating). Batch-level hooks get a read-only ``Mapping`` whose values
are 0-d torch tensors, possibly on a GPU: reading one (``float(logs["loss"])``)
waits for the device, so a callback should read batch values only when it
really needs them, not on every batch.

Example:

    >>> class CountEpochs(Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.count = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.count += 1
    >>> # model.fit(x, y, epochs=3, callbacks=[CountEpochs()])
"""

from __future__ import annotations

__all__ = ["Callback"]


def _default(method):
    """Marks a hook as the base class's do-nothing version (Keras's
    ``utils.default``); ``is_default(cb.hook)`` tells whether a subclass
    overrides it."""
    method._is_default = True
    return method


def is_default(method) -> bool:
    return getattr(method, "_is_default", False)


class Callback:
    """Base class for callbacks; subclass it and override the hooks you need.

    See the module docstring for the logs each hook receives.
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        model = self._model
        try:
            from torch.nn.parallel import DistributedDataParallel
        except ImportError:  # pragma: no cover - torch builds without distributed
            return model
        if isinstance(model, DistributedDataParallel):
            return model.module
        return model

    # Keras 2 aliases -------------------------------------------------
    @_default
    def on_batch_begin(self, batch, logs=None):
        """Alias of ``on_train_batch_begin`` kept for Keras 2 code."""

    @_default
    def on_batch_end(self, batch, logs=None):
        """Alias of ``on_train_batch_end`` kept for Keras 2 code."""

    # Epochs ----------------------------------------------------------
    @_default
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based) of ``fit``."""

    @_default
    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch of ``fit`` with the epoch's metric
        results (Python floats; ``val_`` keys after validation)."""

    # Batches ---------------------------------------------------------
    @_default
    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch ``batch`` (index within the epoch)."""
        self.on_batch_begin(batch, logs=logs)

    @_default
    def on_train_batch_end(self, batch, logs=None):
        """Called after a training batch with the running metric results
        (a Mapping of 0-d tensors; reading a value syncs with the device)."""
        self.on_batch_end(batch, logs=logs)

    @_default
    def on_test_batch_begin(self, batch, logs=None):
        """Called before a batch of ``evaluate`` (or of validation in ``fit``)."""

    @_default
    def on_test_batch_end(self, batch, logs=None):
        """Called after a batch of ``evaluate`` / validation."""

    @_default
    def on_predict_batch_begin(self, batch, logs=None):
        """Called before a batch of ``predict``."""

    @_default
    def on_predict_batch_end(self, batch, logs=None):
        """Called after a batch of ``predict``."""

    # Whole runs ------------------------------------------------------
    @_default
    def on_train_begin(self, logs=None):
        """Called at the start of ``fit``."""

    @_default
    def on_train_end(self, logs=None):
        """Called at the end of ``fit`` with the last epoch's logs."""

    @_default
    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate`` or of a validation pass."""

    @_default
    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate`` / validation with its results."""

    @_default
    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``."""

    @_default
    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``."""
