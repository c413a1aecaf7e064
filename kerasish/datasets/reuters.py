"""Reuters newswire topic dataset, as ``keras.datasets.reuters``.

11,228 newswires labelled over 46 topics, each a list of word ids, encoded and
filtered exactly as Keras does (see :mod:`kerasish.datasets.imdb`, whose
encoding helpers this module shares), then split ``1 - test_split`` /
``test_split`` after one seeded shuffle.
"""

from __future__ import annotations

import numpy as np

from kerasish.datasets import _download

# The encoding rules are IMDB's; one copy of them.
from kerasish.datasets.imdb import _encode, _limit_vocabulary, _read_arrays, _remove_long_seq, read_word_index

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee", "sugar",
    "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path: str = "reuters.npz", num_words=None, skip_top: int = 0, maxlen=None, test_split: float = 0.2,
              seed: int = 113, start_char=1, oov_char=2, index_from: int = 3):
    """Loads the Reuters newswire classification dataset (46 topics).

    Word ids, ``num_words``, ``skip_top``, ``start_char``, ``oov_char`` and
    ``index_from`` work as in :func:`kerasish.datasets.imdb.load_data`. The
    file ``reuters.npz`` is downloaded once from the Keras datasets bucket,
    checked against Keras's sha256 and cached.

    Args:
        path: file name under which to cache the data (a bare file name).
        num_words: keep only ids below ``num_words``; others become
            ``oov_char``. None keeps all.
        skip_top: ids below ``skip_top`` also become ``oov_char``.
        maxlen: None, or drop every newswire of ``maxlen`` or more ids.
        test_split: fraction of the (shuffled, filtered) newswires put in the
            test split, in ``[0, 1]``.
        seed: seed of the shuffle.
        start_char: id put at the start of each newswire (None: none).
        oov_char: id of cut words (None: cut words are removed).
        index_from: added to every word id of the file.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` numpy object arrays
        of lists of ints, ``y_*`` int arrays of topic ids (0-45).

    Raises:
        ValueError: ``test_split`` outside ``[0, 1]``, ``maxlen`` leaves no
            newswire, or the file is not a Reuters ``.npz``.
        ConnectionError: the file is not cached and cannot be downloaded.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)  # doctest: +SKIP
        >>> len(x_train), len(x_test)  # doctest: +SKIP
        (8982, 2246)
    """
    if not 0 <= test_split <= 1:
        raise ValueError(f"reuters.load_data: `test_split` must be between 0 and 1. Received: test_split={test_split}")
    fpath = _download.get_file(path, key="reuters.npz", dataset="Reuters")
    f = _read_arrays(fpath, ("x", "y"), "Reuters")
    xs, labels = f["x"], f["y"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]

    xs = _encode(xs, start_char, index_from)
    if maxlen:
        xs, labels = _remove_long_seq(maxlen, xs, labels)
        if not xs:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. Increase maxlen."
            )
    xs = _limit_vocabulary(xs, num_words, skip_top, oov_char)

    idx = int(len(xs) * (1 - test_split))
    x_train, y_train = np.array(xs[:idx], dtype="object"), np.array(labels[:idx])
    x_test, y_test = np.array(xs[idx:], dtype="object"), np.array(labels[idx:])
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path: str = "reuters_word_index.json") -> dict:
    """Retrieves the dict mapping each Reuters word to its rank (1 = most
    frequent); its id in :func:`load_data`'s sequences is the rank plus
    ``index_from`` (3 by default).

    Args:
        path: file name under which to cache the index (a bare file name).

    Returns:
        ``{word: rank}``.

    Example:
        >>> get_word_index()["the"]  # doctest: +SKIP
        1
    """
    fpath = _download.get_file(path, key="reuters_word_index.json", dataset="Reuters word index")
    return read_word_index(fpath, "Reuters")


def get_label_names() -> tuple:
    """The 46 topic names, indexed by label id, as Keras gives them.

    Example:
        >>> get_label_names()[3]
        'earn'
    """
    return _LABEL_NAMES
