"""``keras.utils.PyDataset`` (and Keras 2's ``Sequence``): a dataset written
in Python, one batch per index, read in parallel by ``fit`` / ``evaluate`` /
``predict``.

A subclass defines ``__len__`` (the number of batches; or overrides
``num_batches``, returning None for an endless dataset) and
``__getitem__(idx)``, returning a whole batch: ``x``, ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``. ``on_epoch_begin`` / ``on_epoch_end`` run around
every epoch. The constructor's ``workers``, ``use_multiprocessing`` and
``max_queue_size`` say how the training loop reads it (see
:func:`iterate_batches`); reading it by hand (``ds[i]``, ``for b in ds``) is
plain and sequential.
"""

from __future__ import annotations

import itertools
import multiprocessing
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

__all__ = ["PyDataset", "Sequence", "iterate_batches"]


class PyDataset:
    """Base class for a dataset of batches computed by Python code.

    Subclasses implement ``__getitem__(index)`` (a complete batch) and
    ``__len__`` (the number of batches), and may implement
    ``on_epoch_begin()`` / ``on_epoch_end()`` (e.g. to reshuffle between
    epochs). ``fit`` shuffles the order of the batches (``shuffle=True``, as
    in Keras); ``evaluate`` and ``predict`` read them in index order.

    Args:
        workers: how many threads (or processes) compute batches during
            ``fit`` / ``evaluate`` / ``predict``. ``1`` (default): the
            training loop's own thread, unless ``use_multiprocessing``.
        use_multiprocessing: compute batches in ``workers`` separate
            processes (forked on Linux: the dataset must be picklable where
            processes are spawned). Worth it for CPU-bound Python work; the
            processes are started afresh each epoch, so they see what
            ``on_epoch_end`` changed.
        max_queue_size: at most this many batches are computed ahead of the
            one being trained on. Default 10.

    Example:
        >>> import math
        >>> import numpy as np
        >>> class Squares(PyDataset):
        ...     def __init__(self, n, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x = np.arange(n, dtype="float32")[:, None]
        ...         self.batch_size = batch_size
        ...     def __len__(self):
        ...         return math.ceil(len(self.x) / self.batch_size)
        ...     def __getitem__(self, idx):
        ...         x = self.x[idx * self.batch_size:(idx + 1) * self.batch_size]
        ...         return x, x ** 2
        >>> ds = Squares(5, batch_size=2, workers=2)
        >>> ds.num_batches, ds[2][1].tolist()
        (3, [[16.0]])
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size
        check_settings(self)

    def _setting(self, name, default):
        # A subclass that forgot super().__init__() still works, with Keras's warning.
        if not hasattr(self, name):
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. `**kwargs` can "
                "include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass these arguments to `fit()`, "
                "as they will be ignored.",
                stacklevel=3,
            )
            self._workers = getattr(self, "_workers", 1)
            self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
            self._max_queue_size = getattr(self, "_max_queue_size", 10)
        return getattr(self, name, default)

    @property
    def workers(self):
        """Number of threads / processes that compute batches in the training loop."""
        return self._setting("_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        """Whether the workers are processes rather than threads."""
        return self._setting("_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        """How many batches may be computed ahead of the one in use."""
        return self._setting("_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position ``index``: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(self, index)`, returning one batch.")

    def __iter__(self):
        """The batches in index order (forever when ``num_batches`` is None)."""
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in itertools.count() if n is None else range(n):
            yield self[index]

    @property
    def num_batches(self):
        """Number of batches per epoch: ``len(self)``; None means endless."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__len__` (the number of batches) or the `num_batches` property "
            "(None for an endless dataset)."
        )

    def on_epoch_begin(self):
        """Called at the start of every epoch (of ``fit``, and of each ``evaluate`` / ``predict`` pass)."""

    def on_epoch_end(self):
        """Called at the end of every epoch (of ``fit``, and of each ``evaluate`` / ``predict`` pass)."""


#: Keras 2's name for :class:`PyDataset` (``keras.utils.Sequence``).
Sequence = PyDataset


def check_settings(dataset) -> tuple[int, bool, int]:
    """``(workers, use_multiprocessing, max_queue_size)`` of a PyDataset,
    checked (ValueError / TypeError naming the dataset and the argument).

    Example:
        >>> check_settings(PyDataset(workers=2))
        (2, False, 10)
    """
    workers, multi, queue = dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size
    name = type(dataset).__name__
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"{name} (PyDataset): `workers` must be an int >= 0, got workers={workers!r}.")
    if isinstance(queue, bool) or not isinstance(queue, int) or queue < 1:
        raise ValueError(f"{name} (PyDataset): `max_queue_size` must be an int >= 1, got max_queue_size={queue!r}.")
    if not isinstance(multi, bool):
        raise TypeError(f"{name} (PyDataset): `use_multiprocessing` must be a bool, got use_multiprocessing={multi!r}.")
    return workers, multi, queue


def _annotate(error: BaseException, dataset, index) -> BaseException:
    # The note keeps the user's exception type (their except clauses still
    # match) while saying which batch failed.
    note = f"Raised by {type(dataset).__name__}.__getitem__({index}) (PyDataset batch index {index})."
    if note not in getattr(error, "__notes__", ()):
        error.add_note(note)
    return error


# Each worker process holds the dataset as it was when its pool started.
_WORKER_DATASET = None


def _init_worker(dataset):
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _worker_get(index):
    return _WORKER_DATASET[index]


def iterate_batches(dataset, indices, workers=1, use_multiprocessing=False, max_queue_size=10):
    """``dataset[i]`` for each ``i`` of ``indices``, in that order.

    With ``workers > 1`` (threads) or ``use_multiprocessing`` and
    ``workers >= 1`` (processes), the batches are computed by a pool, at most
    ``max_queue_size`` of them ahead of the one last handed out; the pool
    lives as long as this iteration (closing the iterator cancels what is
    pending). An error in ``__getitem__`` is raised here, in the caller's
    process, with a note naming the index.

    Args:
        dataset: anything indexable (a :class:`PyDataset`).
        indices: iterable of batch indices (may be endless).
        workers, use_multiprocessing, max_queue_size: as :class:`PyDataset`.

    Example:
        >>> list(iterate_batches([10, 11, 12], [2, 0], workers=2))
        [12, 10]
    """
    if not (workers > 1 or (workers > 0 and use_multiprocessing)):
        for i in indices:
            try:
                batch = dataset[i]
            except Exception as e:
                raise _annotate(e, dataset, i)
            yield batch
        return
    if use_multiprocessing:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(), initializer=_init_worker,
                                   initargs=(dataset,))
        fetch = _worker_get
    else:
        pool = ThreadPoolExecutor(workers, thread_name_prefix="PyDataset")
        fetch = dataset.__getitem__
    pending = deque()
    todo = iter(indices)
    try:
        for i in itertools.islice(todo, max_queue_size):
            pending.append((i, pool.submit(fetch, i)))
        while pending:
            i, future = pending.popleft()
            try:
                batch = future.result()
            except Exception as e:
                raise _annotate(e, dataset, i)
            for j in itertools.islice(todo, 1):  # keep the queue full while the caller trains
                pending.append((j, pool.submit(fetch, j)))
            yield batch
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
