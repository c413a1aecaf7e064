"""Batches for the step functions, as Keras's ``EpochIterator``.

Wraps a data adapter (``trainers/data_adapter.py``: arrays, datasets,
DataLoaders, generators, image folders) and hands each batch to the step in
Keras's packing: ``x`` alone, ``(x, y)`` or ``(x, y, sample_weight)``, with
``class_weight`` already turned into sample weights.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import torch

from kerasish.trainers import data_adapter as D


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Keras's packing: ``x`` alone when there is nothing else (``(x,)`` if
    ``x`` is itself a tuple or list), ``(x, y)``, or ``(x, y, sample_weight)``.

    Example:
        >>> pack_x_y_sample_weight(1, 2)
        (1, 2)
    """
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from what a step receives (missing parts are None).

    Example:
        >>> unpack_x_y_sample_weight((1, 2))
        (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(f"Data is expected to be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)} items.")


def class_weight_table(class_weight, device):
    """``{class: weight}`` as a lookup tensor (classes not given weigh 1)."""
    if not class_weight:
        return None
    if not isinstance(class_weight, Mapping):
        raise TypeError(f"`class_weight` must be a dict {{class_index: weight}}, got {type(class_weight).__name__}")
    size = max(int(k) for k in class_weight) + 1
    table = torch.ones(size, dtype=torch.float32)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table.to(device)


def _weigh_by_class(table, y, sw):
    yt = y[0] if isinstance(y, (list, tuple)) else y
    labels = yt.argmax(-1) if (yt.dim() > 1 and yt.shape[-1] > 1) else yt.reshape(yt.shape[0], math.prod(yt.shape[1:]))[:, 0].round().long()
    w = table[labels.clamp(0, table.shape[0] - 1)]
    return w if sw is None else sw * w


def no_data_reason(x) -> str:
    """Why an input gave no batch, in words, for the messages below."""
    paths = getattr(x, "file_paths", None)
    if paths is not None:
        return (f"none of the {len(paths)} image files of this dataset could be decoded (see the warnings naming "
                "them)")
    return "the dataset, DataLoader or generator yielded no batch (empty, or already exhausted)"


def warn_ran_out(batches_seen, expected, where="training", stacklevel=3):
    """Keras's warning when the input runs out before an epoch's steps, with
    how many batches this epoch got.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     warn_ran_out(0, 5)
        >>> str(w[0].message).split(";")[0]
        'Your input ran out of data'
    """
    got = f"{batches_seen} of {expected}" if expected else f"{batches_seen}"
    stop = "interrupting training" if where == "training" else f"the {where} logs hold no metrics"
    warnings.warn(
        f"Your input ran out of data; {stop}. Make sure that your dataset or generator can generate at least "
        f"`steps_per_epoch * epochs` batches. You may need to use the `.repeat()` function when building your "
        f"dataset. (This {where} epoch got {got} batches.)",
        stacklevel=stacklevel,
    )


class EpochIterator:
    """One pass over the data per call of :meth:`enumerate_epoch`.

    Args:
        x, y, sample_weight, batch_size, shuffle, steps: as ``fit``.
        device: where batches go.
        generator: the shuffling generator.
        shard: the data-parallel process this is (each batch is then its piece).
        split_evenly: data-parallel: every process the same number of batches.
        class_weight: ``{class: weight}`` (single-output models).
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False, device=None, steps=None, generator=None,
                 shard=None, split_evenly=True, class_weight=None):
        self.data = D.make_data(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, device=device, steps=steps,
                                generator=generator, shard=shard, split_evenly=split_evenly)
        self._class_table = class_weight_table(class_weight, device)
        self.batches_seen = 0  # in the last epoch
        self.ran_out = False  # the last epoch ended before its steps, or had no batch at all

    @property
    def num_batches(self):
        return self.data.num_batches

    @property
    def batch_scale(self):
        """Data-parallel: this process's share of the current global batch, times the number of processes."""
        return self.data.batch_scale

    def enumerate_epoch(self, generator=None):
        """``(step, data)`` for each batch, ``data`` packed as Keras packs it.

        Afterwards ``batches_seen`` is the number of batches handed out and
        ``ran_out`` says whether the data ended early: no batch at all, or
        fewer than ``steps`` (an exhausted generator).
        """
        table = self._class_table
        self.batches_seen = 0
        self.ran_out = False
        for step, (x, y, sw) in enumerate(self.data.epoch(generator)):
            if table is not None and y is not None:
                sw = _weigh_by_class(table, y, sw)
            self.batches_seen = step + 1
            yield step, pack_x_y_sample_weight(x, y, sw)
        # Reached only when the data ended: a caller's `break` closes this generator at its yield.
        steps = getattr(self.data, "steps", None)
        self.ran_out = self.batches_seen == 0 or (steps is not None and self.batches_seen < steps)
