"""``LearningRateScheduler``: set the learning rate at each epoch's start
from ``schedule(epoch, lr)``.

Args:
    schedule: a function of the epoch index (0-based) and the current
        learning rate (a float) returning the new learning rate (a number).
        A one-argument ``schedule(epoch)`` (the Keras 1 form) works too.
    verbose: 1 prints the rate set at each epoch.

The epoch logs get the current ``"learning_rate"``, as in Keras 3.

Example:

    >>> def scheduler(epoch, lr):
    ...     return lr if epoch < 10 else lr * math.exp(-0.1)
    >>> callback = LearningRateScheduler(scheduler)
    >>> # model.fit(x, y, epochs=15, callbacks=[callback])
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from kerasish.callbacks._utils import print_msg, to_python
from kerasish.callbacks.callback import Callback

__all__ = ["LearningRateScheduler"]


def _takes_two_args(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    positional = 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 2


class LearningRateScheduler(Callback):
    """Learning rate scheduler (see module doc)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be a callable `schedule(epoch, lr)`. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = float(to_python(optimizer.learning_rate))
        two = _takes_two_args(self.schedule)
        if two is None:
            try:
                new_lr = self.schedule(epoch, lr)
            except TypeError:  # the old one-argument API
                new_lr = self.schedule(epoch)
        else:
            new_lr = self.schedule(epoch, lr) if two else self.schedule(epoch)
        if isinstance(new_lr, torch.Tensor) and new_lr.numel() == 1:
            new_lr = float(new_lr)
        if isinstance(new_lr, bool) or not isinstance(new_lr, (int, float, np.integer, np.floating)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {new_lr}")
        new_lr = float(new_lr)
        optimizer.learning_rate = new_lr
        return new_lr

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                lr = self._update_optimizer_lr(opt, epoch)
                if self.verbose > 0:
                    print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting {opt.name} learning rate to {lr}.")
        else:
            lr = self._update_optimizer_lr(optimizer, epoch)
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(to_python(opt.learning_rate))
        else:
            logs["learning_rate"] = float(to_python(optimizer.learning_rate))
