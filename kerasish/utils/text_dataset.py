"""``text_dataset_from_directory``: a folder of class sub-folders of ``.txt``
files as a :class:`~kerasish.utils.Dataset` of ``(texts, labels)`` batches, as
in Keras 3.

The file list, the seeded split and the argument checks are Keras's (the same
files land in the same subset for the same ``seed``, as with
``image_dataset_from_directory``). The pipeline is Keras's tf.data one, on
kerasish's ``Dataset``: ``from_tensor_slices(paths)`` zipped with the labels,
a seeded ``shuffle`` with a buffer of ``8 * batch_size`` (1024 unbatched),
reading each file in a ``map``, ``batch``.

Differences from Keras's ``format="tf"``:

* texts are Python ``str`` (UTF-8, undecodable bytes replaced), a batch of
  texts a ``list`` of ``str``, as Keras's ``format="grain"``; ``max_length``
  counts characters (grain) rather than bytes (tf.data);
* ``int`` labels are int64 (Keras: int32); ``binary`` / ``categorical`` are
  float32 as in Keras;
* the order of the shuffle buffer's draws differs from TensorFlow's (the
  files and the split are identical);
* besides Keras's ``class_names``, the dataset has ``file_paths`` (the
  files of the subset, in Keras's order), as image datasets do.
"""

from __future__ import annotations

import numpy as np
import torch

from kerasish.utils.dataset import Dataset
from kerasish.utils.image_dataset import check_validation_split_arg, datasets_from_directory


def _read_text(path, max_length):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read() if max_length is None else f.read(max_length)
    return text


def _labels_tensor(labels, label_mode, num_classes):
    idx = torch.as_tensor(np.asarray(labels, dtype="int64"))
    if label_mode == "int":
        return idx
    if label_mode == "binary":
        return idx.to(torch.float32)[:, None]
    valid = (idx >= 0) & (idx < num_classes)
    out = torch.zeros((len(idx), num_classes), dtype=torch.float32)
    out[torch.arange(len(idx))[valid], idx[valid]] = 1.0
    return out


def _paths_and_labels_to_dataset(paths, labels, label_mode, num_classes, max_length, shuffle, buffer_size, seed, batch_size):
    if label_mode:
        ds = Dataset.from_tensor_slices((list(paths), _labels_tensor(labels, label_mode, num_classes)))
    else:
        ds = Dataset.from_tensor_slices(list(paths))
    if shuffle:
        ds = ds.shuffle(buffer_size, seed=seed)
    if label_mode:
        ds = ds.map(lambda path, label: (_read_text(path, max_length), label))
    else:
        ds = ds.map(lambda path: _read_text(path, max_length))
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds.prefetch()


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """Generates a dataset of texts from a directory of class folders of ``.txt`` files.

    With ``main_directory/class_a/*.txt`` and ``main_directory/class_b/*.txt``,
    ``text_dataset_from_directory(main_directory)`` yields batches of texts
    with labels 0 (``class_a``) and 1 (``class_b``). Only ``.txt`` files are read.

    Args:
        directory: folder holding the data (class sub-folders when
            ``labels="inferred"``, otherwise the structure is ignored).
        labels: ``"inferred"``, ``None`` (no labels) or a list/tuple of
            integer labels, one per file, in the sorted order of the paths.
        label_mode: ``"int"`` (int64 ``(B,)``), ``"categorical"`` (float32
            one-hot ``(B, num_classes)``), ``"binary"`` (float32 ``(B, 1)``,
            exactly 2 classes) or ``None`` (texts only).
        class_names: explicit sub-folder names (and order) when ``labels="inferred"``.
        batch_size: texts per batch; ``None`` yields single texts.
        max_length: keep at most this many characters of each text.
        shuffle: shuffle the files (seeded) and each epoch; ``False`` keeps
            the sorted order.
        seed: random seed (required with ``validation_split`` and ``shuffle``).
        validation_split: fraction of the files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns
            ``(train, val)``); requires ``validation_split``.
        follow_links: follow symlinked sub-folders.
        format: ``"tf"`` or ``"grain"``: both give a kerasish ``Dataset``.
        verbose: print the ``Found N files ...`` lines.

    Returns:
        A :class:`~kerasish.utils.Dataset` of ``(texts, labels)`` (texts a
        list of ``str`` per batch), or of texts alone without labels; a
        ``(train, val)`` tuple for ``subset="both"``.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for c, text in (("neg", "bad film"), ("pos", "great film")):
        ...     os.makedirs(os.path.join(root, c))
        ...     with open(os.path.join(root, c, "a.txt"), "w") as f:
        ...         _ = f.write(text)
        >>> ds = text_dataset_from_directory(root, shuffle=False, verbose=False)
        >>> texts, labels = next(iter(ds))
        >>> texts, labels.tolist()
        (['bad film', 'great film'], [0, 1])
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as the number of text files in the "
                'target directory. If you wish to infer the labels from the subdirectory names in the target directory, pass `labels="inferred"`. '
                f"If you wish to get a dataset that only contains text samples (no labels), pass `labels=None`. Received: labels={labels!r}")
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, and class_names={class_names}')
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", or None. Received: label_mode={label_mode!r}')
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format!r}')
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0):
        raise ValueError(f"`batch_size` must be a positive int or None, got batch_size={batch_size!r}")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0):
        raise ValueError(f"`max_length` must be a non-negative int or None, got max_length={max_length!r}")
    if labels is None or label_mode is None:
        labels = None
        label_mode = None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    buffer_size = batch_size * 8 if batch_size is not None else 1024

    def make(p, l, class_names, num_classes, shuffle_, seed):
        ds = _paths_and_labels_to_dataset(p, l, label_mode, num_classes, max_length, shuffle_, buffer_size, seed, batch_size)
        ds.class_names = class_names  # Keras sets these on its tf.data datasets too
        ds.file_paths = list(p)
        return ds

    return datasets_from_directory(directory, labels, label_mode, class_names, (".txt",), shuffle, seed, follow_links, verbose,
                                   validation_split, subset, make, ("text files", "Allowed format: .txt"))
