"""CIFAR100 small images classification dataset."""

from __future__ import annotations

import numpy as np

from kerasish import backend
from kerasish.datasets import _download


def load_data(label_mode: str = "fine"):
    """Loads the CIFAR100 dataset.

    50,000 32x32 color training images and 10,000 test images, labeled over
    100 fine-grained classes grouped into 20 coarse-grained classes
    (https://www.cs.toronto.edu/~kriz/cifar.html). The archive
    ``cifar-100-python.tar.gz`` is downloaded once from cs.toronto.edu,
    checked against Keras's sha256 and cached in ``~/.kerasish/datasets``;
    its pickles are read with a restricted reader that only accepts numpy
    array data.

    Args:
        label_mode: one of ``"fine"``, ``"coarse"``. ``"fine"``: the 100
            fine-grained classes; ``"coarse"``: the 20 superclasses.

    Returns:
        Tuple of NumPy arrays: ``(x_train, y_train), (x_test, y_test)``.

        * ``x_train``: ``uint8`` array of shape ``(50000, 32, 32, 3)``
            (channels_last), pixel values 0 to 255.
        * ``y_train``: labels of shape ``(50000, 1)``.
        * ``x_test``: ``uint8`` array of shape ``(10000, 32, 32, 3)``.
        * ``y_test``: labels of shape ``(10000, 1)``.

        As in Keras (whose docstring says ``uint8``), the CIFAR-100 labels
        come from Python lists and are ``int64`` arrays.

    Raises:
        ValueError: ``label_mode`` is not ``"fine"`` or ``"coarse"``, or the
            archive is not a valid CIFAR-100 archive.
        ConnectionError: the archive is not cached and cannot be downloaded;
            the message says where to put it by hand.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data("coarse")  # doctest: +SKIP
        >>> assert x_train.shape == (50000, 32, 32, 3)  # doctest: +SKIP
        >>> assert int(y_train.max()) == 19  # doctest: +SKIP
    """
    if label_mode not in ["fine", "coarse"]:
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    (x_train, y_train), (x_test, y_test) = _download.read_cifar_batches(
        "cifar-100-python.tar.gz", "cifar-100-python", ["train", "test"], f"{label_mode}_labels", "CIFAR-100"
    )
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    if backend.image_data_format() == "channels_last":
        x_train = np.ascontiguousarray(x_train.transpose(0, 2, 3, 1))
        x_test = np.ascontiguousarray(x_test.transpose(0, 2, 3, 1))
    return (x_train, y_train), (x_test, y_test)
