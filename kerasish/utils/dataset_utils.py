"""``split_dataset`` as in ``keras.utils`` on its torch backend.

Keras returns ``tf.data.Dataset`` objects on the TensorFlow backend and
``torch.utils.data.Subset`` objects on its torch backend; here both halves are
:class:`SubsetDataset` objects, which are both: a ``Subset`` (indexable,
``.indices``; ``fit`` batches it as any map-style torch Dataset) and a
:class:`~kerasish.utils.Dataset` of unbatched elements (``.shuffle(...)
.batch(...)`` as in tf.data scripts). Pass ``return_arrays=True`` (a kerasish
extension) to get tuples of arrays back for array inputs instead.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from kerasish.trainers.data_adapter import to_tensor
from kerasish.utils.dataset import Dataset as KDataset


def _rescale_split_sizes(left_size, right_size, total_length):
    for name, v in (("left_size", left_size), ("right_size", right_size)):
        if v is not None and (isinstance(v, bool) or type(v) not in (int, float)):
            raise TypeError(f"`{name}` must be an int, a float or None; got {v!r} of type {type(v).__name__}.")
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. Received: left_size=None and right_size=None")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split sizes must be non-zero.")
    for name, v in (("left_size", left_size), ("right_size", right_size)):
        if (type(v) is int and (v <= 0 or v >= total_length)) or (type(v) is float and (v <= 0 or v >= 1)):
            raise ValueError(f"`{name}` should be either a positive integer smaller than {total_length}, or a float within the range `[0, 1]`. Received: {name}={v}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal to 1.")
    left = round(left_size * total_length) if type(left_size) is float else left_size
    right = round(right_size * total_length) if type(right_size) is float else right_size
    if left is None:
        left = total_length - right
    elif right is None:
        right = total_length - left
    if left + right > total_length:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total_length}. Received: left_size + right_size = {left + right} and total_length = {total_length}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(f"With `dataset` of length={total_length}, `left_size`={left_size} and `right_size`={right_size}, the {side} side dataset split would be empty.")
    return int(left), int(right)


class SubsetDataset(KDataset, Subset):
    """Samples ``indices`` of ``dataset``: a ``torch.utils.data.Subset`` that is
    also a :class:`~kerasish.utils.Dataset` of single samples.

    Iterating gives tf.data's elements: ``x_i`` for a single array, the tuple
    ``(x_i, y_i, ...)`` for several, ``dataset[i]`` for a torch Dataset;
    ``subset[k]`` is torch's ``Subset`` item (always a tuple for arrays).
    With arrays, ``batch`` gathers each batch with one ``index_select``.

    Example:
        >>> left, _ = split_dataset((np.arange(6.0), np.arange(6)), left_size=4)
        >>> [x.tolist() for x, y in left.batch(3)]
        [[0.0, 1.0, 2.0], [3.0]]
    """

    def __init__(self, dataset, indices, tensors=None, single=False):
        Subset.__init__(self, dataset, indices)
        # the arrays (TensorDataset inputs), float64 as float32 as in Dataset.from_tensor_slices: batches are gathered
        self._tensors = None if tensors is None else [to_tensor(t) for t in tensors]
        self._single = single

    def __len__(self):
        return len(self.indices)

    def _cardinality(self):
        return len(self.indices)

    def _index_root(self):
        return self if self._tensors is not None else None

    def _element(self, k):
        if self._tensors is not None:
            i = self.indices[k]
            items = tuple(t[i] for t in self._tensors)
            return items[0] if self._single else items
        return self.dataset[self.indices[k]]

    def _iterate(self, indices=False):
        if indices:
            yield from range(len(self.indices))
            return
        for k in range(len(self.indices)):
            yield self._element(k)

    def _gather(self, ks):
        idx = torch.as_tensor([self.indices[k] for k in ks], dtype=torch.long)
        items = tuple(t.index_select(0, idx) for t in self._tensors)
        return items[0] if self._single else items


class _ElementList(Dataset):
    """A kerasish Dataset's elements, read once, as a map-style torch Dataset."""

    def __init__(self, elements):
        self.elements = elements

    def __len__(self):
        return len(self.elements)

    def __getitem__(self, i):
        return self.elements[i]


def _as_tensor(a):
    if isinstance(a, torch.Tensor):
        return a
    a = np.asarray(a)
    if a.dtype == object:
        raise TypeError("`dataset` holds Python objects (dtype=object); pass numeric arrays.")
    return torch.from_numpy(np.ascontiguousarray(a))


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None, return_arrays=False):
    """Splits a dataset into a left half and a right half (e.g. train / test).

    Same split as Keras on its torch backend: sizes are rescaled the Keras way
    (floats are fractions, rounded; ints are counts; ``None`` is the
    complement), then ``torch.utils.data.random_split`` with a generator
    seeded by ``seed`` picks the samples when ``shuffle=True``. Unlike Keras
    on TensorFlow, the halves are torch Datasets, not ``tf.data.Dataset``.
    Without ``shuffle`` the left half is the first ``left_size`` samples and
    the right half the last ``right_size`` (Keras's TensorFlow path; Keras
    3.15's torch path calls ``random_split`` without a generator and so
    shuffles from the global torch RNG even with ``shuffle=False``, a bug not
    reproduced here). Sizes that add up to less than the length are allowed,
    as in Keras's TensorFlow path.

    Args:
        dataset: a ``torch.utils.data.Dataset``, a kerasish ``Dataset``
            (its elements are read once), a NumPy array / torch tensor, or a
            list/tuple of arrays with the same length.
        left_size: float in (0, 1) (fraction) or int (count) for the left
            half; ``None`` for the complement of ``right_size``.
        right_size: same for the right half.
        shuffle: whether to shuffle before splitting.
        seed: random seed for the shuffle.
        return_arrays: kerasish extension: for array inputs, return tuples of
            arrays (a single array for a single-array input) of the inputs'
            type instead of torch Datasets.

    Returns:
        ``(left, right)``: two :class:`SubsetDataset` objects (torch
        ``Subset`` and kerasish ``Dataset`` at once), or arrays with
        ``return_arrays=True``.

    Example:
        >>> left, right = split_dataset(np.random.random((1000, 4)), left_size=0.8)
        >>> len(left), len(right)
        (800, 200)
    """
    single = False
    arrays = None
    if isinstance(dataset, KDataset) and not isinstance(dataset, Dataset):
        ds = _ElementList(list(dataset))  # as Keras's TensorFlow path: the elements of one pass
    elif isinstance(dataset, Dataset):
        ds = dataset
    elif isinstance(dataset, (np.ndarray, torch.Tensor)):
        arrays, single = [dataset], True
    elif isinstance(dataset, (list, tuple)) and dataset and all(isinstance(a, (np.ndarray, torch.Tensor, list)) for a in dataset):
        arrays = list(dataset)
    else:
        raise TypeError(f"The `dataset` argument must be a `torch.utils.data.Dataset` object, or a list/tuple of arrays. Received: dataset of type {type(dataset).__name__}")
    if arrays is not None:
        tensors = [_as_tensor(a) for a in arrays]
        lengths = {int(t.shape[0]) if t.dim() else -1 for t in tensors}
        if len(lengths) != 1 or -1 in lengths:
            raise ValueError(f"The arrays in `dataset` must share their first dimension; got shapes {[tuple(t.shape) for t in tensors]}.")
        ds = TensorDataset(*tensors)
    total = len(ds)
    left, right = _rescale_split_sizes(left_size, right_size, total)
    if shuffle:
        generator = torch.Generator()
        if seed is not None:
            generator.manual_seed(seed)
        else:
            generator.seed()
        order = torch.randperm(total, generator=generator).tolist()  # the permutation random_split draws
    else:
        order = list(range(total))
    tensors = ds.tensors if arrays is not None else None
    left_ds = SubsetDataset(ds, order[:left], tensors, single)
    right_ds = SubsetDataset(ds, order[total - right:], tensors, single)
    if return_arrays and arrays is not None:
        def take(sub):
            idx = np.asarray(sub.indices)
            out = [a[torch.as_tensor(idx)] if isinstance(a, torch.Tensor) else np.asarray(a)[idx] for a in arrays]
            return out[0] if single else tuple(out)
        return take(left_ds), take(right_ds)
    return left_ds, right_ds
