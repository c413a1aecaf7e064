"""``LambdaCallback``: a callback made of plain functions.

Args:
    on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
    on_train_begin, on_train_end: ``f(logs)``.
    on_train_batch_begin, on_train_batch_end: ``f(batch, logs)``.
    **kwargs: any other hook by name (``on_test_end=f``, ``on_predict_batch_end=f``,
        ...), called with the hook's arguments. An unknown hook name is a
        ``ValueError`` (Keras silently keeps it).

Example:

    >>> batch_print = LambdaCallback(on_train_batch_begin=lambda batch, logs: print(batch))
    >>> # model.fit(..., callbacks=[batch_print])
"""

from __future__ import annotations

from kerasish.callbacks.callback import Callback

__all__ = ["LambdaCallback"]

_HOOKS = (
    "on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end", "on_train_begin", "on_train_end",
    "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
)


class LambdaCallback(Callback):
    """Callback for creating simple, custom callbacks on-the-fly (see module
    doc)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        for name in kwargs:
            if name not in _HOOKS:
                raise ValueError(f"LambdaCallback got an unknown hook `{name}`. Known hooks: {', '.join(_HOOKS)}")
        given = dict(
            on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
            on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin, on_train_batch_end=on_train_batch_end,
        )
        given.update(kwargs)
        for name, fn in given.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable. Received: {name}={fn!r}")
            setattr(self, name, fn)
