"""``image_dataset_from_directory``: a folder of class sub-folders of images
as a re-iterable dataset of ``(images, labels)`` batches, as in Keras 3.

Indexing, class inference, the file order, the seeded shuffle of the file list
and the training / validation split follow ``keras.utils`` exactly (the same
files land in the same subset for the same ``seed``). Images are read and
decoded in ``DataLoader`` worker processes with ``torchvision.io`` (libjpeg-turbo,
libpng, libwebp, giflib; PIL for BMP and anything torchvision cannot read),
resized as ``keras.ops.image.resize`` does (half-pixel centres, no antialias)
and batched in the worker, so the main process only receives finished batches.

Differences from Keras (which returns a ``tf.data.Dataset``):

* the object returned is an ``ImageDirectoryDataset``, a
  :class:`kerasish.utils.Dataset` with tf.data's methods: iterate it in
  ``fit`` / ``evaluate`` / ``predict`` or in any torch loop; ``len()`` is the
  number of batches; ``map`` (augmentation) runs in the decoding workers, on
  whole batches; seeded layers in a map draw a separate, reproducible stream
  in each worker;
* images are float32 torch tensors in ``[0, 255]``, NHWC by default; ``int``
  labels are int64 (Keras: int32);
* per-epoch reshuffling draws a full seeded permutation each epoch instead of
  tf.data's shuffle buffer of ``8 * batch_size``, so the batch order within an
  epoch differs from TensorFlow's (the split itself is identical);
* a file that cannot be decoded is skipped with a warning naming it (the batch
  is one image smaller) where tf.data would stop with an error; so is a file
  whose header declares more pixels than ``max_image_pixels`` (PIL's
  decompression-bomb limit by default), before it is decoded;
* ``"lanczos3"``, ``"lanczos5"``, ``"gaussian"``, ``"mitchellcubic"``
  interpolations are not available on torch (as in Keras's torch backend);
  ``"area"`` is torch's adaptive average pooling;
* ``pad_to_aspect_ratio`` pads then resizes, as Keras's backend-agnostic path
  (``keras.ops.image.resize``); TensorFlow's ``resize_with_pad`` resizes then
  pads, which differs by interpolation at the borders.
"""

from __future__ import annotations

import copy
import functools
import io
import math
import os
import types
import warnings

import numpy as np
import torch

from kerasish.config import image_data_format
from kerasish.distribution import is_chief
from kerasish.distribution.data_parallel import active
from kerasish.distribution.sharding import ShardedBatchSampler
from kerasish.utils.dataset import _END, Dataset, _call, _fn_name, _normalize, _peeking
from kerasish.utils.image_utils import _TORCH_MODES, open_image_header, resize_images, resolve_max_image_pixels

# Keras's list, plus WebP, which torchvision decodes and the Keras 3 docs' torch
# users meet in real folders; pass formats=KERAS_ALLOWLIST_FORMATS for Keras's counts.
KERAS_ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
ALLOWLIST_FORMATS = KERAS_ALLOWLIST_FORMATS + (".webp",)
_KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


# ----------------------------------------------------------------------------- indexing (Keras's rules)

def _iter_valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda x: x[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield root, fname


def _index_subdirectory(directory, class_index, follow_links, formats):
    dirname = os.path.basename(directory)
    filenames, labels = [], []
    for root, fname in _iter_valid_files(directory, follow_links, formats):
        labels.append(class_index)
        filenames.append(os.path.join(dirname, os.path.relpath(os.path.join(root, fname), directory)))
    return filenames, labels


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False, verbose=True):
    """Lists the files under ``directory`` with their labels, as Keras's
    ``keras.src.utils.dataset_utils.index_directory``: class sub-folders in
    sorted order (or ``class_names`` order), files in ``os.walk`` order sorted
    by folder then name, then (``shuffle``) one ``np.random.RandomState(seed)``
    shuffle of the paths and the same of the labels.

    Returns:
        ``(file_paths, labels, class_names)``; ``labels`` an int32 array, the
        given list, or ``None``.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` {directory!r} does not exist or is not a directory.")
    if labels == "inferred":
        subdirs = []
        for subdir in sorted(os.listdir(directory)):
            if os.path.isdir(os.path.join(directory, subdir)) and not subdir.startswith("."):
                subdirs.append(subdir.rstrip("/"))
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of the target directory. "
                    f"Expected: {subdirs} (or a subset of it), but received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` cannot be specified (the `class_names` will be the sorted list of labels).")
    class_names = subdirs
    filenames, label_parts = [], []
    for i, subdir in enumerate(subdirs):
        f, l = _index_subdirectory(os.path.join(directory, subdir), i, follow_links, formats)
        filenames += f
        label_parts += l
    if labels == "inferred":
        labels = np.asarray(label_parts, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target directory. "
                f"len(labels) is {len(labels)} while we found {len(filenames)} files in directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        rng = np.random.RandomState(seed)
        rng.shuffle(file_paths)
        if labels is not None:
            rng = np.random.RandomState(seed)
            rng.shuffle(labels)
    return file_paths, labels, class_names


def get_training_or_validation_split(samples, labels, validation_split, subset, verbose=True):
    """Keras's split: the last ``int(validation_split * n)`` samples (after
    the seeded shuffle) are the validation subset, the rest training."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print(f"Using {len(samples) - num_val} files for training.")
        end = len(samples) - num_val
        samples = samples[:end]
        labels = labels[:end] if labels is not None else None
    elif subset == "validation":
        if verbose:
            print(f"Using {num_val} files for validation.")
        start = len(samples) - num_val
        samples = samples[start:]
        labels = labels[start:] if labels is not None else None
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')
    return samples, labels


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Keras's argument checks for ``validation_split`` / ``subset`` / ``seed``."""
    if validation_split is not None and (isinstance(validation_split, bool) or not isinstance(validation_split, (int, float))):
        raise ValueError(f"`validation_split` must be a float between 0 and 1, received: {validation_split!r}")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError(f"If `subset` is set, `validation_split` must be set, and inversely. Received: validation_split={validation_split}, subset={subset!r}")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset!r}')
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
            "to make sure that there is no overlap between the training and validation subset."
        )


def datasets_from_directory(directory, labels, label_mode, class_names, formats, shuffle, seed, follow_links, verbose,
                            validation_split, subset, make, found):
    """The directory-to-datasets steps the image and text loaders share.

    Draws the seed (one for every data-parallel process), indexes
    ``directory``, checks the binary label mode, splits off the ``subset``
    and builds each part with ``make(paths, labels, class_names, num_classes,
    shuffle, seed)``. ``found`` names what an empty part lacks in its error,
    as ``(kind, allowed)``: ``("images", "Allowed formats: ...")``. Returns
    one dataset, or ``(training, validation)`` for ``subset="both"``.
    """
    if seed is None:
        seed = int(np.random.randint(1e6))
        dp = active()
        if dp is not None:  # data-parallel: every process must list the files in one order
            seed = dp.shared_seed(seed)
    verbose = verbose and is_chief()  # data-parallel: "Found N files" once, from rank 0
    paths, labels, class_names = index_directory(directory, labels, formats=formats, class_names=class_names,
                                                 shuffle=shuffle, seed=seed, follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: class_names={class_names}')
    num_classes = len(class_names) if class_names else 0
    kind, allowed = found

    def part(p, l, shuffle_, name):
        if not p:
            raise ValueError(f"No {name}{kind} found in directory {directory}. {allowed}")
        return make(p, l, class_names, num_classes, shuffle_, seed)

    if subset == "both":
        p_train, l_train = get_training_or_validation_split(paths, labels, validation_split, "training", verbose)
        p_val, l_val = get_training_or_validation_split(paths, labels, validation_split, "validation", verbose)
        return part(p_train, l_train, shuffle, "training "), part(p_val, l_val, False, "validation ")
    paths, labels = get_training_or_validation_split(paths, labels, validation_split, subset, verbose)
    return part(paths, labels, shuffle, "")


# ----------------------------------------------------------------------------- decoding

def _decode(path, num_channels, max_pixels=None):
    """One file -> uint8 (or float for 16-bit) tensor (C, H, W); ``ValueError``
    for an image declaring more than ``max_pixels`` pixels, before decoding."""
    from torchvision.io import ImageReadMode, decode_image

    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise ValueError("empty file")
    # The header alone (PIL's open is lazy) says how big the decoded image
    # would be: a few MB of PNG can declare 50000x50000 pixels (7.5 GB).
    open_image_header(data, max_pixels, path).close()
    mode = {1: ImageReadMode.GRAY, 3: ImageReadMode.RGB, 4: ImageReadMode.RGB_ALPHA}[num_channels]
    try:
        with warnings.catch_warnings():  # torchvision 0.29 flags its decoders as moving to TorchCodec
            warnings.simplefilter("ignore", DeprecationWarning)
            img = decode_image(torch.frombuffer(bytearray(data), dtype=torch.uint8), mode=mode)
    except (RuntimeError, ValueError, TypeError):
        img = None  # not a torchvision format (BMP, ...) or broken: PIL decides
    if img is not None and img.shape[-3] != num_channels:
        img = None  # some decoders (GIF) ignore `mode`: let PIL convert
    if img is None:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as pil:
            pil.load()
            if pil.mode.startswith("I;16") or pil.mode == "I":
                # 16-bit grey (torchvision < 0.20 does not decode 16-bit PNG): PIL's
                # convert("L") would clip at 255, so scale to 8 bits here.
                arr = (np.asarray(pil).astype(np.int64) // 257).clip(0, 255).astype(np.uint8)
                arr = np.repeat(arr[..., None], min(num_channels, 3), axis=-1)
                if num_channels == 4:
                    arr = np.concatenate([arr, np.full_like(arr[..., :1], 255)], axis=-1)
            else:
                arr = np.asarray(pil.convert({1: "L", 3: "RGB", 4: "RGBA"}[num_channels]))
        img = torch.from_numpy(arr.copy())
        img = img[None] if img.dim() == 2 else img.permute(2, 0, 1)
    if img.dim() == 4:  # animated GIF: first frame
        img = img[0]
    if img.dtype == torch.uint16:  # 16-bit PNG -> 8-bit range, as tf.io.decode_image
        img = (img.to(torch.int32) // 257).to(torch.uint8)
    return img


class _BatchLoader(torch.utils.data.Dataset):
    """Map-style dataset whose items are whole batches: given a list of sample
    indices it returns ``(element, n_images, bad_files)`` built in the worker,
    ``element`` being ``(images, labels)`` (or images) after the ``maps``."""

    def __init__(self, paths, labels, image_size, num_channels, interpolation, crop, pad, channels_first, max_pixels=None,
                 maps=(), unbatched=False):
        self.paths = list(paths)
        self.maps = tuple(maps)  # Dataset.map functions, run here: in the worker, on the finished batch
        self.unbatched = unbatched
        self.max_pixels = max_pixels
        self.labels = labels
        self.image_size = tuple(int(s) for s in image_size)
        self.num_channels = num_channels
        self.interpolation = interpolation
        self.crop = crop
        self.pad = pad
        self.channels_first = channels_first

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, indices):
        h, w = self.image_size
        c = self.num_channels
        out = torch.empty((len(indices), c, h, w) if self.channels_first else (len(indices), h, w, c), dtype=torch.float32)
        kept, bad = [], []
        n = 0
        for i in indices:
            path = self.paths[i]
            try:
                img = _decode(path, c, self.max_pixels)
            except Exception as e:  # unreadable or corrupt: skip, reported by the main process
                bad.append((path, f"{type(e).__name__}: {e}"))
                continue
            img = resize_images(img[None].float(), (h, w), self.interpolation, self.crop, self.pad)[0]
            if self.interpolation == "bicubic":
                img = img.clamp_(0, 255)
            out[n] = img if self.channels_first else img.permute(1, 2, 0)
            kept.append(i)
            n += 1
        images = out[:n] if n < len(indices) else out
        labels = None if self.labels is None else self.labels[torch.as_tensor(kept, dtype=torch.long)]
        if n and self.unbatched:
            images, labels = images[0], (None if labels is None else labels[0])
        element = images if labels is None else (images, labels)
        if n:
            for fn in self.maps:
                try:
                    element = _normalize(_call(fn, element))
                except Exception as e:
                    files = [self.paths[i] for i in kept[:3]] + (["..."] if len(kept) > 3 else [])
                    raise ValueError(f"Dataset.map: the function {_fn_name(fn)} raised {type(e).__name__} on the batch of "
                                     f"files {files}: {e}") from e
        return element, n, bad


def _seeded_streams(roots, limit=2000):
    """The seeded random streams (kerasish's ``SeededRandom``) reachable from
    the map functions: layers, their sub-layers, closures, bound methods,
    ``functools.partial`` and the globals a function names."""
    found, seen, todo = [], set(), list(roots)
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, type, types.ModuleType, torch.Tensor)):
            continue
        seen.add(id(obj))
        if type(obj).__name__ == "SeededRandom" and hasattr(obj, "generators"):
            found.append(obj)
        elif isinstance(obj, torch.nn.Module):
            for m in obj.modules():
                todo.extend(vars(m).values())
        elif isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)):
            if isinstance(obj, types.MethodType):
                todo.append(obj.__self__)
                obj = obj.__func__
            if isinstance(obj, functools.partial):
                todo += [obj.func, *obj.args, *obj.keywords.values()]
                continue
            todo += [c.cell_contents for c in obj.__closure__ or () if c.cell_contents is not None]
            todo += list(obj.__defaults__ or ())
            todo += [obj.__globals__[n] for n in obj.__code__.co_names if n in obj.__globals__]
        elif isinstance(obj, (list, tuple)) and len(obj) < 100:
            todo.extend(obj)
        elif isinstance(obj, dict) and len(obj) < 100:
            todo.extend(obj.values())
        elif callable(obj) and hasattr(obj, "__dict__"):  # a callable object: its attributes
            todo.extend(vars(obj).values())
    return found


def _decorrelate_worker(worker_id):
    """DataLoader ``worker_init_fn``: a forked worker holds copies of the map
    functions' seeded layers; without this every worker would draw the same
    numbers (batches 0 and 1 flipped alike). Each worker's streams are
    re-seeded from (layer seed, worker id): still reproducible under the seed."""
    info = torch.utils.data.get_worker_info()
    for rnd in _seeded_streams(getattr(info.dataset, "maps", ())):
        if rnd.seed is not None:
            # the pass matters only for workers started anew each epoch (persistent_workers=False)
            mixed = int(rnd.seed) * 1000003 + 7919 * (worker_id + 1) + 104729 * getattr(info.dataset, "pass_number", 0)
            rnd.seed = mixed % (2**63 - 1)
            rnd.generators = {}


def _as_is(item):
    """The DataLoader's item conversion: none (torch's default turns tuples into lists)."""
    return item


class _EpochBatches(torch.utils.data.Sampler):
    """Yields lists of indices; a new seeded permutation for every epoch."""

    def __init__(self, n, batch_size, shuffle, seed):
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.epoch = 0

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(int(self.seed) * 1000003 + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        self.epoch += 1
        bs = self.batch_size
        for start in range(0, self.n, bs):
            yield order[start:start + bs]


class ImageDirectoryDataset(Dataset):
    """Batches of ``(images, labels)`` (or images only) decoded from files.

    Returned by ``image_dataset_from_directory``; re-iterable (one pass per
    ``for`` loop / epoch), with Keras's ``class_names`` and ``file_paths``
    attributes. ``len(ds)`` is the number of batches. A
    :class:`~kerasish.utils.Dataset`: ``map`` (e.g. augmentation) runs in the
    decoding worker processes on whole batches and returns another
    ``ImageDirectoryDataset`` (as does ``prefetch``), so sharding for a
    data-parallel ``fit`` still loads each process's piece only; the other
    methods run in the calling process.

    Attributes:
        class_names: list of class names (``None`` without labels).
        file_paths: the image paths in this subset, in Keras's order.
        batch_size, image_size, num_workers.

    Example (not run as a doctest: it needs a dataset and a torch network):
        >>> for images, labels in ds:          # doctest: +SKIP
        ...     loss = criterion(net(images.permute(0, 3, 1, 2)), labels)  # images (B, H, W, C) float32
    """

    def __init__(self, paths, labels, class_names, label_mode, num_classes, image_size, num_channels, interpolation,
                 crop_to_aspect_ratio, pad_to_aspect_ratio, data_format, batch_size, shuffle, seed, num_workers,
                 persistent_workers=None, prefetch_factor=None, pin_memory=False, max_image_pixels=None):
        self.class_names = class_names
        self.file_paths = list(paths)
        self.label_mode = label_mode
        self.batch_size = batch_size
        self.image_size = tuple(image_size)
        self.data_format = data_format
        self.shuffle = shuffle
        self.seed = seed
        if label_mode is None or labels is None:
            label_tensor = None
        else:
            idx = torch.as_tensor(np.asarray(labels, dtype="int64"))
            if label_mode == "int":
                label_tensor = idx
            elif label_mode == "binary":
                label_tensor = idx.to(torch.float32)[:, None]
            else:  # categorical
                valid = (idx >= 0) & (idx < num_classes)
                label_tensor = torch.zeros((len(idx), num_classes), dtype=torch.float32)
                label_tensor[torch.arange(len(idx))[valid], idx[valid]] = 1.0
        self._labels = label_tensor
        self._loader_ds = _BatchLoader(self.file_paths, label_tensor, image_size, num_channels, interpolation,
                                       crop_to_aspect_ratio, pad_to_aspect_ratio, data_format == "channels_first",
                                       resolve_max_image_pixels(max_image_pixels), unbatched=batch_size is None)
        self._sampler = _EpochBatches(len(self.file_paths), batch_size or 1, shuffle, seed)
        self.num_workers = int(num_workers)
        self._persistent = (self.num_workers > 0) if persistent_workers is None else bool(persistent_workers and self.num_workers > 0)
        self._prefetch_factor = prefetch_factor
        self._pin_memory = pin_memory
        self._dataloader = None
        self._warned = set()

    @property
    def _batched(self):
        return 0 if self.batch_size is None else 1

    def __len__(self):
        return len(self._sampler) if self.batch_size is not None else len(self.file_paths)

    def _cardinality(self):
        return len(self)

    def _clone(self, maps=()):
        """A dataset of the same files with ``maps`` appended, its own epochs and workers."""
        twin = copy.copy(self)
        ld = copy.copy(self._loader_ds)
        ld.maps = ld.maps + tuple(maps)
        twin._loader_ds = ld
        twin._sampler = copy.copy(self._sampler)
        # Epochs this dataset has run, also through its per-process twins (a data-parallel fit
        # counts them there): the clone's shuffles go on from there, as with one process.
        twin._sampler.epoch = max([self._sampler.epoch] + [t._sampler.epoch for t in self.__dict__.get("_shard_twins", {}).values()])
        twin._dataloader = None
        twin._shard_twins = {}
        return twin

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func`` applied to each element, in the decoding worker processes
        (the main process with ``num_workers=0``); a new ``ImageDirectoryDataset``.

        Example (not run: it needs a folder of images):
            >>> flip = keras.layers.RandomFlip("horizontal")  # doctest: +SKIP
            >>> train = train.map(lambda x, y: (flip(x), y))  # doctest: +SKIP
        """
        if not callable(map_func):
            raise TypeError(f"Dataset.map: `map_func` must be callable, got {type(map_func).__name__}.")
        return self._clone((map_func,))

    def prefetch(self, buffer_size=-1, name=None):
        """The loader's workers already prefetch: the same dataset (a twin)."""
        super().prefetch(buffer_size)  # argument checks
        return self._clone()

    def _first_element(self):
        # element_spec: decode in this process, without starting workers or counting an epoch
        bs = self.batch_size or 1
        for start in range(0, len(self.file_paths), bs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                element, n, _ = self._loader_ds[list(range(start, min(start + bs, len(self.file_paths))))]
            if n:
                return element
        return _END

    def __repr__(self):
        return (f"ImageDirectoryDataset({len(self.file_paths)} files, {len(self.class_names or [])} classes, "
                f"batch_size={self.batch_size}, image_size={self.image_size}, label_mode={self.label_mode!r})")

    def _make_loader(self):
        kwargs = {}
        if self.num_workers > 0:
            kwargs["persistent_workers"] = self._persistent
            if self._loader_ds.maps:
                kwargs["worker_init_fn"] = _decorrelate_worker
            if self._prefetch_factor is not None:
                kwargs["prefetch_factor"] = self._prefetch_factor
        return torch.utils.data.DataLoader(self._loader_ds, batch_size=None, sampler=self._sampler, collate_fn=_as_is,
                                           num_workers=self.num_workers, pin_memory=self._pin_memory, **kwargs)

    def _iterate(self, indices=False):
        if _peeking():  # element_spec of a pipeline built on this folder: no workers, no epoch used up
            first = self._first_element()
            if first is not _END:
                yield first
            return
        if self._dataloader is None or not self._persistent:
            self._dataloader = self._make_loader()
        self._loader_ds.pass_number = self._sampler.epoch  # read by workers started for this pass
        it = iter(self._dataloader)
        i = 0
        while True:
            try:
                element, n, bad = next(it)
            except StopIteration:
                return
            except Exception as e:
                lines = [line for line in str(e).splitlines() if "Dataset.map: the function" in line]
                if lines:  # a map function failed (in a worker: the message is in the traceback text)
                    detail = lines[-1].split("ValueError: ", 1)[-1]
                    raise ValueError(f"Dataset.map failed on element {i} of image_dataset_from_directory: {detail}") from e
                raise
            for path, why in bad:
                if path not in self._warned:
                    self._warned.add(path)
                    warnings.warn(f"image_dataset_from_directory: skipping file {path!r}, which could not be decoded as an image ({why}).", stacklevel=2)
            if n == 0:
                continue
            i += 1
            yield element

    def _kerasish_shard(self, rank, world, seed):
        """A twin that loads only process ``rank``'s piece of each batch (for a
        data-parallel ``fit``); the files' order is the same in every process."""
        if self.batch_size is None:
            raise ValueError("An unbatched image dataset (batch_size=None) cannot be sharded across processes; give a batch_size.")
        twins = self.__dict__.setdefault("_shard_twins", {})
        if (rank, world) in twins:  # one twin per run: its epochs go on counting, as this dataset's do
            return twins[(rank, world)]
        twin = copy.copy(self)
        twin._sampler = ShardedBatchSampler(len(self.file_paths), self.batch_size, self.shuffle, rank, world, self.seed)
        twin._sampler.epoch = self._sampler.epoch
        twin._dataloader = None
        twin._shard_twins = {}
        twins[(rank, world)] = twin
        return twin

    def close(self):
        """Stops the worker processes (they also stop when the object is freed)."""
        self._dataloader = None


def _default_workers():
    return min(4, os.cpu_count() or 1)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
                                 subset=None, interpolation="bilinear", follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True, num_workers=None,
                                 formats=None, max_image_pixels=None, **kwargs):
    """Generates a dataset of image batches from a directory of class folders.

    With ``main_directory/class_a/*.jpg`` and ``main_directory/class_b/*.jpg``,
    ``image_dataset_from_directory(main_directory)`` yields batches of images
    with labels 0 (``class_a``) and 1 (``class_b``). Supported files:
    ``.bmp .gif .jpeg .jpg .png`` (Keras's list; animated GIFs give their
    first frame) and ``.webp``; other files are ignored. ``formats=`` (a
    kerasish extension) changes the list, e.g. ``KERAS_ALLOWLIST_FORMATS``.

    Args:
        directory: folder holding the data (class sub-folders when
            ``labels="inferred"``, otherwise the structure is ignored).
        labels: ``"inferred"`` (from sub-folder names), ``None`` (no labels) or
            a list/tuple of integer labels, one per file, in the sorted order
            of the file paths.
        label_mode: ``"int"`` (int64, shape ``(B,)``), ``"categorical"``
            (float32 one-hot ``(B, num_classes)``), ``"binary"`` (float32
            ``(B, 1)``, exactly 2 classes) or ``None`` (images only).
        class_names: explicit sub-folder names (and order) when
            ``labels="inferred"``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3, 4 channels).
        batch_size: batch size (``None``: single samples).
        image_size: ``(height, width)`` (or one int) to resize to.
        shuffle: shuffle the files (seeded) and reshuffle each epoch; ``False``
            keeps the sorted order.
        seed: random seed for the shuffles (required with ``validation_split``
            and ``shuffle``).
        validation_split: fraction of the files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns a
            ``(train, val)`` tuple); requires ``validation_split``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"`` or
            ``"area"`` (Keras's other names raise on torch).
        follow_links: follow symlinked sub-folders.
        crop_to_aspect_ratio: centre-crop to the target aspect ratio first.
        pad_to_aspect_ratio: zero-pad to the target aspect ratio first.
        data_format: ``"channels_last"`` (NHWC, default) or ``"channels_first"``.
        verbose: print the ``Found N files ...`` / ``Using N files ...`` lines.
        num_workers: kerasish extension: decoding worker processes (default
            ``min(4, os.cpu_count())``; 0 decodes in the main process).
        formats: kerasish extension: allowed file extensions (default
            Keras's ``ALLOWLIST_FORMATS``).
        max_image_pixels: kerasish extension: a file whose header declares
            more pixels is skipped with a warning naming it, before it is
            decoded (default ``kerasish.utils.image_utils.MAX_IMAGE_PIXELS``,
            i.e. PIL's decompression-bomb limit ``Image.MAX_IMAGE_PIXELS``).
        **kwargs: ``persistent_workers``, ``prefetch_factor``, ``pin_memory``
            for the ``DataLoader``; ``format`` is accepted for Keras scripts
            (``"tf"`` / ``"grain"`` both give this torch dataset).

    Returns:
        An ``ImageDirectoryDataset`` yielding ``(images, labels)`` with images
        float32 ``(B, H, W, C)`` in ``[0, 255]``, or images only when there are
        no labels; a ``(train, val)`` tuple for ``subset="both"``.

    Example (not run as a doctest: it needs a folder of images and a model):
        >>> train, val = image_dataset_from_directory("flowers", validation_split=0.2,  # doctest: +SKIP
        ...     subset="both", seed=123, image_size=(180, 180), batch_size=32)
        >>> model.fit(train, validation_data=val, epochs=3)  # doctest: +SKIP
    """
    fmt = kwargs.pop("format", "tf")
    if fmt not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={fmt!r}')
    loader_kwargs = {k: kwargs.pop(k) for k in ("persistent_workers", "prefetch_factor", "pin_memory") if k in kwargs}
    if kwargs:
        raise TypeError(f"image_dataset_from_directory() got unexpected keyword arguments: {sorted(kwargs)}")
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as the number of image files in "
                'the target directory. If you wish to infer the labels from the subdirectory names in the target directory, pass `labels="inferred"`. '
                f"If you wish to get a dataset that only contains images (no labels), pass `labels=None`. Received: labels={labels!r}"
            )
        labels = list(labels)
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, and class_names={class_names}')
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", or None. Received: label_mode={label_mode!r}')
    if labels is None or label_mode is None:
        labels = None
        label_mode = None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}
    if color_mode not in channels:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: color_mode={color_mode!r}')
    num_channels = channels[color_mode]
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in image_size):
        raise ValueError(f"Invalid `image_size` value. Expected a tuple of 2 positive integers. Received: image_size={image_size!r}")
    if not isinstance(interpolation, str) or interpolation.lower() not in _KERAS_INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_KERAS_INTERPOLATIONS}. Received: interpolation={interpolation!r}")
    interpolation = interpolation.lower()
    if interpolation not in _TORCH_MODES:
        raise ValueError(f"`interpolation={interpolation!r}` is not supported on torch (as in Keras's torch backend); use one of {tuple(_TORCH_MODES)}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0):
        raise ValueError(f"`batch_size` must be a positive int or None, got batch_size={batch_size!r}")
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if data_format is None:
        data_format = image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f'`data_format` must be "channels_last" or "channels_first". Received: data_format={data_format!r}')
    if num_workers is None:
        num_workers = _default_workers()
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"`num_workers` must be a non-negative int, got num_workers={num_workers!r}")
    max_image_pixels = resolve_max_image_pixels(max_image_pixels)  # here: the workers may not see a changed module setting
    formats = ALLOWLIST_FORMATS if formats is None else tuple(f.lower() if f.startswith(".") else "." + f.lower() for f in formats)

    def make(p, l, class_names, num_classes, shuffle_, seed):
        return ImageDirectoryDataset(p, l, class_names, label_mode, num_classes, image_size, num_channels, interpolation,
                                     crop_to_aspect_ratio, pad_to_aspect_ratio, data_format, batch_size, shuffle_, seed,
                                     num_workers, max_image_pixels=max_image_pixels, **loader_kwargs)

    return datasets_from_directory(directory, labels, label_mode, class_names, formats, shuffle, seed, follow_links, verbose,
                                   validation_split, subset, make, ("images", f"Allowed formats: {formats}"))
