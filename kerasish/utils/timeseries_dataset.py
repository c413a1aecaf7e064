"""``timeseries_dataset_from_array``: sliding windows over an array as a
re-iterable dataset of batches, as ``keras.utils.timeseries_dataset_from_array``.

The windows, their targets, the argument checks and the seeded order of the
window start positions follow Keras 3 exactly. Differences from Keras (which
returns a ``tf.data.Dataset``):

* the object returned is a :class:`TimeseriesDataset`: iterate it in ``fit`` /
  ``evaluate`` / ``predict`` or in any torch loop; ``len()`` is the number of
  batches;
* batches are torch tensors; float64 data becomes float32, as kerasish's data
  adapter (and Keras's layers) treat float64 arrays;
* with ``shuffle=True``, Keras permutes the start positions with
  ``np.random.RandomState(seed)`` and then runs them through a tf.data
  shuffle buffer of ``8 * batch_size`` reshuffled each epoch; here the first
  epoch yields the windows in that ``RandomState`` order and each later epoch
  in a fresh seeded permutation of it, so every epoch holds the same windows
  as Keras's but in another order;
* ``format`` (``"tf"`` or ``"grain"`` in Keras) is accepted and checked;
  either returns the same torch-ready dataset.
"""

from __future__ import annotations

import math

import numpy as np

from kerasish.distribution.data_parallel import active
from kerasish.trainers.data_adapter import to_tensor
from kerasish.utils.dataset import Dataset, _peeking


def _check_positive_int(value, name, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be {'None or ' if allow_none else ''}an integer > 0. Received: {name}={value!r}")


class TimeseriesDataset(Dataset):
    """Windows over a timeseries, batched; made by
    :func:`timeseries_dataset_from_array`. A :class:`~kerasish.utils.Dataset`
    (``map``, ``take``, ``cache``... work on it).

    Iterating yields ``(sequences, targets)`` batches (``sequences`` only
    when there are no targets) as torch tensors: ``sequences`` of shape
    ``(batch, sequence_length) + data.shape[1:]``, ``targets`` of shape
    ``(batch,) + targets.shape[1:]`` (without the batch axis when
    ``batch_size`` is None). ``len()`` is the number of batches per epoch.

    Attributes:
        batch_size: the batch size (None: single samples).
        start_positions: numpy array of each window's start index, relative
            to ``start_index``, in the first epoch's order.
    """

    def __init__(self, data, targets, start_positions, sequence_length, sampling_rate, batch_size, shuffle, seed):
        self._data = data
        self._targets = targets
        self.start_positions = start_positions
        self._offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate
        self.batch_size = batch_size
        self._shuffle = shuffle
        self._seed = seed
        self._epoch = 0

    @property
    def _batched(self):
        return 0 if self.batch_size is None else 1

    def __len__(self):
        n = len(self.start_positions)
        return n if self.batch_size is None else math.ceil(n / self.batch_size)

    def _cardinality(self):
        return len(self)

    def __repr__(self):
        return (f"<TimeseriesDataset: {len(self.start_positions)} windows of {len(self._offsets)} steps, "
                f"batch_size={self.batch_size}, targets={'yes' if self._targets is not None else 'no'}>")

    def _order(self):
        positions = self.start_positions
        if self._shuffle and self._epoch > 0:
            rng = np.random.default_rng([self._seed, self._epoch])
            positions = positions[rng.permutation(len(positions))]
        if not _peeking():  # element_spec looks at a pass without using one up
            self._epoch += 1
        return positions

    def _take(self, positions):
        x = to_tensor(self._data[positions[..., None] + self._offsets])
        if self._targets is None:
            return x
        return x, to_tensor(self._targets[positions])

    def _iterate(self, indices=False):
        positions = self._order()
        if self.batch_size is None:
            for p in positions:
                yield self._take(np.asarray(p))
            return
        for lo in range(0, len(positions), self.batch_size):
            yield self._take(positions[lo:lo + self.batch_size])


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1, batch_size=128,
                                  shuffle=False, seed=None, start_index=None, end_index=None, format="tf"):
    """Creates a dataset of sliding windows over a timeseries given as an array.

    Window ``k`` starts at step ``start_index + s_k`` (``s_k = k *
    sequence_stride`` unshuffled) and holds the steps ``start_index + s_k +
    j * sampling_rate`` for ``j < sequence_length``; its target is
    ``targets[start_index + s_k]``. Only steps in ``[start_index,
    end_index)`` are used; windows that would run past them are dropped.

    Args:
        data: numpy array or tensor of consecutive steps; axis 0 is time.
        targets: ``targets[i]`` is the target of the window starting at
            ``i``; None for a dataset of windows only.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of successive windows.
        sampling_rate: steps between successive steps of one window.
        batch_size: windows per batch (the last may be smaller); None
            yields single windows.
        shuffle: whether to shuffle the windows (default: chronological).
        seed: int seed of the shuffle.
        start_index: first step used (default 0).
        end_index: steps from ``end_index`` on are not used (default
            ``len(data)``).
        format: ``"tf"`` or ``"grain"`` (Keras's choice of dataset type):
            accepted for compatibility, both give a :class:`TimeseriesDataset`.

    Returns:
        A :class:`TimeseriesDataset` of ``(sequences, targets)`` batches of
        torch tensors (``sequences`` only when ``targets`` is None), which
        ``model.fit`` / ``evaluate`` / ``predict`` accept.

    Raises:
        ValueError: as Keras, for ``start_index`` / ``end_index`` outside
            the data or out of order, and ``sampling_rate`` /
            ``sequence_stride`` not in ``[1, len(data))``; also for a
            ``sequence_length`` or ``batch_size`` that is not a positive
            int and ``targets`` shorter than the windows need.

    Example:
        >>> import numpy as np
        >>> ds = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10,
        ...                                    sampling_rate=2, sequence_stride=3, batch_size=4)
        >>> first = next(iter(ds))
        >>> first.shape, first[1].tolist()
        (torch.Size([4, 10]), [3, 5, 7, 9, 11, 13, 15, 17, 19, 21])
        >>> len(ds), list(ds)[-1][-1].tolist()
        (7, [78, 80, 82, 84, 86, 88, 90, 92, 94, 96])
    """
    if not hasattr(data, "__len__"):
        raise ValueError(f"`data` must be an array with time on axis 0. Received: {type(data).__name__}")
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError(
                "`start_index` must be lower than the length of the data. "
                f"Received: start_index={start_index}, for data of length {n}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                f"`end_index` must be higher than `start_index`. Received: start_index={start_index}, and "
                f"end_index={end_index} "
            )
        if end_index >= n:
            raise ValueError(
                f"`end_index` must be lower than the length of the data. Received: end_index={end_index}, for data "
                f"of length {n}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError(
            "`sampling_rate` must be lower than the length of the data. "
            f"Received: sampling_rate={sampling_rate}, for data of length {n}"
        )
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError(
            "`sequence_stride` must be lower than the length of the data. "
            f"Received: sequence_stride={sequence_stride}, for data of length {n}"
        )
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    _check_positive_int(sequence_length, "sequence_length")
    _check_positive_int(batch_size, "batch_size", allow_none=True)

    start_index = 0 if start_index is None else int(start_index)
    end_index = n if end_index is None else int(end_index)
    # Keras's count: windows that fit in [start_index, end_index), at most one per target.
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    start_positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = int(np.random.randint(1e6))
            dp = active()
            if dp is not None:  # data-parallel: every process reads the windows in one order
                seed = dp.shared_seed(seed)
        np.random.RandomState(seed).shuffle(start_positions)

    # Views, not copies: the windows are gathered batch by batch.
    data_part = np.asarray(data)[start_index:end_index]
    targets_part = None
    if targets is not None:
        targets_part = np.asarray(targets)[start_index:end_index]
        if len(start_positions) and len(targets_part) <= start_positions.max():
            raise ValueError(
                f"`targets` has {len(targets)} entries, but the windows starting at start_index={start_index} "
                f"need targets up to index {start_index + int(start_positions.max())}."
            )
    return TimeseriesDataset(data_part, targets_part, start_positions, int(sequence_length), int(sampling_rate),
                             batch_size if batch_size is None else int(batch_size), bool(shuffle),
                             0 if seed is None else int(seed))
