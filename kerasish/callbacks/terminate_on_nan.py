"""``TerminateOnNaN``: stop ``fit`` at the first batch whose loss is NaN or inf.

Args:
    raise_error: False (default): print ``Batch N: Invalid loss, terminating
        training`` and set ``model.stop_training`` (the epoch ends there and
        ``on_train_end`` still runs). True: raise ``RuntimeError`` at once.

This is the one callback that reads a batch value on every batch (the
running ``"loss"``), so it costs one host-device sync per step on a GPU.

Example:

    >>> # model.fit(x, y, callbacks=[TerminateOnNaN()])
"""

from __future__ import annotations

from kerasish.callbacks._utils import is_nan_or_inf, print_msg, to_python
from kerasish.callbacks.callback import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN / inf loss is met."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        if is_nan_or_inf(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {to_python(loss)}. Terminating training immediately.")
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
