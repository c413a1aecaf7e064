"""CIFAR10 small images classification dataset."""

from __future__ import annotations

import numpy as np

from kerasish import backend
from kerasish.datasets import _download

_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def load_data():
    """Loads the CIFAR10 dataset.

    50,000 32x32 color training images and 10,000 test images, labeled over
    10 categories (https://www.cs.toronto.edu/~kriz/cifar.html). The archive
    ``cifar-10-python.tar.gz`` is downloaded once from cs.toronto.edu,
    checked against Keras's sha256 and cached in ``~/.kerasish/datasets``;
    its pickled batches are read with a restricted reader that only accepts
    numpy array data (see ``kerasish.datasets.safe_pickle.RestrictedUnpickler``).

    Classes: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog,
    7 horse, 8 ship, 9 truck.

    Returns:
        Tuple of NumPy arrays: ``(x_train, y_train), (x_test, y_test)``.

        * ``x_train``: ``uint8`` array of shape ``(50000, 32, 32, 3)``
            (channels_last), pixel values 0 to 255.
        * ``y_train``: ``uint8`` array of labels (0-9), shape ``(50000, 1)``.
        * ``x_test``: ``uint8`` array of shape ``(10000, 32, 32, 3)``.
        * ``y_test``: ``uint8`` array of shape ``(10000, 1)``.

    Raises:
        ValueError: the archive is not a valid CIFAR-10 archive.
        ConnectionError: the archive is not cached and cannot be downloaded;
            the message says where to put it by hand.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> assert x_train.shape == (50000, 32, 32, 3)  # doctest: +SKIP
        >>> assert y_train.shape == (50000, 1)  # doctest: +SKIP
    """
    batches = _download.read_cifar_batches(
        "cifar-10-python.tar.gz", "cifar-10-batches-py", _TRAIN + ["test_batch"], "labels", "CIFAR-10"
    )
    x_train = np.concatenate([data for data, _ in batches[:5]])
    y_train = np.concatenate([np.asarray(labels, dtype="uint8") for _, labels in batches[:5]])
    x_test, y_test = batches[5]
    y_train = np.reshape(y_train, (len(y_train), 1))
    # As Keras: the test labels are a list (int64 once reshaped), cast to uint8.
    y_test = np.reshape(y_test, (len(y_test), 1)).astype(y_train.dtype)
    if backend.image_data_format() == "channels_last":
        x_train = np.ascontiguousarray(x_train.transpose(0, 2, 3, 1))
        x_test = np.ascontiguousarray(x_test.transpose(0, 2, 3, 1))
    x_test = x_test.astype(x_train.dtype, copy=False)
    return (x_train, y_train), (x_test, y_test)
