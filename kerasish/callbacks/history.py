"""``History``: records every epoch's logs; ``model.fit`` returns it.

Attributes:
    history: dict mapping each log name to the list of its per-epoch values.
    epoch: list of the epoch indices recorded (0-based).
    params: the fit's params (``{"verbose", "epochs", "steps"}``).

Example:

    >>> history = model.fit(x, y, epochs=3, verbose=0)    # doctest: +SKIP
    >>> history.history["loss"]                           # doctest: +SKIP
    [0.93, 0.71, 0.62]
"""

from __future__ import annotations

from kerasish.callbacks.callback import Callback

__all__ = ["History"]


class History(Callback):
    """Callback that records events into a ``History`` object (added to
    every ``fit`` automatically and set as ``model.history``)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
