"""``pad_sequences``: a list of variable-length sequences as one padded
numpy array, as ``keras.utils.pad_sequences`` (same output, dtype and
errors; see the function for the few inputs Keras rejects by crashing)."""

from __future__ import annotations

import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads sequences to the same length.

    Turns a list of ``num_samples`` sequences (lists of ints, or of equally
    shaped items) into a numpy array of shape ``(num_samples, maxlen) +
    item_shape``. Shorter sequences are padded with ``value``, longer ones
    truncated, at the start (``"pre"``, the default) or the end (``"post"``).

    Args:
        sequences: list (anything with ``len()``) of sequences.
        maxlen: None (the length of the longest sequence) or the length of
            the output, an int >= 0.
        dtype: dtype of the output (default ``"int32"``); ``object`` or a
            string dtype for sequences of strings.
        padding: ``"pre"`` or ``"post"``: where to pad.
        truncating: ``"pre"`` or ``"post"``: where to cut sequences longer
            than ``maxlen``.
        value: the padding value (a float, or a string with ``dtype=object``
            or a string dtype).

    Returns:
        numpy array of shape ``(len(sequences), maxlen) + item_shape``.

    Raises:
        ValueError: ``sequences`` has no ``len()``, an item is not a sequence,
            items have different shapes, a string ``value`` with a numeric
            ``dtype``, ``padding`` / ``truncating`` not ``"pre"`` / ``"post"``,
            a negative ``maxlen``, or an empty ``sequences`` without
            ``maxlen``.

    Differences from Keras: ``padding`` / ``truncating`` are checked even when
    every sequence is empty; ``maxlen=0`` gives ``(num_samples, 0)`` (Keras
    fails with a numpy broadcast error on a non-empty sequence).

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], padding="post", maxlen=2)
        array([[1, 0],
               [2, 3],
               [5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if truncating not in _SIDES:
        raise ValueError(f'Truncating type "{truncating}" not understood')
    if padding not in _SIDES:
        raise ValueError(f'Padding type "{padding}" not understood')
    num_samples = len(sequences)

    lengths = []
    sample_shape = ()
    found = False
    # The item shape comes from the first non-empty sequence; the loop
    # below checks every other one against it.
    for x in sequences:
        try:
            lengths.append(len(x))
            if not found and len(x):
                sample_shape = np.asarray(x).shape[1:]
                found = True
        except TypeError as e:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {str(x)}") from e

    if maxlen is None:
        if not lengths:
            raise ValueError("`sequences` is empty: pass `maxlen` to get an array of shape (0, maxlen).")
        maxlen = int(np.max(lengths))
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"`maxlen` must be None or an integer >= 0. Received: maxlen={maxlen!r}")
    maxlen = int(maxlen)

    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )

    out = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} is different from expected "
                f"shape {sample_shape}"
            )
        if padding == "post":
            out[idx, : len(trunc)] = trunc
        else:
            out[idx, -len(trunc):] = trunc
    return out
