"""``keras.preprocessing.sequence``: :func:`pad_sequences` (see :mod:`kerasish.utils.sequence_utils`)."""

from kerasish.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
