"""``CallbackList``: the container ``fit`` / ``evaluate`` / ``predict`` drive;
it forwards every hook to each callback, in order.

Args:
    callbacks: a list (possibly nested) of ``Callback`` instances, or None.
    add_history: append a ``History`` unless the list already has one.
    add_progbar: append a ``ProgbarLogger`` unless the list already has one.
    model: the model; set on every callback (and ``model.history`` is set to
        the list's ``History``).
    **params: passed to every callback through ``set_params`` (the trainer
        gives ``verbose``, ``epochs`` and ``steps``).

Logs: epoch-level hooks get a new dict with the keys sorted and values made
Python floats (as Keras's ``pythonify_logs``); the same dict goes to every
callback, so a callback that adds a key (``ReduceLROnPlateau`` adds
``"learning_rate"``) is seen by the ones after it, ``History`` included.
Batch-level hooks pass the trainer's logs through untouched (no device sync).

Example:

    >>> callbacks = CallbackList([EarlyStopping(patience=2)], add_history=True,
    ...                          model=model, verbose=1, epochs=10, steps=100)  # doctest: +SKIP
    >>> callbacks.on_train_begin()                                             # doctest: +SKIP
"""

from __future__ import annotations

from kerasish.callbacks._utils import pythonify_logs
from kerasish.callbacks.callback import Callback
from kerasish.callbacks.history import History
from kerasish.callbacks.progbar_logger import ProgbarLogger
from kerasish.distribution import is_chief

__all__ = ["CallbackList"]


def _flatten(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, (list, tuple)):
        out = []
        for c in callbacks:
            out.extend(_flatten(c))
        return out
    raise TypeError(f"`callbacks` must be a list of `Callback` instances. Received: callbacks={callbacks!r}")


class CallbackList(Callback):
    """Container for ``Callback`` instances, called together (see module doc)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not all(hasattr(cb, h) for h in ("set_model", "set_params", "on_epoch_end")):
                raise TypeError(f"Each callback must be a `keras.callbacks.Callback`. Received: {cb!r}")
        if not is_chief():
            # Data-parallel, rank > 0: progress bars, CSV logs and TensorBoard
            # events come from rank 0 alone; every other callback runs everywhere
            # (on the same averaged logs, so they decide alike).
            self.callbacks = [cb for cb in self.callbacks if not getattr(cb, "_chief_only", False)]
            add_progbar = False
        self._in_begin_end_block_count = 0
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    # Setup -----------------------------------------------------------
    def _add_default_callbacks(self, add_history, add_progbar):
        self._progbar = None
        self._history = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def append(self, callback):
        """Add a callback at the end (it gets the list's model and params)."""
        self.callbacks.append(callback)
        if self._model is not None:
            callback.set_model(self._model)
        if self.params:
            callback.set_params(self.params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def _on_begin(self):
        self._in_begin_end_block_count += 1

    def _on_end(self):
        self._in_begin_end_block_count -= 1
        if self._in_begin_end_block_count < 0:
            raise ValueError("`on_xxx_end` called without corresponding `on_xxx_begin`")

    # Epoch-level hooks: logs made plain Python ------------------------
    def on_epoch_begin(self, epoch, logs=None):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_begin(self, logs=None):
        self._on_begin()
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_train_end(logs)
        self._on_end()

    def on_test_begin(self, logs=None):
        self._on_begin()
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs=None):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_test_end(logs)
        self._on_end()

    def on_predict_begin(self, logs=None):
        self._on_begin()
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            cb.on_predict_end(logs)
        self._on_end()

    # Batch-level hooks: logs passed through as they are ({} for none, as Keras)
    def on_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_batch_begin(batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_test_batch_end(batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_predict_batch_end(batch, logs=logs)
