"""Training: ``compile`` / ``fit`` / ``evaluate`` / ``predict`` and their steps.

- ``trainer.py``: the :class:`Trainer` mixed into ``Model``, with Keras's
  public ``train_step`` / ``test_step`` / ``predict_step`` / ``compute_loss``.
- ``compile_utils.py``: what ``compile()`` makes of its loss and metrics.
- ``epoch_iterator.py``: batches for the steps, packed as Keras packs them.
- ``strategies.py``: one device or data-parallel, as an object the loop calls.
"""

from kerasish.trainers.epoch_iterator import pack_x_y_sample_weight, unpack_x_y_sample_weight

__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
