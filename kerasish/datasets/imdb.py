"""IMDB movie review sentiment dataset, as ``keras.datasets.imdb``.

``load_data`` returns the same arrays as Keras for the same arguments: the
same seeded shuffle, the same ``start_char`` / ``index_from`` / ``oov_char``
encoding, the same ``maxlen`` filter and vocabulary cut (with Keras's quirks:
``maxlen`` drops sequences of ``maxlen`` or more tokens rather than truncating
them, and without ``num_words`` the largest word id itself becomes
``oov_char``). ``imdb.npz`` holds numpy object arrays (lists of word ids),
which the ``.npy`` format stores as pickles; they are read with the
restricted reader of :mod:`kerasish.datasets.safe_pickle`, never with
``np.load(allow_pickle=True)``. That reader is pure Python (it checks every
opcode), about 1 s per million word ids: reading ``imdb.npz`` (~12 million)
takes seconds longer than Keras's.
"""

from __future__ import annotations

import json

import numpy as np

from kerasish.datasets import _download
from kerasish.datasets.safe_pickle import load_npz


def _read_arrays(fpath: str, keys: tuple, dataset: str) -> dict:
    """The arrays of a dataset ``.npz``; ``keys`` as (sequences, labels) pairs."""
    arrays = load_npz(fpath)
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(f"The {dataset} file {fpath} has no {missing} arrays; it holds {sorted(arrays)}.")
    for k in keys:
        if arrays[k].ndim < 1:
            raise ValueError(f"The '{k}' array of the {dataset} file {fpath} is a scalar; expected one entry per sample.")
    for xk, yk in zip(keys[::2], keys[1::2]):  # keys come as (sequences, labels) pairs
        if len(arrays[xk]) != len(arrays[yk]):
            raise ValueError(
                f"The {dataset} file {fpath} has {len(arrays[xk])} sequences in '{xk}' but "
                f"{len(arrays[yk])} labels in '{yk}'."
            )
    return arrays


def _encode(xs, start_char, index_from):
    """Prepends ``start_char`` and shifts word ids by ``index_from``, as Keras."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [[w for w in x] for x in xs]


def _remove_long_seq(maxlen, seqs, labels):
    # Keras's ``remove_long_seq``: keeps sequences strictly shorter than maxlen.
    kept = [(x, y) for x, y in zip(seqs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def _limit_vocabulary(xs, num_words, skip_top, oov_char):
    """Ids outside ``[skip_top, num_words)`` become ``oov_char`` (or are
    dropped when it is None); ``num_words`` None/0 means the largest id."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def load_data(path: str = "imdb.npz", num_words=None, skip_top: int = 0, maxlen=None, seed: int = 113,
              start_char=1, oov_char=2, index_from: int = 3):
    """Loads the IMDB dataset: 25,000 training and 25,000 test movie reviews
    labelled by sentiment (1 positive, 0 negative), each a list of word ids.

    Words are ranked by how often they occur, so id ``i + index_from`` is the
    ``i``-th most frequent word; 0 is the padding id, ``start_char`` marks the
    start of a review and ``oov_char`` stands for a word cut by ``num_words`` /
    ``skip_top``. The file ``imdb.npz`` is downloaded once from the Keras
    datasets bucket, checked against Keras's sha256 and cached.

    Args:
        path: file name under which to cache the data (inside
            ``~/.kerasish/datasets``). A bare file name, not a path.
        num_words: keep only the ``num_words`` most frequent words (ids below
            ``num_words``); others become ``oov_char``. None keeps all.
        skip_top: ids below ``skip_top`` (the most frequent words) also
            become ``oov_char``.
        maxlen: None, or drop every review of ``maxlen`` or more ids
            (counting ``start_char``).
        seed: seed of the shuffle of each split.
        start_char: id put at the start of each review (None: none).
        oov_char: id of cut words (None: cut words are removed).
        index_from: added to every word id of the file.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` numpy object arrays
        of lists of ints (one per review), ``y_*`` int arrays of 0 / 1.

    Raises:
        ValueError: ``maxlen`` leaves no review in a split, or the file is not
            an IMDB ``.npz``.
        ConnectionError: the file is not cached and cannot be downloaded.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)  # doctest: +SKIP
        >>> len(x_train), x_train[0][0], max(map(max, x_train)) < 10000  # doctest: +SKIP
        (25000, 1, True)
    """
    fpath = _download.get_file(path, key="imdb.npz", dataset="IMDB")
    f = _read_arrays(fpath, ("x_train", "y_train", "x_test", "y_test"), "IMDB")
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]

    # One generator for both splits, as Keras: the test order depends on the train size.
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    x_train = _encode(x_train, start_char, index_from)
    x_test = _encode(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. Increase maxlen."
            )

    xs = _limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    # np.array(..., dtype=object) as Keras: equal-length reviews make a 2-D array there too.
    x_train, y_train = np.array(xs[:idx], dtype="object"), labels[:idx]
    x_test, y_test = np.array(xs[idx:], dtype="object"), labels[idx:]
    return (x_train, y_train), (x_test, y_test)


def read_word_index(fpath: str, dataset: str) -> dict:
    """The ``{word: id}`` dict of a word-index JSON file, checked."""
    try:
        with open(fpath, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"Could not read the {dataset} word index {fpath}: {e}") from e
    if not isinstance(index, dict) or not all(isinstance(k, str) and type(v) is int for k, v in index.items()):
        raise ValueError(f"The {dataset} word index {fpath} must be a JSON object of word -> integer id.")
    return index


def get_word_index(path: str = "imdb_word_index.json") -> dict:
    """Retrieves the dict mapping each IMDB word to its rank (1 = most frequent).

    The id of a word in :func:`load_data`'s sequences is its rank plus
    ``index_from`` (3 by default).

    Args:
        path: file name under which to cache the index (a bare file name).

    Returns:
        ``{word: rank}``.

    Example:
        >>> index = get_word_index()  # doctest: +SKIP
        >>> words = {rank + 3: word for word, rank in index.items()}  # doctest: +SKIP
        >>> (x_train, _), _ = load_data()  # doctest: +SKIP
        >>> " ".join(words.get(i, "?") for i in x_train[0][1:6])  # doctest: +SKIP
    """
    fpath = _download.get_file(path, key="imdb_word_index.json", dataset="IMDB word index")
    return read_word_index(fpath, "IMDB")
