"""Turning what ``fit`` / ``evaluate`` / ``predict`` are given into batches
on the training device.

Arrays (numpy or torch, in lists or dicts for several inputs) are converted to
torch once; each epoch draws one permutation and slices batches from it, with
no per-batch numpy work. On an accelerator the arrays move there once when
they fit in 2 GiB; otherwise each batch is gathered on the host, pinned and
sent without blocking. torch Datasets and DataLoaders, and Python generators
of ``(x, y)`` / ``(x, y, sample_weight)``, are iterated as they are.
``keras.utils.PyDataset`` objects are read by batch index, in parallel when
they ask for workers (:func:`kerasish.trainers.py_dataset.iterate_batches`).

String data (numpy arrays of str / bytes / objects, lists of str: the
inputs of a model on ``Input(dtype="string")``) never becomes a tensor: it
stays a numpy array on the host (:class:`~kerasish.engine.keras_tensor.HostStrings`),
sliced and shuffled by numpy indexing, for the layers that take strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler
from torch.utils.data.distributed import DistributedSampler

from kerasish.engine.keras_tensor import HostStrings, as_host_strings, is_string_data
from kerasish.trainers.py_dataset import PyDataset, check_settings, iterate_batches
from kerasish.distribution.sharding import ShardedBatchSampler, check_batch_size, piece_bounds

_ON_DEVICE_LIMIT = 2 * 1024**3


def map_nested(fn, struct):
    if isinstance(struct, (list, tuple)) and not is_string_data(struct):  # a list of str is one leaf
        return type(struct)(map_nested(fn, s) for s in struct)
    if isinstance(struct, Mapping):
        return {k: map_nested(fn, v) for k, v in struct.items()}
    if struct is None:
        return None
    return fn(struct)


def flat_leaves(struct) -> list:
    if isinstance(struct, (list, tuple)) and not is_string_data(struct):
        return [leaf for s in struct for leaf in flat_leaves(s)]
    if isinstance(struct, Mapping):
        return [leaf for k in struct for leaf in flat_leaves(struct[k])]
    return [] if struct is None else [struct]


def to_tensor(a, name="x"):
    """An array-like as a torch tensor (no copy for numpy arrays where possible);
    float64 becomes float32 as in Keras. String data stays a numpy array
    (:class:`~kerasish.engine.keras_tensor.HostStrings`)."""
    if isinstance(a, torch.Tensor):
        t = a
    elif is_string_data(a):
        return as_host_strings(a)
    else:
        try:
            arr = np.asarray(a)
        except Exception as e:
            raise TypeError(f"`{name}` must be an array or tensor, got {type(a).__name__}") from e
        if arr.dtype == object:
            raise TypeError(f"`{name}` holds Python objects (dtype=object) that are not strings; pass numeric arrays or strings")
        if not arr.flags.writeable:
            arr = arr.copy()
        try:
            t = torch.from_numpy(arr)
        except TypeError:
            raise TypeError(f"`{name}` must hold numbers; got an array of dtype {arr.dtype}") from None
    if t.dtype == torch.float64:
        t = t.float()
    return t


def take_piece(struct, rank: int, world: int):
    """This process's piece of every array in a batch structure (the
    ``torch.tensor_split`` piece ``rank`` of ``world``; see
    :mod:`kerasish.distribution.sharding`)."""

    def cut(t):
        if not isinstance(t, torch.Tensor):
            t = to_tensor(t)  # numpy batches from a generator: no copy (strings: a numpy array)
        if t.dim() == 0:
            return t
        lo, hi = piece_bounds(t.shape[0], world, rank)
        return t[lo:hi]

    return map_nested(cut, struct)


def is_array_like(x) -> bool:
    leaves = flat_leaves(x)
    return bool(leaves) and all(isinstance(l, (np.ndarray, torch.Tensor, list)) or np.isscalar(l) for l in leaves)


def to_device(struct, device, non_blocking=True):
    def move(t):
        if not isinstance(t, torch.Tensor):
            t = to_tensor(t)
            if isinstance(t, HostStrings):
                return t  # strings stay on the host
        if t.device == device:
            return t
        if device.type == "cuda" and t.device.type == "cpu":
            return t.pin_memory().to(device, non_blocking=non_blocking)
        return t.to(device)

    return map_nested(move, struct)


def unpack_batch(batch):
    """``(x,)``, ``(x, y)``, ``(x, y, sample_weight)`` or ``x`` -> (x, y, sw)."""
    if isinstance(batch, tuple):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch
        raise ValueError(f"A data batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(batch)} items.")
    if isinstance(batch, list) and len(batch) in (2, 3) and not all(isinstance(b, (int, float)) for b in batch):
        return unpack_batch(tuple(batch))
    return batch, None, None


class ArrayData:
    """In-memory arrays, sliced into batches.

    With ``shard`` (a :class:`~kerasish.distribution.DataParallel`), each
    batch is this process's piece of the global batch, and ``batch_scale``
    says how much of the global batch it holds (for an exact gradient).
    """

    batch_scale = 1.0

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, device=None, steps=None, shard=None, split_evenly=True):
        self.x = map_nested(lambda a: to_tensor(a, "x"), x)
        self.y = map_nested(lambda a: to_tensor(a, "y"), y)
        self.sw = map_nested(lambda a: to_tensor(a, "sample_weight"), sample_weight)
        lengths = {}
        for name, struct in (("x", self.x), ("y", self.y), ("sample_weight", self.sw)):
            for leaf in flat_leaves(struct):
                if leaf.dim() == 0:
                    raise ValueError(f"`{name}` holds a scalar; expected arrays with a batch axis.")
                lengths.setdefault(name, set()).add(int(leaf.shape[0]))
        sizes = {n for s in lengths.values() for n in s}
        if len(sizes) > 1:
            detail = ", ".join(f"{k}: {sorted(v)}" for k, v in lengths.items())
            raise ValueError(f"Data cardinality is ambiguous: x, y and sample_weight must have the same number of samples ({detail}).")
        self.n = sizes.pop() if sizes else 0
        if self.n == 0:
            raise ValueError("The data is empty (0 samples).")
        if batch_size is None:
            batch_size = 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = device or torch.device("cpu")
        self.steps = steps
        self.shard = shard
        if shard is not None and split_evenly:
            check_batch_size(batch_size, shard.world_size)
        tensors = [t for t in flat_leaves((self.x, self.y, self.sw)) if isinstance(t, torch.Tensor)]
        total_bytes = sum(t.element_size() * t.nelement() for t in tensors)
        self._gather_on_device = self.device.type != "cpu" and total_bytes <= _ON_DEVICE_LIMIT
        if self._gather_on_device:
            self.x, self.y, self.sw = (map_nested(_to_device_keep_strings(self.device), s) for s in (self.x, self.y, self.sw))

    def __len__(self):
        full = math.ceil(self.n / self.batch_size)
        return full if self.steps is None else min(self.steps, full) if self.steps <= full else self.steps

    @property
    def num_batches(self):
        return len(self)

    def epoch(self, generator: torch.Generator | None = None) -> Iterator:
        n, bs = self.n, self.batch_size
        if self.shuffle:
            perm = torch.randperm(n, generator=generator)
            if self._gather_on_device:
                perm = perm.to(self.device)
        else:
            perm = None
        steps = len(self)
        simple = all(s is None or isinstance(s, torch.Tensor) for s in (self.x, self.y, self.sw))
        shard = self.shard
        if simple and perm is None and shard is None and (self._gather_on_device or self.device.type == "cpu"):
            # predict / evaluate on in-memory arrays: views of consecutive rows, nothing else per batch
            x, y, sw = self.x, self.y, self.sw
            for i in range(steps):
                start = (i * bs) % n
                stop = min(start + bs, n)
                yield x[start:stop], None if y is None else y[start:stop], None if sw is None else sw[start:stop]
            return
        for i in range(steps):
            start = (i * bs) % n
            stop = min(start + bs, n)
            if shard is not None:  # this process's piece of the global batch
                lo, hi = piece_bounds(stop - start, shard.world_size, shard.rank)
                self.batch_scale = (hi - lo) * shard.world_size / (stop - start)
                start, stop = start + lo, start + hi
            if perm is None:
                take = lambda t: t[start:stop]  # a view: no copy
            else:
                idx = perm[start:stop]
                take = _take_rows(idx)
            if simple:  # one array each: skip the structure walk
                batch = tuple(None if s is None else take(s) for s in (self.x, self.y, self.sw))
            else:
                batch = tuple(map_nested(take, s) for s in (self.x, self.y, self.sw))
            if not self._gather_on_device and self.device.type != "cpu":
                batch = tuple(to_device(s, self.device) for s in batch)
            yield batch


def _to_device_keep_strings(device):
    return lambda t: t if isinstance(t, HostStrings) else t.to(device)


def _take_rows(idx):
    """The rows ``idx`` of a batch leaf: ``index_select`` for tensors, numpy
    indexing (on the host) for strings."""
    host = []  # idx on the host, made once per batch when a string leaf asks

    def take(t):
        if isinstance(t, HostStrings):
            if not host:
                host.append(idx.cpu().numpy())
            return t[host[0]]
        return t.index_select(0, idx)

    return take


class IterableData:
    """torch Datasets / DataLoaders and Python generators or iterables of batches.

    With ``shard``, map-style datasets (given as such or inside a standard
    DataLoader) and image folders are read by index, each process loading
    only its piece of every global batch; other iterables are read whole by
    every process, which keeps its piece of each batch.
    """

    batch_scale = 1.0

    def __init__(self, data, batch_size=None, shuffle=False, device=None, steps=None, generator=None, shard=None, split_evenly=True):
        self.device = device or torch.device("cpu")
        self.steps = steps
        self._slice = None  # (rank, world) when each batch is cut here
        self._global_size = None  # batch index -> global batch size, for sharded samplers
        self._world = shard.world_size if shard is not None else 1
        self._rank = shard.rank if shard is not None else 0
        if shard is not None:
            data = self._sharded_source(data, batch_size, shuffle, generator, shard, split_evenly)
        if self._global_size is not None:
            self.source = data
        elif isinstance(data, Dataset) and not isinstance(data, IterableDataset):
            # The same batches as a data-parallel run would split (one seed per
            # fit, a new permutation each epoch).
            seed = int(torch.randint(0, 2**62, (1,), generator=generator).item()) if generator is not None else 0
            sampler = ShardedBatchSampler(len(data), batch_size or 32, shuffle, 0, 1, seed)
            self.source = DataLoader(data, batch_sampler=sampler, pin_memory=self.device.type == "cuda")
        elif isinstance(data, IterableDataset):
            self.source = DataLoader(data, batch_size=batch_size or 32)
        else:
            self.source = data
        self._iterator = None
        self._is_generator = isinstance(self.source, Iterator)

    def _empty_piece(self, i, n):
        lo, hi = piece_bounds(n, self._world, self._rank)
        return hi == lo

    def _sharded_source(self, data, batch_size, shuffle, generator, shard, split_evenly):
        # Training splits the global batch evenly, as Keras does; evaluate and
        # predict take uneven pieces.
        check = check_batch_size if split_evenly else (lambda *args: None)

        world, rank = shard.world_size, shard.rank
        # One seed for every process: the shuffles must agree for the pieces not to overlap.
        seed = shard.shared_seed(int(torch.randint(0, 2**62, (1,), generator=generator).item()) if generator is not None else 0)
        if hasattr(data, "_kerasish_shard"):  # image folders
            check(getattr(data, "batch_size", None), world)
            sharded = data._kerasish_shard(rank, world, seed)
            self._global_size = sharded._sampler.global_size
            return sharded
        if isinstance(data, Dataset) and not isinstance(data, IterableDataset):
            bs = batch_size or 32
            check(bs, world)
            sampler = ShardedBatchSampler(len(data), bs, shuffle, rank, world, seed)
            self._global_size = sampler.global_size
            return DataLoader(data, batch_sampler=sampler, pin_memory=self.device.type == "cuda")
        if isinstance(data, DataLoader):
            if isinstance(data.sampler, DistributedSampler):
                return data  # the user shards already: their batch_size is per process
            if isinstance(data.dataset, IterableDataset) or data.batch_sampler is None:
                self._slice = (rank, world)  # every process reads the stream, keeps its piece
                if data.batch_size is not None:
                    check(data.batch_size, world, "DataLoader batch_size")
                return data
            if type(data.batch_sampler) is not BatchSampler or type(data.sampler) not in (SequentialSampler, RandomSampler):
                raise ValueError(
                    f"This DataLoader cannot be sharded across {world} processes: it uses a custom sampler "
                    f"({type(data.sampler).__name__} / {type(data.batch_sampler).__name__}). Pass its Dataset instead, or shard it "
                    "yourself with torch's DistributedSampler (then batch_size is per process).")
            check(data.batch_size, world, "DataLoader batch_size")
            sampler = ShardedBatchSampler(len(data.dataset), data.batch_size, isinstance(data.sampler, RandomSampler), rank, world,
                                          seed, drop_last=data.drop_last)
            self._global_size = sampler.global_size
            kwargs = {"num_workers": data.num_workers, "collate_fn": data.collate_fn, "pin_memory": data.pin_memory,
                      "worker_init_fn": data.worker_init_fn, "timeout": data.timeout}
            if data.num_workers > 0:
                kwargs.update(persistent_workers=data.persistent_workers, prefetch_factor=data.prefetch_factor,
                              multiprocessing_context=data.multiprocessing_context)
            return DataLoader(data.dataset, batch_sampler=sampler, **kwargs)
        if isinstance(data, IterableDataset):
            check(batch_size or 32, world)
            self._slice = (rank, world)
            return DataLoader(data, batch_size=batch_size or 32)
        self._slice = (rank, world)  # generators and other iterables of batches
        return data

    @property
    def num_batches(self):
        """Batches per epoch; None for a stream of unknown length (a generator
        without ``steps``), which then runs until it is exhausted."""
        if self.steps is not None:
            return self.steps
        try:
            return len(self.source)
        except TypeError:
            return None

    def epoch(self, generator=None) -> Iterator:
        if self._is_generator:
            it = self.source  # a generator continues across epochs, as in Keras
        else:
            it = iter(self.source)
        count = 0
        while self.steps is None or count < self.steps:
            try:
                batch = next(it)
            except StopIteration:
                if self.steps is not None and not self._is_generator and count > 0:
                    it = iter(self.source)  # repeat a finite source to fill steps_per_epoch
                    continue
                return
            x, y, sw = unpack_batch(batch)
            if self._slice is not None:
                rank, world = self._slice
                n = _batch_size_of(x)
                x, y, sw = (take_piece(s, rank, world) for s in (x, y, sw))
                self.batch_scale = _batch_size_of(x) * world / n if n else 1.0
            elif self._global_size is not None:
                i = count % max(1, len(self.source))
                n = self._global_size(i)
                if self._empty_piece(i, n):  # the sampler sent one sample in its place
                    x, y, sw = (_empty_batch(s) for s in (x, y, sw))
                self.batch_scale = _batch_size_of(x) * self._world / n if n else 1.0
            yield tuple(to_device(s, self.device) for s in (x, y, sw))
            count += 1


class PyDatasetData:
    """A :class:`~kerasish.utils.PyDataset`: ``dataset[i]`` for each batch index.

    ``shuffle`` (``fit``'s default) draws a new order of the batch indices
    every pass, as Keras does. With ``steps`` the passes continue across
    epochs (an epoch of ``steps`` batches picks up where the last one
    stopped, starting a new pass when one ends). ``on_epoch_begin`` /
    ``on_epoch_end`` run around each epoch that is read to its end. With
    ``shard``, every process reads the same batches and keeps its piece.
    """

    batch_scale = 1.0

    def __init__(self, dataset, shuffle=False, device=None, steps=None, shard=None):

        self.dataset = dataset
        self.workers, self.use_multiprocessing, self.max_queue_size = check_settings(dataset)
        n = dataset.num_batches
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ValueError(f"{type(dataset).__name__} (PyDataset): `num_batches` / `__len__` must be an int >= 0 or None, got {n!r}.")
        if n is None and steps is None:
            raise ValueError(
                f"{type(dataset).__name__} (PyDataset) is endless (`num_batches` is None): pass `steps_per_epoch` "
                "(fit) or `steps` (evaluate / predict) to say how many batches make an epoch.")
        self.n = n
        self.shuffle = shuffle
        self.device = device or torch.device("cpu")
        self.steps = steps
        self._slice = (shard.rank, shard.world_size) if shard is not None else None
        self._todo = []  # indices left in the current pass (when `steps` spans passes)
        self._next_index = 0  # endless datasets: the next index to read

    @property
    def num_batches(self):
        return self.steps if self.steps is not None else self.n

    def _pass(self, generator):
        if self.shuffle and self.n > 1:
            return torch.randperm(self.n, generator=generator).tolist()
        return list(range(self.n))

    def _epoch_indices(self, generator) -> list:
        if self.n is None:  # endless: consecutive indices, continuing across epochs
            start = self._next_index
            self._next_index += self.steps
            return list(range(start, start + self.steps))
        if self.steps is None:
            return self._pass(generator)
        if self.n == 0:
            return []
        out = []
        while len(out) < self.steps:
            if not self._todo:
                self._todo = self._pass(generator)
            take = self.steps - len(out)
            out += self._todo[:take]
            self._todo = self._todo[take:]
        return out

    def epoch(self, generator=None) -> Iterator:

        ds = self.dataset
        ds.on_epoch_begin()
        indices = self._epoch_indices(generator)
        batches = iterate_batches(ds, indices, self.workers, self.use_multiprocessing, self.max_queue_size)
        for i, batch in zip(indices, batches):
            x, y, sw = pydataset_batch(batch, ds, i)
            if self._slice is not None:
                rank, world = self._slice
                n = _batch_size_of(x)
                x, y, sw = (take_piece(s, rank, world) for s in (x, y, sw))
                self.batch_scale = _batch_size_of(x) * world / n if n else 1.0
            yield tuple(to_device(s, self.device) for s in (x, y, sw))
        ds.on_epoch_end()


def pydataset_batch(batch, dataset, index):
    """Keras's batch forms for a PyDataset: ``x`` (an array or a dict),
    ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (lists as tuples)."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if len(batch) not in (1, 2, 3):
            raise ValueError(
                f"{type(dataset).__name__}.__getitem__({index}) returned a tuple of {len(batch)} items; a PyDataset batch "
                "must be x, (x,), (x, y) or (x, y, sample_weight).")
        return unpack_batch(batch)
    if isinstance(batch, (np.ndarray, torch.Tensor, Mapping)):
        return batch, None, None
    raise ValueError(
        f"{type(dataset).__name__}.__getitem__({index}) returned a {type(batch).__name__}; a PyDataset batch must be "
        "an array, a dict, or a tuple (x,), (x, y) or (x, y, sample_weight).")


def _empty_batch(struct):
    """The same batch structure with no samples."""
    return map_nested(lambda t: t[:0] if isinstance(t, torch.Tensor) and t.dim() else t, struct)


def _batch_size_of(x) -> int:
    leaves = flat_leaves(x)
    return int(leaves[0].shape[0]) if leaves and hasattr(leaves[0], "shape") and len(leaves[0].shape) else 0


def make_data(x, y=None, sample_weight=None, batch_size=None, shuffle=False, device=None, steps=None, generator=None, shard=None,
              split_evenly=True):
    """Pick the adapter for ``x`` (arrays, dataset, DataLoader, generator);
    ``shard``: a DataParallel whose process this is (each batch is then its piece)."""
    if shard is not None and not shard.auto_shard_dataset:
        shard = None  # each process reads its own data: batch_size is per process

    if isinstance(x, PyDataset):
        if y is not None:
            raise ValueError("`y` must not be given when `x` is a PyDataset: its batches hold the targets.")
        if sample_weight is not None:
            raise ValueError("`sample_weight` must not be given when `x` is a PyDataset: return (x, y, sample_weight) batches.")
        return PyDatasetData(x, shuffle=shuffle, device=device, steps=steps, shard=shard)
    if isinstance(x, (Dataset, DataLoader)) or isinstance(x, Iterator) or (hasattr(x, "__iter__") and hasattr(x, "class_names")):
        if y is not None:
            raise ValueError("`y` must not be given when `x` is a dataset, DataLoader or generator: it yields (x, y) itself.")
        if sample_weight is not None:
            raise ValueError("`sample_weight` must not be given when `x` is a dataset or generator: yield (x, y, sample_weight).")
        return IterableData(x, batch_size=batch_size, shuffle=shuffle, device=device, steps=steps, generator=generator, shard=shard, split_evenly=split_evenly)
    if x is None:
        raise ValueError("No data: `x` is None.")
    # A nested Python list of numbers is one array, as Keras reads it.
    x, y, sample_weight = (np.asarray(v) if _is_number_list(v) else v for v in (x, y, sample_weight))
    if not is_array_like(x):
        if hasattr(x, "__iter__") and not isinstance(x, (str, bytes, Mapping, list, tuple)):
            return IterableData(x, batch_size=batch_size, shuffle=shuffle, device=device, steps=steps, generator=generator, shard=shard, split_evenly=split_evenly)
        raise TypeError(f"Unsupported data type for `x`: {type(x).__name__}. Pass numpy arrays, torch tensors, a torch Dataset/DataLoader or a generator.")
    return ArrayData(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, device=device, steps=steps, shard=shard, split_evenly=split_evenly)


def _is_number_list(v) -> bool:
    if not isinstance(v, list) or not v:
        return False
    leaves = flat_leaves(v)
    return bool(leaves) and all(isinstance(l, (int, float, bool, np.number)) for l in leaves)


def split_validation(x, y, sample_weight, validation_split):
    """Keras's ``validation_split``: the last fraction of the arrays, before shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"`validation_split` must be in (0, 1), got {validation_split!r}")
    if not is_array_like(x):
        raise ValueError("`validation_split` is only supported for arrays; pass `validation_data` for datasets and generators.")
    x = map_nested(lambda a: as_host_strings(a) if is_string_data(a) else a, x)  # lists of str: sliceable
    leaves = flat_leaves(x)
    n = int(leaves[0].shape[0])
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(f"`validation_split={validation_split}` leaves no samples for training or validation out of {n}.")

    def cut(lo, hi):
        return lambda a: a[lo:hi]

    parts = [map_nested(cut(0, split), s) for s in (x, y, sample_weight)]
    val = [map_nested(cut(split, n), s) for s in (x, y, sample_weight)]
    return parts, val
