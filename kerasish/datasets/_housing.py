"""Shared reading and splitting for the housing regression datasets
(``boston_housing``, ``california_housing``): an ``.npz`` with a feature
array ``x`` and a target array ``y``, shuffled with a seed and cut into
train / test as Keras does."""

from __future__ import annotations

import zipfile

import numpy as np


def check_test_split(test_split, dataset: str) -> None:
    """ValueError unless ``0 <= test_split < 1``."""
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float, np.number)) or not 0 <= test_split < 1:
        raise ValueError(f"{dataset} load_data: invalid `test_split` argument: test_split={test_split!r}. "
                         "It must be between 0 and 1 (exclusive of 1).")


def read_xy(fpath: str, dataset: str, features: int):
    """``x`` (``(n, features)``) and ``y`` (``(n,)``) from a dataset ``.npz``
    (numeric arrays only: ``allow_pickle=False``)."""
    try:
        with np.load(fpath, allow_pickle=False) as f:
            missing = [k for k in ("x", "y") if k not in f.files]
            if missing:
                raise ValueError(f"The {dataset} file {fpath} has no {missing} arrays; it holds {sorted(f.files)}.")
            x, y = f["x"], f["y"]
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"Could not read the {dataset} file {fpath}: {e}") from e
    if x.ndim != 2 or x.shape[1] != features or y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"The {dataset} file {fpath} must hold x of shape (n, {features}) and y of shape (n,); "
                         f"got x {x.shape} and y {y.shape}.")
    return x, y


def shuffle_split(x, y, test_split: float, seed):
    """Keras's split: shuffle with ``np.random.RandomState(seed)``, then the
    first ``int(n * (1 - test_split))`` samples train, the rest test.

    Example:
        >>> (a, b), (c, d) = shuffle_split(np.arange(10)[:, None], np.arange(10), 0.2, 113)
        >>> a.shape, c.shape
        ((8, 1), (2, 1))
    """
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
