"""MNIST handwritten digits dataset."""

from __future__ import annotations

import zipfile

import numpy as np

from kerasish.datasets import _download

_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(path: str = "mnist.npz"):
    """Loads the MNIST dataset.

    60,000 28x28 grayscale images of the 10 digits for training and 10,000
    for testing. The file ``mnist.npz`` is downloaded once from the Keras
    datasets bucket, checked against Keras's sha256 and cached.

    Args:
        path: file name under which to cache the dataset locally (inside
            ``~/.kerasish/datasets``, or ``$KERASISH_HOME/datasets``). A bare
            file name, not a path.

    Returns:
        Tuple of NumPy arrays: ``(x_train, y_train), (x_test, y_test)``.

        * ``x_train``: ``uint8`` array of shape ``(60000, 28, 28)``, pixel
            values 0 to 255.
        * ``y_train``: ``uint8`` array of digit labels (0-9), shape
            ``(60000,)``.
        * ``x_test``: ``uint8`` array of shape ``(10000, 28, 28)``.
        * ``y_test``: ``uint8`` array of shape ``(10000,)``.

    Raises:
        ValueError: ``path`` is not a bare file name, or the file is not a
            valid MNIST ``.npz``.
        ConnectionError: the file is not cached and cannot be downloaded; the
            message says where to put it by hand.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> assert x_train.shape == (60000, 28, 28)  # doctest: +SKIP
        >>> assert y_test.shape == (10000,)  # doctest: +SKIP

    License: Yann LeCun and Corinna Cortes hold the copyright of MNIST, a
    derivative of NIST, available under the Creative Commons
    Attribution-Share Alike 3.0 license.
    """
    fpath = _download.get_file(path, key="mnist.npz", dataset="MNIST")
    try:
        with np.load(fpath, allow_pickle=False) as f:
            missing = [k for k in _KEYS if k not in f.files]
            if missing:
                raise ValueError(f"The MNIST file {fpath} has no {missing} arrays; it holds {sorted(f.files)}.")
            x_train, y_train = f["x_train"], f["y_train"]
            x_test, y_test = f["x_test"], f["y_test"]
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"Could not read the MNIST file {fpath}: {e}") from e
    return (x_train, y_train), (x_test, y_test)
