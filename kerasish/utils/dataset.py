"""``kerasish.utils.Dataset``: the ``tf.data.Dataset`` methods Keras scripts
call (``from_tensor_slices``, ``map``, ``shuffle``, ``batch``, ``cache``,
``prefetch``...), on torch tensors and without TensorFlow.

Elements are structures (tuples, dicts, tensors) of torch tensors; Python
strings stay Python strings (a batch of strings is a ``list`` of ``str``).
A dataset is re-iterable: each ``for`` loop (each epoch of ``fit``) is a new
pass, and ``shuffle`` draws a new order for it. ``fit`` / ``evaluate`` /
``predict`` take a dataset of batches as they take any iterable of batches.

How it runs:

* everything runs lazily, one element at a time, in the calling process
  (in a background thread up to a ``prefetch``), except where the source
  can do better: a ``batch`` over ``from_tensor_slices`` (through
  ``shuffle`` / ``take`` / ``skip`` / ``repeat``) gathers each batch with
  one ``index_select`` per array instead of stacking elements; ``image_dataset_from_directory`` datasets run
  ``map`` inside their ``DataLoader`` worker processes, on whole batches;
* ``shuffle`` is tf.data's buffer shuffle; its random stream is seeded by
  ``(seed, pass number)``, so a seeded pipeline yields the same sequence of
  epochs in every run; without a seed, one is drawn from torch's global
  generator when the dataset is built (``keras.utils.set_random_seed``
  makes it reproducible; under data-parallel ``fit``, every process uses
  rank 0's).

Differences from ``tf.data``:

* float64 arrays become float32 (as everywhere in kerasish), ints stay
  int64 (``Dataset.range`` gives int64 as tf.data does);
* ``prefetch`` produces elements in one background thread (``AUTOTUNE``:
  2 ahead); image folders prefetch in their ``DataLoader`` workers instead;
* ``num_parallel_calls`` / ``deterministic`` are accepted; maps run in
  order, in the worker processes of image folders, otherwise in the calling
  process;
* ``cache(filename)`` writes one file (not tf.data's ``.index`` / ``.data``
  pair), in kerasish's own format (a JSON header and raw bytes per
  element: no pickle), atomically once a pass is complete;
* ``element_spec`` computes the first element to learn shapes and dtypes
  (tf.data traces the functions instead); a leading batch axis shows as
  ``None`` after ``batch`` (its size with ``drop_remainder=True``);
* ``cardinality()`` returns an ``int`` (with a ``.numpy()`` for tf-style
  scripts); ``unbatch``, ``filter`` and ``rebatch`` give ``UNKNOWN``.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import os
import queue
import random
import struct
import threading
from collections import namedtuple
from collections.abc import Mapping

import numpy as np
import torch

from kerasish.distribution.data_parallel import active
from kerasish.trainers.data_adapter import to_tensor

__all__ = ["AUTOTUNE", "Dataset", "INFINITE", "TensorSpec", "UNKNOWN"]

AUTOTUNE = -1  # tf.data.AUTOTUNE: let the runtime choose (prefetch: _DEFAULT_PREFETCH)
INFINITE = -1  # tf.data.INFINITE_CARDINALITY
UNKNOWN = -2  # tf.data.UNKNOWN_CARDINALITY
_DEFAULT_PREFETCH = 2  # elements ahead for prefetch(AUTOTUNE): the next step's batch and one spare

TensorSpec = namedtuple("TensorSpec", ["shape", "dtype"])
TensorSpec.__doc__ = """Shape (``None`` for a batch axis of unknown size) and dtype
(a torch dtype, or ``"string"``) of one component of a dataset's elements."""

_local = threading.local()  # `peek`: computing element_spec, no shuffle pass is consumed


def _peeking():
    return getattr(_local, "peek", False)


class _Cardinality(int):
    """An ``int`` with tf's ``.numpy()`` (scripts write ``ds.cardinality().numpy()``)."""

    def numpy(self):
        return np.int64(self)


# ----------------------------------------------------------------------------- element structures

def _is_str_list(x):
    return isinstance(x, list) and bool(x) and all(isinstance(s, str) for s in x)


def _flatten(s, out):
    if isinstance(s, tuple):
        for v in s:
            _flatten(v, out)
    elif isinstance(s, Mapping):
        for k in s:
            _flatten(s[k], out)
    else:
        out.append(s)
    return out


def _unflatten(template, leaves):
    """``template``'s structure with the leaves taken in order from the iterator ``leaves``."""
    if isinstance(template, tuple):
        items = [_unflatten(v, leaves) for v in template]
        return type(template)(*items) if hasattr(template, "_fields") else tuple(items)
    if isinstance(template, Mapping):
        return {k: _unflatten(template[k], leaves) for k in template}
    return next(leaves)


def _map_leaves(fn, s):
    return _unflatten(s, iter([fn(leaf) for leaf in _flatten(s, [])]))


def _signature(s):
    """The structure without its values: for comparing datasets' elements."""
    if isinstance(s, tuple):
        return tuple(_signature(v) for v in s)
    if isinstance(s, Mapping):
        return {k: _signature(s[k]) for k in s}
    return "string" if isinstance(s, (str, bytes)) or _is_str_list(s) else "tensor"


def _normalize(x):
    """A user function's result as an element: lists -> tuples (as tf.data),
    numpy arrays and Python numbers -> tensors, strings kept."""
    if isinstance(x, torch.Tensor) or isinstance(x, str):
        return x
    if isinstance(x, tuple):
        items = [_normalize(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, Mapping):
        return {k: _normalize(v) for k, v in x.items()}
    if isinstance(x, list):
        return x if _is_str_list(x) else tuple(_normalize(v) for v in x)
    if isinstance(x, (bool, int, float, np.ndarray, np.generic)):
        return to_tensor(x)
    return x


def _fn_name(fn):
    name = getattr(fn, "name", None)
    if isinstance(name, str) and not callable(name) and not hasattr(fn, "__code__"):
        return f"{type(fn).__name__} {name!r}"
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _call(fn, element):
    """tf.data's calling convention: a tuple element is passed unpacked."""
    return fn(*element) if isinstance(element, tuple) else fn(element)


def _stack(elements, op="batch"):
    """Elements of one structure -> one element with a leading batch axis."""
    flat = [_flatten(e, []) for e in elements]
    n = len(flat[0])
    if any(len(f) != n for f in flat):
        raise ValueError(f"Dataset.{op}: the elements do not share one structure: element 0 is {_signature(elements[0])}, "
                         f"another is {_signature(next(e for e, f in zip(elements, flat) if len(f) != n))}.")
    out = []
    for j in range(n):
        column = [f[j] for f in flat]
        first = column[0]
        if isinstance(first, torch.Tensor):
            shape = first.shape
            for i, c in enumerate(column):
                if not isinstance(c, torch.Tensor) or c.shape != shape:
                    got = tuple(c.shape) if isinstance(c, torch.Tensor) else type(c).__name__
                    raise ValueError(f"Dataset.{op}: cannot batch elements of different shapes: component {j} of element 0 has "
                                     f"shape {tuple(shape)}, of element {i} {got}. Pad or resize them first (e.g. in a `map`).")
            out.append(torch.stack(column))
        else:  # strings (and batches of strings): Python lists
            out.append(list(column))
    return _unflatten(elements[0], iter(out))


def _aligned(template, other, what, path=""):
    """``other``'s values for each leaf of ``template`` (``other`` may be one value for all)."""
    if isinstance(template, tuple):
        if isinstance(other, tuple) and len(other) == len(template) and not _is_shape(other):
            return [v for i, (t, o) in enumerate(zip(template, other)) for v in _aligned(t, o, what, f"{path}[{i}]")]
        if isinstance(other, Mapping) or (isinstance(other, tuple) and not _is_shape(other)):
            raise ValueError(f"Dataset.padded_batch: `{what}` does not match the elements' structure at {path or 'the top'}.")
        return [v for i, t in enumerate(template) for v in _aligned(t, other, what, f"{path}[{i}]")]
    if isinstance(template, Mapping):
        if isinstance(other, Mapping):
            missing = [k for k in template if k not in other]
            if missing:
                raise ValueError(f"Dataset.padded_batch: `{what}` has no entry for {path}[{missing[0]!r}].")
            return [v for k in template for v in _aligned(template[k], other[k], what, f"{path}[{k!r}]")]
        return [v for k in template for v in _aligned(template[k], other, what, f"{path}[{k!r}]")]
    return [other]


def _is_shape(x):
    return isinstance(x, (tuple, list, torch.Size)) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def _pad_stack(elements, padded_shapes, padding_values):
    flat = [_flatten(e, []) for e in elements]
    shapes = _aligned(elements[0], padded_shapes, "padded_shapes") if padded_shapes is not None else [None] * len(flat[0])
    values = _aligned(elements[0], 0 if padding_values is None else padding_values, "padding_values")
    out = []
    for j in range(len(flat[0])):
        column = [f[j] for f in flat]
        if not isinstance(column[0], torch.Tensor):
            out.append(list(column))
            continue
        rank = column[0].dim()
        for i, c in enumerate(column):
            if not isinstance(c, torch.Tensor) or c.dim() != rank:
                raise ValueError(f"Dataset.padded_batch: component {j} has rank {rank} in element 0 but not in element {i}.")
        longest = [max(int(c.shape[a]) for c in column) for a in range(rank)]
        want = shapes[j]
        if want is not None:
            want = list(want)
            if len(want) != rank:
                raise ValueError(f"Dataset.padded_batch: `padded_shapes` {tuple(want)} for component {j} does not have its rank {rank}.")
            for a, (w, m) in enumerate(zip(want, longest)):
                if w is not None and w != -1 and m > w:
                    raise ValueError(f"Dataset.padded_batch: component {j} has size {m} on axis {a}, more than padded_shapes' {w}.")
            longest = [m if w is None or w == -1 else int(w) for w, m in zip(want, longest)]
        batch = torch.full([len(column)] + longest, values[j], dtype=column[0].dtype)
        for i, c in enumerate(column):
            batch[(i,) + tuple(slice(0, d) for d in c.shape)] = c
        out.append(batch)
    return _unflatten(elements[0], iter(out))


def _batch_size_of(element):
    for leaf in _flatten(element, []):
        if isinstance(leaf, torch.Tensor):
            if leaf.dim() == 0:
                raise ValueError("Dataset.unbatch: the elements have a scalar component; every component needs a batch axis.")
            return int(leaf.shape[0])
        if isinstance(leaf, list):
            return len(leaf)
    raise ValueError(f"Dataset.unbatch: no component with a batch axis in {_signature(element)}.")


def _rows(element):
    leaves = _flatten(element, [])
    n = _batch_size_of(element)
    for leaf in leaves:
        size = int(leaf.shape[0]) if isinstance(leaf, torch.Tensor) and leaf.dim() else len(leaf) if isinstance(leaf, list) else None
        if size != n:
            raise ValueError(f"Dataset.unbatch: the components of an element have different batch sizes ({n} and {size}).")
    for i in range(n):
        yield _unflatten(element, iter([leaf[i] for leaf in leaves]))


def _check_count(value, op, arg, minimum):
    try:
        v = operator.index(value) if not isinstance(value, torch.Tensor) else int(value.item())
    except TypeError:
        raise TypeError(f"Dataset.{op}: `{arg}` must be an int, got {type(value).__name__}.") from None
    if isinstance(value, bool) or v < minimum:
        raise ValueError(f"Dataset.{op}: `{arg}` must be >= {minimum}{' (-1: all)' if minimum == -1 else ''}, got {arg}={value!r}.")
    return int(v)


def _new_seed(seed, op):
    if seed is None:
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        dp = active()
        if dp is not None:  # data-parallel: every process must shuffle alike
            seed = dp.shared_seed(seed)
        return seed
    try:
        return operator.index(seed)
    except TypeError:
        raise TypeError(f"Dataset.{op}: `seed` must be an int or None, got {seed!r}.") from None


# ----------------------------------------------------------------------------- sources: arrays

def _slice_leaf(a, path):
    """One component given to ``from_tensor_slices``, as a tensor or a list of str."""
    if isinstance(a, torch.Tensor):
        return to_tensor(a)
    if isinstance(a, (list, tuple)):
        if _is_str_list(list(a)):
            return list(a)
        if a and all(isinstance(v, torch.Tensor) for v in a):
            return to_tensor(torch.stack(list(a)))
    arr = np.asarray(a)
    if arr.dtype.kind in "US" or (arr.dtype == object and arr.size and all(isinstance(v, (str, bytes)) for v in arr.ravel())):
        if arr.ndim != 1:
            raise ValueError(f"Dataset.from_tensor_slices: string component {path} must be 1-D, got shape {arr.shape}.")
        return [v.decode() if isinstance(v, bytes) else str(v) for v in arr.tolist()]
    return to_tensor(arr, f"tensors{path}")


def _component_paths(s, path=""):
    if isinstance(s, tuple):
        return [p for i, v in enumerate(s) for p in _component_paths(v, f"{path}[{i}]")]
    if isinstance(s, Mapping):
        return [p for k in s for p in _component_paths(s[k], f"{path}[{k!r}]")]
    return [path]


def _leaf_len(leaf):
    if isinstance(leaf, list):
        return len(leaf)
    return int(leaf.shape[0]) if leaf.dim() else None


# ----------------------------------------------------------------------------- the Dataset

class Dataset:
    """A re-iterable pipeline of elements with ``tf.data.Dataset``'s methods.

    Build one with :meth:`from_tensor_slices`, :meth:`range`, :meth:`zip`,
    :meth:`from_tensors` or :meth:`from_generator` (or get one from
    ``image_dataset_from_directory``, ``text_dataset_from_directory``,
    ``timeseries_dataset_from_array``, ``split_dataset``), chain the
    transformations, and iterate it or pass it to ``fit``.

    Example:
        >>> import numpy as np
        >>> ds = Dataset.from_tensor_slices((np.arange(10.0), np.arange(10) % 2))
        >>> ds = ds.map(lambda x, y: (x * 2, y)).batch(4)
        >>> [x.tolist() for x, y in ds]
        [[0.0, 2.0, 4.0, 6.0], [8.0, 10.0, 12.0, 14.0], [16.0, 18.0]]
        >>> len(ds), ds.element_spec[0]
        (3, TensorSpec(shape=(None,), dtype=torch.float32))
    """

    INFINITE = INFINITE
    UNKNOWN = UNKNOWN
    _batched = 0  # how many leading axes are batch axes (for element_spec)

    # -- what a subclass provides

    def _iterate(self, indices=False):
        """A generator over one pass; ``indices=True`` (only where
        ``_index_root()`` is not None) yields sample indices into that root."""
        raise NotImplementedError

    def _cardinality(self):
        return UNKNOWN

    def _index_root(self):
        return None

    # -- iteration

    def __iter__(self):
        return self._iterate(False)

    def cardinality(self):
        """Number of elements: an int, ``INFINITE`` (-1) or ``UNKNOWN`` (-2)."""
        return _Cardinality(self._cardinality())

    def __len__(self):
        c = self._cardinality()
        if c == INFINITE:
            raise TypeError("The dataset is infinite.")
        if c < 0:
            raise TypeError("The dataset length is unknown.")
        return c

    def __bool__(self):  # `if ds:` must not ask for a length that may not exist
        return True

    def __repr__(self):
        c = self._cardinality()
        size = {INFINITE: "infinite", UNKNOWN: "unknown"}.get(c, c)
        return f"<{type(self).__name__} cardinality={size}>"

    def _first_element(self):
        """The first element of a pass that does not count as a pass."""
        prev = _peeking()
        _local.peek = True
        it = self._iterate(False)
        try:
            return next(it, _END)
        finally:
            it.close()
            _local.peek = prev

    @property
    def element_spec(self):
        """The structure of the elements with a :class:`TensorSpec` per component."""
        first = self._first_element()
        if first is _END:
            raise ValueError(f"{type(self).__name__}.element_spec: the dataset is empty, so its elements cannot be described.")
        batched = self._batched
        fixed = getattr(self, "_fixed_batch", None)

        def spec(leaf):
            if isinstance(leaf, torch.Tensor):
                shape = tuple(leaf.shape)
                if batched and shape:
                    shape = (fixed,) + shape[1:]
                return TensorSpec(shape, leaf.dtype)
            if isinstance(leaf, list):
                return TensorSpec((fixed,) if batched else (len(leaf),), "string")
            return TensorSpec((), "string" if isinstance(leaf, (str, bytes)) else type(leaf).__name__)

        return _map_leaves(spec, first)

    def as_numpy_iterator(self):
        """Iterates the elements as numpy arrays (strings as ``bytes``, as tf.data).

        Example:
            >>> [type(v).__name__ for v in Dataset.range(2).as_numpy_iterator()]
            ['int64', 'int64']
            >>> next(Dataset.from_tensor_slices(["a"]).batch(1).as_numpy_iterator()).tolist()
            [b'a']
        """
        def conv(leaf):
            if isinstance(leaf, torch.Tensor):
                a = leaf.detach().cpu().numpy()
                return a[()] if a.ndim == 0 else a  # numpy scalars, as tf.data
            if isinstance(leaf, str):
                return leaf.encode()
            if isinstance(leaf, list):
                return np.array([s.encode() if isinstance(s, str) else s for s in leaf], dtype=object)
            return leaf

        for element in self:
            yield _map_leaves(conv, element)

    # -- sources

    @staticmethod
    def from_tensor_slices(tensors):
        """A dataset of the slices of ``tensors`` along axis 0.

        Args:
            tensors: an array / tensor, a list of strings, or a (nested)
                tuple / dict of them, all with the same length. numpy or
                torch; float64 becomes float32.

        Example:
            >>> ds = Dataset.from_tensor_slices({"a": np.ones((3, 2)), "b": ["x", "y", "z"]})
            >>> [e["b"] for e in ds], next(iter(ds))["a"].shape
            (['x', 'y', 'z'], torch.Size([2]))
        """
        if isinstance(tensors, list) and not _is_str_list(tensors) and tensors and all(isinstance(t, (tuple, Mapping)) for t in tensors):
            raise ValueError("Dataset.from_tensor_slices: `tensors` is a list of structures; pass a tuple (x, y) or a dict of arrays.")
        paths = _component_paths(tensors)
        leaves = [_slice_leaf(a, p) for a, p in zip(_flatten(tensors, []), paths)]
        if not leaves:
            raise ValueError("Dataset.from_tensor_slices: `tensors` holds no arrays.")
        lengths = [_leaf_len(leaf) for leaf in leaves]
        if None in lengths:
            p = paths[lengths.index(None)]
            raise ValueError(f"Dataset.from_tensor_slices: component tensors{p} is a scalar; every component needs an axis 0 to slice.")
        if len(set(lengths)) > 1:
            detail = ", ".join(f"tensors{p}: {n}" for p, n in zip(paths, lengths))
            raise ValueError(f"Dataset.from_tensor_slices: all components must have the same size along axis 0; got {detail}.")
        return _TensorSlices(_unflatten(tensors, iter(leaves)), leaves, lengths[0])

    @staticmethod
    def from_tensors(tensors):
        """A dataset of one element: ``tensors`` itself (converted as in
        :meth:`from_tensor_slices`, without slicing)."""
        return _FromTensors(_normalize(tensors))

    @staticmethod
    def range(*args):
        """``Dataset.range(stop)`` / ``(start, stop[, step])``: int64 scalars.

        Example:
            >>> [int(v) for v in Dataset.range(2, 8, 3)]
            [2, 5]
        """
        if not 1 <= len(args) <= 3:
            raise TypeError(f"Dataset.range takes 1 to 3 arguments (start, stop, step), got {len(args)}.")
        try:
            r = range(*(operator.index(a) for a in args))
        except (TypeError, ValueError) as e:
            raise ValueError(f"Dataset.range: bad arguments {args}: {e}") from e
        return _Range(r)

    @staticmethod
    def from_generator(generator, output_signature=None, output_types=None, output_shapes=None, args=None):
        """A dataset of what ``generator(*args)`` yields; called again for each pass.

        ``output_signature`` / ``output_types`` / ``output_shapes`` are accepted
        for tf.data scripts; elements are taken as the generator gives them
        (lists become tuples, arrays tensors).
        """
        if not callable(generator):
            raise TypeError(f"Dataset.from_generator: `generator` must be a callable returning an iterator, got {type(generator).__name__}.")
        return _FromGenerator(generator, tuple(args or ()))

    @staticmethod
    def zip(*args, datasets=None):
        """Zips datasets: ``Dataset.zip(a, b)`` or ``Dataset.zip((a, b))`` or a
        dict ``Dataset.zip({"x": a, "y": b})``; stops at the shortest.

        Example:
            >>> z = Dataset.zip(Dataset.range(3), Dataset.range(10, 20))
            >>> [(int(a), int(b)) for a, b in z]
            [(0, 10), (1, 11), (2, 12)]
        """
        if datasets is not None and args:
            raise TypeError("Dataset.zip: pass the datasets either positionally or as `datasets=`, not both.")
        if datasets is None:
            if not args:
                raise TypeError("Dataset.zip: no datasets given.")
            datasets = args[0] if len(args) == 1 and not isinstance(args[0], Dataset) else tuple(args)
        if isinstance(datasets, list):
            datasets = tuple(datasets)
        paths = _component_paths(datasets)
        leaves = _flatten(datasets, [])
        for p, leaf in zip(paths, leaves):
            if not isinstance(leaf, Dataset):
                raise ValueError(f"Dataset.zip: `datasets` must be a (nested) tuple or dict of Datasets; datasets{p} is a "
                                 f"{type(leaf).__name__}.")
        if not leaves:
            raise ValueError("Dataset.zip: `datasets` holds no Dataset.")
        return _Zip(datasets, leaves)

    # -- transformations

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Applies ``map_func`` to each element (a tuple element is passed
        unpacked: ``lambda x, y: ...``). Runs in the worker processes of an
        image folder's loader, elsewhere in this process; always in order.

        Example:
            >>> [int(v) for v in Dataset.range(3).map(lambda v: v * 10)]
            [0, 10, 20]
        """
        if not callable(map_func):
            raise TypeError(f"Dataset.map: `map_func` must be callable, got {type(map_func).__name__}.")
        return _Map(self, map_func)

    def filter(self, predicate, name=None):
        """Keeps the elements for which ``predicate`` (called as in :meth:`map`) is true.

        Example:
            >>> [int(v) for v in Dataset.range(6).filter(lambda v: v % 2 == 0)]
            [0, 2, 4]
        """
        if not callable(predicate):
            raise TypeError(f"Dataset.filter: `predicate` must be callable, got {type(predicate).__name__}.")
        return _Filter(self, predicate)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Stacks consecutive elements into batches of ``batch_size`` (the last
        may be smaller unless ``drop_remainder``); strings become lists."""
        return _Batch(self, _check_count(batch_size, "batch", "batch_size", 1), bool(drop_remainder))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """Batches elements of different shapes, padding each component at the
        end of every axis to the longest in the batch (or to ``padded_shapes``).

        Args:
            batch_size: elements per batch.
            padded_shapes: ``None`` (pad to the longest) or, per component
                (same structure as the elements), a shape whose ``None`` /
                ``-1`` axes pad to the longest.
            padding_values: the fill value (default 0), one for all
                components or one per component.
            drop_remainder: drop a last, smaller batch.

        Example:
            >>> ds = Dataset.from_generator(lambda: iter([[1], [2, 3], [4, 5, 6]]))
            >>> [b.tolist() for b in ds.map(lambda *v: torch.tensor(v)).padded_batch(2, padding_values=-1)]
            [[[1, -1], [2, 3]], [[4, 5, 6]]]
        """
        out = _Batch(self, _check_count(batch_size, "padded_batch", "batch_size", 1), bool(drop_remainder))
        out._op = "padded_batch"
        out._padding = (padded_shapes, padding_values)
        return out

    def unbatch(self, name=None):
        """Splits each element's batch axis into single elements."""
        return _Unbatch(self)

    def rebatch(self, batch_size, drop_remainder=False, name=None):
        """Batches of ``batch_size`` from a batched dataset (``unbatch().batch()``)."""
        _check_count(batch_size, "rebatch", "batch_size", 1)
        out = _Batch(_Unbatch(self), int(batch_size), bool(drop_remainder))
        out._op = "rebatch"
        return out

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """tf.data's buffer shuffle: draws each element at random from a buffer
        of the next ``buffer_size`` ones. Seeded passes are reproducible; with
        ``reshuffle_each_iteration`` each pass has a new order.

        Example:
            >>> a = Dataset.range(8).shuffle(8, seed=1)
            >>> sorted(int(v) for v in a) == list(range(8)), [int(v) for v in a] == [int(v) for v in a]
            (True, False)
        """
        return _Shuffle(self, _check_count(buffer_size, "shuffle", "buffer_size", 1), _new_seed(seed, "shuffle"),
                        bool(reshuffle_each_iteration))

    def take(self, count, name=None):
        """The first ``count`` elements (``-1``: all)."""
        return _Take(self, _check_count(count, "take", "count", -1))

    def skip(self, count, name=None):
        """All but the first ``count`` elements (``-1``: skips everything)."""
        return _Skip(self, _check_count(count, "skip", "count", -1))

    def repeat(self, count=None, name=None):
        """Repeats the dataset ``count`` times (``None`` / ``-1``: forever);
        each repetition is a new pass (a new shuffle order)."""
        return _Repeat(self, None if count is None else _check_count(count, "repeat", "count", -1))

    def cache(self, filename="", name=None):
        """Keeps the elements of the first complete pass (in memory, or in the
        file ``filename``) and replays them in later passes.

        The file is written under a temporary name and renamed when the pass
        is complete, so it is either whole or absent; it holds JSON headers and
        raw tensor bytes (reading it runs no pickle). An existing file is read
        instead of the input.
        """
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"Dataset.cache: `filename` must be a path string, got {type(filename).__name__}.")
        return _Cache(self, os.fspath(filename))

    def prefetch(self, buffer_size=AUTOTUNE, name=None):
        """Produces elements in a background thread, up to ``buffer_size``
        ahead, while the consumer (e.g. the training step) works.

        Order and content are unchanged. Each pass starts its own thread,
        which stops when the pass ends or the consumer stops early (``break``,
        ``take``, the iterator freed); an exception raised while producing an
        element is raised by the consumer, noting the element's index.

        Args:
            buffer_size: elements to produce ahead: ``AUTOTUNE`` (-1) or
                ``None`` for a default of 2, ``0`` for none (on demand).

        Functions in the pipeline that draw from torch's global random
        generator (an augmentation layer without a ``seed``) then interleave
        their draws with the training step's: give such layers a ``seed`` for
        runs that repeat exactly.

        Example:
            >>> ds = Dataset.range(5).map(lambda v: v * 2).prefetch(AUTOTUNE)
            >>> [int(v) for v in ds]
            [0, 2, 4, 6, 8]
        """
        n = _DEFAULT_PREFETCH if buffer_size is None else _check_count(buffer_size, "prefetch", "buffer_size", -1)
        return _Prefetch(self, _DEFAULT_PREFETCH if n == AUTOTUNE else n)

    def concatenate(self, dataset, name=None):
        """This dataset's elements followed by ``dataset``'s (same structure)."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"Dataset.concatenate: `dataset` must be a Dataset, got {type(dataset).__name__}.")
        return _Concatenate(self, dataset)

    def enumerate(self, start=0, name=None):
        """``(index, element)`` pairs, the index an int64 scalar from ``start``."""
        return Dataset.zip(Dataset.range(_check_count(start, "enumerate", "start", -2**62), 2**62), self)

    def shard(self, num_shards, index, name=None):
        """Every ``num_shards``-th element, starting at ``index``."""
        n = _check_count(num_shards, "shard", "num_shards", 1)
        i = _check_count(index, "shard", "index", 0)
        if i >= n:
            raise ValueError(f"Dataset.shard: `index` must be < num_shards={n}, got index={index}.")
        return _Shard(self, n, i)

    def apply(self, transformation_func):
        """``transformation_func(self)``."""
        return transformation_func(self)


_END = object()


# ----------------------------------------------------------------------------- sources

class _TensorSlices(Dataset):
    def __init__(self, template, leaves, n):
        self._template = template
        self._leaves = leaves
        self._n = n

    def _cardinality(self):
        return self._n

    def _index_root(self):
        return self

    def _iterate(self, indices=False):
        if indices:
            yield from range(self._n)
            return
        leaves, template = self._leaves, self._template
        for i in range(self._n):
            yield _unflatten(template, iter([leaf[i] for leaf in leaves]))

    def _gather(self, idx):
        """One batch: the samples ``idx`` (a list of ints), each array gathered once."""
        lo = idx[0]
        if idx[-1] - lo == len(idx) - 1 and all(b - a == 1 for a, b in zip(idx, idx[1:])):
            parts = [leaf[lo:lo + len(idx)] for leaf in self._leaves]  # consecutive: views
        else:
            t = torch.as_tensor(idx, dtype=torch.long)
            parts = [leaf.index_select(0, t) if isinstance(leaf, torch.Tensor) else [leaf[i] for i in idx] for leaf in self._leaves]
        return _unflatten(self._template, iter(parts))


class _Range(Dataset):
    def __init__(self, r):
        self._r = r

    def _cardinality(self):
        return len(self._r)

    def _index_root(self):
        return self

    def _iterate(self, indices=False):
        if indices:
            yield from range(len(self._r))
            return
        for v in self._r:
            yield torch.tensor(v, dtype=torch.int64)

    def _gather(self, idx):
        r = self._r
        return torch.tensor([r.start + i * r.step for i in idx], dtype=torch.int64)


class _FromTensors(Dataset):
    def __init__(self, element):
        self._element = element

    def _cardinality(self):
        return 1

    def _iterate(self, indices=False):
        yield self._element


class _FromGenerator(Dataset):
    def __init__(self, generator, args):
        self._generator, self._args = generator, args

    def _iterate(self, indices=False):
        for element in self._generator(*self._args):
            yield _normalize(element)


class _Zip(Dataset):
    def __init__(self, structure, datasets):
        self._structure, self._datasets = structure, datasets
        self._batched = min(d._batched for d in datasets)

    def _cardinality(self):
        cs = [d._cardinality() for d in self._datasets]
        finite = [c for c in cs if c >= 0]
        if finite:
            return min(finite) if UNKNOWN not in cs or min(finite) == 0 else UNKNOWN
        return UNKNOWN if UNKNOWN in cs else INFINITE

    def _iterate(self, indices=False):
        its = [d._iterate(False) for d in self._datasets]
        try:
            for items in zip(*its):
                yield _unflatten(self._structure, iter(items))
        finally:
            for it in its:
                it.close()


# ----------------------------------------------------------------------------- transformations

class _Unary(Dataset):
    """A transformation of one input; keeps its batch axes."""

    def __init__(self, inp):
        self._input = inp
        self._batched = inp._batched
        self._fixed_batch = getattr(inp, "_fixed_batch", None)

    def _cardinality(self):
        return self._input._cardinality()


class _Map(_Unary):
    def __init__(self, inp, fn):
        super().__init__(inp)
        self._fn = fn

    def _iterate(self, indices=False):
        fn = self._fn
        for i, element in enumerate(self._input._iterate(False)):
            try:
                out = _call(fn, element)
            except Exception as e:
                raise ValueError(f"Dataset.map: the function {_fn_name(fn)} raised {type(e).__name__} on element {i}: {e}") from e
            yield _normalize(out)


class _Filter(_Unary):
    def __init__(self, inp, predicate):
        super().__init__(inp)
        self._predicate = predicate

    def _cardinality(self):
        c = self._input._cardinality()
        return INFINITE if c == INFINITE else UNKNOWN

    def _iterate(self, indices=False):
        pred = self._predicate
        for i, element in enumerate(self._input._iterate(False)):
            try:
                keep = _call(pred, element)
                keep = bool(keep.item() if isinstance(keep, torch.Tensor) else keep)
            except Exception as e:
                raise ValueError(f"Dataset.filter: the predicate {_fn_name(pred)} raised {type(e).__name__} on element {i}: {e}") from e
            if keep:
                yield element


class _Batch(_Unary):
    _op = "batch"
    _padding = None  # (padded_shapes, padding_values) for padded_batch

    def __init__(self, inp, batch_size, drop_remainder):
        super().__init__(inp)
        self._batch_size, self._drop = batch_size, drop_remainder
        self._batched = inp._batched + 1
        self._fixed_batch = batch_size if drop_remainder else None

    def _cardinality(self):
        c = self._input._cardinality()
        if c < 0:
            return c
        return c // self._batch_size if self._drop else math.ceil(c / self._batch_size)

    def _iterate(self, indices=False):
        bs, drop = self._batch_size, self._drop
        root = self._input._index_root() if self._padding is None else None
        source = self._input._iterate(root is not None)
        while True:
            chunk = list(itertools.islice(source, bs))
            if not chunk or (drop and len(chunk) < bs):
                return
            if root is not None:
                yield root._gather(chunk)
            elif self._padding is not None:
                yield _pad_stack(chunk, *self._padding)
            else:
                yield _stack(chunk, self._op)
            if len(chunk) < bs:
                return


class _Unbatch(_Unary):
    def __init__(self, inp):
        super().__init__(inp)
        self._batched = max(0, inp._batched - 1)
        self._fixed_batch = None

    def _cardinality(self):
        c = self._input._cardinality()
        return INFINITE if c == INFINITE else 0 if c == 0 else UNKNOWN

    def _iterate(self, indices=False):
        for element in self._input._iterate(False):
            yield from _rows(element)


class _Shuffle(_Unary):
    def __init__(self, inp, buffer_size, seed, reshuffle):
        super().__init__(inp)
        self._buffer_size, self._seed, self._reshuffle = buffer_size, seed, reshuffle
        self._passes = 0

    def _index_root(self):
        return self._input._index_root()

    def _iterate(self, indices=False):
        p = self._passes
        if self._reshuffle and not _peeking():
            self._passes += 1
        rng = random.Random(f"kerasish.shuffle:{self._seed}:{p if self._reshuffle else 0}")
        size = self._buffer_size
        buf = []
        for item in self._input._iterate(indices):
            if len(buf) < size:
                buf.append(item)
                continue
            j = rng.randrange(size)
            out, buf[j] = buf[j], item
            yield out
        while buf:
            j = rng.randrange(len(buf))
            buf[j], buf[-1] = buf[-1], buf[j]
            yield buf.pop()


class _Take(_Unary):
    def __init__(self, inp, count):
        super().__init__(inp)
        self._count = count

    def _cardinality(self):
        c = self._input._cardinality()
        if self._count == -1:
            return c
        if c == INFINITE:
            return self._count
        return UNKNOWN if c == UNKNOWN else min(c, self._count)

    def _index_root(self):
        return self._input._index_root()

    def _iterate(self, indices=False):
        it = self._input._iterate(indices)
        try:
            yield from (it if self._count == -1 else itertools.islice(it, self._count))
        finally:
            it.close()


class _Skip(_Unary):
    def __init__(self, inp, count):
        super().__init__(inp)
        self._count = count

    def _cardinality(self):
        c = self._input._cardinality()
        if self._count == -1:
            return 0
        return c if c < 0 else max(0, c - self._count)

    def _index_root(self):
        return self._input._index_root()

    def _iterate(self, indices=False):
        if self._count == -1:
            return
        yield from itertools.islice(self._input._iterate(indices), self._count, None)


class _Repeat(_Unary):
    def __init__(self, inp, count):
        super().__init__(inp)
        self._count = None if count == -1 else count

    def _cardinality(self):
        c = self._input._cardinality()
        if self._count is None:
            return 0 if c == 0 else INFINITE if c != UNKNOWN else UNKNOWN
        return c * self._count if c >= 0 else c

    def _index_root(self):
        return self._input._index_root()

    def _iterate(self, indices=False):
        n = 0
        while self._count is None or n < self._count:
            empty = True
            for item in self._input._iterate(indices):
                empty = False
                yield item
            if empty:  # an empty input repeated forever is still empty
                return
            n += 1


class _Prefetch(_Unary):
    """Produces the input's elements in a background thread, up to
    ``buffer_size`` ahead of the consumer (torch ops release the GIL, so a
    ``map`` runs while the training step does)."""

    def __init__(self, inp, buffer_size):
        super().__init__(inp)
        self._buffer_size = buffer_size

    def _index_root(self):
        return self._input._index_root()

    def _iterate(self, indices=False):
        # Indices are cheap (a downstream `batch` gathers them) and a peek must
        # stay in this thread (its flag is thread-local): no thread for either.
        if indices or self._buffer_size == 0 or _peeking():
            yield from self._input._iterate(indices)
            return
        yield from _prefetched(self._input, self._buffer_size)


_STOP_POLL_S = 0.1  # how often a producer blocked on a full queue looks for a stop


def _produce(inp, q, stop):
    """The prefetch thread: puts ``(element, None)`` items, then ``(_END, None)``
    or ``(_END, exception)``; returns early once ``stop`` is set."""
    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=_STOP_POLL_S)
                return True
            except queue.Full:
                pass
        return False

    it = inp._iterate(False)
    try:
        for element in it:
            if not put((element, None)):
                return
        put((_END, None))
    except BaseException as e:  # handed to the consumer, which raises it
        put((_END, e))
    finally:
        it.close()  # in this thread: a generator is closed where it runs


def _prefetched(inp, buffer_size):
    q = queue.Queue(maxsize=buffer_size)
    stop = threading.Event()
    # The thread holds the queue, not this generator: dropping the generator
    # (break, take, garbage collection) runs the `finally` below.
    thread = threading.Thread(target=_produce, args=(inp, q, stop), name="kerasish-prefetch", daemon=True)
    thread.start()
    i = 0
    try:
        while True:
            element, error = q.get()
            if error is not None:
                error.add_note(f"Dataset.prefetch: raised in the prefetch thread while producing element {i}.")
                raise error
            if element is _END:
                return
            yield element
            i += 1
    finally:
        stop.set()
        thread.join()


class _Shard(_Unary):
    def __init__(self, inp, num_shards, index):
        super().__init__(inp)
        self._n, self._i = num_shards, index

    def _cardinality(self):
        c = self._input._cardinality()
        return c if c < 0 else len(range(self._i, c, self._n))

    def _index_root(self):
        return self._input._index_root()

    def _iterate(self, indices=False):
        yield from itertools.islice(self._input._iterate(indices), self._i, None, self._n)


class _Concatenate(Dataset):
    def __init__(self, first, second):
        self._first, self._second = first, second
        self._batched = min(first._batched, second._batched)

    def _cardinality(self):
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE in (a, b):
            return INFINITE
        return UNKNOWN if UNKNOWN in (a, b) else a + b

    def _iterate(self, indices=False):
        sig = None
        for element in self._first._iterate(False):
            if sig is None:
                sig = _signature(element)
            yield element
        for element in self._second._iterate(False):
            if sig is not None:
                other = _signature(element)
                if other != sig:
                    raise ValueError(f"Dataset.concatenate: the elements of `dataset` ({other}) do not have the structure of "
                                     f"this dataset's ({sig}).")
                sig = None
            yield element


# ----------------------------------------------------------------------------- cache

_CACHE_MAGIC = b"KERASISH-DATASET-CACHE-1\n"


def _encode(element, blobs):
    if isinstance(element, torch.Tensor):
        t = element.detach().cpu().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        blobs.append(raw)
        return {"t": "tensor", "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "nbytes": len(raw)}
    if isinstance(element, str):
        return {"t": "str", "v": element}
    if isinstance(element, tuple):
        return {"t": "tuple", "v": [_encode(v, blobs) for v in element]}
    if isinstance(element, Mapping):
        if not all(isinstance(k, str) for k in element):
            raise TypeError("Dataset.cache: dict elements need string keys to be written to a file.")
        return {"t": "dict", "k": list(element), "v": [_encode(element[k], blobs) for k in element]}
    if isinstance(element, list) and all(isinstance(s, str) for s in element):
        return {"t": "strs", "v": element}
    raise TypeError(f"Dataset.cache: cannot write a {type(element).__name__} to a cache file (tensors, strings, tuples, dicts only).")


def _decode(header, data, pos):
    kind = header["t"]
    if kind == "tensor":
        dtype = getattr(torch, header["dtype"], None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"Dataset.cache: the cache file names an unknown dtype {header['dtype']!r}.")
        n = int(header["nbytes"])
        raw = data[pos:pos + n]
        if len(raw) != n:
            raise ValueError("Dataset.cache: the cache file is truncated.")
        shape = [int(s) for s in header["shape"]]
        if n == 0:
            return torch.empty(shape, dtype=dtype), pos
        return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape), pos + n
    if kind in ("str", "strs"):
        return header["v"], pos
    items = []
    for h in header["v"]:
        item, pos = _decode(h, data, pos)
        items.append(item)
    return (tuple(items) if kind == "tuple" else dict(zip(header["k"], items))), pos


def _write_record(f, element):
    blobs = []
    header = json.dumps(_encode(element, blobs)).encode()
    f.write(struct.pack("<QQ", len(header), sum(len(b) for b in blobs)))
    f.write(header)
    for b in blobs:
        f.write(b)


def _read_records(path):
    with open(path, "rb") as f:
        if f.read(len(_CACHE_MAGIC)) != _CACHE_MAGIC:
            raise ValueError(f"Dataset.cache: {path!r} is not a kerasish dataset cache file.")
        while True:
            sizes = f.read(16)
            if not sizes:
                return
            if len(sizes) != 16:
                raise ValueError(f"Dataset.cache: the cache file {path!r} is truncated.")
            hlen, dlen = struct.unpack("<QQ", sizes)
            header = json.loads(f.read(hlen).decode())
            element, _ = _decode(header, f.read(dlen), 0)
            yield element


class _Cache(_Unary):
    def __init__(self, inp, filename):
        super().__init__(inp)
        self._filename = filename
        self._elements = None

    def _iterate(self, indices=False):
        if self._elements is not None:
            yield from self._elements
            return
        path = self._filename
        if path and os.path.exists(path):
            yield from _read_records(path)
            return
        if path and not _peeking():
            yield from self._fill_file(path)
            return
        kept = []
        for element in self._input._iterate(False):
            kept.append(element)
            yield element
        if not _peeking():
            self._elements = kept  # only a complete pass is kept

    def _fill_file(self, path):
        tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
        done = False
        try:
            with open(tmp, "wb") as f:
                f.write(_CACHE_MAGIC)
                for element in self._input._iterate(False):
                    _write_record(f, element)
                    yield element
            os.replace(tmp, path)  # atomic: readers see a whole file or none
            done = True
        finally:
            if not done and os.path.exists(tmp):
                os.remove(tmp)
